"""Cross layers and CrossNetwork (``sklearn_pangu.nn._cross``) of DCN and DCN-V2, by hand."""

import pytest
import torch

from sklearn_pangu.nn._cross import CrossLayer, CrossNetwork, LowRankMixtureCrossLayer, MatrixCrossLayer


def test_cross_layer_hand_computed():
    layer = CrossLayer(3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.0, 0.0, -1.0]))
        layer.bias.copy_(torch.tensor([0.5, 0.0, -0.5]))
    x0 = torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])
    x = torch.tensor([[2.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    # row 0: x . w = 2 - 1 = 1 -> x0 * 1 + b + x = (1 + 0.5 + 2, 2 + 0 + 1, 3 - 0.5 + 1)
    # row 1: x . w = 1 - 1 = 0 -> b + x = (1.5, 1, 0.5)
    expected = torch.tensor([[3.5, 3.0, 3.5], [1.5, 1.0, 0.5]])
    out = layer(x0, x)
    assert out.shape == (2, 3)
    torch.testing.assert_close(out, expected)


def test_cross_layer_is_the_papers_outer_product_form():
    # x_{l+1} = x0 x_l^T w_l + b_l + x_l, with the d x d matrix x0 x_l^T built explicitly.
    generator = torch.Generator().manual_seed(0)
    x0, x = torch.randn(4, 5, generator=generator), torch.randn(4, 5, generator=generator)
    layer = CrossLayer(5).double()
    with torch.no_grad():
        layer.bias.normal_(generator=generator)
    x0, x = x0.double(), x.double()
    outer = x0.unsqueeze(2) * x.unsqueeze(1)  # (batch, d, d)
    expected = outer @ layer.weight + layer.bias + x
    torch.testing.assert_close(layer(x0, x), expected)


def test_matrix_cross_layer_hand_computed():
    layer = MatrixCrossLayer(2)
    with torch.no_grad():
        layer.linear.weight.copy_(torch.tensor([[1.0, 0.0], [2.0, 1.0]]))
        layer.linear.bias.copy_(torch.tensor([0.5, -0.5]))
    x0 = torch.tensor([[1.0, 2.0], [-1.0, 0.0]])
    x = torch.tensor([[3.0, -1.0], [1.0, 1.0]])
    # row 0: W x + b = (3 + 0.5, 6 - 1 - 0.5) = (3.5, 4.5); x0 * that + x = (3.5 + 3, 9 - 1)
    # row 1: W x + b = (1 + 0.5, 2 + 1 - 0.5) = (1.5, 2.5); x0 * that + x = (-1.5 + 1, 0 + 1)
    expected = torch.tensor([[6.5, 8.0], [-0.5, 1.0]])
    torch.testing.assert_close(layer(x0, x), expected)


def test_low_rank_mixture_equals_the_gated_sum_of_experts():
    torch.manual_seed(0)
    d, r, k = 6, 2, 3
    layer = LowRankMixtureCrossLayer(d, rank=r, num_experts=k).double()
    with torch.no_grad():
        layer.bias.normal_()
    x0, x = torch.randn(5, d, dtype=torch.float64), torch.randn(5, d, dtype=torch.float64)
    gates = torch.softmax(x @ layer.gate, dim=-1)
    expected = x.clone()
    for i in range(k):
        v, c, u = layer.down[:, i], layer.middle[i], layer.up[i].T  # V_i, C_i, U_i
        expert = x0 * (torch.tanh(torch.tanh(x @ v) @ c.T) @ u.T + layer.bias)
        expected = expected + gates[:, i : i + 1] * expert
    out = layer(x0, x)
    assert out.shape == (5, d)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize(
    "make_layer",
    [lambda: CrossLayer(6), lambda: MatrixCrossLayer(6), lambda: LowRankMixtureCrossLayer(6, 2, 3)],
    ids=["vector", "matrix", "low_rank_mixture"],
)
def test_cross_layers_shape_and_gradients(make_layer, assert_gradients_reach):
    torch.manual_seed(0)
    layer = make_layer()
    x0 = torch.randn(4, 6)
    out = layer(x0, layer(x0, x0))  # two applications, so that the bias reaches x . w too
    assert out.shape == (4, 6)
    assert_gradients_reach(layer, (out * torch.randn(4, 6)).sum())


def test_cross_network_chains_layers_on_the_same_x0():
    torch.manual_seed(0)
    layers = [CrossLayer(4), MatrixCrossLayer(4)]
    network = CrossNetwork(layers)
    x0 = torch.randn(3, 4)
    torch.testing.assert_close(network(x0), layers[1](x0, layers[0](x0, x0)))
    assert len(network.layers) == 2


def test_cross_network_degree_grows_by_one_per_layer():
    # With zero biases, scaling x0 by t scales the output of L vector layers by terms up to t^(L+1).
    torch.manual_seed(0)
    network = CrossNetwork(CrossLayer(3) for _ in range(2)).double()
    x0 = torch.randn(1, 3, dtype=torch.float64)
    ts = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    outputs = torch.stack([network(t * x0)[0, 0] for t in ts])
    vandermonde = torch.stack([ts**p for p in (1, 2, 3)], dim=1)
    coefficients = torch.linalg.lstsq(vandermonde, outputs.unsqueeze(1)).solution
    torch.testing.assert_close(vandermonde @ coefficients, outputs.unsqueeze(1))
