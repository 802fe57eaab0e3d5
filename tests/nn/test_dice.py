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
