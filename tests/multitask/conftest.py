"""Fixtures of the multi-task model tests: Census-Income samples and click/conversion funnels."""

import pandas as pd
import pytest
import torch

from sklearn_pangu.datasets import load_census_income


def _funnel(Y: pd.DataFrame) -> pd.DataFrame:
    """Census labels as a click/conversion funnel: conversion (income) implies click."""
    return pd.DataFrame({"click": Y["never_married"] | Y["income"], "conversion": Y["income"]}, index=Y.index)


@pytest.fixture(scope="session")
def census():
    """The first 3000 Census-Income rows and their two targets, income and never_married."""
    X, Y = load_census_income(return_X_y=True)
    return X.iloc[:3000], Y.iloc[:3000]


@pytest.fixture(scope="session")
def census_funnel():
    """20000 Census-Income rows as a funnel: X_train, X_test, y_train, y_test (16000 and 4000 rows)."""
    X, Y = load_census_income(return_X_y=True)
    X, y = X.iloc[:20000], _funnel(Y.iloc[:20000])
    return X.iloc[:16000], X.iloc[16000:], y.iloc[:16000], y.iloc[16000:]


@pytest.fixture(scope="session")
def small_funnel():
    """3000 Census-Income rows as a funnel: X and the click and conversion targets."""
    X, Y = load_census_income(return_X_y=True)
    return X.iloc[:3000], _funnel(Y.iloc[:3000])


@pytest.fixture(scope="session")
def fit_one_thread():
    """``fit(model, X, y)`` with one torch thread, for fixtures set up before the per-test thread fixture.

    Training depends on the thread count; conftest's fixture that sets it runs per test,
    after a module's fixtures.
    """

    def fit(model, X, y):
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return model.fit(X, y)
        finally:
            torch.set_num_threads(previous)

    return fit


def _ali_ccp(research_data, part):
    frame = pd.read_csv(research_data("ali_ccp_sample", f"ali_ccp_{part}_sample.csv"))
    return frame.drop(columns=["click", "purchase"]), frame[["click", "purchase"]]


def _aliexpress(research_data, source, part):
    name = f"fuxictr_tiny_mtl_{part}.csv" if source == "fuxictr" else f"rechub_aliexpress_{part}_sample.csv"
    frame = pd.read_csv(research_data("aliexpress_sample", name))
    return frame.drop(columns=["search_id", "click", "conversion"]), frame[["click", "conversion"]]


SAMPLES = {
    # Ali-CCP: 23 id fields (integers, so named as categorical) and 8 dense "D..." fields
    "ali_ccp": (_ali_ccp, lambda X: [c for c in X.columns if not c.startswith("D")]),
    # AliExpress: categorical_1..16 and numerical_1..63
    "aliexpress_fuxictr": (
        lambda data, part: _aliexpress(data, "fuxictr", part),
        lambda X: [c for c in X.columns if c.startswith("categorical")],
    ),
    "aliexpress_rechub": (
        lambda data, part: _aliexpress(data, "rechub", part),
        lambda X: [c for c in X.columns if c.startswith("categorical")],
    ),
}


@pytest.fixture(params=list(SAMPLES))
def click_conversion_sample(request, research_data):
    """A research click/conversion sample, or a skip when it is absent.

    Returns X_train, y_train, X_test, y_test and the names of the categorical columns.
    """
    load, categorical = SAMPLES[request.param]
    X_train, y_train = load(research_data, "train")
    X_test, y_test = load(research_data, "test")
    return X_train, y_train, X_test, y_test, categorical(X_train)
