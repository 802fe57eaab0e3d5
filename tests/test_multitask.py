"""Behaviour of the multi-task estimators that users rely on."""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_pangu import (
    AITMMultiOutput,
    ESMMMultiOutput,
    MLMMOEMultiOutput,
    MMOEMultiOutput,
    OMOEMultiOutput,
    PLEMultiOutput,
    ShareBottomMultiOutput,
)
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.metrics import mean_roc_auc_score, mean_roc_auc_scorer

MULTITASK = [
    ShareBottomMultiOutput,
    OMOEMultiOutput,
    MMOEMultiOutput,
    MLMMOEMultiOutput,
    PLEMultiOutput,
    ESMMMultiOutput,
    AITMMultiOutput,
]
GATED = [OMOEMultiOutput, MMOEMultiOutput, MLMMOEMultiOutput, PLEMultiOutput]
FUNNEL = (ESMMMultiOutput, AITMMultiOutput)


def targets_for(estimator_class, Y):
    """Census targets, as a (click, conversion) funnel for the funnel models."""
    if estimator_class in FUNNEL:
        return pd.DataFrame({"click": Y["income"] | Y["never_married"], "conversion": Y["income"]})
    return Y


@pytest.fixture(scope="module")
def census():
    X, Y = load_census_income(return_X_y=True)
    return X.iloc[:3000], Y.iloc[:3000]


@pytest.mark.parametrize("estimator_class", MULTITASK)
def test_multi_output_api(estimator_class, census, tiny):
    X, Y = census
    Y = targets_for(estimator_class, Y)
    model = tiny(estimator_class).fit(X, Y)
    assert model.task_names_ == Y.columns.tolist()
    assert model.n_outputs_ == 2
    assert [c.tolist() for c in model.classes_] == [[0, 1], [0, 1]]
    proba = model.predict_proba(X.iloc[:7])
    assert isinstance(proba, list) and [p.shape for p in proba] == [(7, 2), (7, 2)]
    # Task t's columns are 1 - p and p for p the sigmoid of the module's logit of task t.
    positive = 1.0 / (1.0 + np.exp(-model._raw_outputs(X.iloc[:7])))
    for task, task_proba in enumerate(proba):
        expected = np.column_stack([1.0 - positive[:, task], positive[:, task]])
        np.testing.assert_allclose(task_proba, expected, rtol=1e-12, atol=1e-15)
    assert model.predict(X.iloc[:7]).shape == (7, 2)
    assert model.predict(X.iloc[:0]).shape == (0, 2)
    assert [p.shape for p in model.predict_proba(X.iloc[:0])] == [(0, 2), (0, 2)]


def test_labels_of_any_type_per_task(census, tiny):
    X, Y = census
    labels = pd.DataFrame(
        {
            "rich": np.where(Y["income"] == 1, "yes", "no"),
            "single": Y["never_married"].astype(bool),
        }
    )
    model = tiny(MMOEMultiOutput).fit(X, labels)
    assert model.classes_[0].tolist() == ["no", "yes"]
    assert model.classes_[1].tolist() == [False, True]
    predicted = model.predict(X.iloc[:5])
    assert set(predicted[:, 0]) <= {"no", "yes"}
    assert set(predicted[:, 1]) <= {False, True}


def test_ndarray_targets_get_default_names(census, tiny):
    X, Y = census
    model = tiny(MMOEMultiOutput).fit(X, Y.to_numpy())
    assert model.task_names_ == ["task_0", "task_1"]


def test_one_target_gives_the_single_output_api(census, tiny):
    X, Y = census
    model = tiny(MMOEMultiOutput).fit(X, Y["income"])
    assert model.classes_.tolist() == [0, 1]
    assert model.predict(X.iloc[:4]).shape == (4,)
    assert model.predict_proba(X.iloc[:4]).shape == (4, 2)


def test_history_holds_per_task_losses_and_aucs(census, tiny):
    X, Y = census
    model = tiny(MMOEMultiOutput, early_stopping=True).fit(X, Y)
    last = model.history_[-1]
    for name in ("income", "never_married"):
        for key in (f"train_loss_{name}", f"valid_loss_{name}", f"valid_auc_{name}"):
            assert np.isfinite(last[key]), key
    assert last["valid_auc"] == pytest.approx(
        np.mean([last["valid_auc_income"], last["valid_auc_never_married"]])
    )


def test_task_weights_weigh_the_loss(census, tiny):
    # valid_loss holds no penalty, so it is exactly the weighted sum of the task losses
    X, Y = census
    for weights in ([1.0, 0.0], [2.0, 0.5]):
        model = tiny(MMOEMultiOutput, task_weights=weights, max_epochs=1, early_stopping=True).fit(X, Y)
        last = model.history_[-1]
        expected = weights[0] * last["valid_loss_income"] + weights[1] * last["valid_loss_never_married"]
        assert last["valid_loss"] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    "task_weights, match",
    [([1.0], "2 non-negative"), ([1.0, -1.0], "task_weights"), ([1.0, np.nan], "task_weights")],
)
def test_bad_task_weights(task_weights, match, census, tiny):
    X, Y = census
    with pytest.raises(ValueError, match=match):
        tiny(MMOEMultiOutput, task_weights=task_weights).fit(X, Y)


