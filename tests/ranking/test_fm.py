"""FM's module (``models/ranking/_fm.py``); tests/test_estimators.py covers the estimator."""

import torch
from torch.nn import functional as F

from sklearn_pangu.models.ranking import FMModule

K = 4
# Cardinalities 5 + 3 + 7 = 15 and 2 dense features (the ``spec`` fixture).
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias


def test_module_logits(spec, batch, assert_logits_per_row):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(FMModule(spec, embedding_dim=K), codes, dense)


def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach):
    torch.manual_seed(0)
    module = FMModule(spec, embedding_dim=K).train()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


def test_module_parameter_count(spec):
    assert spec.cardinalities == (5, 3, 7) and spec.n_dense == 2
    module = FMModule(spec, embedding_dim=K)
    assert sum(p.numel() for p in module.parameters()) == LINEAR + (15 + 2) * K


def test_fm_module_is_linear_plus_pairwise_interactions(spec, batch):
    torch.manual_seed(0)
    module = FMModule(spec, embedding_dim=K).eval()
    with torch.no_grad():
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    codes, dense, _ = batch(n=5)
    e = module.embedding(codes, dense).double()
    pairwise = sum((e[:, i] * e[:, j]).sum(dim=1) for i in range(5) for j in range(i + 1, 5))
    expected = module.linear(codes, dense).double() + pairwise
    torch.testing.assert_close(module(codes, dense).double(), expected, rtol=1e-5, atol=1e-5)
