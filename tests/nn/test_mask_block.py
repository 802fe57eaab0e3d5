"""InstanceGuidedMask and MaskBlock (``sklearn_pangu.nn._mask_block``), MaskNet's blocks."""

import torch
from torch import nn

from sklearn_pangu.nn._mask_block import InstanceGuidedMask, MaskBlock


def test_instance_guided_mask_hand_computed():
    mask = InstanceGuidedMask(2, 1, reduction_ratio=2.0)
    assert (mask.aggregation.in_features, mask.aggregation.out_features) == (2, 2)
    assert (mask.projection.in_features, mask.projection.out_features) == (2, 1)
    with torch.no_grad():
        mask.aggregation.weight.copy_(torch.tensor([[1.0, 1.0], [1.0, -1.0]]))
        mask.aggregation.bias.copy_(torch.tensor([0.0, -1.0]))
        mask.projection.weight.copy_(torch.tensor([[2.0, 3.0]]))
        mask.projection.bias.copy_(torch.tensor([0.5]))
    v = torch.tensor([[1.0, 2.0], [3.0, 1.0]])
    # row 0: ReLU(3, -2) = (3, 0) -> 6 + 0.5; row 1: ReLU(4, 1) = (4, 1) -> 8 + 3 + 0.5
    torch.testing.assert_close(mask(v), torch.tensor([[6.5], [11.5]]))


def test_mask_block_is_relu_of_layer_norm_of_masked_hidden_layer():
    torch.manual_seed(0)
    block = MaskBlock(input_dim=6, mask_input_dim=10, output_dim=4, reduction_ratio=1.5)
    assert block.mask.aggregation.out_features == 9
    assert block.hidden.bias is None
    x, v = torch.randn(5, 6), torch.randn(5, 10)
    hidden = (block.mask(v) * x) @ block.hidden.weight.T
    expected = torch.relu(nn.functional.layer_norm(hidden, (4,), block.norm.weight, block.norm.bias))
    out = block(x, v)
    assert out.shape == (5, 4)
    torch.testing.assert_close(out, expected)


def test_mask_block_gradients_reach_every_parameter(assert_gradients_reach):
    torch.manual_seed(0)
    block = MaskBlock(input_dim=6, mask_input_dim=10, output_dim=4)
    with torch.no_grad():
        block.norm.bias.fill_(0.1)  # keep some units on both sides of the ReLU
    out = block(torch.randn(8, 6), torch.randn(8, 10))
    assert_gradients_reach(block, (out * torch.randn(8, 4)).sum())
