"""AFN: its module (``models/ranking/_afn.py``) and estimator (``ranking/_afn.py``)."""

import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu import AFNClassifier
from sklearn_pangu.models.ranking._afn import AFNModule

K = 4
N_FIELDS = 5  # the ``spec`` fixture: cardinalities 5 + 3 + 7 = 15 and 2 dense features
EMBEDDING = (15 + 2) * K  # one vector per categorical index and per dense feature
HIDDEN = (8, 6)

MODULE_OPTIONS = [
    {},
    {"use_dnn": True},
    {"use_dnn": True, "batch_norm": True, "dropout": 0.1},
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
        "num_logarithmic_neurons": 7,
        "use_dnn": False,
        "dnn_units": (9,),
    }
    return AFNModule(spec, **{**defaults, **params})


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


def test_afn_parameter_count(spec):
    def count(module):
        return sum(p.numel() for p in module.parameters())

    logarithmic = 7 * N_FIELDS + 2 * N_FIELDS + 2 * 7  # powers w_ji, batch norm in and out
    afn_mlp = _mlp_parameters(7 * K, HIDDEN, output_dim=1)
    assert count(_module(spec)) == EMBEDDING + logarithmic + afn_mlp
    dnn = _mlp_parameters(N_FIELDS * K, (9,), output_dim=1)
    ensemble = 2 + 1  # w_AFN, w_DNN, b
    assert count(_module(spec, use_dnn=True)) == EMBEDDING + logarithmic + afn_mlp + dnn + ensemble


def test_afn_without_dnn_does_not_see_the_sign_of_dense_features(spec, batch):
    # The logarithm reads |x_k v_k|: flipping every dense value leaves plain AFN's logit
    # unchanged, which is why AFN+ (use_dnn=True) is the estimator's default.
    torch.manual_seed(0)
    codes, dense, _ = batch(n=6)
    afn = _module(spec).eval()
    torch.testing.assert_close(afn(codes, -dense), afn(codes, dense))
    afn_plus = _module(spec, use_dnn=True).eval()
    with torch.no_grad():
        afn_plus.embedding.dense_weight.normal_()
    assert not torch.allclose(afn_plus(codes, -dense), afn_plus(codes, dense))


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "name, value",
    [
        ("num_logarithmic_neurons", 0),
        ("num_logarithmic_neurons", 2.0),
        ("use_dnn", "no"),
        ("dnn_units", ()),
        ("dnn_units", (8, 2.5)),
    ],
)
def test_bad_parameter_value_raises_value_error_naming_it(ctr_data, tiny, name, value):
    X, y = ctr_data
    with pytest.raises(ValueError, match=name):
        tiny(AFNClassifier, hidden_units=(8,), max_epochs=1, **{name: value}).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [{"num_logarithmic_neurons": 5, "dnn_units": (6,)}, {"num_logarithmic_neurons": 5, "use_dnn": False}],
)
def test_estimator_options_fit_and_predict(ctr_data, tiny, params):
    X, y = ctr_data
    model = tiny(AFNClassifier, hidden_units=(8,), max_epochs=1, **params).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (200, 2)
    assert torch.isfinite(torch.as_tensor(proba)).all()
