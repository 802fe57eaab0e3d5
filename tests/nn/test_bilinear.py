"""BilinearInteraction (``sklearn_pangu.nn._bilinear``), FiBiNET's bilinear field pairs."""

import pytest
import torch

from sklearn_pangu.nn._bilinear import BILINEAR_TYPES, BilinearInteraction
from sklearn_pangu.nn._pairs import PairwiseProduct


@pytest.mark.parametrize(
    "bilinear_type, n_matrices", [("field_all", 1), ("field_each", 4), ("field_interaction", 10)]
)
def test_bilinear_interaction_shape_and_parameter_count(bilinear_type, n_matrices):
    layer = BilinearInteraction(n_fields=5, embedding_dim=3, bilinear_type=bilinear_type)
    assert layer(torch.randn(2, 5, 3)).shape == (2, 10, 3)
    assert layer.n_pairs == 10
    assert sum(p.numel() for p in layer.parameters()) == n_matrices * 3 * 3


@pytest.mark.parametrize("bilinear_type", BILINEAR_TYPES)
@pytest.mark.parametrize("n_fields", [1, 2, 3, 6])
def test_bilinear_interaction_against_a_loop_over_pairs(bilinear_type, n_fields):
    layer = BilinearInteraction(n_fields=n_fields, embedding_dim=3, bilinear_type=bilinear_type).double()
    torch.manual_seed(0)
    e = torch.randn(5, n_fields, 3, dtype=torch.float64, requires_grad=True)
    W = layer.weight
    expected = []
    pairs = [(i, j) for i in range(n_fields) for j in range(i + 1, n_fields)]
    for p, (i, j) in enumerate(pairs):
        index = {"field_all": 0, "field_each": i, "field_interaction": p}[bilinear_type]
        expected.append((e[:, i] @ W[index]) * e[:, j])
    out = layer(e)
    if not pairs:  # a single field has no pairs
        assert out.shape == (5, 0, 3)
        return
    expected = torch.stack(expected, dim=1)
    torch.testing.assert_close(out, expected)
    # The same gradients too: the pairs are computed in blocks per first field, not gathered.
    upstream = torch.randn_like(out)
    torch.testing.assert_close(
        torch.autograd.grad(out, [e, W], upstream), torch.autograd.grad(expected, [e, W], upstream)
    )


def test_bilinear_interaction_hand_computed():
    layer = BilinearInteraction(n_fields=2, embedding_dim=2, bilinear_type="field_all")
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[1.0, 2.0], [0.0, 1.0]]]))
    e = torch.tensor([[[1.0, 1.0], [3.0, 5.0]]])
    # e_0 W = (1, 3); times e_1 = (3, 15)
    torch.testing.assert_close(layer(e), torch.tensor([[[3.0, 15.0]]]))
    with torch.no_grad():
        layer.weight.copy_(torch.eye(2)[None])
    e = torch.randn(3, 2, 2)
    torch.testing.assert_close(layer(e), PairwiseProduct(2)(e))


@pytest.mark.parametrize("bilinear_type", BILINEAR_TYPES)
def test_bilinear_interaction_gradients_reach_every_parameter(bilinear_type, assert_gradients_reach):
    torch.manual_seed(0)
    layer = BilinearInteraction(n_fields=4, embedding_dim=3, bilinear_type=bilinear_type)
    assert_gradients_reach(layer, (layer(torch.randn(8, 4, 3)) * torch.randn(3)).sum())


def test_bilinear_interaction_rejects_an_unknown_type():
    with pytest.raises(ValueError, match="bilinear_type"):
        BilinearInteraction(4, 3, bilinear_type="interaction")
