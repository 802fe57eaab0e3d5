"""AFM: its module (``models/ranking/_afm.py``) and estimator (``ranking/_afm.py``)."""

import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu import AFMClassifier
from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.models.ranking._afm import AFMModule
from sklearn_pangu.nn import FactorizationMachine

K = 4
T = 3  # attention_dim
# Cardinalities 5 + 3 + 7 = 15, 2 dense features, k = 4.
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias
EMBEDDING = (15 + 2) * 4  # a k-vector per categorical index and dense feature
# The attention network W (t x k), b (t), h (t), and the projection p (k); no MLP.
AFM = LINEAR + EMBEDDING + (T * K + T + T) + K


def _unit_embeddings(module):
    """Give the embedding vectors unit scale so every path carries a visible gradient."""
    with torch.no_grad():
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    return module


def test_module_logits(spec, batch, assert_logits_per_row):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(AFMModule(spec, embedding_dim=K, attention_dim=T, dropout=0.1), codes, dense)


def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach):
    torch.manual_seed(0)
    module = _unit_embeddings(AFMModule(spec, embedding_dim=K, attention_dim=T)).train()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


def test_module_with_a_single_field_has_no_pairs_and_still_runs():
    torch.manual_seed(0)
    spec = FieldSpec(categorical_fields=("a",), cardinalities=(4,))
    codes, dense = torch.tensor([[1], [3]]), torch.zeros(2, 0)
    module = _unit_embeddings(AFMModule(spec, embedding_dim=K, attention_dim=T)).eval()
    out = module(codes, dense)
    assert out.shape == (2,) and torch.isfinite(out).all()
    # No pair to attend to: the logit is the linear part plus the same value on every row.
    interaction = out - module.linear(codes, dense)
    torch.testing.assert_close(interaction, interaction[:1].expand(2))


def test_module_parameter_count(spec):
    assert spec.cardinalities == (5, 3, 7) and spec.n_dense == 2
    assert sum(p.numel() for p in AFMModule(spec, embedding_dim=K, attention_dim=T).parameters()) == AFM


def test_afm_starts_as_an_fm_when_attention_is_uniform(spec, batch):
    torch.manual_seed(0)
    afm = _unit_embeddings(AFMModule(spec, embedding_dim=K, attention_dim=T)).eval()
    with torch.no_grad():
        afm.attention.score.weight.zero_()
    codes, dense, _ = batch(n=6)
    e = afm.embedding(codes, dense)
    # The pooled vector is the mean of the pairs and p starts at n_pairs: FM's pairwise sum.
    expected = afm.linear(codes, dense) + FactorizationMachine()(e)
    torch.testing.assert_close(afm(codes, dense), expected)


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "params, name",
    [
        ({"attention_dim": 0}, "attention_dim"),
        ({"attention_dim": 2.5}, "attention_dim"),
        ({"dropout": -0.1}, "dropout"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_parameter_raises_value_error_naming_it(ctr_data, tiny, params, name):
    X, y = ctr_data
    with pytest.raises(ValueError, match=name):
        tiny(AFMClassifier, **params, max_epochs=1).fit(X, y)


def test_estimator_passes_its_parameters_to_the_module(ctr_data, tiny):
    X, y = ctr_data
    afm = tiny(AFMClassifier, embedding_dim=3, attention_dim=5, dropout=0.3, max_epochs=1).fit(X, y)
    assert afm.net_.module_.attention.hidden.out_features == 5
    assert afm.net_.module_.dropout.p == pytest.approx(0.3)
