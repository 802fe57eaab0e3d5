"""DCN-V2: its module (``models/ranking/_dcnv2.py``) and estimator (``ranking/_dcnv2.py``)."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu import DCNV2Classifier
from sklearn_pangu.models.ranking._dcnv2 import DCNV2Module

K = 4
HIDDEN = (8, 6)
D = 5 * K  # size of x0: the 5 fields of the ``spec`` fixture, of 4 each
# Parameter counts: cardinalities 5 + 3 + 7 = 15, 2 dense features, k = 4, so x0 has d = 5 * 4 = 20.
EMBEDDING = (15 + 2) * K  # one vector per categorical index and per dense feature

VARIANTS = {
    "parallel": {"num_cross_layers": 2, "structure": "parallel"},
    "stacked": {"num_cross_layers": 2, "structure": "stacked"},
    "cross_only": {"num_cross_layers": 2, "structure": "cross_only"},
    "low_rank": {"num_cross_layers": 2, "low_rank": 3, "num_experts": 2},
    "low_rank_stacked": {"num_cross_layers": 2, "structure": "stacked", "low_rank": 3, "num_experts": 2},
}


def _mlp(input_dim, hidden=HIDDEN):
    """Weights and biases of the hidden layers of an MLP, no output layer."""
    widths = (input_dim, *hidden)
    return sum(widths[i] * widths[i + 1] + widths[i + 1] for i in range(len(hidden)))


def _dcnv2_count(num_cross_layers, structure, low_rank=None, num_experts=1):
    if low_rank is None:
        per_layer = D * D + D  # W_l in R^{d x d}, b_l in R^d
    else:
        # per expert U, V in R^{d x r} and C in R^{r x r}; a gate vector per expert; b shared
        per_layer = num_experts * (2 * D * low_rank + low_rank * low_rank) + num_experts * D + D
    deep = 0 if structure == "cross_only" else _mlp(D)
    top = {"parallel": D + HIDDEN[-1], "stacked": HIDDEN[-1], "cross_only": D}[structure]
    return EMBEDDING + num_cross_layers * per_layer + deep + top + 1


def _module(spec, variant, batch_norm=False, dropout=0.0):
    return DCNV2Module(
        spec,
        embedding_dim=K,
        hidden_units=HIDDEN,
        dropout=dropout,
        batch_norm=batch_norm,
        **VARIANTS[variant],
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_module_logits(spec, batch, assert_logits_per_row, variant):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(_module(spec, variant, batch_norm=True, dropout=0.1), codes, dense)


@pytest.mark.parametrize("variant", VARIANTS)
def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach, variant):
    torch.manual_seed(0)
    module = _module(spec, variant, batch_norm=True).train()
    with torch.no_grad():  # embeddings of a trained size, so that every product carries gradient
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


def test_module_rejects_an_unknown_structure(spec):
    with pytest.raises(ValueError, match="structure"):
        DCNV2Module(spec, embedding_dim=K, hidden_units=HIDDEN, structure="diagonal")


@pytest.mark.parametrize(
    "variant, expected",
    [
        ("parallel", _dcnv2_count(2, "parallel")),
        ("stacked", _dcnv2_count(2, "stacked")),
        ("cross_only", _dcnv2_count(2, "cross_only")),
        ("low_rank", _dcnv2_count(2, "parallel", low_rank=3, num_experts=2)),
        ("low_rank_stacked", _dcnv2_count(2, "stacked", low_rank=3, num_experts=2)),
    ],
)
def test_module_parameter_count(spec, variant, expected):
    assert sum(p.numel() for p in _module(spec, variant).parameters()) == expected


def test_parameter_count_formula_by_hand():
    # The formula above, written out once for the defaults of this file.
    assert _dcnv2_count(2, "parallel") == 68 + 2 * 420 + 222 + 27
    assert _dcnv2_count(2, "parallel", low_rank=3, num_experts=2) == 68 + 2 * (2 * 129 + 40 + 20) + 222 + 27


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "param, value",
    [
        ("num_cross_layers", 0),
        ("structure", "diagonal"),
        ("low_rank", 0),
        ("low_rank", 4.0),
        ("num_experts", 0),
    ],
)
def test_bad_parameter_raises_value_error_naming_it(ctr_data, tiny, param, value):
    X, y = ctr_data
    with pytest.raises(ValueError, match=param):
        tiny(DCNV2Classifier, max_epochs=1, **{param: value}).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [{"structure": "cross_only"}, {"low_rank": 2, "num_experts": 2}],
    ids=["cross_only", "low_rank"],
)
def test_structural_options_fit_and_predict(ctr_data, tiny, params):
    X, y = ctr_data
    proba = tiny(DCNV2Classifier, **params, max_epochs=2).fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
