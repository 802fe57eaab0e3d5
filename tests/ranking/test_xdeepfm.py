"""xDeepFM: its module (``models/ranking/_xdeepfm.py``) and estimator (``ranking/_xdeepfm.py``)."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu.models.ranking._xdeepfm import XDeepFMModule
from sklearn_pangu.ranking._xdeepfm import XDeepFMClassifier

K = 4
HIDDEN = (8, 6)
N_FIELDS = 5  # the ``spec`` fixture: cardinalities 5 + 3 + 7 = 15 and 2 dense features
EMBEDDING = (15 + 2) * K
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias
MLP = (N_FIELDS * K) * 8 + 8 + 8 * 6 + 6 + 6 * 1 + 1  # MLP 20 -> 8 -> 6 -> 1

VARIANTS = {
    "xdeepfm": {},
    "xdeepfm_no_split": {"cin_units": (3, 5), "cin_split_half": False},
}


def _xdeepfm_count(units, split_half=True):
    # CIN (Eq. 6): layer k has H_k x H_{k-1} x m weights, H_0 = m, H_{k-1} halved when split;
    # w_cin (Eq. 9) reads the pooled maps; the output bias is the linear part's.
    cin, previous, pooled = 0, N_FIELDS, 0
    for k, h in enumerate(units):
        cin += h * previous * N_FIELDS
        split = split_half and k < len(units) - 1
        previous = h // 2 if split else h
        pooled += h - previous if split else h
    return LINEAR + EMBEDDING + cin + pooled + MLP


@pytest.mark.parametrize("params", VARIANTS.values(), ids=VARIANTS)
def test_module_logits_and_gradients(spec, batch, assert_logits_per_row, assert_gradients_reach, params):
    torch.manual_seed(0)
    module = XDeepFMModule(spec, embedding_dim=K, hidden_units=HIDDEN, **params)
    codes, dense, target = batch(n=16)
    assert_logits_per_row(module, codes, dense)
    out = module.train()(codes, dense)
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(out, target))


def test_module_handles_few_fields(few_fields_spec, assert_logits_per_row):
    spec = few_fields_spec
    module = XDeepFMModule(spec, embedding_dim=3, hidden_units=(4,))
    codes = torch.zeros(5, spec.n_categorical, dtype=torch.long)
    assert_logits_per_row(module, codes, torch.randn(5, spec.n_dense))


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"cin_units": (4, 6, 3)}, _xdeepfm_count((4, 6, 3))),
        ({"cin_units": (3, 5), "cin_split_half": False}, _xdeepfm_count((3, 5), split_half=False)),
    ],
    ids=["xdeepfm", "xdeepfm_no_split"],
)
def test_module_parameter_count(spec, params, expected):
    module = XDeepFMModule(spec, embedding_dim=K, hidden_units=HIDDEN, **params)
    assert sum(p.numel() for p in module.parameters()) == expected


def test_parameter_count_formula_by_hand():
    # The formula above, written out once for the first configuration.
    assert _xdeepfm_count((4, 6, 3)) == 18 + 68 + (4 * 5 * 5 + 6 * 2 * 5 + 3 * 3 * 5) + (2 + 3 + 3) + MLP


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "name, value",
    [
        ("cin_units", ()),
        ("cin_units", (8, -1)),
        ("cin_units", (7, 8)),  # odd map count fed on with split-half
        ("cin_units", 16),
        ("cin_split_half", "no"),
    ],
)
def test_bad_parameter_is_a_value_error_naming_it(ctr_data, tiny, name, value):
    X, y = ctr_data
    with pytest.raises(ValueError, match=name):
        tiny(XDeepFMClassifier, max_epochs=1, **{name: value}).fit(X, y)


def test_odd_cin_units_are_fine_without_split_half(ctr_data, tiny):
    X, y = ctr_data
    model = tiny(
        XDeepFMClassifier,
        max_epochs=1,
        hidden_units=(8,),
        cin_units=(7, 5),
        cin_split_half=False,
        numeric_encoding="scale",  # 3 categorical and 2 dense fields
    )
    proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    # Unsplit, layer 2 reads all 7 maps of layer 1 against the 5 fields, and both layers are pooled.
    cin = model.net_.module_.cin
    assert [tuple(w.shape) for w in cin.weights] == [(7, 5 * 5), (5, 7 * 5)]
    assert cin.output_dim == 7 + 5 and model.net_.module_.cin_output.in_features == 12


def test_structural_options_fit_and_predict(ctr_data, tiny):
    X, y = ctr_data
    model = tiny(XDeepFMClassifier, max_epochs=1, hidden_units=(8,), cin_units=(4, 3), cin_split_half=True)
    proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
