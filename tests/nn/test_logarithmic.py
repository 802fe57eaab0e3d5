"""LogarithmicTransformation (``sklearn_pangu.nn._logarithmic``), AFN's logarithmic neurons."""

import torch

from sklearn_pangu.nn._logarithmic import LogarithmicTransformation


def test_logarithmic_transformation_shape_and_gradients(assert_gradients_reach):
    torch.manual_seed(0)
    layer = LogarithmicTransformation(4, n_neurons=6).train()
    e = torch.randn(8, 4, 3)
    assert layer(e).shape == (8, 6, 3)
    assert_gradients_reach(layer, (layer(e) * torch.randn(8, 6, 3)).sum())
    # Parameters: the powers (no bias) and the two batch norms.
    assert sum(p.numel() for p in layer.parameters()) == 6 * 4 + 2 * 4 + 2 * 6


def test_logarithmic_transformation_is_a_product_of_powers():
    layer = LogarithmicTransformation(3, n_neurons=2, batch_norm=False).double()
    weight = torch.tensor([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]], dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(weight)
    generator = torch.Generator().manual_seed(0)
    e = torch.randn(5, 3, 4, generator=generator, dtype=torch.float64)
    out = layer(e)
    for j in range(2):
        expected = torch.ones(5, 4, dtype=torch.float64)
        for i in range(3):
            expected = expected * e[:, i].abs() ** weight[j, i]
        torch.testing.assert_close(out[:, j], expected)
    # Zeros are clamped at eps before the logarithm: 0 ** 1 * 2 ** 2 -> eps * 4.
    zero = torch.tensor([[[0.0], [2.0], [1.0]]], dtype=torch.float64)
    torch.testing.assert_close(layer(zero)[0, 0, 0].detach(), zero.new_tensor(1e-7 * 4.0))