def test_bad_targets_name_the_column(census, tiny):
    X, Y = census
    constant = Y.assign(never_married=1)
    with pytest.raises(ValueError, match="'never_married' has only one class"):
        tiny(MMOEMultiOutput).fit(X, constant)
    missing = Y.astype(float)
    missing.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="'never_married' contains NaN"):
        tiny(MMOEMultiOutput).fit(X, missing)
    three = Y.assign(income=np.arange(len(Y)) % 3)
    with pytest.raises(ValueError, match="Only binary classification.*'income' has 3 classes"):
        tiny(MMOEMultiOutput).fit(X, three)
    with pytest.raises(ValueError, match="requires y to be passed"):
        tiny(MMOEMultiOutput).fit(X, None)


@pytest.mark.parametrize("name", ["num_experts", "expert_units", "tower_units"])
def test_bad_model_parameters_name_themselves(name, census, tiny):
    X, Y = census
    with pytest.raises(ValueError, match=name):
        tiny(MMOEMultiOutput, **{name: 0 if name == "num_experts" else (0,)}).fit(X, Y)


@pytest.mark.parametrize("estimator_class", MULTITASK)
def test_joblib_round_trip_is_exact(estimator_class, census, tmp_path, tiny):
    X, Y = census
    model = tiny(estimator_class).fit(X, targets_for(estimator_class, Y))
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    for before, after in zip(model.predict_proba(X), loaded.predict_proba(X), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("estimator_class", GATED)
def test_gates_and_experts_are_trained_and_saved(estimator_class, census, tmp_path, tiny):
    X, Y = census
    model = tiny(estimator_class, max_epochs=1)
    model.fit(X, Y)
    initial = {k: v.clone() for k, v in model.net_.module_.state_dict().items()}
    model.set_params(warm_start=True, max_epochs=2).fit(X, Y)
    state = model.net_.module_.state_dict()
    gate_keys = [k for k in state if "gate" in k]
    expert_keys = [k for k in state if "expert" in k and k.endswith("weight")]
    assert gate_keys and expert_keys
    for key in gate_keys + expert_keys:
        assert not np.array_equal(initial[key].numpy(), state[key].numpy()), key
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib").net_.module_.state_dict()
    for key in gate_keys + expert_keys:
        np.testing.assert_array_equal(loaded[key].numpy(), state[key].numpy())


def test_same_random_state_same_predictions(census, tiny):
    X, Y = census
    first = tiny(MMOEMultiOutput, random_state=3).fit(X, Y).predict_proba(X)
    second = tiny(MMOEMultiOutput, random_state=3).fit(X, Y).predict_proba(X)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_mean_roc_auc_scorer_in_grid_search(census, tiny):
    X, Y = census
    search = GridSearchCV(
        tiny(MMOEMultiOutput, max_epochs=1), {"embedding_dim": [2, 4]}, scoring=mean_roc_auc_scorer, cv=2
    ).fit(X, Y)
    assert 0.5 < search.best_score_ <= 1.0
    model = search.best_estimator_
    expected = np.mean(
        [roc_auc_score(Y[name], p[:, 1]) for name, p in zip(Y.columns, model.predict_proba(X), strict=True)]
    )
    assert mean_roc_auc_scorer(model, X, Y) == pytest.approx(expected)
    # scikit-learn's "roc_auc" reads 0/1 multi-output targets as multilabel: the same macro mean.
    assert get_scorer("roc_auc")(model, X, Y) == pytest.approx(expected)


def test_mean_roc_auc_score_uses_each_tasks_positive_label():
    y_true = np.array([["a", "x"], ["b", "y"], ["b", "x"], ["a", "y"]], dtype=object)
    positive = np.array([[0.1, 0.2], [0.9, 0.8], [0.7, 0.3], [0.2, 0.6]])
    assert mean_roc_auc_score(y_true, positive) == 1.0
    flipped = [np.array([["x", "y"]] * 1).ravel(), np.array(["y", "x"])]
    assert mean_roc_auc_score(y_true, positive, classes=[["a", "b"], flipped[1]]) == 0.5
    with pytest.raises(ValueError, match="must match"):
        mean_roc_auc_score(y_true, positive[:, :1])


def test_works_in_a_pipeline_and_clones(census, tiny):
    X, Y = census
    pipeline = make_pipeline(
        FunctionTransformer(lambda frame: frame.drop(columns=["age"])), tiny(MMOEMultiOutput)
    )
    pipeline.fit(X, Y)
    assert [p.shape for p in pipeline.predict_proba(X.iloc[:3])] == [(3, 2), (3, 2)]
    assert clone(pipeline[-1]).get_params() == pipeline[-1].get_params()


def test_mmoe_learns_both_census_tasks():
    X, Y = load_census_income(return_X_y=True)
    X_train, X_test, Y_train, Y_test = (
        X.iloc[:16000],
        X.iloc[16000:20000],
        Y.iloc[:16000],
        Y.iloc[16000:20000],
    )
    model = MMOEMultiOutput(
        num_experts=4, expert_units=(64,), tower_units=(16,), max_epochs=8, random_state=0
    ).fit(X_train, Y_train)
    proba = model.predict_proba(X_test)
    assert roc_auc_score(Y_test["income"], proba[0][:, 1]) > 0.85
    assert roc_auc_score(Y_test["never_married"], proba[1][:, 1]) > 0.97
