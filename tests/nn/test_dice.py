"""Dice (DIN's activation) against hand-computed values."""

import math

import pytest
import torch

from sklearn_pangu.nn import Dice


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_training_uses_the_moments_of_the_valid_positions_only():
    dice = Dice(1).train()
    inputs = torch.tensor([[[1.0], [2.0], [3.0], [1000.0]]])  # the last slot is padding
    mask = torch.tensor([[True, True, True, False]])
    out = dice(inputs, mask).squeeze().tolist()
    std = math.sqrt(2.0 / 3.0)  # biased variance of 1, 2, 3
    for x, got in zip([1.0, 2.0, 3.0], out[:3], strict=True):
        assert got == pytest.approx(x * _sigmoid((x - 2.0) / std), rel=1e-5)
    # Moving averages from the valid slots: mean 2, unbiased variance 1, momentum 0.1.
    assert dice.running_mean.item() == pytest.approx(0.2)
    assert dice.running_var.item() == pytest.approx(1.0)


def test_inference_uses_the_moving_averages_and_alpha():
    dice = Dice(2)
    with torch.no_grad():
        dice.running_mean.copy_(torch.tensor([1.0, -1.0]))
        dice.running_var.copy_(torch.tensor([4.0, 1.0]))
        dice.alpha.copy_(torch.tensor([0.5, 0.0]))
    dice.eval()
    out = dice(torch.tensor([[3.0, -2.0]])).squeeze().tolist()
    p0, p1 = _sigmoid((3.0 - 1.0) / 2.0), _sigmoid(-1.0)
    assert out[0] == pytest.approx(3.0 * (p0 + (1 - p0) * 0.5), rel=1e-5)
    assert out[1] == pytest.approx(-2.0 * p1, rel=1e-5)
    assert dice.running_mean.tolist() == [1.0, -1.0]  # inference leaves them alone


def test_inference_without_gradients_gives_the_same_values():
    # Without gradients the activation is computed in place in one buffer.
    dice = Dice(3)
    with torch.no_grad():
        dice.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
        dice.running_var.copy_(torch.tensor([2.0, 0.5, 1.0]))
        dice.alpha.copy_(torch.tensor([0.25, -0.5, 0.0]))
    dice.eval()
    inputs = torch.randn(4, 6, 3)
    original = inputs.clone()
    with_gradients = dice(inputs)
    with torch.no_grad():
        torch.testing.assert_close(dice(inputs), with_gradients.detach())
    assert torch.equal(inputs, original)  # the buffer is its own, not the inputs


def test_padding_values_do_not_change_the_valid_outputs():
    mask = torch.tensor([[True, True, False]])
    a = torch.tensor([[[0.5], [-1.0], [0.0]]])
    b = torch.tensor([[[0.5], [-1.0], [-50.0]]])
    out_a, out_b = Dice(1).train()(a, mask), Dice(1).train()(b, mask)
    torch.testing.assert_close(out_a[:, :2], out_b[:, :2])


def test_a_batch_without_valid_positions_keeps_the_moving_averages():
    dice = Dice(1).train()
    out = dice(torch.tensor([[[2.0]]]), torch.tensor([[False]]))
    assert torch.isfinite(out).all()
    assert dice.running_mean.item() == 0.0 and dice.running_var.item() == 1.0


@pytest.mark.parametrize("masked", [True, False])
def test_training_gradients_match_finite_differences(masked):
    # The backward pass is written out by hand (moments included); check it numerically.
    torch.manual_seed(0)
    dice = Dice(3).double().train()
    with torch.no_grad():
        dice.alpha.copy_(torch.tensor([0.3, -0.2, 0.0]))
    inputs = (torch.randn(2, 4, 3, dtype=torch.float64) * 2 + 0.5).requires_grad_()
    mask = torch.tensor([[True, True, False, False], [True, True, True, False]]) if masked else None
    torch.autograd.gradcheck(lambda x, alpha: dice(x, mask), (inputs, dice.alpha))


def test_training_output_and_gradients_equal_the_formula_on_the_valid_positions():
    torch.manual_seed(0)
    dice = Dice(5).train()
    with torch.no_grad():
        dice.alpha.copy_(torch.rand(5))
    inputs = (torch.randn(6, 7, 5) * 3 - 1).requires_grad_()
    mask = torch.arange(7) < torch.tensor([0, 1, 3, 7, 5, 2]).unsqueeze(1)
    grad = torch.randn(6, 7, 5) * mask.unsqueeze(-1)
    dice(inputs, mask).backward(grad)

    reference = inputs.detach().clone().requires_grad_()
    alpha = dice.alpha.detach().clone().requires_grad_()
    valid = reference[mask]
    var, mean = torch.var_mean(valid, dim=0, unbiased=False)
    p = torch.sigmoid((reference - mean) / torch.sqrt(var + dice.eps))
    expected = reference * (p + (1 - p) * alpha)
    expected.backward(grad)
    torch.testing.assert_close(dice(inputs, mask)[mask], expected[mask].detach())
    torch.testing.assert_close(inputs.grad, reference.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(dice.alpha.grad, alpha.grad, rtol=1e-4, atol=1e-4)
