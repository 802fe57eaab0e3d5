"""Wide & Deep's module (``models/ranking/_wide_deep.py``); tests/test_estimators.py covers the estimator."""

import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu.models.ranking import WideDeepModule

K = 4
HIDDEN = (8, 6)
# Cardinalities 5 + 3 + 7 = 15, 2 dense features, embedding_dim k = 4, MLP 8 -> 6 -> 1.
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias
BN = 2 * (8 + 6)  # BatchNorm1d weight and bias of each hidden layer
# The MLP reads the 3 categorical embeddings and the 2 raw dense features.
WIDE_DEEP_MLP = (3 * 4 + 2) * 8 + 8 + 8 * 6 + 6 + 6 * 1 + 1


def _module(spec, batch_norm=False, dropout=0.0):
    return WideDeepModule(spec, embedding_dim=K, hidden_units=HIDDEN, batch_norm=batch_norm, dropout=dropout)


def test_module_logits(spec, batch, assert_logits_per_row):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(_module(spec), codes, dense)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach, batch_norm):
    torch.manual_seed(0)
    module = _module(spec, batch_norm=batch_norm, dropout=0.1 if batch_norm else 0.0).train()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


@pytest.mark.parametrize(
    "batch_norm, expected",
    [(False, LINEAR + 15 * 4 + WIDE_DEEP_MLP), (True, LINEAR + 15 * 4 + WIDE_DEEP_MLP + BN)],
)
def test_module_parameter_count(spec, batch_norm, expected):
    assert spec.cardinalities == (5, 3, 7) and spec.n_dense == 2
    assert sum(p.numel() for p in _module(spec, batch_norm=batch_norm).parameters()) == expected


def test_wide_deep_module_feeds_raw_dense_features_to_its_mlp(spec, batch):
    torch.manual_seed(0)
    module = _module(spec).eval()
    codes, dense, _ = batch(n=5)
    deep_input = torch.cat(
        [module.embedding.table.weight[codes + torch.tensor([0, 5, 8])].flatten(1), dense], 1
    )
    expected = module.wide(codes, dense) + module.deep(deep_input).squeeze(-1)
    torch.testing.assert_close(module(codes, dense), expected)
