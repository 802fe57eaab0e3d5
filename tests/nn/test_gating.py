"""FeatureGate (``sklearn_pangu.nn._gating``), FinalMLP's feature gating."""

import torch

from sklearn_pangu.nn._gating import FeatureGate


def test_feature_gate_shape_and_gradients(assert_gradients_reach):
    torch.manual_seed(0)
    gate = FeatureGate(6, context_dim=4, hidden_units=(16, 8))
    x = torch.randn(3, 6)
    assert gate(x).shape == (3, 6)
    assert gate(x, context=torch.randn(3, 4)).shape == (3, 6)
    assert_gradients_reach(gate, gate(x).sum())


def test_feature_gate_hand_computed():
    gate = FeatureGate(3, context_dim=2)  # no hidden layer: gates = 2 sigmoid(A c + a)
    with torch.no_grad():
        gate.context.copy_(torch.tensor([1.0, -1.0]))
        gate.mlp[0].weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]))
        gate.mlp[0].bias.copy_(torch.tensor([0.0, -3.0, 0.0]))
    x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    # pre-activations 0, -3, 2 -> gates 2 sigmoid(.) = 1, 2 / (1 + e^3), 2 / (1 + e^-2)
    gates = torch.tensor([1.0, 2.0 / (1.0 + torch.e**3), 2.0 / (1.0 + torch.e**-2)])
    torch.testing.assert_close(gate(x), x * gates)
    # A context per row replaces the learnable one.
    context = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    per_row = torch.stack(
        [torch.tensor([1.0, 2.0 / (1.0 + torch.e**3), 1.0]), 2 * torch.sigmoid(torch.tensor([0.0, 0.0, 6.0]))]
    )
    torch.testing.assert_close(gate(x, context=context), x * per_row)
