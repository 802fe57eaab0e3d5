"""FiBiNET: its module (``models/ranking/_fibinet.py``) and estimator (``ranking/_fibinet.py``)."""

import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu import FiBiNetClassifier
from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.models.ranking._fibinet import FiBiNetModule
from sklearn_pangu.nn._bilinear import BILINEAR_TYPES

K = 4
HIDDEN = (8, 6)
# Cardinalities 5 + 3 + 7 = 15, 2 dense features: n = 5 fields, 10 pairs; k = 4; MLP 8 -> 6 -> 1.
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias
EMBEDDING = (15 + 2) * 4  # a k-vector per categorical index and dense feature
N_FIELDS, N_PAIRS = 5, 10
HIDDEN_BN = 2 * (8 + 6)  # BatchNorm1d weight and bias of each hidden layer
# SENET W_1 (n x n/r) and W_2 (n/r x n) with n/r = max(1, 5 // 3) = 1, two bilinear layers
# (original and SENET embeddings), an MLP over the 2 * n_pairs * k combination.
SENET = N_FIELDS * 1 + 1 * N_FIELDS
BILINEAR = {"field_all": K * K, "field_each": (N_FIELDS - 1) * K * K, "field_interaction": N_PAIRS * K * K}
FIBINET_MLP = (2 * N_PAIRS * K) * 8 + 8 + 8 * 6 + 6 + 6 * 1 + 1

MODULE_OPTIONS = [
    {"bilinear_type": "field_all"},
    {"bilinear_type": "field_each"},
    {"bilinear_type": "field_interaction", "reduction_ratio": 2},
]


def _module(spec, **params):
    return FiBiNetModule(spec, **{"embedding_dim": K, "hidden_units": HIDDEN, **params})


def _unit_embeddings(module):
    """Give the embedding vectors unit scale so every path carries a visible gradient."""
    with torch.no_grad():
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    return module


@pytest.mark.parametrize("options", MODULE_OPTIONS)
def test_module_logits(spec, batch, assert_logits_per_row, options):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(_module(spec, batch_norm=True, dropout=0.1, **options), codes, dense)


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("options", MODULE_OPTIONS)
def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach, options, batch_norm):
    torch.manual_seed(0)
    module = _unit_embeddings(_module(spec, batch_norm=batch_norm, **options)).train()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


def test_module_with_a_single_field_has_no_pairs_and_still_runs():
    torch.manual_seed(0)
    spec = FieldSpec(categorical_fields=("a",), cardinalities=(4,))
    codes, dense = torch.tensor([[1], [3]]), torch.zeros(2, 0)
    module = _unit_embeddings(_module(spec, bilinear_type="field_each")).eval()
    out = module(codes, dense)
    assert out.shape == (2,) and torch.isfinite(out).all()
    # No pair: the MLP reads an empty combination and adds the same value to every row.
    interaction = out - module.linear(codes, dense)
    torch.testing.assert_close(interaction, interaction[:1].expand(2))


@pytest.mark.parametrize(
    "batch_norm, bilinear_type, expected",
    [
        (batch_norm, kind, LINEAR + EMBEDDING + SENET + 2 * BILINEAR[kind] + FIBINET_MLP + bn)
        for kind in BILINEAR_TYPES
        for batch_norm, bn in [(False, 0), (True, HIDDEN_BN)]
    ],
)
def test_module_parameter_count(spec, batch_norm, bilinear_type, expected):
    assert spec.cardinalities == (5, 3, 7) and spec.n_dense == 2
    module = _module(spec, batch_norm=batch_norm, bilinear_type=bilinear_type)
    assert sum(p.numel() for p in module.parameters()) == expected


def test_fibinet_forward_is_the_paper_composition(spec, batch):
    torch.manual_seed(0)
    module = _unit_embeddings(_module(spec, bilinear_type="field_each")).eval()
    codes, dense, _ = batch(n=6)
    e = module.embedding(codes, dense)
    v = module.senet(e)
    p, q = module.bilinear(e), module.bilinear_senet(v)
    expected = module.linear(codes, dense) + module.deep(torch.cat([p, q], dim=1).flatten(1)).squeeze(-1)
    torch.testing.assert_close(module(codes, dense), expected)


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "params, name",
    [
        ({"reduction_ratio": 0.5}, "reduction_ratio"),
        ({"reduction_ratio": "3"}, "reduction_ratio"),
        ({"bilinear_type": "interaction"}, "bilinear_type"),
        ({"bilinear_type": None}, "bilinear_type"),
    ],
)
def test_bad_parameter_raises_value_error_naming_it(ctr_data, tiny, params, name):
    X, y = ctr_data
    with pytest.raises(ValueError, match=name):
        tiny(FiBiNetClassifier, **params, max_epochs=1).fit(X, y)


@pytest.mark.parametrize("bilinear_type", BILINEAR_TYPES)
def test_fibinet_estimator_each_bilinear_type_fits(ctr_data, tiny, bilinear_type):
    X, y = ctr_data
    model = tiny(
        FiBiNetClassifier, embedding_dim=3, bilinear_type=bilinear_type, reduction_ratio=2, max_epochs=2
    ).fit(X, y)
    assert model.predict_proba(X).shape == (200, 2)
    assert model.net_.module_.bilinear.bilinear_type == bilinear_type
