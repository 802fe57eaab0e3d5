"""MultiHeadSelfAttention (``sklearn_pangu.nn._self_attention``), AutoInt's interacting layer."""

import math

import pytest
import torch

from sklearn_pangu.nn._self_attention import MultiHeadSelfAttention


def _attention_by_loops(layer, x):
    """Each head separately, from the projection matrices, as in the paper's equations 5-8."""
    out_dim = layer.output_dim
    w_query, w_key, w_value, *w_res = layer.projection.weight.split(out_dim)
    d = layer.attention_dim
    heads = []
    for h in range(layer.num_heads):
        rows = slice(h * d, (h + 1) * d)
        query, key, value = x @ w_query[rows].T, x @ w_key[rows].T, x @ w_value[rows].T
        scores = query @ key.transpose(1, 2)
        if layer.scaled:
            scores = scores / math.sqrt(d)
        heads.append(torch.softmax(scores, dim=-1) @ value)
    out = torch.cat(heads, dim=-1)
    if w_res:
        out = out + x @ w_res[0].T
    return torch.relu(out)


def test_self_attention_output_shape_and_gradients(assert_gradients_reach):
    torch.manual_seed(0)
    layer = MultiHeadSelfAttention(input_dim=4, attention_dim=3, num_heads=2)
    assert layer.output_dim == 6
    x = torch.randn(7, 5, 4)
    out = layer(x)
    assert out.shape == (7, 5, 6)
    assert_gradients_reach(layer, out.sum())


@pytest.mark.parametrize("use_residual", [True, False])
@pytest.mark.parametrize("scaled", [False, True])
def test_self_attention_equals_per_head_loops(use_residual, scaled):
    torch.manual_seed(0)
    layer = MultiHeadSelfAttention(4, 3, num_heads=3, use_residual=use_residual, scaled=scaled).double()
    x = torch.randn(6, 5, 4, dtype=torch.float64)
    torch.testing.assert_close(layer(x), _attention_by_loops(layer, x))


def test_self_attention_hand_computed():
    # One head of size 1 on scalar fields x = (1, 2): W_Q = W_K = W_V = W_Res = 1, so the score of
    # field m for field k is x_m * x_k and the output is ReLU(softmax_k(x_m x_k) . x + x_m).
    layer = MultiHeadSelfAttention(input_dim=1, attention_dim=1, num_heads=1)
    with torch.no_grad():
        layer.projection.weight.fill_(1.0)
    out = layer(torch.tensor([[[1.0], [2.0]]]))
    first = (math.exp(1) * 1 + math.exp(2) * 2) / (math.exp(1) + math.exp(2)) + 1
    second = (math.exp(2) * 1 + math.exp(4) * 2) / (math.exp(2) + math.exp(4)) + 2
    torch.testing.assert_close(out, torch.tensor([[[first], [second]]]))
    # Negative values are cut by the ReLU.
    with torch.no_grad():
        layer.projection.weight.fill_(-1.0)
    assert (layer(torch.tensor([[[1.0], [2.0]]])) == 0).all()


def test_self_attention_parameter_count():
    assert sum(p.numel() for p in MultiHeadSelfAttention(4, 3, 2).parameters()) == 4 * 4 * 6
    assert (
        sum(p.numel() for p in MultiHeadSelfAttention(4, 3, 2, use_residual=False).parameters()) == 3 * 4 * 6
    )
