"""RowWiseConvolution and KMaxPooling (``sklearn_pangu.nn._conv``), CCPM's layers."""

import copy

import pytest
import torch

from sklearn_pangu.nn._conv import KMaxPooling, RowWiseConvolution


def test_row_wise_convolution_shape_and_gradients(assert_gradients_reach):
    torch.manual_seed(0)
    conv = RowWiseConvolution(dim=4, in_maps=2, out_maps=3, kernel_width=3)
    out = conv(torch.randn(5, 4, 2, 6))  # (batch, dim, maps, length)
    assert out.shape == (5, 4, 3, 6 + 3 - 1)
    assert_gradients_reach(conv, out.sum())
    # A filter per embedding row and pair of maps, a bias per row and output map.
    assert sum(p.numel() for p in conv.parameters()) == 4 * 2 * 3 * 3 + 4 * 3


def test_row_wise_convolution_hand_computed():
    # One row, one map, width 2: the wide convolution of (x1, x2, x3) with filter (w0, w1) has
    # 3 + 2 - 1 positions, with zeros beyond both ends.
    conv = RowWiseConvolution(dim=1, in_maps=1, out_maps=1, kernel_width=2)
    with torch.no_grad():
        conv.conv.weight.copy_(torch.tensor([[[2.0, 3.0]]]))
        conv.conv.bias.fill_(0.5)
    out = conv(torch.tensor([[1.0, 10.0, 100.0]]).view(1, 1, 1, 3)).view(-1)
    expected = [3 * 1 + 0.5, 2 * 1 + 3 * 10 + 0.5, 2 * 10 + 3 * 100 + 0.5, 2 * 100 + 0.5]
    torch.testing.assert_close(out, torch.tensor(expected))


def test_row_wise_convolution_keeps_embedding_rows_apart():
    torch.manual_seed(0)
    conv = RowWiseConvolution(dim=3, in_maps=2, out_maps=2, kernel_width=2)
    x = torch.randn(4, 3, 2, 5)
    changed = x.clone()
    changed[:, 1] += 1.0  # change embedding row 1 only
    out, out_changed = conv(x), conv(changed)
    torch.testing.assert_close(out[:, [0, 2]], out_changed[:, [0, 2]])
    assert not torch.allclose(out[:, 1], out_changed[:, 1])


@pytest.mark.parametrize("length, kernel_width", [(1, 3), (5, 2), (10, 6), (39, 5)])
def test_row_wise_convolution_banded_product_equals_the_grouped_conv1d(length, kernel_width):
    torch.manual_seed(0)
    banded = RowWiseConvolution(dim=4, in_maps=2, out_maps=3, kernel_width=kernel_width).double()
    grouped = copy.deepcopy(banded)
    grouped.max_toeplitz_length = 0  # every input through the grouped conv1d
    x = torch.randn(5, 4, 2, length, dtype=torch.float64, requires_grad=True)
    x_copy = x.detach().clone().requires_grad_()
    out, expected = banded(x), grouped(x_copy)
    torch.testing.assert_close(out, expected)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(x.grad, x_copy.grad)
    for parameter, twin in zip(banded.parameters(), grouped.parameters(), strict=True):
        torch.testing.assert_close(parameter.grad, twin.grad)


@pytest.mark.parametrize("k", [1, 3, 4, 5, 6])
def test_k_max_pooling_equals_the_sorted_top_k(k):
    torch.manual_seed(0)
    x = torch.randn(3, 4, 7, 2)
    expected = x.gather(2, x.topk(k, dim=2).indices.sort(dim=2).values)
    torch.testing.assert_close(KMaxPooling(k=k, dim=2)(x), expected)


def test_k_max_pooling_keeps_order_and_routes_gradients():
    x = torch.tensor([[3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0]], requires_grad=True)
    out = KMaxPooling(k=3)(x)
    torch.testing.assert_close(out, torch.tensor([[4.0, 5.0, 9.0]]))
    out.sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([[0.0, 0, 1, 0, 1, 1, 0]]))
    maps = torch.randn(2, 3, 6, 4)
    pooled = KMaxPooling(k=2, dim=2)(maps)
    assert pooled.shape == (2, 3, 2, 4)
    torch.testing.assert_close(KMaxPooling(k=6, dim=2)(maps), maps)
    torch.testing.assert_close(KMaxPooling(k=4)(maps), maps)
