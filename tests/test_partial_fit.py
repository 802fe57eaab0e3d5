"""Out-of-core training: ``partial_fit`` on chunks of rows."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from sklearn_pangu import DeepFMClassifier, ESMMMultiOutput, FMClassifier, MMOEMultiOutput
from sklearn_pangu.datasets import load_census_income, make_ctr_classification

from .test_multitask import MULTITASK, targets_for


@pytest.fixture(scope="module")
def planted():
    X, y = make_ctr_classification(
        12_000, n_sparse=6, n_dense=2, max_cardinality=50, interaction_strength=4.0, random_state=0
    )
    return X[:10_000], y[:10_000], X[10_000:], y[10_000:]


def _chunks(X, y, size):
    for start in range(0, len(X), size):
        yield X[start : start + size], y[start : start + size]


def _deepfm(**params):
    return DeepFMClassifier(
        embedding_dim=8, hidden_units=(32,), batch_size=256, learning_rate=3e-3, random_state=0, **params
    )


def test_passes_over_chunks_learn_the_interactions(planted):
    X_train, y_train, X_test, y_test = planted
    model = _deepfm()
    aucs = []
    for _ in range(3):
        for X_chunk, y_chunk in _chunks(X_train, y_train, 2_500):
            model.partial_fit(X_chunk, y_chunk, classes=[0, 1])
        aucs.append(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))
    assert len(model.history_) == 12 and model.n_iter_ == 1
    assert aucs[-1] > aucs[0] and aucs[-1] > 0.8, aucs


def test_same_chunks_and_seed_give_identical_models(planted):
    X_train, y_train, X_test, _ = planted
    models = [_deepfm(), _deepfm()]
    for model in models:
        for X_chunk, y_chunk in _chunks(X_train[:4_000], y_train[:4_000], 2_000):
            model.partial_fit(X_chunk, y_chunk, classes=[0, 1])
    np.testing.assert_array_equal(models[0].predict_proba(X_test), models[1].predict_proba(X_test))


def test_first_call_needs_both_classes_named():
    X, y = make_ctr_classification(200, n_sparse=2, n_dense=1, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        FMClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="exactly 2 labels"):
        FMClassifier().partial_fit(X, y, classes=[0, 1, 2])


def test_a_chunk_may_hold_one_class_but_no_unknown_label():
    X, y = make_ctr_classification(400, n_sparse=2, n_dense=1, random_state=0)
    model = FMClassifier(max_epochs=1, random_state=0).partial_fit(X[y == 0], y[y == 0], classes=[0, 1])
    np.testing.assert_array_equal(model.classes_, [0, 1])
    model.partial_fit(X[y == 1], y[y == 1])
    with pytest.raises(ValueError, match=r"labels \[2\] not in classes=\[0, 1\]"):
        model.partial_fit(X[:10], np.full(10, 2))
    with pytest.raises(ValueError, match=r"labels \['0', '1'\] not in classes=\[0, 1\]"):
        model.partial_fit(X[:10], np.array(["0", "1"] * 5))


def test_later_chunks_with_unseen_categories_and_other_columns(planted):
    X_train, y_train, X_test, _ = planted
    model = _deepfm().partial_fit(X_train[:2_000], y_train[:2_000], classes=[0, 1])
    unseen = X_train[2_000:4_000].copy()
    unseen[unseen.columns[0]] = "never-seen-" + pd.Series(range(len(unseen)), index=unseen.index).astype(str)
    model.partial_fit(unseen, y_train[2_000:4_000])
    assert np.isfinite(model.predict_proba(X_test)).all()
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing"):
        model.partial_fit(X_train.iloc[:100, :-1], y_train[:100])


def test_later_chunks_keep_the_bucket_edges_of_the_first(planted):
    X_train, y_train, _, _ = planted
    model = _deepfm(numeric_encoding="scale_and_bucket", n_bins=8)
    model.partial_fit(X_train[:2_000], y_train[:2_000], classes=[0, 1])
    buckets = model.encoder_.column_transformer_.named_transformers_["buckets"]
    edges = [e.copy() for e in buckets.bin_edges_]
    shifted = X_train[2_000:4_000].copy()
    dense = shifted.select_dtypes("number").columns
    shifted[dense] = shifted[dense] * 100 + 1_000  # far beyond the first chunk's values
    model.partial_fit(shifted, y_train[2_000:4_000])
    for before, after in zip(edges, buckets.bin_edges_, strict=True):
        np.testing.assert_array_equal(after, before)
    assert model.encoder_.field_spec_.cardinalities[-len(dense) :] == tuple(len(e) + 3 for e in edges)


def test_partial_fit_after_fit_continues_training(planted):
    X_train, y_train, X_test, _ = planted
    model = _deepfm(max_epochs=2).fit(X_train[:3_000], y_train[:3_000])
    before = model.predict_proba(X_test)
    encoder = model.encoder_
    model.partial_fit(X_train[3_000:6_000], y_train[3_000:6_000])
    assert model.encoder_ is encoder and len(model.history_) == 3
    assert not np.allclose(before, model.predict_proba(X_test))


# ------------------------------------------------------------------ multi-task estimators
@pytest.fixture(scope="module")
def census():
    X, Y = load_census_income(return_X_y=True)
    return X.iloc[:6000], Y.iloc[:6000]


@pytest.mark.parametrize("estimator_class", MULTITASK)
def test_multitask_partial_fit_trains_every_task(estimator_class, census, tiny):
    X, Y = census
    Y = targets_for(estimator_class, Y)
    model = tiny(estimator_class)
    for _ in range(2):
        for start in range(0, 4_000, 1_000):
            chunk = slice(start, start + 1_000)
            model.partial_fit(X[chunk], Y[chunk], classes=[[0, 1], [0, 1]])
    assert model.task_names_ == list(Y.columns) and len(model.history_) == 8
    proba = model.predict_proba(X[4_000:])
    aucs = [roc_auc_score(Y.iloc[4_000:, t], p[:, 1]) for t, p in enumerate(proba)]
    assert min(aucs) > 0.7, aucs


def test_multitask_partial_fit_checks_classes_per_task(census, tiny):
    X, Y = census
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MMOEMultiOutput().partial_fit(X[:100], Y[:100])
    with pytest.raises(ValueError, match="classes has 1 entries for 2 target columns"):
        MMOEMultiOutput().partial_fit(X[:100], Y[:100], classes=[[0, 1]])
    with pytest.raises(ValueError, match="classes for 'never_married' has only one class"):
        MMOEMultiOutput().partial_fit(X[:100], Y[:100], classes=[[0, 1], [1]])
    model = tiny(MMOEMultiOutput).partial_fit(X[:500], Y[:500], classes=[[0, 1], [0, 1]])
    with pytest.raises(ValueError, match=r"y column 'income' has labels \[2\] not in its classes \[0, 1\]"):
        model.partial_fit(X[:10], Y[:10].assign(income=2))
    with pytest.raises(ValueError, match=r"y has the columns \['income'\].*missing: \['never_married'\]"):
        model.partial_fit(X[:10], Y[["income"]][:10])
    with pytest.raises(ValueError, match="y has 1 columns, the first fit had 2"):
        model.partial_fit(X[:10], Y[["income"]][:10].to_numpy())
    one_task = tiny(MMOEMultiOutput).partial_fit(X[:500], Y["income"][:500], classes=[0, 1])
    np.testing.assert_array_equal(one_task.classes_, [0, 1])


def test_esmm_partial_fit_rejects_a_conversion_without_click(census, tiny):
    X, Y = census
    funnel = pd.DataFrame({"click": np.zeros(100, dtype=int), "conversion": np.ones(100, dtype=int)})
    with pytest.raises(ValueError, match="implies a click"):
        tiny(ESMMMultiOutput).partial_fit(X[:100], funnel, classes=[[0, 1], [0, 1]])
