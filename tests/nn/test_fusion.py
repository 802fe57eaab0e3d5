"""MultiHeadBilinearFusion (``sklearn_pangu.nn._fusion``), FinalMLP's two-stream fusion."""

import pytest
import torch

from sklearn_pangu.nn._fusion import MultiHeadBilinearFusion


def test_bilinear_fusion_shape_gradients_and_divisibility(assert_gradients_reach):
    torch.manual_seed(0)
    fusion = MultiHeadBilinearFusion(6, 4, num_heads=2)
    x, y = torch.randn(5, 6), torch.randn(5, 4)
    assert fusion(x, y).shape == (5,)
    assert_gradients_reach(fusion, fusion(x, y).sum())
    assert sum(p.numel() for p in fusion.parameters()) == 6 + 1 + 4 + 2 * (3 * 2)
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadBilinearFusion(6, 4, num_heads=4)


@pytest.mark.parametrize("num_heads", [1, 3, 6])
def test_bilinear_fusion_equals_per_head_formula(num_heads):
    torch.manual_seed(0)
    fusion = MultiHeadBilinearFusion(6, 12, num_heads=num_heads).double()
    x, y = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 12, dtype=torch.float64)
    a, c = 6 // num_heads, 12 // num_heads
    expected = fusion.x_linear.bias + x @ fusion.x_linear.weight[0] + y @ fusion.y_linear.weight[0]
    for j in range(num_heads):
        x_j, y_j = x[:, j * a : (j + 1) * a], y[:, j * c : (j + 1) * c]
        expected = expected + ((x_j @ fusion.bilinear[j]) * y_j).sum(dim=1)
    torch.testing.assert_close(fusion(x, y), expected)


def test_bilinear_fusion_hand_computed():
    fusion = MultiHeadBilinearFusion(2, 2, num_heads=1)
    with torch.no_grad():
        fusion.x_linear.weight.copy_(torch.tensor([[1.0, 0.0]]))
        fusion.x_linear.bias.fill_(0.5)
        fusion.y_linear.weight.copy_(torch.tensor([[0.0, 2.0]]))
        fusion.bilinear.copy_(torch.tensor([[[1.0, 0.0], [0.0, 3.0]]]))
    # 0.5 + x_1 + 2 y_2 + x_1 y_1 + 3 x_2 y_2 = 0.5 + 1 + 8 + 3 + 3 * 2 * 4
    torch.testing.assert_close(
        fusion(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])), torch.tensor([36.5])
    )
