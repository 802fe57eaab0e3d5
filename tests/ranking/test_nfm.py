"""NFM: its module (``models/ranking/_nfm.py``) and estimator (``ranking/_nfm.py``)."""

import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu import NFMClassifier
from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.models.ranking import FMModule
from sklearn_pangu.models.ranking._nfm import NFMModule

K = 4
HIDDEN = (8, 6)
# Cardinalities 5 + 3 + 7 = 15, 2 dense features, k = 4, MLP 8 -> 6 -> 1.
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias
EMBEDDING = (15 + 2) * 4  # a k-vector per categorical index and dense feature
HIDDEN_BN = 2 * (8 + 6)  # BatchNorm1d weight and bias of each hidden layer
# The MLP reads the k-dim Bi-Interaction vector, batch-normalized when batch_norm=True.
NFM = LINEAR + EMBEDDING + (K * 8 + 8 + 8 * 6 + 6 + 6 * 1 + 1)


def _module(spec, **params):
    return NFMModule(spec, **{"embedding_dim": K, "hidden_units": HIDDEN, **params})


def _unit_embeddings(module):
    """Give the embedding vectors unit scale so every path carries a visible gradient."""
    with torch.no_grad():
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    return module


def test_module_logits(spec, batch, assert_logits_per_row):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(_module(spec, batch_norm=True, dropout=0.1), codes, dense)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach, batch_norm):
    torch.manual_seed(0)
    module = _unit_embeddings(_module(spec, batch_norm=batch_norm)).train()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


def test_module_with_a_single_field_has_no_pairs_and_still_runs():
    torch.manual_seed(0)
    spec = FieldSpec(categorical_fields=("a",), cardinalities=(4,))
    codes, dense = torch.tensor([[1], [3]]), torch.zeros(2, 0)
    module = _unit_embeddings(_module(spec)).eval()
    out = module(codes, dense)
    assert out.shape == (2,) and torch.isfinite(out).all()
    # No pair: the Bi-Interaction vector is 0 and the MLP adds the same value to every row.
    interaction = out - module.linear(codes, dense)
    torch.testing.assert_close(interaction, interaction[:1].expand(2))


@pytest.mark.parametrize("batch_norm, expected", [(False, NFM), (True, NFM + 2 * K + HIDDEN_BN)])
def test_module_parameter_count(spec, batch_norm, expected):
    assert spec.cardinalities == (5, 3, 7) and spec.n_dense == 2
    assert sum(p.numel() for p in _module(spec, batch_norm=batch_norm).parameters()) == expected


def test_nfm_without_hidden_layers_and_unit_output_weights_is_an_fm(spec, batch):
    torch.manual_seed(0)
    nfm = _unit_embeddings(NFMModule(spec, embedding_dim=K, hidden_units=())).eval()
    fm = FMModule(spec, embedding_dim=K).eval()
    fm.load_state_dict({k: v for k, v in nfm.state_dict().items() if not k.startswith("deep")})
    with torch.no_grad():
        nfm.deep[0].weight.fill_(1.0)
    codes, dense, _ = batch(n=6)
    torch.testing.assert_close(nfm(codes, dense), fm(codes, dense))


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "params, name", [({"dropout": 1.0}, "dropout"), ({"hidden_units": (8, 0)}, "hidden_units")]
)
def test_bad_parameter_raises_value_error_naming_it(ctr_data, tiny, params, name):
    X, y = ctr_data
    with pytest.raises(ValueError, match=name):
        tiny(NFMClassifier, **params, max_epochs=1).fit(X, y)


def test_estimator_passes_its_parameters_to_the_module(ctr_data, tiny):
    X, y = ctr_data
    nfm = tiny(NFMClassifier, embedding_dim=3, hidden_units=(7,), batch_norm=False, max_epochs=1).fit(X, y)
    assert nfm.net_.module_.deep[0].in_features == 3 and nfm.net_.module_.deep[0].out_features == 7
