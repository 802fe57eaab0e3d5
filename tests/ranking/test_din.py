"""DIN: its module (``models/ranking/_din.py``) and estimator (``ranking/_din.py``)."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.models.ranking._din import DINModule, behavior_pairs
from sklearn_pangu.ranking._din import DINClassifier

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


VARIANTS = {
    "dice": {},
    "prelu_softmax": {"activation": "prelu", "attention_softmax": True},
    "relu_batch_norm": {"activation": "relu", "batch_norm": True, "dropout": 0.1},
}


@pytest.mark.parametrize("params", VARIANTS.values(), ids=VARIANTS)
def test_module_logits_and_gradients(assert_logits_per_row, assert_gradients_reach, params):
    torch.manual_seed(0)
    module = DINModule(
        SPEC, behavior_features=PAIRS, embedding_dim=K, hidden_units=(8,), attention_units=(6, 5), **params
    )
    codes, dense, target = behavior_batch()
    assert_logits_per_row(module, codes, dense)
    out = module.train()(codes, dense)
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(out, target))


def test_module_interest_depends_on_the_target_and_is_zero_without_history():
    torch.manual_seed(0)
    module = DINModule(SPEC, behavior_features=PAIRS, embedding_dim=K, hidden_units=(8,)).eval()
    with torch.no_grad():
        module.embedding.table.weight.normal_()
    codes, _, _ = behavior_batch(n=10)
    interest = module.interests(codes)[2]
    assert interest[codes[:, 2] < 0].abs().sum() == 0  # rows without items
    other = codes.clone()
    other[:, 1] = (codes[:, 1] + 1) % 9
    with_items = codes[:, 2] >= 0
    assert not torch.allclose(module.interests(other)[2][with_items], interest[with_items])


def test_module_parameter_count():
    module = DINModule(
        SPEC, behavior_features=PAIRS, embedding_dim=K, hidden_units=(8,), attention_units=(6,)
    )
    embedding = (6 + 9) * K + 1 * K  # user and item rows (history shares item's), one dense vector
    attention = (4 * K * 6 + 6) + 6 + (6 + 1)  # 4K -> 6, Dice's alpha (moments are buffers), 6 -> 1
    mlp = 4 * K * 8 + 8 + 8 + 1  # 4 field vectors (user, item, interest, x) -> 8 -> 1
    assert sum(p.numel() for p in module.parameters()) == embedding + attention + mlp


@pytest.mark.parametrize(
    "pairs, message",
    [
        ({}, "at least one"),
        ({"history": "nope"}, "nope"),
        ({"item": "user"}, "'item' is not a list column"),
        ({"history": "history"}, "'history' is a list column"),
        ({"history": "user"}, "do not share a vocabulary"),
    ],
)
def test_bad_behavior_features_are_named(pairs, message):
    with pytest.raises(ValueError, match=message):
        behavior_pairs(SPEC, pairs)


# --------------------------------------------------------------------------- estimator


def behavior_data(n_samples=300, seed=0):
    """A user, a target item, a history of items (lists, some empty) and a genre list; labels."""
    rng = np.random.default_rng(seed)
    items = [f"i{k}" for k in range(12)]
    X = pd.DataFrame(
        {
            "user_id": [f"u{k}" for k in rng.integers(0, 20, n_samples)],
            "item_id": list(rng.choice(items, n_samples)),
            "history": [list(rng.choice(items, rng.integers(0, 6))) for _ in range(n_samples)],
            "genres": [list(rng.choice(["g1", "g2", "g3"], rng.integers(1, 3))) for _ in range(n_samples)],
        }
    )
    return X, rng.integers(0, 2, n_samples)


@pytest.mark.parametrize(
    "name, value",
    [
        ("behavior_features", None),
        ("behavior_features", {}),
        ("behavior_features", ["history"]),
        ("attention_units", ()),
        ("activation", "tanh"),
        ("attention_softmax", "yes"),
        ("hidden_units", ()),
    ],
)
def test_bad_parameter_is_a_value_error_naming_it(tiny, name, value):
    X, y = behavior_data()
    params = {"behavior_features": PAIRS_X, name: value}
    with pytest.raises(ValueError, match=name):
        tiny(DINClassifier, max_epochs=1, **params).fit(X, y)


@pytest.mark.parametrize(
    "pairs, message",
    [
        ({"history": "nope"}, "behavior_features names the target column 'nope'"),
        ({"nope": "item_id"}, "behavior_features names the history column 'nope'"),
        ({"user_id": "item_id"}, "behavior_features: the history column 'user_id' is not a list column"),
        ({"history": "genres"}, "behavior_features: the target column 'genres' is a list column"),
    ],
)
def test_bad_behavior_columns_are_named_at_fit(tiny, pairs, message):
    X, y = behavior_data()
    with pytest.raises(ValueError, match=message):
        tiny(DINClassifier, behavior_features=pairs, max_epochs=1).fit(X, y)


def test_numeric_target_ids_are_named_with_the_remedy(tiny):
    X, y = behavior_data()
    X["item_id"] = X["item_id"].str[1:].astype(int)
    message = "behavior_features pairs 'history' with the target column 'item_id'.*categorical_features"
    with pytest.raises(ValueError, match=message):
        tiny(DINClassifier, behavior_features=PAIRS_X, max_epochs=1).fit(X, y)
    # Named as categorical, the integer ids share the history's vocabulary (the items are text here).
    model = tiny(
        DINClassifier, behavior_features=PAIRS_X, categorical_features=["user_id", "item_id"], max_epochs=1
    )
    assert model.fit(X, y).predict_proba(X).shape == (len(X), 2)


def test_behavior_pairs_join_the_shared_vocabulary():
    model = DINClassifier(behavior_features=PAIRS_X, shared_vocabulary={"genres": "liked"})
    assert model._encoder_params()["shared_vocabulary"] == {"genres": "liked", "history": "item_id"}


@pytest.mark.parametrize(
    "params",
    [{}, {"activation": "prelu", "attention_softmax": True}, {"activation": "relu", "batch_norm": True}],
    ids=["dice", "prelu_softmax", "relu_batch_norm"],
)
def test_structural_options_fit_and_predict(tiny, params):
    X, y = behavior_data()
    model = tiny(DINClassifier, behavior_features=PAIRS_X, attention_units=(8,), max_epochs=1, **params)
    proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.isfinite(proba).all()
    empty = X.iloc[:3].assign(history=[[], [], []])
    assert np.isfinite(model.predict_proba(empty)).all()
