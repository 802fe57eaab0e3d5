"""AutoInt: its module (``models/ranking/_autoint.py``) and estimator (``ranking/_autoint.py``)."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu.models.ranking._autoint import AutoIntModule
from sklearn_pangu.ranking._autoint import AutoIntClassifier

K = 4
HIDDEN = (8, 6)
N_FIELDS = 5  # the ``spec`` fixture: cardinalities 5 + 3 + 7 = 15 and 2 dense features
EMBEDDING = (15 + 2) * K
MLP = (N_FIELDS * K) * 8 + 8 + 8 * 6 + 6 + 6 * 1 + 1  # MLP 20 -> 8 -> 6 -> 1

VARIANTS = {
    "autoint": {"hidden_units": HIDDEN},
    "autoint_plus": {"hidden_units": HIDDEN, "use_dnn": True},
    "autoint_no_residual": {"use_residual": False},
}


def _autoint_count(layers, heads, d, residual=True, dnn=False):
    # W_Query, W_Key, W_Value (and W_Res) of every interacting layer map the previous width to H * d';
    # the output layer reads the n * H * d' features of the last layer.
    projections = 4 if residual else 3
    width, attention = K, 0
    for _ in range(layers):
        attention += projections * width * heads * d
        width = heads * d
    return EMBEDDING + attention + (N_FIELDS * width + 1) + (MLP if dnn else 0)


@pytest.mark.parametrize("params", VARIANTS.values(), ids=VARIANTS)
def test_module_logits_and_gradients(spec, batch, assert_logits_per_row, assert_gradients_reach, params):
    torch.manual_seed(0)
    module = AutoIntModule(spec, embedding_dim=K, **params)
    codes, dense, target = batch(n=16)
    assert_logits_per_row(module, codes, dense)
    out = module.train()(codes, dense)
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(out, target))


def test_module_handles_few_fields(few_fields_spec, assert_logits_per_row):
    spec = few_fields_spec
    module = AutoIntModule(spec, embedding_dim=3, hidden_units=(4,))
    codes = torch.zeros(5, spec.n_categorical, dtype=torch.long)
    assert_logits_per_row(module, codes, torch.randn(5, spec.n_dense))


@pytest.mark.parametrize(
    "params, expected",
    [
        (
            {"hidden_units": HIDDEN, "num_attention_layers": 2, "num_heads": 2, "attention_dim": 3},
            _autoint_count(2, 2, 3),
        ),
        (
            {"num_attention_layers": 3, "num_heads": 1, "attention_dim": 5, "use_residual": False},
            _autoint_count(3, 1, 5, residual=False),
        ),
        (
            {"hidden_units": HIDDEN, "num_attention_layers": 1, "attention_dim": 2, "use_dnn": True},
            _autoint_count(1, 2, 2, dnn=True),
        ),
    ],
    ids=["autoint", "autoint_no_residual", "autoint_plus"],
)
def test_module_parameter_count(spec, params, expected):
    module = AutoIntModule(spec, embedding_dim=K, **params)
    assert sum(p.numel() for p in module.parameters()) == expected


def test_parameter_count_formula_by_hand():
    # The formula above, written out once for the first configuration.
    assert _autoint_count(2, 2, 3) == 68 + (4 * 4 * 6 + 4 * 6 * 6) + (5 * 6 + 1)


def test_autoint_without_dnn_has_no_deep_component(spec):
    assert AutoIntModule(spec, embedding_dim=K).deep is None
    assert AutoIntModule(spec, embedding_dim=K, use_dnn=True, hidden_units=HIDDEN).deep is not None


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "name, value",
    [
        ("num_attention_layers", 0),
        ("num_attention_layers", 1.5),
        ("num_heads", 0),
        ("num_heads", "2"),
        ("attention_dim", 0),
        ("attention_dim", None),
        ("use_residual", "yes"),
        ("use_dnn", 1.0),
        ("hidden_units", ()),
    ],
)
def test_bad_parameter_is_a_value_error_naming_it(ctr_data, tiny, name, value):
    X, y = ctr_data
    with pytest.raises(ValueError, match=name):
        tiny(AutoIntClassifier, max_epochs=1, **{name: value}).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"num_attention_layers": 2, "attention_dim": 4, "num_heads": 1, "use_residual": False},
        {"num_attention_layers": 1, "attention_dim": 4, "hidden_units": (8,), "use_dnn": True},
    ],
    ids=["autoint_no_residual", "autoint_plus"],
)
def test_structural_options_fit_and_predict(ctr_data, tiny, params):
    X, y = ctr_data
    proba = tiny(AutoIntClassifier, max_epochs=1, **params).fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
