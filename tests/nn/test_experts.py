"""MixtureOfExperts and TaskTowers (``sklearn_pangu.nn._experts``): the layers of OMoE and MMoE."""

import math

import pytest
import torch
from torch import nn

from sklearn_pangu.nn import MixtureOfExperts, TaskTowers

# --------------------------------------------------------------------------- MixtureOfExperts


def test_mixture_gate_weights_are_a_softmax_per_gate_summing_to_one():
    torch.manual_seed(0)
    moe = MixtureOfExperts(5, num_experts=3, expert_units=(4,), num_gates=2)
    x = torch.randn(6, 5)
    weights = moe.gate_weights(x)
    assert weights.shape == (2, 6, 3)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(2, 6))
    assert (weights > 0).all()
    expected = torch.stack([torch.softmax(x @ gate.weight.T + gate.bias, dim=-1) for gate in moe.gates])
    torch.testing.assert_close(weights, expected)


def test_mixture_hand_computed(set_linear):
    # Constant experts: a one-unit expert with weight 0 and bias c outputs relu(c) = c.
    moe = MixtureOfExperts(2, num_experts=2, expert_units=(1,), num_gates=2)
    set_linear(moe.experts[0][0], [0.0, 0.0], [1.0])
    set_linear(moe.experts[1][0], [0.0, 0.0], [3.0])
    # Gate 0 weighs the experts 1/4, 3/4; gate 1 reads x_0: logits (0, x_0).
    set_linear(moe.gates[0], torch.zeros(2, 2), [0.0, math.log(3.0)])
    set_linear(moe.gates[1], [[0.0, 0.0], [1.0, 0.0]], [0.0, 0.0])
    x = torch.tensor([[0.0, 5.0], [math.log(4.0), -1.0]])
    out = moe(x)
    assert out.shape == (2, 2, 1)
    # gate 0: 1/4 + 3 * 3/4 on both rows; gate 1: (1 + 3) / 2 on row 0, (1 + 4 * 3) / 5 on row 1
    torch.testing.assert_close(out[..., 0], torch.tensor([[2.5, 2.5], [2.0, 13.0 / 5.0]]))


def test_mixture_is_the_gated_sum_of_the_experts():
    torch.manual_seed(0)
    moe = MixtureOfExperts(4, num_experts=3, expert_units=(6, 5), num_gates=2).double()
    x = torch.randn(7, 4, dtype=torch.float64)
    out = moe(x)
    assert out.shape == (2, 7, 5) and moe.output_dim == 5
    for g, gate in enumerate(moe.gates):
        weights = torch.softmax(gate(x), dim=-1)
        by_hand = sum(weights[:, e, None] * expert(x) for e, expert in enumerate(moe.experts))
        torch.testing.assert_close(out[g], by_hand)


def test_mixture_with_one_expert_is_that_expert_for_every_gate():
    torch.manual_seed(0)
    moe = MixtureOfExperts(4, num_experts=1, expert_units=(6,), num_gates=3)
    x = torch.randn(5, 4)
    torch.testing.assert_close(moe.gate_weights(x), torch.ones(3, 5, 1))
    torch.testing.assert_close(moe(x), moe.experts[0](x).expand(3, 5, 6))


def test_mixture_parameters_are_registered_experts_and_gates(assert_gradients_reach):
    torch.manual_seed(0)
    moe = MixtureOfExperts(4, num_experts=3, expert_units=(6, 5), num_gates=2, batch_norm=True, dropout=0.2)
    block = [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout]
    assert all([type(m) for m in expert] == block * 2 for expert in moe.experts)
    # 3 experts 4 -> 6 -> 5 with batch norm (weight and bias per unit); 2 gates 4 -> 3
    experts = 3 * (4 * 6 + 6 + 2 * 6 + 6 * 5 + 5 + 2 * 5)
    assert sum(p.numel() for p in moe.parameters()) == experts + 2 * (4 * 3 + 3)
    assert {name.split(".")[0] for name, _ in moe.named_parameters()} == {"experts", "gates"}
    out = moe.train()(torch.randn(16, 4))
    assert_gradients_reach(moe, (out * torch.randn(2, 16, 5)).sum())


# --------------------------------------------------------------------------- TaskTowers


def test_towers_hand_computed(set_linear):
    # Without hidden layers each tower is a linear logit w_t . x_t + b_t.
    towers = TaskTowers(2, n_tasks=2, tower_units=())
    set_linear(towers.towers[0][0], [1.0, 2.0], [0.5])
    set_linear(towers.towers[1][0], [-1.0, 0.0], [0.0])
    inputs = torch.tensor([[[1.0, 1.0], [0.0, -1.0]], [[3.0, 7.0], [-2.0, 4.0]]])  # (tasks, batch, dim)
    out = towers(inputs)
    assert out.shape == (2, 2)
    torch.testing.assert_close(out, torch.tensor([[3.5, -3.0], [-1.5, 2.0]]))


def test_towers_read_their_own_input_only():
    torch.manual_seed(0)
    towers = TaskTowers(4, n_tasks=3, tower_units=(5,))
    inputs = torch.randn(3, 6, 4)
    before = towers(inputs)
    changed = inputs.clone()
    changed[1] += 1.0
    after = towers(changed)
    torch.testing.assert_close(after[:, [0, 2]], before[:, [0, 2]])
    assert not torch.allclose(after[:, 1], before[:, 1])
    for t in range(3):
        torch.testing.assert_close(before[:, t], towers.towers[t](inputs[t]).squeeze(-1))
    # A list of per-task inputs is the same as their stack: Shared-Bottom passes one input n_tasks times.
    torch.testing.assert_close(towers(list(inputs)), before)


def test_towers_are_independent_networks(assert_gradients_reach):
    torch.manual_seed(0)
    towers = TaskTowers(4, n_tasks=2, tower_units=(5, 3))
    # 2 towers 4 -> 5 -> 3 -> 1, no weight shared
    assert sum(p.numel() for p in towers.parameters()) == 2 * (4 * 5 + 5 + 5 * 3 + 3 + 3 + 1)
    inputs = torch.randn(2, 8, 4)
    before = towers(inputs)
    with torch.no_grad():
        towers.towers[0][0].weight.add_(1.0)
    after = towers(inputs)
    torch.testing.assert_close(after[:, 1], before[:, 1])
    assert not torch.allclose(after[:, 0], before[:, 0])
    assert_gradients_reach(towers, (after * torch.randn(8, 2)).sum())


def test_towers_need_one_input_per_task():
    towers = TaskTowers(4, n_tasks=2, tower_units=(3,))
    with pytest.raises(ValueError):
        towers(torch.zeros(3, 5, 4))
