"""make_behavior_classification: the data the behaviour-sequence tests, examples and benchmarks run on."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from sklearn_pangu.datasets import make_behavior_classification


def _items_in_target_group(X: pd.DataFrame, n_groups: int) -> np.ndarray:
    """Each row's number of history items in its target's group (``i{k}``: group ``k % n_groups``)."""
    target = X["item_id"].str[1:].astype(int).to_numpy() % n_groups
    rows = zip(target, X["history"], strict=True)
    return np.array([sum(int(item[1:]) % n_groups == t for item in past) for t, past in rows])


def test_shapes_types_and_histories():
    X, y = make_behavior_classification(500, n_users=40, n_items=50, max_history=7, random_state=0)
    assert list(X.columns) == ["user_id", "item_id", "history"]
    assert X.shape == (500, 3) and y.shape == (500,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert X["user_id"].isin([f"u{k}" for k in range(40)]).all()
    assert X["item_id"].isin([f"i{k}" for k in range(50)]).all()
    assert all(type(cell) is list for cell in X["history"])
    lengths = X["history"].map(len)
    assert lengths.min() == 0 and lengths.max() == 7  # 0 .. max_history, uniformly
    assert abs(lengths.mean() - 3.5) < 0.3
    items = pd.Series([item for cell in X["history"] for item in cell])
    assert items.isin([f"i{k}" for k in range(50)]).all()


def test_same_seed_same_data_other_seed_other_data_and_the_positive_rate():
    X1, y1 = make_behavior_classification(2000, positive_rate=0.2, random_state=3)
    X2, y2 = make_behavior_classification(2000, positive_rate=0.2, random_state=3)
    pd.testing.assert_frame_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make_behavior_classification(2000, positive_rate=0.2, random_state=4)
    assert not X1["item_id"].equals(X3["item_id"])
    assert abs(y1.mean() - 0.2) < 0.03


def test_each_history_holds_mostly_three_groups():
    X, _ = make_behavior_classification(5000, n_groups=20, max_history=30, random_state=0)
    long = X["history"][X["history"].map(len) >= 20]
    top_three = long.map(
        lambda past: pd.Series([int(i[1:]) % 20 for i in past]).value_counts().iloc[:3].sum()
    )
    # 80% of the items from the row's three groups, the rest from any group: at least 0.8 + 0.2 * 3 / 20
    # when the three groups differ; about 0.3 for items drawn from any group.
    assert (top_three / long.map(len)).mean() > 0.75


@pytest.mark.parametrize("strength", [0.0, 1.0, 3.0])
def test_click_rate_rises_by_the_planted_strength_with_the_history_items_in_the_target_group(strength):
    X, y = make_behavior_classification(
        40_000, n_items=200, n_groups=10, interest_strength=strength, positive_rate=0.3, random_state=1
    )
    k = np.minimum(_items_in_target_group(X, 10), 3)
    share = np.bincount(k, minlength=4) / len(k)
    assert (share > 0.05).all()
    # The expected click rate of the rows with k = 0, 1, 2, 3: log-odds = bias + c + strength * k / 3,
    # the bias of the user and of the item each normal with standard deviation 0.5, and c giving the
    # positive rate of 0.3.
    bias = np.random.default_rng(0).normal(0.0, np.sqrt(0.5), 200_000)
    lo, hi = -10.0, 10.0
    for _ in range(50):
        c = (lo + hi) / 2
        expected = np.array([expit(bias + c + strength * j / 3).mean() for j in range(4)])
        lo, hi = (c, hi) if share @ expected < 0.3 else (lo, c)
    observed = np.array([y[k == j].mean() for j in range(4)])
    np.testing.assert_allclose(observed, expected, atol=0.025)
    if strength:
        assert (np.diff(observed) > 0).all()


def test_more_groups_than_items_is_an_error():
    with pytest.raises(ValueError, match="n_groups must be at most n_items"):
        make_behavior_classification(10, n_items=5, n_groups=6)
