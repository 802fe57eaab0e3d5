"""SqueezeExcitation (``sklearn_pangu.nn._senet``), FiBiNET's field reweighting."""

import pytest
import torch

from sklearn_pangu.nn._senet import SqueezeExcitation


def test_squeeze_excitation_shape_and_bottleneck_size():
    layer = SqueezeExcitation(n_fields=7, reduction_ratio=3)
    assert layer(torch.randn(4, 7, 5)).shape == (4, 7, 5)
    assert layer.excitation[0].weight.shape == (2, 7) and layer.excitation[2].weight.shape == (7, 2)
    assert layer.excitation[0].bias is None and layer.excitation[2].bias is None
    assert SqueezeExcitation(n_fields=2, reduction_ratio=3).excitation[0].weight.shape == (1, 2)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_squeeze_excitation_hand_computed(activation):
    layer = SqueezeExcitation(n_fields=3, reduction_ratio=3, excitation_activation=activation)
    with torch.no_grad():
        layer.excitation[0].weight.copy_(torch.tensor([[1.0, 1.0, 1.0]]))
        layer.excitation[2].weight.copy_(torch.tensor([[1.0], [0.5], [-1.0]]))
    e = torch.tensor([[[1.0, 3.0], [2.0, 4.0], [0.0, 6.0]]])
    # z = (2, 3, 3); hidden = relu(8) = 8; a = act(8, 4, -8)
    pre = torch.tensor([8.0, 4.0, -8.0])
    a = torch.relu(pre) if activation == "relu" else torch.sigmoid(pre)
    torch.testing.assert_close(layer.field_weights(e), a[None])
    torch.testing.assert_close(layer(e), e * a[None, :, None])


def test_squeeze_excitation_gradients_reach_every_parameter(assert_gradients_reach):
    torch.manual_seed(0)
    layer = SqueezeExcitation(n_fields=6, reduction_ratio=2, excitation_activation="sigmoid")
    assert_gradients_reach(layer, (layer(torch.randn(16, 6, 3)) * torch.randn(3)).sum())


def test_squeeze_excitation_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="excitation_activation"):
        SqueezeExcitation(4, excitation_activation="tanh")
