"""Multi-task labels are matched by name: a reordered Y never trains one task's head on another's labels."""

import functools

import numpy as np
import pandas as pd
import pytest

from sklearn_pangu import AITMMultiOutput, ESMMMultiOutput, MMOEMultiOutput, PLEMultiOutput
from sklearn_pangu.datasets import load_census_income


@pytest.fixture(scope="module")
def tiny(tiny):
    """One epoch is enough for these tests."""
    return functools.partial(tiny, max_epochs=1)


@pytest.fixture(scope="module")
def data():
    X, Y = load_census_income(return_X_y=True)
    X, Y = X[:400], Y[:400]
    Y = pd.DataFrame({"click": Y["never_married"] | Y["income"], "buy": Y["income"]})
    return X, Y


def proba(model, X):
    return np.asarray(model.predict_proba(X))


@pytest.mark.parametrize("estimator_class", [MMOEMultiOutput, PLEMultiOutput, AITMMultiOutput])
@pytest.mark.parametrize("how", ["warm fit", "partial_fit"])
def test_reordered_columns_are_matched_by_name(estimator_class, how, data, tiny):
    X, Y = data

    def go_on(model, y):
        return (
            model.partial_fit(X, y) if how == "partial_fit" else model.set_params(warm_start=True).fit(X, y)
        )

    in_order = go_on(tiny(estimator_class).fit(X, Y), Y)
    reordered = go_on(tiny(estimator_class).fit(X, Y), Y[["buy", "click"]])
    np.testing.assert_array_equal(proba(reordered, X), proba(in_order, X))
    assert reordered.task_names_ == ["click", "buy"]
    # By position, the reordered columns would have trained each head on the other task.
    swapped = go_on(tiny(estimator_class).fit(X, Y), Y[["buy", "click"]].to_numpy())
    assert not np.array_equal(proba(swapped, X), proba(in_order, X))


@pytest.mark.parametrize("how", ["warm fit", "partial_fit"])
def test_missing_renamed_or_extra_task_columns_are_errors_naming_them(how, data, tiny):
    X, Y = data
    model = tiny(MMOEMultiOutput).fit(X, Y)
    expected = proba(model, X)

    def go_on(y):
        return (
            model.partial_fit(X, y) if how == "partial_fit" else model.set_params(warm_start=True).fit(X, y)
        )

    with pytest.raises(ValueError, match=r"missing: \['buy'\], not a task: \['purchase'\]"):
        go_on(Y.rename(columns={"buy": "purchase"}))
    with pytest.raises(ValueError, match=r"missing: \['buy'\], not a task: \[\]"):
        go_on(Y[["click"]])
    with pytest.raises(ValueError, match=r"missing: \[\], not a task: \['view'\]"):
        go_on(Y.assign(view=Y["click"]))
    with pytest.raises(ValueError, match="y has 1 columns, the first fit had 2"):
        go_on(Y[["click"]].to_numpy())
    np.testing.assert_array_equal(proba(model, X), expected)


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_duplicate_task_names_are_an_error_naming_them(call, data, tiny):
    X, Y = data
    duplicated = Y[["click", "click"]]
    model = tiny(MMOEMultiOutput)
    with pytest.raises(ValueError, match=r"column name\(s\) \['click'\] more than once"):
        if call == "fit":
            model.fit(X, duplicated)
        else:
            model.partial_fit(X, duplicated, classes=[[0, 1], [0, 1]])
    fitted = tiny(MMOEMultiOutput).fit(X, Y)
    with pytest.raises(ValueError, match="more than once"):
        fitted.partial_fit(X, Y.set_axis(["buy", "buy"], axis=1))


def test_names_after_a_fit_without_names_are_taken_by_position_with_a_warning(data, tiny):
    X, Y = data
    model = tiny(MMOEMultiOutput).fit(X, Y.to_numpy())
    assert model.task_names_ == ["task_0", "task_1"]
    by_position = tiny(MMOEMultiOutput).fit(X, Y.to_numpy()).partial_fit(X, Y.to_numpy())
    with pytest.warns(UserWarning, match="fitted on a y without names; its columns are taken by position"):
        model.partial_fit(X, Y)
    np.testing.assert_array_equal(proba(model, X), proba(by_position, X))


def test_esmm_funnel_error_names_the_positive_labels(data, tiny):
    X, Y = data
    # Text labels sort so that "not bought" is the positive conversion label.
    text = pd.DataFrame(
        {
            "click": np.where(Y["click"], "yes", "no"),
            "conversion": np.where(Y["buy"], "bought", "not bought"),
        }
    )
    with pytest.raises(
        ValueError,
        match=r"positive \(label 'not bought'\) while the click column 'click' is negative \(label 'no'\).*"
        r"'yes' for 'click', 'not bought' for 'conversion'.*bool or 0/1 labels",
    ):
        tiny(ESMMMultiOutput).fit(X, text)
    as_bool = pd.DataFrame({"click": text["click"] == "yes", "conversion": text["conversion"] == "bought"})
    tiny(ESMMMultiOutput).fit(X, as_bool)
