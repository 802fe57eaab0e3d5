"""MaskNet: its module (``models/ranking/_masknet.py``) and estimator (``ranking/_masknet.py``)."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu import MaskNetClassifier
from sklearn_pangu.models.ranking._masknet import MaskNetModule

K = 4
HIDDEN = (8, 6)
D = 5 * K  # size of the flattened embeddings: the 5 fields of the ``spec`` fixture, of 4 each
# Parameter counts: cardinalities 5 + 3 + 7 = 15, 2 dense features, k = 4, so d = 5 * 4 = 20.
EMBEDDING = (15 + 2) * K  # one vector per categorical index and per dense feature
STRUCTURES = ["parallel", "serial"]


def _mlp(input_dim, hidden=HIDDEN):
    """Weights and biases of the hidden layers of an MLP, no output layer."""
    widths = (input_dim, *hidden)
    return sum(widths[i] * widths[i + 1] + widths[i + 1] for i in range(len(hidden)))


def _mask_block_count(input_dim, block_dim, reduction_ratio=2.0):
    # instance-guided mask: V_emb (d) -> aggregation (r * input_dim) -> projection (input_dim),
    # then the bias-free hidden layer input_dim -> block_dim and its layer norm (gain and shift)
    aggregation = round(reduction_ratio * input_dim)
    mask = D * aggregation + aggregation + aggregation * input_dim + input_dim
    return mask + input_dim * block_dim + 2 * block_dim


def _masknet_count(structure, num_blocks, block_dim):
    layer_norm_embedding = 2 * K  # one LayerNorm over each field vector, shared by the fields
    if structure == "serial":
        blocks = _mask_block_count(D, block_dim) + (num_blocks - 1) * _mask_block_count(block_dim, block_dim)
        top = block_dim + 1
    else:
        blocks = num_blocks * _mask_block_count(D, block_dim)
        top = _mlp(num_blocks * block_dim) + HIDDEN[-1] + 1
    return EMBEDDING + layer_norm_embedding + blocks + top


def _module(spec, structure, batch_norm=False, dropout=0.0):
    return MaskNetModule(
        spec,
        embedding_dim=K,
        hidden_units=HIDDEN,
        dropout=dropout,
        batch_norm=batch_norm,
        structure=structure,
        num_blocks=3,
        block_dim=5,
    )


@pytest.mark.parametrize("structure", STRUCTURES)
def test_module_logits(spec, batch, assert_logits_per_row, structure):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(_module(spec, structure, batch_norm=True, dropout=0.1), codes, dense)


@pytest.mark.parametrize("structure", STRUCTURES)
def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach, structure):
    torch.manual_seed(0)
    module = _module(spec, structure, batch_norm=True).train()
    with torch.no_grad():  # embeddings of a trained size, so that every product carries gradient
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    codes, dense, target = batch()
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


def test_module_rejects_an_unknown_structure(spec):
    with pytest.raises(ValueError, match="structure"):
        MaskNetModule(spec, embedding_dim=K, hidden_units=HIDDEN, structure="both")


@pytest.mark.parametrize("structure", STRUCTURES)
def test_module_parameter_count(spec, structure):
    module = _module(spec, structure)
    assert sum(p.numel() for p in module.parameters()) == _masknet_count(structure, 3, 5)


def test_parameter_count_formula_by_hand():
    # The formulas above, written out once for the defaults of this file.
    # first block: mask 20 -> 40 -> 20 (840 + 820), hidden 20 x 5, layer norm 10
    assert _mask_block_count(D, 5) == 1660 + 100 + 10
    # later serial blocks: mask 20 -> 10 -> 5 (210 + 55), hidden 5 x 5, layer norm 10
    assert _mask_block_count(5, 5) == 265 + 25 + 10
    assert _masknet_count("serial", 3, 5) == 68 + 8 + 1770 + 2 * 300 + 6


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "param, value",
    [
        ("structure", "both"),
        ("num_blocks", 0),
        ("block_dim", 0),
        ("reduction_ratio", 0.0),
        ("reduction_ratio", "2"),
    ],
)
def test_bad_parameter_raises_value_error_naming_it(ctr_data, tiny, param, value):
    X, y = ctr_data
    with pytest.raises(ValueError, match=param):
        tiny(MaskNetClassifier, max_epochs=1, **{param: value}).fit(X, y)


def test_structural_options_fit_and_predict(ctr_data, tiny):
    X, y = ctr_data
    model = tiny(MaskNetClassifier, structure="serial", block_dim=4, max_epochs=2)
    proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
