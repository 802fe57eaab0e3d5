"""List (multi-value) columns through every estimator: fit, predict, persistence and learning.

scikit-learn's common checks (tests/test_common.py) make their own numeric data, which
has no list column; the per-estimator test here runs the parts of those checks that a
list column can change (finite outputs, prediction of a row alone, refitting, cloning,
pickling, ``set_params``) on a frame with list-cell and delimited-text columns.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from sklearn_pangu import DeepFMClassifier, ESMMMultiOutput, MMOEMultiOutput
from sklearn_pangu.io import load, save
from sklearn_pangu.utils import all_estimators

ESTIMATORS = [cls for name, cls in all_estimators() if name != "FeatureEncoder"]
FUNNEL = ("ESMMMultiOutput", "AITMMultiOutput")
#: Every list column of the ``list_frame`` fixture: ``genres`` is delimited text, found by declaring it.
LIST_PARAMS = {"multi_value_features": {"genres": "|"}, "max_sequence_length": {"history": 5}}


def _contains(tags, item):
    return np.array([item in t for t in tags], dtype=int)


def _targets(estimator_class, tags):
    """``"a" in tags`` for a ranking model; a funnel, or two such tasks, for a multi-task one."""
    name = estimator_class.__name__
    if name.endswith("Classifier"):
        return _contains(tags, "a")
    if name in FUNNEL:
        return pd.DataFrame(
            {"click": _contains(tags, "a") | _contains(tags, "b"), "conversion": _contains(tags, "a")}
        )
    return pd.DataFrame({"a": _contains(tags, "a"), "b": _contains(tags, "b")})


def _make(tiny, estimator_class, **params):
    if "behavior_features" in estimator_class().get_params():
        params.setdefault("behavior_features", {"history": "item"})
    return tiny(estimator_class, **{**LIST_PARAMS, **params})


def _positive_proba(model, X):
    proba = model.predict_proba(X)
    return np.column_stack([p[:, 1] for p in proba]) if isinstance(proba, list) else proba[:, 1]


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_every_estimator_fits_and_predicts_with_list_columns(estimator_class, list_frame, tiny):
    X, tags = list_frame(120)
    y = _targets(estimator_class, tags)
    model = _make(tiny, estimator_class).fit(X, y)
    spec = model.encoder_.field_spec_
    lists = [spec.categorical_fields[j] for j in spec.list_fields]
    assert sorted(lists) == ["genres", "history", "tags"]
    assert spec.sequence_lengths[spec.field_index("history")] == 5
    proba = _positive_proba(model, X)
    assert proba.shape[0] == len(X) and np.isfinite(proba).all()

    # Rows without items (empty list, None, "", an all-empty batch) and unknown items.
    empty = X.iloc[:4].copy()
    empty["tags"] = pd.Series([[], None, ["zzz", "a"], np.nan], index=empty.index, dtype=object)
    empty["genres"] = ["", "", "zzz", ""]
    empty["history"] = pd.Series([[], [], ["unseen"], None], index=empty.index, dtype=object)
    assert np.isfinite(_positive_proba(model, empty)).all()
    assert np.isfinite(_positive_proba(model, empty.iloc[[0, 1, 3]])).all()

    # A row's prediction is that of the row alone; a refit, a clone and a pickle predict alike.
    np.testing.assert_allclose(_positive_proba(model, X.iloc[[7]]), proba[7:8], rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(_positive_proba(pickle.loads(pickle.dumps(model)), X), proba)
    again = clone(model).fit(X, y)
    np.testing.assert_array_equal(_positive_proba(again, X), proba)
    changed = clone(model).set_params(sequence_pooling="sum", max_sequence_length=3)
    assert changed.get_params()["sequence_pooling"] == "sum"
    assert model.get_params()["sequence_pooling"] == "mean"


@pytest.mark.parametrize("estimator_class", [DeepFMClassifier, MMOEMultiOutput], ids=lambda cls: cls.__name__)
def test_learns_a_signal_that_only_the_list_holds(estimator_class, list_frame, tiny):
    # The label is whether item "a" is among the tags; the other columns are noise.
    X, tags = list_frame(2000, seed=1)
    y = _targets(estimator_class, tags)
    train, test = slice(0, 1500), slice(1500, None)
    # price is noise: one dense feature, as numeric_encoding="scale" makes it.
    params = {
        "embedding_dim": 8,
        "learning_rate": 0.01,
        "max_epochs": 8,
        "batch_size": 64,
        "numeric_encoding": "scale",
    }

    def auc(columns):
        model = tiny(estimator_class, **params).fit(X.iloc[train][columns], y[train])
        proba = _positive_proba(model, X.iloc[test][columns])
        truth = np.asarray(y[test]).reshape(len(proba), -1)
        return min(
            roc_auc_score(truth[:, k], proba.reshape(len(proba), -1)[:, k]) for k in range(truth.shape[1])
        )

    assert auc(["item", "price", "tags"]) > 0.9
    assert auc(["item", "price"]) < 0.65


@pytest.mark.parametrize("pooling", ["sum", "max"])
def test_sequence_pooling_reaches_the_network(pooling, list_frame, tiny):
    X, tags = list_frame(150)
    model = tiny(DeepFMClassifier, sequence_pooling=pooling).fit(X[["item", "tags"]], _contains(tags, "a"))
    assert model.net_.module_.embedding.sequence_pooling == pooling
    assert model.net_.module_.linear.weights.sequence_pooling == pooling
    assert np.isfinite(model.predict_proba(X[["item", "tags"]])).all()


def test_max_pooling_with_sparse_embeddings_is_an_error_naming_both(list_frame, tiny):
    X, tags = list_frame(60)
    model = tiny(DeepFMClassifier, sequence_pooling="max", sparse_embeddings=True)
    with pytest.raises(ValueError, match="sequence_pooling='max'.*sparse_embeddings=True"):
        model.fit(X, _contains(tags, "a"))


def test_sparse_embeddings_and_bfloat16_train_with_list_fields(list_frame, tiny):
    X, tags = list_frame(150)
    y = _contains(tags, "a")
    for params in ({"sparse_embeddings": True}, {"mixed_precision": "bfloat16"}):
        model = tiny(DeepFMClassifier, sequence_pooling="sum", **params).fit(X, y)
        assert np.isfinite(model.predict_proba(X)).all()
        assert model.net_.module_.embedding.table.sparse is params.get("sparse_embeddings", False)


def test_shared_vocabulary_between_a_list_and_a_scalar_column_shares_a_table(list_frame, tiny):
    X, _ = list_frame(100)
    X = X[["item", "history", "tags"]]
    y = np.arange(len(X)) % 2
    shared = tiny(DeepFMClassifier, shared_vocabulary={"history": "item"}).fit(X, y)
    spec = shared.encoder_.field_spec_
    item, history, tag = (spec.field_index(name) for name in ("item", "history", "tags"))
    assert spec.shared_tables[history] == item
    assert spec.cardinalities[history] == spec.cardinalities[item]
    module = shared.net_.module_
    assert module.embedding.table.num_embeddings == spec.cardinalities[item] + spec.cardinalities[tag]
    assert module.linear.weights.table.num_embeddings == spec.cardinalities[item] + spec.cardinalities[tag]
    apart = tiny(DeepFMClassifier).fit(X, y)
    cardinalities = apart.encoder_.field_spec_.cardinalities
    assert apart.net_.module_.embedding.table.num_embeddings == sum(cardinalities)


@pytest.mark.parametrize(
    "change",
    [
        {"sequence_pooling": "sum"},
        {"max_sequence_length": 3},
        {"multi_value_features": ["tags"]},
        {"shared_vocabulary": {"history": "item"}},
    ],
    ids=lambda change: next(iter(change)),
)
def test_warm_start_and_partial_fit_refuse_changed_list_parameters(change, list_frame, tiny):
    X, tags = list_frame(100)
    X = X[["item", "tags", "history"]]
    y = _contains(tags, "a")
    model = tiny(DeepFMClassifier, max_epochs=1).fit(X, y)
    model.set_params(warm_start=True, **change)
    name = next(iter(change))
    with pytest.raises(ValueError, match=f"{name}=.*warm start"):
        model.fit(X, y)
    with pytest.raises(ValueError, match=f"{name}=.*warm start"):
        model.partial_fit(X, y)
    model.set_params(**{name: DeepFMClassifier().get_params()[name]})
    assert len(model.fit(X, y).history_) == 2


def test_saved_model_keeps_its_lists_and_the_pooling_it_was_fitted_with(list_frame, tiny, tmp_path):
    X, tags = list_frame(150)
    y = _targets(ESMMMultiOutput, tags)
    model = tiny(
        ESMMMultiOutput, sequence_pooling="sum", shared_vocabulary={"history": "item"}, **LIST_PARAMS
    )
    model.fit(X, y)
    proba = _positive_proba(model, X)
    # As for any architecture parameter, the network is the one fitted, whatever set_params changed since.
    model.set_params(sequence_pooling="max")
    save(model, tmp_path / "model.pangu")
    loaded = load(tmp_path / "model.pangu")
    assert loaded.net_.module_.embedding.sequence_pooling == "sum"
    assert loaded.get_params()["shared_vocabulary"] == {"history": "item"}
    assert loaded.encoder_.field_spec_ == model.encoder_.field_spec_
    np.testing.assert_array_equal(_positive_proba(loaded, X), proba)
