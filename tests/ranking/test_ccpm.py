"""CCPM: its module (``models/ranking/_ccpm.py``) and estimator (``ranking/_ccpm.py``)."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from sklearn_pangu.models.ranking._ccpm import CCPMModule, flexible_pooling_sizes
from sklearn_pangu.nn._conv import KMaxPooling, RowWiseConvolution
from sklearn_pangu.ranking._ccpm import CCPMClassifier

K = 4
N_FIELDS = 5  # the ``spec`` fixture: cardinalities 5 + 3 + 7 = 15 and 2 dense features
EMBEDDING = (15 + 2) * K

VARIANTS = {
    "ccpm": {},
    "ccpm_one_layer": {"conv_kernel_widths": (2,), "conv_filters": (3,)},
    "ccpm_deep": {"conv_kernel_widths": (1, 2, 3, 2, 1), "conv_filters": (2, 3, 2, 3, 2)},
}


def _ccpm_count(widths, filters):
    # Convolution i: a width-w_i filter per embedding row and pair of maps, a bias per row and map;
    # output layer: a weight per value of the last p_l x d x c_l maps, plus a bias.
    convolutions, maps = 0, 1
    for width, out_maps in zip(widths, filters):
        convolutions += K * maps * out_maps * width + K * out_maps
        maps = out_maps
    p_last = flexible_pooling_sizes(N_FIELDS, len(widths))[-1]
    return EMBEDDING + convolutions + maps * p_last * K + 1


@pytest.mark.parametrize("params", VARIANTS.values(), ids=VARIANTS)
def test_module_logits_and_gradients(spec, batch, assert_logits_per_row, assert_gradients_reach, params):
    torch.manual_seed(0)
    module = CCPMModule(spec, embedding_dim=K, **params)
    codes, dense, target = batch(n=16)
    assert_logits_per_row(module, codes, dense)
    out = module.train()(codes, dense)
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(out, target))


def test_module_handles_few_fields(few_fields_spec, assert_logits_per_row):
    spec = few_fields_spec
    module = CCPMModule(spec, embedding_dim=3)
    codes = torch.zeros(5, spec.n_categorical, dtype=torch.long)
    assert_logits_per_row(module, codes, torch.randn(5, spec.n_dense))


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"conv_kernel_widths": (3, 2), "conv_filters": (2, 3)}, _ccpm_count((3, 2), (2, 3))),
        ({}, _ccpm_count((6, 5, 3), (4, 4, 4))),
    ],
    ids=["ccpm", "ccpm_default"],
)
def test_module_parameter_count(spec, params, expected):
    assert sum(p.numel() for p in CCPMModule(spec, embedding_dim=K, **params).parameters()) == expected


def test_parameter_count_formula_by_hand():
    # CCPM on 5 fields with 2 layers: p = (floor(5 / 2), 3) = (2, 3).
    assert _ccpm_count((3, 2), (2, 3)) == 68 + (4 * 1 * 2 * 3 + 4 * 2) + (4 * 2 * 3 * 2 + 4 * 3) + (
        3 * 3 * 4 + 1
    )


@pytest.mark.parametrize(
    "n_fields, n_layers, expected",
    [
        (39, 3, [34, 13, 3]),
        (39, 2, [19, 3]),
        (8, 3, [7, 2, 3]),
        (10, 4, [9, 7, 2, 3]),
        (2, 1, [2]),
        (1, 3, [1, 1, 1]),
    ],
)
def test_flexible_pooling_sizes(n_fields, n_layers, expected):
    # p_i = floor((1 - (i / l) ** (l - i)) * n), at least 1; p_l = min(3, n).
    assert flexible_pooling_sizes(n_fields, n_layers) == expected


def test_ccpm_module_pools_to_flexible_sizes(spec):
    module = CCPMModule(spec, embedding_dim=K, conv_kernel_widths=(2, 2, 3), conv_filters=(2, 2, 2))
    pools = [m.k for m in module.convolutions if isinstance(m, KMaxPooling)]
    assert pools == flexible_pooling_sizes(N_FIELDS, 3) == [4, 1, 3]
    assert [type(m) for m in module.convolutions] == [RowWiseConvolution, KMaxPooling, nn.Tanh] * 3
    # A last convolution with fewer than 3 positions (1 + 2 - 1) keeps them all.
    short = CCPMModule(spec, embedding_dim=K, conv_kernel_widths=(2, 2, 2), conv_filters=(2, 2, 2))
    assert [m.k for m in short.convolutions if isinstance(m, KMaxPooling)] == [4, 1, 2]


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "name, value",
    [
        ("conv_kernel_widths", ()),
        ("conv_kernel_widths", (3, 0)),
        ("conv_kernel_widths", 3),
        ("conv_kernel_widths", (3,)),  # length differs from conv_filters
        ("conv_filters", (4, 2.5, 4)),
        ("conv_filters", ()),
        ("conv_filters", "444"),
    ],
)
def test_bad_parameter_is_a_value_error_naming_it(ctr_data, tiny, name, value):
    X, y = ctr_data
    with pytest.raises(ValueError, match=name):
        tiny(CCPMClassifier, max_epochs=1, **{name: value}).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"conv_kernel_widths": (2,), "conv_filters": (3,)},
        {"conv_kernel_widths": (7, 5, 3, 1), "conv_filters": (2, 2, 2, 2)},
    ],
    ids=["ccpm_one_layer", "ccpm_wide_kernels"],
)
def test_structural_options_fit_and_predict(ctr_data, tiny, params):
    X, y = ctr_data
    proba = tiny(CCPMClassifier, max_epochs=1, **params).fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
