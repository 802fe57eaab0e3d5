"""field_pairs, pair_products and PairwiseProduct (``sklearn_pangu.nn._pairs``)."""

import pytest
import torch

from sklearn_pangu.nn._pairs import PairwiseProduct, field_pairs, pair_products


def test_field_pairs_are_all_i_less_than_j_in_row_major_order():
    rows, cols = field_pairs(5)
    expected = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    assert list(zip(rows.tolist(), cols.tolist())) == expected
    assert rows.dtype == torch.long and cols.dtype == torch.long
    for n in (0, 1):
        rows, cols = field_pairs(n)
        assert rows.numel() == 0 and cols.numel() == 0


def test_pairwise_product_hand_computed_and_against_a_loop():
    e = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    expected = torch.tensor([[[3.0, 8.0], [5.0, 12.0], [15.0, 24.0]]])
    torch.testing.assert_close(PairwiseProduct(3)(e), expected)
    torch.manual_seed(0)
    e = torch.randn(4, 6, 3, dtype=torch.float64)
    layer = PairwiseProduct(6)
    out = layer(e)
    assert out.shape == (4, 15, 3) and layer.n_pairs == 15
    loop = torch.stack([e[:, i] * e[:, j] for i in range(6) for j in range(i + 1, 6)], dim=1)
    torch.testing.assert_close(out, loop)


def test_pairwise_product_gradient_reaches_the_input():
    torch.manual_seed(0)
    e = torch.randn(3, 4, 2, dtype=torch.float64, requires_grad=True)
    PairwiseProduct(4)(e).sum().backward()
    assert e.grad is not None and (e.grad != 0).any()


@pytest.mark.parametrize("n_fields", [1, 2, 3, 7])
@pytest.mark.parametrize("per_pair", [False, True])
def test_pair_products_values_and_gradients_equal_a_gather_of_the_pairs(n_fields, per_pair):
    torch.manual_seed(0)
    rows, cols = field_pairs(n_fields)
    right = torch.randn(4, n_fields, 3, dtype=torch.float64, requires_grad=True)
    n_left = len(rows) if per_pair else max(n_fields - 1, 0)
    left = torch.randn(4, n_left, 3, dtype=torch.float64, requires_grad=True)
    out = pair_products(left, right)
    first = left if per_pair else left[:, rows]
    expected = first * right[:, cols]
    assert out.shape == (4, len(rows), 3) and out.is_contiguous()
    torch.testing.assert_close(out, expected)
    if len(rows):
        upstream = torch.randn_like(out)
        torch.testing.assert_close(
            torch.autograd.grad(out, [left, right], upstream),
            torch.autograd.grad(expected, [left, right], upstream),
        )


@pytest.mark.parametrize("n_fields", [2, 3, 7])
def test_pair_products_takes_the_per_pair_factor_as_one_block_per_first_field(n_fields):
    torch.manual_seed(0)
    right = torch.randn(4, n_fields, 3, dtype=torch.float64, requires_grad=True)
    left = torch.randn(4, n_fields * (n_fields - 1) // 2, 3, dtype=torch.float64, requires_grad=True)
    blocks = left.split([n_fields - 1 - i for i in range(n_fields - 1)], dim=1)
    out, expected = pair_products(blocks, right), pair_products(left, right)
    torch.testing.assert_close(out, expected)
    upstream = torch.randn_like(out)
    torch.testing.assert_close(
        torch.autograd.grad(out, [left, right], upstream),
        torch.autograd.grad(expected, [left, right], upstream),
    )
