"""CompressedInteraction (``sklearn_pangu.nn._cin``), xDeepFM's CIN, against equation 6 of the paper."""

import pytest
import torch

from sklearn_pangu.nn._cin import CompressedInteraction


def _cin_by_loops(cin, x):
    """Equation 6 of the xDeepFM paper with explicit sums over maps and fields, then sum pooling."""
    batch, m, dim = x.shape
    hidden, pooled = x, []
    for k, weight in enumerate(cin.weights):
        units = weight.shape[0]
        maps = torch.zeros(batch, units, dim, dtype=x.dtype)
        for h in range(units):
            for i in range(hidden.shape[1]):
                for j in range(m):
                    maps[:, h] += weight[h, i * m + j] * hidden[:, i] * x[:, j]
        if cin.split_half and k < len(cin.weights) - 1:
            hidden, kept = maps[:, : units // 2], maps[:, units // 2 :]
        else:
            hidden, kept = maps, maps
        pooled.append(kept.sum(dim=2))
    return torch.cat(pooled, dim=1)


def test_cin_output_shape_and_gradients(assert_gradients_reach):
    torch.manual_seed(0)
    cin = CompressedInteraction(n_fields=5, layer_units=(8, 6, 4))
    assert cin.output_dim == 4 + 3 + 4
    out = cin(torch.randn(7, 5, 3))
    assert out.shape == (7, 11)
    assert_gradients_reach(cin, out.sum())
    assert CompressedInteraction(5, (8, 6, 4), split_half=False).output_dim == 18


# Units 2 (2 * 2 <= 5 fields) take the contract-the-fields-first path, larger ones the outer product.
@pytest.mark.parametrize("units", [(8, 6, 4), (2, 2, 3), (4, 12, 2)])
@pytest.mark.parametrize("split_half", [True, False])
def test_cin_equals_equation_6_by_loops(units, split_half):
    if split_half and any(u % 2 for u in units[:-1]):
        pytest.skip("odd units cannot be split")
    torch.manual_seed(0)
    cin = CompressedInteraction(5, units, split_half=split_half).double()
    x = torch.randn(4, 5, 3, dtype=torch.float64)
    torch.testing.assert_close(cin(x), _cin_by_loops(cin, x))


def test_cin_hand_computed():
    # Two scalar fields (a, b), one map: W . (a*a, a*b, b*a, b*b).
    cin = CompressedInteraction(n_fields=2, layer_units=(1,))
    with torch.no_grad():
        cin.weights[0].copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
    out = cin(torch.tensor([[[2.0], [3.0]], [[1.0], [-1.0]]]))
    torch.testing.assert_close(out, torch.tensor([[4.0 + 5 * 6.0 + 4 * 9.0], [1.0 - 5.0 + 4.0]]))


def test_cin_rejects_odd_units_when_splitting():
    with pytest.raises(ValueError, match="even"):
        CompressedInteraction(5, (3, 4))
    assert CompressedInteraction(5, (4, 3)).output_dim == 2 + 3  # the last layer may be odd
    assert CompressedInteraction(5, (3, 4), split_half=False).output_dim == 7
