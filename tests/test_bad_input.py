"""Bad input, for both estimator families: each case is handled as documented or is a clear error.

A clear error is a ``ValueError`` or ``TypeError`` whose message names the column or
parameter at fault; never an ``IndexError`` or a torch ``RuntimeError``, and never a
silently wrong answer. docs/reliability.md lists every case with the test that shows it.
"""

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from sklearn_pangu import DeepFMClassifier, LRClassifier, MMOEMultiOutput
from sklearn_pangu.preprocessing import FeatureEncoder
from sklearn_pangu.preprocessing._column_coders import DENSE_CLIP, NumericScaler
from sklearn_pangu.utils import all_estimators

# The behaviour models need a history column: tests/ranking/test_{din,dien,bst}.py cover their errors.
RANKING = [
    cls
    for name, cls in all_estimators()
    if name.endswith("Classifier") and "behavior_features" not in cls().get_params()
]
FAMILIES = [DeepFMClassifier, MMOEMultiOutput]
N = 240


@pytest.fixture(scope="module")
def tiny(tiny):
    """Two epochs are enough for these tests."""
    return functools.partial(tiny, max_epochs=2)


def make_frame(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Every column kind a user brings, with missing values of each kind."""
    rng = np.random.RandomState(seed)
    visits = pd.array(rng.randint(0, 5, n), dtype="Int64")
    visits[rng.rand(n) < 0.1] = pd.NA
    flag = pd.array(rng.rand(n) < 0.5, dtype="boolean")
    flag[rng.rand(n) < 0.1] = pd.NA
    age = rng.normal(40, 10, n)
    age[rng.rand(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "city": pd.Series(rng.choice(["Paris", "Rome", "Oslo", None], n), dtype="str"),
            "plan": pd.Categorical(rng.choice(["free", "pro", "team"], n)),
            "member": rng.rand(n) < 0.5,
            "flag": flag,
            "age": age,
            "visits": visits,
        }
    )


def make_targets(estimator_class, n: int = N, seed: int = 1):
    """A binary y for a ranking estimator, a two-task Y for a multi-task one."""
    rng = np.random.RandomState(seed)
    if estimator_class is MMOEMultiOutput:
        return pd.DataFrame({"click": rng.randint(0, 2, n), "buy": rng.randint(0, 2, n)})
    return rng.randint(0, 2, n)


def positive_proba(model, X) -> np.ndarray:
    """Probability of the positive label, shape (n_samples, n_tasks), for either family."""
    proba = model.predict_proba(X)
    proba = proba if isinstance(proba, list) else [proba]
    return np.column_stack([p[:, 1] for p in proba])


def assert_valid_proba(model, X) -> np.ndarray:
    proba = positive_proba(model, X)
    assert proba.shape[0] == len(X)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    return proba


@pytest.fixture(scope="module", params=FAMILIES, ids=lambda cls: cls.__name__)
def fitted(request, tiny):
    """One fitted estimator of each family and the frame it was fitted on."""
    X = make_frame()
    model = tiny(request.param).fit(X, make_targets(request.param))
    return model, X


# --------------------------------------------------------------------------- columns


def test_columns_in_another_order_is_an_error_naming_them(fitted):
    model, X = fitted
    shuffled = X[["age", "city", "plan", "member", "flag", "visits"]]
    with pytest.raises(ValueError, match=r"same order as they were in fit: X has 'age' where 'city' was"):
        model.predict_proba(shuffled)
    np.testing.assert_array_equal(
        positive_proba(model, shuffled[model.feature_names_in_]), positive_proba(model, X)
    )


def test_extra_or_missing_column_is_an_error_naming_it(fitted):
    model, X = fitted
    with pytest.raises(ValueError, match=r"unseen at fit time:\n- extra"):
        model.predict_proba(X.assign(extra=1.0))
    with pytest.raises(ValueError, match=r"now missing:\n- age"):
        model.predict_proba(X.drop(columns="age"))
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 6"):
        with pytest.warns(UserWarning, match="valid feature names"):
            model.predict_proba(X.drop(columns="age").to_numpy())


def test_duplicate_column_names_are_an_error_naming_the_column(tiny):
    X = make_frame()
    with pytest.raises(ValueError, match="'age' 2 times"):
        tiny(LRClassifier).fit(pd.concat([X, X[["age"]]], axis=1), make_targets(LRClassifier))


def test_ndarray_after_dataframe_fit_warns_once_and_reads_columns_by_position(fitted):
    model, X = fitted
    with pytest.warns(UserWarning) as record:
        from_array = positive_proba(model, X.to_numpy())
    messages = [str(w.message) for w in record if "feature names" in str(w.message)]
    assert messages == [
        f"X does not have valid feature names, but {type(model).__name__} was fitted with feature names"
    ]
    np.testing.assert_allclose(from_array, positive_proba(model, X), rtol=1e-6)


@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_dataframe_after_ndarray_fit_warns_once_and_reads_columns_by_position(estimator_class, tiny):
    X = make_frame()[["age", "member"]].fillna(0.0).to_numpy(dtype=float)
    model = tiny(estimator_class).fit(X, make_targets(estimator_class))
    frame = pd.DataFrame(X, columns=["a", "b"])
    with pytest.warns(UserWarning) as record:
        from_frame = positive_proba(model, frame)
    messages = [str(w.message) for w in record if "feature names" in str(w.message)]
    assert messages == [
        f"X has feature names, but {estimator_class.__name__} was fitted without feature names"
    ]
    np.testing.assert_array_equal(from_frame, positive_proba(model, X))


def test_mixed_type_column_names_and_1d_x_are_clear_errors(tiny):
    X = make_frame()
    y = make_targets(LRClassifier)
    with pytest.raises(TypeError, match="Feature names are only supported if all input features have string"):
        tiny(LRClassifier).fit(X.set_axis(["city", 1, "member", "flag", "age", "visits"], axis=1), y)
    with pytest.raises(ValueError, match="Expected 2D array"):
        tiny(LRClassifier).fit(X["age"].to_numpy(), y)
    # Integer column names are no feature names: columns are matched by position, as in an ndarray.
    model = tiny(LRClassifier).fit(X.set_axis(range(6), axis=1), y)
    assert not hasattr(model, "feature_names_in_")
    assert_valid_proba(model, X.set_axis(range(6), axis=1))


def test_sparse_input_is_a_type_error(tiny):
    X = np.random.RandomState(0).rand(40, 3)
    model = tiny(LRClassifier).fit(X, np.arange(40) % 2)
    with pytest.raises(TypeError, match="dense data is required"):
        model.predict_proba(sp.csr_matrix(X))


# --------------------------------------------------------------------------- values


def test_numbers_as_strings_at_predict_are_converted(fitted):
    model, X = fitted
    as_strings = X.assign(
        age=X["age"].map(lambda v: None if np.isnan(v) else repr(v)).astype("str"),
        visits=X["visits"]
        .astype(object)
        .where(X["visits"].notna(), None)
        .map(lambda v: None if v is None else str(v)),
    )
    assert as_strings["age"].dtype == "str"
    np.testing.assert_array_equal(positive_proba(model, as_strings), positive_proba(model, X))


@pytest.mark.parametrize("bad", ["forty", "1,5", "NA", "null"])
def test_a_string_that_is_not_a_number_in_a_numeric_column_names_the_column(fitted, bad):
    model, X = fitted
    age = X["age"].astype(object)
    age.iloc[3] = bad
    with pytest.raises(ValueError, match="Column 'age' is a numeric .* not a number"):
        model.predict_proba(X.assign(age=age))


@pytest.mark.parametrize("text", ["", "nan", "NaN", "<NA>", "None", "NaT"])
def test_empty_or_missing_text_in_a_numeric_column_is_missing(fitted, text):
    model, X = fitted
    age = X["age"].astype(object)
    age.iloc[3] = text
    expected = positive_proba(model, X.assign(age=X["age"].where(np.arange(len(X)) != 3)))
    np.testing.assert_array_equal(positive_proba(model, X.assign(age=age)), expected)


def test_category_column_with_other_categories_at_predict(fitted):
    model, X = fitted
    expected = positive_proba(model, X)
    reordered = pd.Categorical(X["plan"].astype(str), categories=["team", "vip", "pro", "free"])
    np.testing.assert_array_equal(positive_proba(model, X.assign(plan=reordered)), expected)
    # A string column may arrive as a category and back; categories are matched by value.
    np.testing.assert_array_equal(
        positive_proba(model, X.assign(city=X["city"].astype("category"))), expected
    )
    np.testing.assert_array_equal(positive_proba(model, X.assign(plan=X["plan"].astype(object))), expected)
    # A category unseen at fit is 'unknown', whatever the dtype that brings it.
    unseen_cat = X.assign(plan=pd.Categorical(["vip"] * len(X), categories=["free", "vip"]))
    unseen_str = X.assign(plan=["vip"] * len(X))
    np.testing.assert_array_equal(positive_proba(model, unseen_cat), positive_proba(model, unseen_str))
    codes = model.encoder_.encode(unseen_cat)[0]
    assert (codes[:, model.encoder_.categorical_columns_.index("plan")] == 0).all()


def test_nullable_int_and_boolean_with_na_at_predict(fitted):
    model, X = fitted
    n = len(X)
    all_na = X.assign(
        visits=pd.array([pd.NA] * n, dtype="Int64"), flag=pd.array([pd.NA] * n, dtype="boolean")
    )
    as_nan = X.assign(visits=np.full(n, np.nan), flag=pd.Series([None] * n, dtype=object))
    np.testing.assert_array_equal(assert_valid_proba(model, all_na), positive_proba(model, as_nan))
    # pd.NA in a nullable column means the same as NaN / None in a plain one.
    plain = X.assign(visits=X["visits"].astype("float64"), flag=X["flag"].astype(object))
    np.testing.assert_array_equal(positive_proba(model, plain), positive_proba(model, X))


@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_all_missing_columns_at_fit_work(estimator_class, tiny):
    X = make_frame()
    n = len(X)
    empty = X.assign(
        age=np.nan,
        city=pd.Series([None] * n, dtype="str"),
        visits=pd.array([pd.NA] * n, dtype="Int64"),
        flag=pd.array([pd.NA] * n, dtype="boolean"),
    )
    model = tiny(estimator_class).fit(empty, make_targets(estimator_class))
    assert_valid_proba(model, empty)
    assert_valid_proba(model, X)  # values where there were none at fit


@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_constant_columns_work(estimator_class, tiny):
    X = make_frame().assign(age=7.0, city="Paris", member=True, plan=pd.Categorical(["pro"] * N))
    model = tiny(estimator_class).fit(X, make_targets(estimator_class))
    assert_valid_proba(model, X)
    assert_valid_proba(model, make_frame(seed=3))


@pytest.mark.parametrize("estimator_class", FAMILIES)
@pytest.mark.parametrize("bad", [np.inf, -np.inf], ids=["inf", "-inf"])
def test_inf_at_fit_is_an_error_naming_the_column(estimator_class, bad, tiny):
    X = make_frame()
    with pytest.raises(ValueError, match=r"\['age'\] contain inf or -inf"):
        tiny(estimator_class).fit(X.assign(age=X["age"].fillna(bad)), make_targets(estimator_class))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, "inf", "-Infinity", "1e400"])
def test_inf_at_predict_is_an_error_naming_the_column(fitted, bad):
    model, X = fitted
    age = X["age"].astype(object)
    age.iloc[5] = bad
    with pytest.raises(ValueError, match=r"\['age'\] contain inf or -inf"):
        model.predict_proba(X.assign(age=age))


@pytest.mark.parametrize("estimator_class", [*RANKING, MMOEMultiOutput], ids=lambda cls: cls.__name__)
def test_extreme_finite_numbers_give_finite_probabilities(estimator_class, tiny):
    X = make_frame().assign(
        age=lambda f: f["age"].fillna(40.0), income=np.random.RandomState(0).lognormal(3, 2, N)
    )
    y = make_targets(estimator_class)
    model = tiny(estimator_class).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exp overflow of a saturated sigmoid
        for value in (1e300, -1e300, 1e30, 5e-324):
            assert_valid_proba(model, X.assign(age=value, income=-value))
        huge = X.assign(age=np.random.RandomState(1).choice([1e308, -1e308, 0.0], N))
        assert_valid_proba(tiny(estimator_class).fit(huge, y), huge)


def test_standardized_values_are_clipped_and_finite():
    scaler = NumericScaler().fit(pd.DataFrame({"x": [1e308, -1e308, 0.0, 1.0], "y": [0.0, 1.0, 2.0, 3.0]}))
    assert np.isfinite(scaler.mean_).all() and np.isfinite(scaler.scale_).all()
    out = scaler.transform(pd.DataFrame({"x": [1e308, -1e308], "y": [1e300, -1e300]}))
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 1], [DENSE_CLIP, -DENSE_CLIP])
    assert out[0, 0] > 0 > out[1, 0]


@pytest.mark.parametrize(
    ("column", "match"),
    [
        (pd.Series(pd.date_range("2020-01-01", periods=N)), "'t' is a numeric .* dtype datetime64"),
        (pd.Series(pd.to_timedelta(np.arange(N), unit="D")), "'t' is a numeric .* dtype timedelta64"),
        (pd.Series(np.full(N, 1 + 2j)), "'t' is a numeric .* dtype complex128"),
    ],
)
def test_columns_that_are_not_real_numbers_name_themselves(column, match, tiny):
    X = make_frame().assign(t=column)
    with pytest.raises(TypeError, match=match):
        tiny(LRClassifier).fit(X, make_targets(LRClassifier))
    # Named as categorical, a date column is a field of its own.
    model = tiny(LRClassifier, categorical_features=["city", "plan", "member", "flag", "t"])
    assert_valid_proba(model.fit(X, make_targets(LRClassifier)), X)


@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_empty_unicode_and_very_long_strings(estimator_class, tiny):
    rng = np.random.RandomState(0)
    long_a, long_b = "x" * 10_000, "x" * 9_999 + "y"
    X = make_frame().assign(city=rng.choice(["", "日本語", "🙂 café", long_a, "Oslo"], N))
    model = tiny(estimator_class).fit(X, make_targets(estimator_class))
    new = X.iloc[:5].assign(city=["", "🙂 café", long_b, "Ωmega", long_a])
    assert_valid_proba(model, new)
    codes = model.encoder_.encode(new)[0][:, model.encoder_.categorical_columns_.index("city")]
    # "" is a category of its own, not missing; a string that differs in its last character is unseen.
    assert codes[0] >= 2 and codes[1] >= 2 and codes[4] >= 2
    assert codes[2] == 0 and codes[3] == 0
    assert len({codes[0], codes[1], codes[4]}) == 3


def test_one_distinct_id_per_row_and_unseen_ids_at_predict(tiny):
    n = 20_000
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"user": [f"u{i}" for i in range(n)], "x": rng.rand(n)})
    y = (rng.rand(n) < 0.3).astype(int)
    model = tiny(DeepFMClassifier, max_epochs=1, batch_size=2048).fit(X, y)
    assert model.encoder_.field_spec_.cardinalities[0] == n + 2
    unseen = pd.DataFrame({"user": [f"new{i}" for i in range(500)], "x": rng.rand(500)})
    assert_valid_proba(model, unseen)
    assert (model.encoder_.encode(unseen)[0][:, 0] == 0).all()


@pytest.mark.parametrize("dtype", ["int64", "uint64", "Int64"])
def test_large_integer_ids_stay_distinct(dtype):
    ids = [2**53, 2**53 + 1, 2**62, 2**62 + 1] if dtype != "uint64" else [2**64 - 1, 2**64 - 2, 1, 2]
    # (pd.array(..., dtype="uint64") mangles values above 2**63: build through numpy.)
    values = pd.array(ids, dtype=dtype) if dtype == "Int64" else np.array(ids, dtype=dtype)
    X = pd.DataFrame({"id": values})
    assert X["id"].nunique() == 4
    encoder = FeatureEncoder(categorical_features=["id"]).fit(X)
    assert encoder.field_spec_.cardinalities == (6,)
    assert len(set(encoder.encode(X)[0].ravel())) == 4


def test_integer_categories_match_floats_value_by_value():
    encoder = FeatureEncoder(categorical_features=["id"]).fit(pd.DataFrame({"id": [1, 2, 3]}))
    codes = encoder.encode(pd.DataFrame({"id": [1.0, 2.5, np.nan, 3.0, 3]}, dtype=object))[0].ravel()
    expected = encoder.encode(pd.DataFrame({"id": [1, 3]}))[0].ravel()
    np.testing.assert_array_equal(codes, [expected[0], 0, 1, expected[1], expected[1]])
    float_codes = encoder.encode(pd.DataFrame({"id": [1.0, 2.5, np.nan, 3.0]}))[0].ravel()
    np.testing.assert_array_equal(float_codes, codes[:4])


def test_zero_and_one_row_at_predict(fitted):
    model, X = fitted
    n_tasks = getattr(model, "n_outputs_", 1)
    for rows in (X.iloc[:0], X.iloc[:0].to_numpy(), X.iloc[:1]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the ndarray has no feature names
            assert positive_proba(model, rows).shape == (len(rows), n_tasks)
            predicted = model.predict(rows)
        assert predicted.shape == ((len(rows),) if n_tasks == 1 else (len(rows), n_tasks))


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    "labels", [["no", "yes"], [False, True], [0.0, 1.0]], ids=["strings", "bools", "floats"]
)
def test_labels_of_any_type_train_the_same_model(labels, tiny):
    X = make_frame()
    y01 = make_targets(DeepFMClassifier)
    reference = positive_proba(tiny(DeepFMClassifier).fit(X, y01), X)
    model = tiny(DeepFMClassifier).fit(X, np.asarray(labels, dtype=object)[y01].tolist())
    assert model.classes_.tolist() == labels
    np.testing.assert_array_equal(positive_proba(model, X), reference)
    assert set(model.predict(X).tolist()) <= set(labels)


def test_multitask_labels_of_any_type_per_task(tiny):
    X = make_frame()
    Y = make_targets(MMOEMultiOutput)
    reference = positive_proba(tiny(MMOEMultiOutput).fit(X, Y), X)
    typed = pd.DataFrame({"click": np.where(Y["click"] == 1, "yes", "no"), "buy": Y["buy"].astype(float)})
    model = tiny(MMOEMultiOutput).fit(X, typed)
    assert [c.tolist() for c in model.classes_] == [["no", "yes"], [0.0, 1.0]]
    np.testing.assert_array_equal(positive_proba(model, X), reference)
    bools = tiny(MMOEMultiOutput).fit(X, Y.astype(bool))
    assert [c.tolist() for c in bools.classes_] == [[False, True], [False, True]]
    # An object ndarray of a string task and an integer task keeps each task's type.
    mixed = np.column_stack([typed["click"].to_numpy(dtype=object), Y["buy"].to_numpy(dtype=object)])
    model = tiny(MMOEMultiOutput).fit(X, mixed)
    assert [c.tolist() for c in model.classes_] == [["no", "yes"], [0, 1]]
    np.testing.assert_array_equal(positive_proba(model, X), reference)


@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_y_index_is_ignored_rows_match_by_position(estimator_class, tiny):
    X = make_frame()
    y = make_targets(estimator_class)
    as_array = np.asarray(y)
    index = np.arange(N)[::-1] + 1000  # no label in common with X's index
    y_other_index = (
        pd.DataFrame(as_array, index=index, columns=y.columns)
        if hasattr(y, "columns")
        else pd.Series(y, index=index)
    )
    np.testing.assert_array_equal(
        positive_proba(tiny(estimator_class).fit(X, y_other_index), X),
        positive_proba(tiny(estimator_class).fit(X, as_array), X),
    )
    # LogisticRegression does the same: pandas indexes play no part in fit.
    numeric = X[["age"]].fillna(0.0)
    first = as_array if as_array.ndim == 1 else as_array[:, 0]
    np.testing.assert_array_equal(
        LogisticRegression().fit(numeric, pd.Series(first, index=index)).coef_,
        LogisticRegression().fit(numeric, first).coef_,
    )


def test_mixed_type_labels_are_a_type_error_naming_y(tiny):
    X = make_frame()
    with pytest.raises(TypeError, match=r"y mixes labels of types \['int', 'str'\]"):
        tiny(LRClassifier).fit(X, np.array(["1", 0] * (N // 2), dtype=object))


@pytest.mark.parametrize(
    ("second_task", "error", "match"),
    [
        (np.ones(N), ValueError, "'task_1' has only one class"),
        (np.r_[np.nan, np.arange(N - 1) % 2], ValueError, "'task_1' contains NaN"),
        (pd.array([pd.NA, *(np.arange(N - 1) % 2)], dtype="Int64"), ValueError, "'task_1' contains NaN"),
        (np.r_[np.inf, np.arange(N - 1) % 2], ValueError, "'task_1' contains infinity"),
        (np.linspace(0, 1, N), ValueError, "'task_1': Unknown label type: continuous"),
        (np.array(["a", 1] * (N // 2), dtype=object), TypeError, r"'task_1' mixes labels of types"),
    ],
    ids=["constant", "nan", "pd.NA", "inf", "continuous", "mixed"],
)
@pytest.mark.parametrize("as_frame", [False, True], ids=["ndarray", "DataFrame"])
def test_bad_multitask_targets_name_the_task(second_task, error, match, as_frame, tiny):
    X = make_frame()
    first_task = np.arange(N) % 2
    if as_frame:
        Y = pd.DataFrame({"task_0": first_task, "task_1": second_task})
    else:
        # An object ndarray, as np.column_stack makes of tasks of different types.
        Y = np.column_stack([first_task.astype(object), np.asarray(second_task, dtype=object)])
    with pytest.raises(error, match=match):
        tiny(MMOEMultiOutput).fit(X, Y)
