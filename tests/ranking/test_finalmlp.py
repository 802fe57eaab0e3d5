"""FinalMLP: its module (``models/ranking/_finalmlp.py``) and estimator (``ranking/_finalmlp.py``)."""

import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu import FinalMLPClassifier
from sklearn_pangu.models.ranking._finalmlp import FinalMLPModule

K = 4
N_FIELDS = 5  # the ``spec`` fixture: cardinalities 5 + 3 + 7 = 15 and 2 dense features
EMBEDDING = (15 + 2) * K  # one vector per categorical index and per dense feature
HIDDEN = (8, 6)
STREAM1 = (N_FIELDS * K) * 8 + 8 + 8 * 6 + 6  # hidden layers only, no output layer
BN = 2 * (8 + 6)

MODULE_OPTIONS = [
    {},
    {"use_feature_gating": False},
    {"num_heads": 1, "gate_units": ()},
    {"batch_norm": True, "dropout": 0.1},
]


def _mlp_parameters(input_dim, hidden, output_dim=None):
    total, width = 0, input_dim
    for units in hidden:
        total += width * units + units
        width = units
    return total + (width * output_dim + output_dim if output_dim else 0)


def _module(spec, **params):
    defaults = {
        "embedding_dim": K,
        "hidden_units": HIDDEN,
        "stream2_units": (10,),
        "gate_units": (12,),
        "num_heads": 2,
    }
    return FinalMLPModule(spec, **{**defaults, **params})


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


def test_finalmlp_parameter_count(spec):
    def count(module):
        return sum(p.numel() for p in module.parameters())

    flat = N_FIELDS * K
    gate = K + _mlp_parameters(K, (12,), output_dim=flat)  # context vector + gate MLP
    stream2 = _mlp_parameters(flat, (10,))
    fusion = 6 + 1 + 10 + 2 * (3 * 5)  # w_1, b, w_2 and 2 heads of (6/2) x (10/2) bilinear weights
    assert count(_module(spec)) == EMBEDDING + 2 * gate + STREAM1 + stream2 + fusion
    assert count(_module(spec, use_feature_gating=False)) == EMBEDDING + STREAM1 + stream2 + fusion
    with_bn = EMBEDDING + 2 * gate + STREAM1 + BN + stream2 + 2 * 10 + fusion
    assert count(_module(spec, batch_norm=True)) == with_bn


def test_finalmlp_without_gating_feeds_both_streams_the_embeddings(spec, batch):
    torch.manual_seed(0)
    module = _module(spec, use_feature_gating=False).eval()
    codes, dense, _ = batch(n=4)
    e = module.embedding(codes, dense).flatten(start_dim=1)
    expected = module.fusion(module.stream1(e), module.stream2(e))
    torch.testing.assert_close(module(codes, dense), expected)


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "name, value",
    [
        ("stream2_units", ()),
        ("stream2_units", (4, 0)),
        ("stream2_units", "64"),
        ("gate_units", (-1,)),
        ("gate_units", 8),
        ("use_feature_gating", "yes"),
        ("num_heads", 0),
        ("num_heads", 1.5),
        ("num_heads", 3),  # does not divide hidden_units[-1] = 8
    ],
)
def test_bad_parameter_value_raises_value_error_naming_it(ctr_data, tiny, name, value):
    X, y = ctr_data
    params = {"hidden_units": (8,), "stream2_units": (8,), "max_epochs": 1}
    with pytest.raises(ValueError, match=name):
        tiny(FinalMLPClassifier, **{**params, name: value}).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"stream2_units": (8,), "gate_units": ()},
        {"stream2_units": (8,), "use_feature_gating": False, "num_heads": 4},
    ],
)
def test_estimator_options_fit_and_predict(ctr_data, tiny, params):
    X, y = ctr_data
    model = tiny(FinalMLPClassifier, hidden_units=(8,), max_epochs=1, **params).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (200, 2)
    assert torch.isfinite(torch.as_tensor(proba)).all()
