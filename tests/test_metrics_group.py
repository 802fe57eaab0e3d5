"""Group AUC (``sklearn_pangu.metrics.group_roc_auc_score``) and its scorer."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate

from sklearn_pangu import LRClassifier, MMOEMultiOutput
from sklearn_pangu.metrics import group_roc_auc_score, group_roc_auc_scorer


def direct_group_auc(y, score, groups, weight=None):
    """One roc_auc_score per group with both classes, averaged by the group's weight."""
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    aucs, weights = [], []
    for group in np.unique(groups):
        rows = groups == group
        if len(np.unique(y[rows])) == 2:
            aucs.append(roc_auc_score(y[rows], score[rows], sample_weight=weight[rows]))
            weights.append(weight[rows].sum())
    return np.average(aucs, weights=weights)


def random_impressions(seed, n=600, n_groups=40):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n)
    y = (rng.random(n) < rng.random(n_groups)[groups]).astype(int)  # some groups of one class
    score = np.round(rng.random(n) + 0.3 * y, 1)  # rounded: ties inside groups
    return y, score, groups, rng.random(n) * 3


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_a_direct_per_group_computation(seed, weighted):
    y, score, groups, weight = random_impressions(seed)
    one_class = [g for g in np.unique(groups) if len(np.unique(y[groups == g])) == 1]
    assert one_class, "the data must hold groups of one class, which are left out"
    weight = weight if weighted else None
    expected = direct_group_auc(y, score, groups, weight)
    assert group_roc_auc_score(y, score, groups=groups, sample_weight=weight) == pytest.approx(
        expected, abs=1e-12
    )


def test_labels_groups_and_scores_of_any_type():
    y, score, groups, _ = random_impressions(0)
    expected = group_roc_auc_score(y, score, groups=groups)
    text_labels = np.where(y == 1, "yes", "no")  # "yes" > "no": the larger label is positive
    user_ids = pd.Series([f"user-{g}" for g in groups])
    assert group_roc_auc_score(text_labels, list(score), groups=user_ids) == pytest.approx(expected)


def test_several_tasks_score_each_task_and_their_mean():
    y1, score1, groups, _ = random_impressions(1)
    y2, score2, _, _ = random_impressions(2)
    Y = np.column_stack([y1, y2])
    per_task = [group_roc_auc_score(y, s, groups=groups) for y, s in ((y1, score1), (y2, score2))]
    raw = group_roc_auc_score(Y, np.column_stack([score1, score2]), groups=groups, multioutput="raw_values")
    np.testing.assert_allclose(raw, per_task)
    # What a multi-task estimator's predict_proba returns: one (n, 2) array per task.
    proba = [np.column_stack([1 - s, s]) for s in (score1, score2)]
    assert group_roc_auc_score(pd.DataFrame(Y), proba, groups=groups) == pytest.approx(np.mean(per_task))


@pytest.mark.parametrize(
    "y, groups, message",
    [
        ([0, 1, 0, 1], ["a", "b", "c", "d"], "No group holds both classes"),
        ([0, 1, 2, 1], ["a", "a", "a", "a"], "3 labels"),
        ([0, 1, 0], ["a", "a", "a", "a"], "inconsistent numbers of samples"),
    ],
)
def test_bad_input_is_a_value_error_saying_what(y, groups, message):
    with pytest.raises(ValueError, match=message):
        group_roc_auc_score(y, [0.1, 0.2, 0.3, 0.4], groups=groups)


@pytest.fixture
def users_frame():
    rng = np.random.default_rng(0)
    n = 400
    users = rng.integers(0, 30, n)
    X = pd.DataFrame({"user": [f"u{u}" for u in users], "item": [f"i{k}" for k in rng.integers(0, 10, n)]})
    y = ((users % 3 == 0) ^ (X["item"].isin(["i1", "i2", "i3"]))).astype(int).to_numpy()
    return X, y, users


def test_scorer_in_cross_validate_gets_the_groups_by_metadata_routing(users_frame):
    X, y, users = users_frame
    model = LRClassifier(max_epochs=3, random_state=0)
    cv = GroupKFold(n_splits=3)
    with sklearn.config_context(enable_metadata_routing=True):
        scores = cross_validate(model, X, y, scoring=group_roc_auc_scorer, cv=cv, params={"groups": users})
    expected = []
    for train, test in cv.split(X, y, users):
        fitted = clone(model).fit(X.iloc[train], y[train])
        proba = fitted.predict_proba(X.iloc[test])[:, 1]
        expected.append(direct_group_auc(y[test], proba, users[test]))
    np.testing.assert_allclose(scores["test_score"], expected, rtol=1e-6)


def test_scorer_in_grid_search(users_frame):
    X, y, users = users_frame
    search = GridSearchCV(
        LRClassifier(max_epochs=2, random_state=0),
        {"learning_rate": [1e-3, 1e-2]},
        scoring={"gauc": group_roc_auc_scorer, "auc": "roc_auc"},
        refit="gauc",
        cv=GroupKFold(n_splits=2),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, groups=users)
    assert np.isfinite(search.cv_results_["mean_test_gauc"]).all()
    assert search.best_params_["learning_rate"] in (1e-3, 1e-2)


def test_multitask_estimators_predictions_score_per_task(users_frame, tiny):
    X, y, users = users_frame
    Y = pd.DataFrame({"a": y, "b": 1 - y})
    model = tiny(MMOEMultiOutput, max_epochs=2).fit(X, Y)
    proba = model.predict_proba(X)
    raw = group_roc_auc_score(Y, proba, groups=users, multioutput="raw_values")
    expected = [direct_group_auc(Y[t].to_numpy(), p[:, 1], users) for t, p in zip(Y, proba, strict=True)]
    np.testing.assert_allclose(raw, expected)
    with sklearn.config_context(enable_metadata_routing=True):
        assert group_roc_auc_scorer(model, X, Y, groups=users) == pytest.approx(np.mean(expected))
