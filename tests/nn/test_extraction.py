"""CustomizedGateControl (``sklearn_pangu.nn._extraction``), the extraction level of PLE."""

import math

import pytest
import torch

from sklearn_pangu.nn._extraction import CustomizedGateControl


@pytest.mark.parametrize("shared_gate", [False, True])
@pytest.mark.parametrize("n_tasks", [1, 3])
def test_cgc_shape_and_gradients(n_tasks, shared_gate, assert_gradients_reach):
    torch.manual_seed(0)
    cgc = CustomizedGateControl(
        6,
        n_tasks=n_tasks,
        num_specific_experts=2,
        num_shared_experts=3,
        expert_units=(8, 5),
        shared_gate=shared_gate,
    )
    rows = n_tasks + int(shared_gate)
    assert cgc(torch.randn(4, 6)).shape == (rows, 4, 5)
    out = cgc(torch.randn(n_tasks + 1, 4, 6))
    assert out.shape == (rows, 4, 5)
    assert_gradients_reach(cgc, out.sum())
    task_weights, shared_weights = cgc.gate_weights(torch.randn(4, 6))
    assert task_weights.shape == (n_tasks, 4, 2 + 3)
    torch.testing.assert_close(task_weights.sum(-1), torch.ones(n_tasks, 4))
    if shared_gate:
        assert shared_weights.shape == (4, n_tasks * 2 + 3)
    else:
        assert shared_weights is None
    with pytest.raises(ValueError, match="inputs must have shape"):
        cgc(torch.randn(n_tasks + 2, 4, 6))


def test_cgc_rejects_levels_without_experts():
    for name in ("num_specific_experts", "num_shared_experts"):
        params = {"num_specific_experts": 1, "num_shared_experts": 1, name: 0}
        with pytest.raises(ValueError, match=name):
            CustomizedGateControl(3, n_tasks=2, expert_units=(2,), **params)


def test_cgc_hand_computed_mixtures(set_linear):
    # Constant experts: a one-unit expert with weight 0 and bias c outputs relu(c) = c.
    cgc = CustomizedGateControl(
        2, n_tasks=2, num_specific_experts=1, num_shared_experts=1, expert_units=(1,), shared_gate=True
    )
    for expert, c in [(cgc.specific_experts[0][0], 1.0), (cgc.specific_experts[1][0], 2.0)]:
        set_linear(expert[0], [0.0, 0.0], [c])
    set_linear(cgc.shared_experts[0][0], [0.0, 0.0], [4.0])
    # Task 0's gate weighs (its expert, shared) 1/4, 3/4; task 1's 1/2, 1/2.
    set_linear(cgc.gates[0], torch.zeros(2, 2), [0.0, math.log(3.0)])
    set_linear(cgc.gates[1], torch.zeros(2, 2), [0.0, 0.0])
    # The shared gate weighs (task 0's, task 1's, shared) 1/8, 2/8, 5/8.
    set_linear(cgc.shared_gate, torch.zeros(3, 2), [0.0, math.log(2.0), math.log(5.0)])
    out = cgc(torch.randn(3, 2)).squeeze(-1)
    expected = torch.tensor([0.25 * 1 + 0.75 * 4, 0.5 * 2 + 0.5 * 4, (1 * 1 + 2 * 2 + 5 * 4) / 8])
    torch.testing.assert_close(out, expected[:, None].expand(3, 3))


def test_cgc_routes_each_input_to_its_experts_and_gate(set_linear):
    # Experts E(x) = relu(x_0): each reveals the first coordinate of the input it reads.
    cgc = CustomizedGateControl(
        2, n_tasks=2, num_specific_experts=1, num_shared_experts=1, expert_units=(1,), shared_gate=True
    )
    experts = [cgc.specific_experts[0][0], cgc.specific_experts[1][0], cgc.shared_experts[0]]
    for expert in experts:
        set_linear(expert[0], [1.0, 0.0], [0.0])
    # Gates read the second coordinate of their own input: logits (0, x_1).
    for gate in [*cgc.gates, cgc.shared_gate]:
        weight = torch.zeros(gate.out_features, 2)
        weight[-1, 1] = 1.0
        set_linear(gate, weight, torch.zeros(gate.out_features))
    inputs = torch.tensor(
        [[[1.0, 0.0]], [[2.0, math.log(3.0)]], [[5.0, math.log(2.0)]]]
    )  # tasks 0, 1, shared
    out = cgc(inputs).squeeze(-1).squeeze(-1)
    # task 0: (1 + 5) / 2; task 1: (2 + 3 * 5) / 4; shared gate: logits (0, 0, log 2) -> (1 + 2 + 2 * 5) / 4
    torch.testing.assert_close(out, torch.tensor([3.0, 17.0 / 4.0, 13.0 / 4.0]))


def test_cgc_task_output_ignores_other_tasks_inputs():
    torch.manual_seed(0)
    cgc = CustomizedGateControl(
        4, n_tasks=2, num_specific_experts=2, num_shared_experts=1, expert_units=(6,), shared_gate=True
    ).eval()
    inputs = torch.randn(3, 5, 4)
    changed = inputs.clone()
    changed[1] += 1.0  # task 1's input
    before, after = cgc(inputs), cgc(changed)
    torch.testing.assert_close(before[0], after[0])  # task 0 reads only its input and the shared one
    assert not torch.allclose(before[1], after[1])
    assert not torch.allclose(before[2], after[2])  # the shared gate mixes task 1's experts too
    changed = inputs.clone()
    changed[2] += 1.0  # the shared input reaches every task through the shared experts
    after = cgc(changed)
    for row in range(3):
        assert not torch.allclose(before[row], after[row]), row
