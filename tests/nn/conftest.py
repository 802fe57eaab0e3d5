"""Fixtures of the layer tests."""

import pytest
import torch


@pytest.fixture(scope="session")
def set_linear():
    """``set_linear(linear, weight, bias)``: give an ``nn.Linear`` these values (reshaped to fit)."""

    def set_values(linear, weight, bias):
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(weight, dtype=torch.float32).reshape(linear.weight.shape))
            linear.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))

    return set_values
