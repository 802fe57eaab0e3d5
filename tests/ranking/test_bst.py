"""BST: its module (``models/ranking/_bst.py``) and estimator (``ranking/_bst.py``)."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.models.ranking._bst import TRANSFORMER_OUTPUTS, BSTModule
from sklearn_pangu.ranking._bst import BSTClassifier

K = 4
#: user, item, history (4 slots, sharing the item's table), one dense feature.
SPEC = FieldSpec(
    ("user", "item", "history"), (6, 9, 9), ("x",), sequence_lengths=(0, 0, 4), shared_tables=(0, 1, 1)
)
PAIRS = {"history": "item"}
PAIRS_X = {"history": "item_id"}


def behavior_batch(n=16, seed=0):
    """Codes with histories of every length 0..4 (right-padded with -1), dense values and labels."""
    generator = torch.Generator().manual_seed(seed)
    user = torch.randint(0, 6, (n, 1), generator=generator)
    item = torch.randint(0, 9, (n, 1), generator=generator)
    history = torch.randint(0, 9, (n, 4), generator=generator)
    lengths = torch.arange(n) % 5
    history = torch.where(torch.arange(4) < lengths[:, None], history, -1)
    codes = torch.cat([user, item, history], dim=1)
    return (
        codes,
        torch.randn(n, 1, generator=generator),
        torch.randint(0, 2, (n,), generator=generator).float(),
    )


def _module(**params):
    return BSTModule(SPEC, behavior_features=PAIRS, embedding_dim=K, hidden_units=(8,), **params)


VARIANTS = {
    "one_block": {},
    "two_blocks_four_heads": {"num_transformer_layers": 2, "num_heads": 4, "dropout": 0.1},
    "batch_norm": {"batch_norm": True},
    "mean_output": {"transformer_output": "mean"},
    "concat_output": {"transformer_output": "concat"},
}


@pytest.mark.parametrize("params", VARIANTS.values(), ids=VARIANTS)
def test_module_logits_and_gradients(assert_logits_per_row, assert_gradients_reach, params):
    torch.manual_seed(0)
    module = _module(**params)
    codes, dense, target = behavior_batch()
    assert_logits_per_row(module, codes, dense)
    out = module.train()(codes, dense)
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(out, target))


@pytest.mark.parametrize("output, n_vectors", [("target", 1), ("mean", 1), ("concat", 5)])
def test_module_mlp_reads_the_other_fields_and_the_transformer_output(output, n_vectors):
    module = _module(transformer_output=output)
    # user, item and x (3 fields) plus the target's output, their mean or [target, 4 behaviours].
    assert module.deep[0].in_features == (3 + n_vectors) * K


def test_module_reads_the_target_output_their_mean_or_all_of_them():
    torch.manual_seed(0)
    outputs = torch.randn(3, 5, K)
    mask = torch.tensor([[True, True, False, False], [False] * 4, [True] * 4])
    outputs[:, 1:] *= mask.unsqueeze(-1)  # BehaviorTransformer's outputs are zero at the pads
    target, mean, concat = (_module(transformer_output=o)._read(outputs, mask) for o in TRANSFORMER_OUTPUTS)
    torch.testing.assert_close(target, outputs[:, 0])
    # Row 0: the target and two behaviours; row 1: the target alone; row 2: all five.
    expected = torch.stack([outputs[0, :3].mean(0), outputs[1, 0], outputs[2].mean(0)])
    torch.testing.assert_close(mean, expected)
    torch.testing.assert_close(concat, outputs.flatten(start_dim=1))


def test_module_is_order_sensitive_and_finite_without_history():
    torch.manual_seed(0)
    module = _module().eval()
    with torch.no_grad():
        module.embedding.table.weight.normal_()
    codes, dense, _ = behavior_batch()
    full = codes[:, 2:].ge(0).all(dim=1)
    swapped = codes.clone()
    swapped[:, 2:4] = codes[:, [3, 2]]
    assert not torch.allclose(module(swapped, dense)[full], module(codes, dense)[full])
    empty = codes.clone()
    empty[:, 2:] = -1
    assert torch.isfinite(module(empty, dense)).all()


def test_heads_must_divide_the_embedding_size():
    with pytest.raises(ValueError, match="num_heads"):
        _module(num_heads=3)


# --------------------------------------------------------------------------- estimator


def behavior_data(n_samples=300, seed=0):
    rng = np.random.default_rng(seed)
    items = [f"i{k}" for k in range(12)]
    X = pd.DataFrame(
        {
            "user_id": [f"u{k}" for k in rng.integers(0, 20, n_samples)],
            "item_id": list(rng.choice(items, n_samples)),
            "history": [list(rng.choice(items, rng.integers(0, 6))) for _ in range(n_samples)],
        }
    )
    return X, rng.integers(0, 2, n_samples)


@pytest.mark.parametrize(
    "name, value",
    [
        ("behavior_features", None),
        ("num_transformer_layers", 0),
        ("num_heads", 0),
        ("num_heads", 3),  # does not divide embedding_dim=4
        ("transformer_output", "last"),
        ("hidden_units", ()),
    ],
)
def test_bad_parameter_is_a_value_error_naming_it(tiny, name, value):
    X, y = behavior_data()
    with pytest.raises(ValueError, match=name):
        tiny(BSTClassifier, max_epochs=1, **{"behavior_features": PAIRS_X, name: value}).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"num_transformer_layers": 2, "num_heads": 1},
        {"transformer_output": "mean"},
        {"transformer_output": "concat"},
    ],
    ids=["one_block", "two_blocks", "mean_output", "concat_output"],
)
def test_structural_options_fit_and_predict(tiny, params):
    X, y = behavior_data()
    model = tiny(BSTClassifier, behavior_features=PAIRS_X, max_epochs=1, **params)
    proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.isfinite(proba).all()
    empty = X.iloc[:3].assign(history=[[], [], ["i1"]])
    assert np.isfinite(model.predict_proba(empty)).all()
