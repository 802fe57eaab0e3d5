"""MLP (``sklearn_pangu.nn._mlp``): its layers, in order."""

import pytest
import torch
from torch import nn

from sklearn_pangu.nn import MLP


def test_mlp_plain_structure():
    mlp = MLP(8, (16, 4))
    assert [type(m) for m in mlp] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU]
    assert (mlp[0].in_features, mlp[0].out_features) == (8, 16)
    assert (mlp[2].in_features, mlp[2].out_features) == (16, 4)
    assert mlp.output_dim == 4
    assert mlp(torch.randn(3, 8)).shape == (3, 4)


def test_mlp_with_batch_norm_dropout_and_output():
    mlp = MLP(8, (16, 4), dropout=0.3, batch_norm=True, output_dim=1)
    types = [type(m) for m in mlp]
    block = [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout]
    assert types == block + block + [nn.Linear]
    assert mlp[1].num_features == 16 and mlp[5].num_features == 4
    assert mlp[3].p == pytest.approx(0.3) and mlp[7].p == pytest.approx(0.3)
    assert (mlp[8].in_features, mlp[8].out_features) == (4, 1)
    assert mlp.output_dim == 1
    assert mlp(torch.randn(5, 8)).shape == (5, 1)


def test_mlp_without_hidden_layers_is_one_linear_layer():
    mlp = MLP(6, (), output_dim=2)
    assert [type(m) for m in mlp] == [nn.Linear]
    assert (mlp[0].in_features, mlp[0].out_features) == (6, 2)
