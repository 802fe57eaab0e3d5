"""AITM's layers (``sklearn_pangu.nn._information_transfer``): information transfer, calibrator."""

import numpy as np
import pytest
import torch

from sklearn_pangu.nn._information_transfer import (
    AdaptiveInformationTransfer,
    BehavioralExpectationCalibrator,
)


def test_information_transfer_shape_and_gradients(assert_gradients_reach):
    torch.manual_seed(0)
    ait = AdaptiveInformationTransfer(6, dropout=0.1).train()
    previous, current = torch.randn(10, 6), torch.randn(10, 6)
    z = ait(previous, current)
    assert z.shape == (10, 6)
    weights = ait.attention_weights(ait.transfer(previous), current)
    assert weights.shape == (10, 2)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(10))
    assert_gradients_reach(ait, z.pow(2).sum())


def test_information_transfer_hand_computed():
    # dim 1: transfer g(u) = relu(u), query = key = identity, value h_1(u) = 2u + 1
    ait = AdaptiveInformationTransfer(1)
    with torch.no_grad():
        for layer, weight, bias in [
            (ait.transfer[0], 1.0, 0.0),
            (ait.query, 1.0, 0.0),
            (ait.key, 1.0, 0.0),
            (ait.value, 2.0, 1.0),
        ]:
            layer.weight.fill_(weight)
            layer.bias.fill_(bias)
    z = ait(torch.tensor([[2.0], [-3.0]]), torch.tensor([[1.0], [1.0]]))
    # row 0: p = relu(2) = 2, scores (p·p, q·q) = (4, 1), values (5, 3)
    w = np.exp([4.0, 1.0]) / np.exp([4.0, 1.0]).sum()
    # row 1: p = relu(-3) = 0, scores (0, 1), values (1, 3)
    v = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    expected = torch.tensor([[w[0] * 5 + w[1] * 3], [v[0] * 1 + v[1] * 3]], dtype=torch.float32)
    torch.testing.assert_close(z, expected)


def test_calibrator_penalty_hand_computed():
    calibrator = BehavioralExpectationCalibrator(0.5)
    ordered = torch.logit(torch.tensor([[0.9, 0.5, 0.1], [0.4, 0.4, 0.2]], dtype=torch.float64))
    assert calibrator.penalty(ordered).item() == 0.0
    # excess of step 1 over step 0: (0, 0.3), of step 2 over step 1: (0, 0.3); row means 0.15 each
    unordered = torch.logit(torch.tensor([[0.8, 0.5, 0.1], [0.3, 0.6, 0.9]], dtype=torch.float64))
    assert calibrator.penalty(unordered).item() == pytest.approx(0.5 * (0.15 + 0.15))


def test_calibrator_stores_its_penalty_only_in_training():
    calibrator = BehavioralExpectationCalibrator(0.5)
    logits = torch.logit(torch.tensor([[0.2, 0.6]]))
    calibrator.eval()
    assert calibrator(logits) is logits and calibrator.pop_penalty() is None
    calibrator.train()
    assert calibrator(logits) is logits
    assert calibrator.pop_penalty().item() == pytest.approx(0.5 * 0.4)
    assert calibrator.pop_penalty() is None  # popped once
    off = BehavioralExpectationCalibrator(0.0).train()
    off(logits)
    assert off.pop_penalty() is None
