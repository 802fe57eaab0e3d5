"""The bundled Census-Income data and the synthetic CTR generator."""

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sklearn.utils import Bunch

from sklearn_pangu.datasets import load_census_income, make_ctr_classification

N_CENSUS = 99762
# The file has 42 columns: 40 attributes (marital_stat among them), instance_weight and the
# income label; marital_stat, instance_weight and the label are not features.
N_CENSUS_FEATURES = 39
CODED_CATEGORICAL = ["det_ind_code", "det_occ_code", "own_or_self", "vet_benefits", "year"]


@pytest.fixture(scope="module")
def census():
    return load_census_income()


def test_census_bunch(census):
    assert isinstance(census, Bunch)
    X, Y = census.data, census.target
    assert isinstance(X, pd.DataFrame) and isinstance(Y, pd.DataFrame)
    assert X.shape == (N_CENSUS, N_CENSUS_FEATURES)
    assert census.feature_names == X.columns.tolist()
    assert census.target_names == ["income", "never_married"]
    assert Y.columns.tolist() == ["income", "never_married"]
    assert census.frame.columns.tolist() == [*census.feature_names, *census.target_names]
    assert_frame_equal(census.frame[census.feature_names], X)
    assert_frame_equal(census.frame[census.target_names], Y)
    assert "CC BY 4.0" in census.DESCR
    assert "Census" in census.DESCR


def test_census_targets(census):
    Y = census.target
    for column in Y.columns:
        assert Y[column].dtype == np.int64
        assert set(np.unique(Y[column])) == {0, 1}
    assert Y["income"].mean() == pytest.approx(0.062, abs=5e-4)
    assert Y["never_married"].mean() == pytest.approx(0.4325, abs=5e-4)


def test_census_features_exclude_target_sources(census):
    X = census.data
    for leaked in ("marital_stat", "instance_weight", "income_50k"):
        assert leaked not in X.columns
    # "Never married" must not be recoverable from a feature column verbatim.
    text = X.select_dtypes(include=["str", "object"])
    assert not text.isin(["Never married"]).any().any()


def test_census_dtypes(census):
    X = census.data
    for column in CODED_CATEGORICAL:
        assert isinstance(X[column].dtype, pd.CategoricalDtype), column
    assert X["age"].dtype.kind in "if"
    assert X["education"].dtype == "str"
    # Values are stripped of the leading blank of the source file.
    assert not X["education"].str.startswith(" ").any()
    n_numeric = sum(pd.api.types.is_numeric_dtype(d) for d in X.dtypes)
    n_text = sum(d == "str" for d in X.dtypes)
    assert n_numeric + n_text + len(CODED_CATEGORICAL) == X.shape[1]


def test_census_return_X_y(census):
    X, Y = load_census_income(return_X_y=True)
    assert_frame_equal(X, census.data)
    assert_frame_equal(Y, census.target)


def test_census_as_frame_false(census):
    bunch = load_census_income(as_frame=False)
    assert isinstance(bunch.data, np.ndarray) and isinstance(bunch.target, np.ndarray)
    assert bunch.data.shape == (N_CENSUS, N_CENSUS_FEATURES)
    assert bunch.data.dtype == object
    assert bunch.target.shape == (N_CENSUS, 2)
    assert bunch.target.dtype.kind == "i"
    np.testing.assert_array_equal(bunch.target, census.target.to_numpy())
    assert bunch.frame is None
    assert bunch.feature_names == census.feature_names
    age = bunch.feature_names.index("age")
    np.testing.assert_array_equal(bunch.data[:, age].astype(float), census.data["age"].to_numpy(float))


# --------------------------------------------------------------------------- synthetic CTR data


def test_make_ctr_classification_shapes_names_and_dtypes():
    X, y = make_ctr_classification(n_samples=500, n_sparse=4, n_dense=3, max_cardinality=200, random_state=0)
    assert X.shape == (500, 7)
    assert y.shape == (500,)
    assert X.columns.tolist() == ["C1", "C2", "C3", "C4", "I1", "I2", "I3"]
    for column in ["C1", "C2", "C3", "C4"]:
        assert isinstance(X[column].dtype, pd.CategoricalDtype), column
        assert not X[column].isna().any()
    for column in ["I1", "I2", "I3"]:
        assert X[column].dtype == np.float32, column
    assert set(np.unique(y)) == {0, 1}


def test_make_ctr_classification_is_reproducible():
    kwargs = {"n_samples": 300, "n_sparse": 3, "n_dense": 2, "max_cardinality": 50}
    X1, y1 = make_ctr_classification(**kwargs, random_state=7)
    X2, y2 = make_ctr_classification(**kwargs, random_state=7)
    assert_frame_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, y3 = make_ctr_classification(**kwargs, random_state=8)
    assert not X1.equals(X3) or not np.array_equal(y1, y3)


CTR_KWARGS = {"n_samples": 20_000, "n_sparse": 4, "n_dense": 2, "max_cardinality": 300, "random_state": 0}


def test_make_ctr_classification_positive_rate_orders_the_labels():
    rates = [0.1, 0.25, 0.5, 0.8]
    observed = [make_ctr_classification(**CTR_KWARGS, positive_rate=r)[1].mean() for r in rates]
    assert observed == sorted(observed)
    assert observed[2] == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("positive_rate", [0.1])
def test_make_ctr_classification_small_positive_rate(positive_rate):
    _, y = make_ctr_classification(**CTR_KWARGS, positive_rate=positive_rate)
    assert y.mean() == pytest.approx(positive_rate, abs=0.02)


def test_make_ctr_classification_cardinality_bound():
    X, _ = make_ctr_classification(n_samples=5000, n_sparse=5, n_dense=0, max_cardinality=60, random_state=1)
    declared = [len(X[c].cat.categories) for c in X.columns]
    assert max(declared) <= 60
    assert min(declared) >= 2
    observed = [X[c].nunique() for c in X.columns]
    assert max(observed) <= 60
    assert all(o >= 2 for o in observed)


def test_make_ctr_classification_single_sample():
    X, y = make_ctr_classification(n_samples=1, n_sparse=3, n_dense=2, random_state=0)
    assert X.shape == (1, 5)
    assert y.shape == (1,)
    assert y[0] in (0, 1)
    assert not X.isna().any().any()
