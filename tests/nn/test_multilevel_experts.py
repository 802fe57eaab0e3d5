"""MultiLevelMixtureOfExperts (``sklearn_pangu.nn._multilevel_experts``), the mixture of ML-MMoE."""

import math

import torch

from sklearn_pangu.nn._multilevel_experts import MultiLevelMixtureOfExperts


def test_multilevel_moe_shape_and_gradients(assert_gradients_reach):
    torch.manual_seed(0)
    moe = MultiLevelMixtureOfExperts(
        6, num_experts=4, expert_units=(8, 7), num_level2_experts=3, level2_expert_units=(5,), num_gates=2
    )
    out = moe(torch.randn(9, 6))
    assert out.shape == (2, 9, 5)
    assert_gradients_reach(moe, out.sum())
    assert moe.gate_weights(torch.randn(9, 6)).shape == (2, 9, 3)
    assert moe.level1.gate_weights(torch.randn(9, 6)).shape == (3, 9, 4)


def test_multilevel_moe_hand_computed(set_linear):
    moe = MultiLevelMixtureOfExperts(
        2, num_experts=2, expert_units=(1,), num_level2_experts=2, level2_expert_units=(1,), num_gates=2
    )
    # Level-1 experts output 1 and 3.
    set_linear(moe.level1.experts[0][0], [0.0, 0.0], [1.0])
    set_linear(moe.level1.experts[1][0], [0.0, 0.0], [3.0])
    # Level-1 gate 0 weighs them 1/2, 1/2 -> h_0 = 2; gate 1 weighs 3/4, 1/4 -> h_1 = 1.5.
    set_linear(moe.level1.gates[0], torch.zeros(2, 2), [0.0, 0.0])
    set_linear(moe.level1.gates[1], torch.zeros(2, 2), [math.log(3.0), 0.0])
    # Level-2 expert 0 computes relu(2 h_0) = 4, expert 1 relu(h_1) = 1.5.
    set_linear(moe.experts[0][0], [2.0], [0.0])
    set_linear(moe.experts[1][0], [1.0], [0.0])
    # Task gate 0 weighs them 1/2, 1/2; task gate 1 4/5, 1/5.
    set_linear(moe.gates[0], torch.zeros(2, 2), [0.0, 0.0])
    set_linear(moe.gates[1], torch.zeros(2, 2), [math.log(4.0), 0.0])
    out = moe(torch.randn(3, 2)).squeeze(-1)
    expected = torch.tensor([0.5 * 4 + 0.5 * 1.5, 0.8 * 4 + 0.2 * 1.5])
    torch.testing.assert_close(out, expected[:, None].expand(2, 3))


def test_multilevel_moe_gates_are_conditioned_on_the_input():
    torch.manual_seed(0)
    moe = MultiLevelMixtureOfExperts(
        3, num_experts=3, expert_units=(4,), num_level2_experts=2, level2_expert_units=(4,), num_gates=2
    )
    x = torch.randn(5, 3)
    expected = torch.stack([torch.softmax(gate(x), dim=-1) for gate in moe.gates])
    torch.testing.assert_close(moe.gate_weights(x), expected)
    assert not torch.allclose(moe.gate_weights(x)[:, 0], moe.gate_weights(x)[:, 1])
