"""AttentionPooling (``sklearn_pangu.nn._attention_pooling``), AFM's attention network."""

import torch

from sklearn_pangu.nn._attention_pooling import AttentionPooling


def test_attention_pooling_shape_and_weights_sum_to_one():
    torch.manual_seed(0)
    pooling = AttentionPooling(input_dim=4, attention_dim=3)
    x = torch.randn(5, 7, 4)
    assert pooling(x).shape == (5, 4)
    weights = pooling.attention_weights(x)
    assert weights.shape == (5, 7)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(5))
    assert sum(p.numel() for p in pooling.parameters()) == 4 * 3 + 3 + 3  # W, b, h


def test_attention_pooling_hand_computed():
    pooling = AttentionPooling(input_dim=2, attention_dim=2)
    with torch.no_grad():
        pooling.hidden.weight.copy_(torch.eye(2))
        pooling.hidden.bias.zero_()
        pooling.score.weight.copy_(torch.tensor([[1.0, 0.0]]))
    # scores relu(x_0): log 3 and 0 -> weights 3/4 and 1/4.
    log3 = float(torch.log(torch.tensor(3.0)))
    x = torch.tensor([[[log3, 1.0], [-2.0, 5.0]]])
    torch.testing.assert_close(pooling.attention_weights(x), torch.tensor([[0.75, 0.25]]))
    expected = 0.75 * x[0, 0] + 0.25 * x[0, 1]
    torch.testing.assert_close(pooling(x), expected[None])


def test_attention_pooling_with_zero_scores_is_the_mean():
    pooling = AttentionPooling(input_dim=3, attention_dim=4)
    with torch.no_grad():
        pooling.score.weight.zero_()
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(pooling(x), x.mean(dim=1))


def test_attention_pooling_gradients_reach_every_parameter(assert_gradients_reach):
    torch.manual_seed(0)
    pooling = AttentionPooling(input_dim=4, attention_dim=3)
    x = torch.randn(8, 6, 4)
    assert_gradients_reach(pooling, (pooling(x) * torch.randn(4)).sum())
