"""AOANet: its module (``models/ranking/_aoanet.py``) and estimator (``ranking/_aoanet.py``)."""

import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu import AOANetClassifier
from sklearn_pangu.models.ranking._aoanet import AOANetModule

K = 4
N_FIELDS = 5  # the ``spec`` fixture: cardinalities 5 + 3 + 7 = 15 and 2 dense features
EMBEDDING = (15 + 2) * K  # one vector per categorical index and per dense feature
HIDDEN = (8, 6)
STREAM1 = (N_FIELDS * K) * 8 + 8 + 8 * 6 + 6  # the MLP's hidden layers, no output layer
BN = 2 * (8 + 6)

MODULE_OPTIONS = [
    {},
    {"num_interaction_layers": 1, "num_subspaces": 1},
    {"num_interaction_layers": 3, "batch_norm": True, "dropout": 0.1},
]


def _module(spec, **params):
    defaults = {"embedding_dim": K, "hidden_units": HIDDEN, "num_interaction_layers": 2, "num_subspaces": 3}
    return AOANetModule(spec, **{**defaults, **params})


@pytest.mark.parametrize("options", MODULE_OPTIONS)
def test_module_logits(spec, batch, assert_logits_per_row, options):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(_module(spec, **options), codes, dense)


@pytest.mark.parametrize("options", MODULE_OPTIONS)
def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach, options):
    torch.manual_seed(0)
    module = _module(spec, **options).train()
    with torch.no_grad():  # vectors of a trained size, so high-order terms are not ~0
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


def test_aoanet_parameter_count(spec):
    def count(module):
        return sum(p.numel() for p in module.parameters())

    s = 3
    first = s * K * K + s * K + N_FIELDS * N_FIELDS * s  # W_k, h_k, alpha over (field, field) pairs
    later = s * K * K + s * K + N_FIELDS * s * s  # alpha over (field, subspace) pairs
    output = (6 + s * K) + 1
    assert count(_module(spec)) == EMBEDDING + STREAM1 + first + later + output
    assert count(_module(spec, batch_norm=True)) == EMBEDDING + STREAM1 + BN + first + later + output


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "name, value",
    [
        ("num_interaction_layers", 0),
        ("num_interaction_layers", "3"),
        ("num_subspaces", 0),
        ("num_subspaces", None),
    ],
)
def test_bad_parameter_value_raises_value_error_naming_it(ctr_data, tiny, name, value):
    X, y = ctr_data
    with pytest.raises(ValueError, match=name):
        tiny(AOANetClassifier, hidden_units=(8,), max_epochs=1, **{name: value}).fit(X, y)


def test_estimator_options_fit_and_predict(ctr_data, tiny):
    X, y = ctr_data
    model = tiny(AOANetClassifier, hidden_units=(8,), max_epochs=1, num_interaction_layers=1, num_subspaces=2)
    proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (200, 2)
    assert torch.isfinite(torch.as_tensor(proba)).all()
