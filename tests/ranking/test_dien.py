"""DIEN: its module (``models/ranking/_dien.py``) and estimator (``ranking/_dien.py``)."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.models.ranking._dien import DIENModule
from sklearn_pangu.ranking._dien import DIENClassifier

K = 4
#: user, item, history (4 slots, sharing the item's table), one dense feature.
SPEC = FieldSpec(
    ("user", "item", "history"), (6, 9, 9), ("x",), sequence_lengths=(0, 0, 4), shared_tables=(0, 1, 1)
)
PAIRS = {"history": "item"}
PAIRS_X = {"history": "item_id"}


def behavior_batch(n=16, seed=0, max_length=4):
    """Codes with histories of every length 0..max_length (right-padded with -1), dense values, labels."""
    generator = torch.Generator().manual_seed(seed)
    user = torch.randint(0, 6, (n, 1), generator=generator)
    item = torch.randint(0, 9, (n, 1), generator=generator)
    history = torch.randint(0, 9, (n, 4), generator=generator)
    lengths = torch.arange(n) % (max_length + 1)
    history = torch.where(torch.arange(4) < lengths[:, None], history, -1)
    codes = torch.cat([user, item, history], dim=1)
    return (
        codes,
        torch.randn(n, 1, generator=generator),
        torch.randint(0, 2, (n,), generator=generator).float(),
    )


def _module(**params):
    return DIENModule(SPEC, behavior_features=PAIRS, embedding_dim=K, hidden_units=(8,), **params)


@pytest.mark.parametrize("params", [{}, {"batch_norm": True, "dropout": 0.1}], ids=["plain", "batch_norm"])
def test_module_logits_and_gradients(assert_logits_per_row, assert_gradients_reach, params):
    torch.manual_seed(0)
    module = _module(**params)
    codes, dense, target = batch = behavior_batch()
    assert_logits_per_row(module, codes, dense)
    out = module.train()(codes, dense)
    auxiliary = module.pop_penalty()
    assert auxiliary is not None and auxiliary > 0
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(out, target) + auxiliary)
    del batch


def test_auxiliary_loss_only_in_training_and_with_a_weight():
    torch.manual_seed(0)
    codes, dense, _ = behavior_batch()
    module = _module().eval()
    module(codes, dense)
    assert module.pop_penalty() is None
    off = _module(auxiliary_loss_weight=0.0).train()
    off(codes, dense)
    assert off.pop_penalty() is None


def test_auxiliary_loss_scales_with_its_weight():
    codes, dense, _ = behavior_batch()
    losses = []
    for weight in (1.0, 2.5):
        torch.manual_seed(0)
        module = _module(auxiliary_loss_weight=weight).train()
        torch.manual_seed(1)  # the same negatives
        module(codes, dense)
        losses.append(module.pop_penalty().item())
    assert losses[1] == pytest.approx(2.5 * losses[0], rel=1e-5)


def test_empty_and_single_item_histories():
    torch.manual_seed(0)
    module = _module().train()
    codes, dense, _ = behavior_batch(max_length=1)  # lengths 0 and 1 only: no (t, t + 1) pair
    out = module(codes, dense)
    assert torch.isfinite(out).all()
    assert module.pop_penalty() is None
    module.eval()
    with torch.no_grad():
        module.embedding.table.weight.normal_()
    empty = codes[codes[:, 2] < 0]
    rows, mask = module.embedding.lookup_sequence(empty, 2)
    states, _ = module.extractors[0](rows[:, :1])
    assert module.evolutions[0](states, torch.zeros(len(empty), 1)).abs().sum() == 0


def test_padded_slots_do_not_change_the_logits():
    torch.manual_seed(0)
    module = _module().eval()
    with torch.no_grad():
        module.embedding.table.weight.normal_()
    codes, dense, _ = behavior_batch()
    short = codes[:, 2:].ge(0).sum(dim=1) <= 2
    # Alone, the short histories run 2 steps; in the full batch 4, the last ones over pads only.
    torch.testing.assert_close(module(codes[short], dense[short]), module(codes, dense)[short])


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
        ("auxiliary_loss_weight", -1.0),
        ("auxiliary_loss_weight", "1"),
        ("hidden_units", ()),
    ],
)
def test_bad_parameter_is_a_value_error_naming_it(tiny, name, value):
    X, y = behavior_data()
    with pytest.raises(ValueError, match=name):
        tiny(DIENClassifier, max_epochs=1, **{"behavior_features": PAIRS_X, name: value}).fit(X, y)


def test_auxiliary_loss_is_in_train_loss_only(tiny):
    X, y = behavior_data()
    params = {"behavior_features": PAIRS_X, "max_epochs": 1, "early_stopping": True, "embedding_l2": 0.0}
    heavy = tiny(DIENClassifier, auxiliary_loss_weight=100.0, **params).fit(X, y)
    none = tiny(DIENClassifier, auxiliary_loss_weight=0.0, **params).fit(X, y)
    # The auxiliary loss starts near 2 log 2: times 100 it dominates train_loss, never valid_loss.
    assert heavy.history_[-1, "train_loss"] > 50
    assert none.history_[-1, "train_loss"] < 5
    assert heavy.history_[-1, "valid_loss"] < 5


@pytest.mark.parametrize("params", [{}, {"auxiliary_loss_weight": 0.0}], ids=["auxiliary", "no_auxiliary"])
def test_structural_options_fit_and_predict(tiny, params):
    X, y = behavior_data()
    model = tiny(DIENClassifier, behavior_features=PAIRS_X, max_epochs=1, **params)
    proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.isfinite(proba).all()
    empty = X.iloc[:3].assign(history=[[], [], ["i1"]])
    assert np.isfinite(model.predict_proba(empty)).all()
