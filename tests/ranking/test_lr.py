"""LR's module (``models/ranking/_linear.py``); tests/test_estimators.py covers the estimator."""

import torch
from torch.nn import functional as F

from sklearn_pangu.models.ranking import LRModule

# Cardinalities 5 + 3 + 7 = 15 and 2 dense features (the ``spec`` fixture).
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias


def test_module_logits(spec, batch, assert_logits_per_row):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    module = LRModule(spec)
    out = assert_logits_per_row(module, codes, dense)
    torch.testing.assert_close(out, module.linear(codes, dense))


def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach):
    torch.manual_seed(0)
    module = LRModule(spec).train()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


def test_module_parameter_count(spec):
    assert spec.cardinalities == (5, 3, 7) and spec.n_dense == 2
    assert sum(p.numel() for p in LRModule(spec).parameters()) == LINEAR
