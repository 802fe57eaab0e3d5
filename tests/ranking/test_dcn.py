"""DCN: its module (``models/ranking/_dcn.py``) and estimator (``ranking/_dcn.py``)."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu import DCNClassifier
from sklearn_pangu.models.ranking._dcn import DCNModule

K = 4
HIDDEN = (8, 6)
D = 5 * K  # size of x0: the 5 fields of the ``spec`` fixture, of 4 each
# Parameter counts: cardinalities 5 + 3 + 7 = 15, 2 dense features, k = 4, so x0 has d = 5 * 4 = 20.
EMBEDDING = (15 + 2) * K  # one vector per categorical index and per dense feature
BN = 2 * (8 + 6)  # BatchNorm1d weight and bias of each hidden layer


def _mlp(input_dim, hidden=HIDDEN):
    """Weights and biases of the hidden layers of an MLP, no output layer."""
    widths = (input_dim, *hidden)
    return sum(widths[i] * widths[i + 1] + widths[i + 1] for i in range(len(hidden)))


def _dcn_count(num_cross_layers, batch_norm):
    # DCN (Wang et al., 2017): cross layer l has w_l, b_l in R^d; the combination layer
    # maps [x_L1 (d), h_L2 (last hidden width)] to the logit with a weight and a bias.
    cross = num_cross_layers * 2 * D
    return EMBEDDING + cross + _mlp(D) + (BN if batch_norm else 0) + (D + HIDDEN[-1]) + 1


def _module(spec, batch_norm=False, dropout=0.0):
    return DCNModule(
        spec, embedding_dim=K, hidden_units=HIDDEN, dropout=dropout, batch_norm=batch_norm, num_cross_layers=3
    )


def test_module_logits(spec, batch, assert_logits_per_row):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(_module(spec, batch_norm=True, dropout=0.1), codes, dense)


def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach):
    torch.manual_seed(0)
    module = _module(spec, batch_norm=True).train()
    with torch.no_grad():  # embeddings of a trained size, so that every product carries gradient
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


@pytest.mark.parametrize("batch_norm", [False, True])
def test_module_parameter_count(spec, batch_norm):
    module = _module(spec, batch_norm=batch_norm)
    assert sum(p.numel() for p in module.parameters()) == _dcn_count(3, batch_norm=batch_norm)


def test_parameter_count_formula_by_hand():
    # The formula above, written out once for the defaults of this file.
    assert _dcn_count(3, batch_norm=False) == 68 + 120 + (168 + 54) + 27


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize("param, value", [("num_cross_layers", 0), ("num_cross_layers", 2.5)])
def test_bad_parameter_raises_value_error_naming_it(ctr_data, tiny, param, value):
    X, y = ctr_data
    with pytest.raises(ValueError, match=param):
        tiny(DCNClassifier, max_epochs=1, **{param: value}).fit(X, y)


def test_structural_options_fit_and_predict(ctr_data, tiny):
    X, y = ctr_data
    proba = tiny(DCNClassifier, num_cross_layers=1, max_epochs=2).fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
