"""FactorizationMachine and BiInteractionPooling (``sklearn_pangu.nn._interaction``)."""

import torch

from sklearn_pangu.nn import FactorizationMachine
from sklearn_pangu.nn._interaction import BiInteractionPooling
from sklearn_pangu.nn._pairs import PairwiseProduct

# --------------------------------------------------------------------------- FactorizationMachine


def test_factorization_machine_hand_computed():
    e = torch.tensor(
        [
            [[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]],  # 0 + 2 + 3
            [[1.0, 1.0], [-1.0, 2.0], [0.0, 0.0]],  # 1 + 0 + 0
        ]
    )
    torch.testing.assert_close(FactorizationMachine()(e), torch.tensor([5.0, 1.0]))
    one_field = torch.tensor([[[3.0, 4.0]]])
    torch.testing.assert_close(FactorizationMachine()(one_field), torch.tensor([0.0]))


def test_factorization_machine_equals_pairwise_double_loop():
    generator = torch.Generator().manual_seed(0)
    e = torch.randn(7, 5, 3, generator=generator, dtype=torch.float64)
    expected = torch.zeros(7, dtype=torch.float64)
    for i in range(5):
        for j in range(i + 1, 5):
            expected += (e[:, i] * e[:, j]).sum(dim=1)
    out = FactorizationMachine()(e)
    assert out.shape == (7,)
    torch.testing.assert_close(out, expected)


def test_factorization_machine_gradient_is_that_of_the_pairwise_sum():
    generator = torch.Generator().manual_seed(1)
    e = torch.randn(6, 4, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(6, generator=generator, dtype=torch.float64)
    pairwise = sum((e[:, i] * e[:, j]).sum(dim=1) for i in range(4) for j in range(i + 1, 4))
    (expected,) = torch.autograd.grad((pairwise * upstream).sum(), e)
    (grad,) = torch.autograd.grad((FactorizationMachine()(e) * upstream).sum(), e)
    torch.testing.assert_close(grad, expected)
    assert torch.autograd.gradcheck(FactorizationMachine(), (e,))


def test_factorization_machine_is_the_sum_of_the_bi_interaction_vector():
    torch.manual_seed(0)
    e = torch.randn(6, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(FactorizationMachine()(e), BiInteractionPooling()(e).sum(dim=1))
    assert list(FactorizationMachine().parameters()) == []


# --------------------------------------------------------------------------- BiInteractionPooling


def test_bi_interaction_pooling_hand_computed():
    e = torch.tensor(
        [
            [[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]],  # (0 + 2 + 0, 0 + 0 + 3)
            [[1.0, 1.0], [-1.0, 2.0], [0.0, 0.0]],  # (-1, 2)
        ]
    )
    torch.testing.assert_close(BiInteractionPooling()(e), torch.tensor([[2.0, 3.0], [-1.0, 2.0]]))


def test_bi_interaction_pooling_equals_sum_of_pairwise_products():
    torch.manual_seed(0)
    e = torch.randn(7, 5, 3, dtype=torch.float64)
    out = BiInteractionPooling()(e)
    assert out.shape == (7, 3)
    torch.testing.assert_close(out, PairwiseProduct(5)(e).sum(dim=1))


def test_bi_interaction_pooling_gradient_reaches_the_input():
    torch.manual_seed(0)
    e = torch.randn(3, 4, 2, dtype=torch.float64, requires_grad=True)
    BiInteractionPooling()(e).sum().backward()
    assert e.grad is not None and (e.grad != 0).any()
