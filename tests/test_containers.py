"""Inputs from real pipelines are read as they are meant (issue #23).

polars and Arrow frames keep their column names and types, pyarrow-backed pandas
columns are read like their NumPy-backed twins, fitted estimators round-trip through
skops, a bool category matches 0/1 by value, and list cells or clashing generated
feature names are clear errors. Both estimator families run every case.
docs/reliability.md ("Bad input") lists each case with the test that shows it.
"""

import datetime
import decimal
import functools
import io
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_pangu import DeepFMClassifier, MMOEMultiOutput
from sklearn_pangu.preprocessing import FeatureEncoder

from .test_bad_input import N, make_targets
from .test_bad_input import make_frame as make_frame_with_flag

FAMILIES = [DeepFMClassifier, MMOEMultiOutput]
CATEGORICAL = ["city", "plan", "member"]
NUMERIC = ["visits", "age"]


@pytest.fixture(scope="module")
def tiny(tiny):
    """Two epochs are enough for these tests."""
    return functools.partial(tiny, max_epochs=2)


def make_frame(n: int = N, seed: int = 0) -> pd.DataFrame:
    """NumPy-backed columns of each kind: str, category, bool, Int64 with NA, float with NaN."""
    return make_frame_with_flag(n, seed)[[*CATEGORICAL, *NUMERIC]]


def proba(model, X) -> np.ndarray:
    """predict_proba of either family as one array (tasks side by side)."""
    result = model.predict_proba(X)
    return np.hstack(result) if isinstance(result, list) else result


def arrow_backed(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` written to parquet and read back with ``dtype_backend="pyarrow"``."""
    buffer = io.BytesIO()
    X.to_parquet(buffer)
    buffer.seek(0)
    return pd.read_parquet(buffer, dtype_backend="pyarrow")


@pytest.fixture(scope="module", params=FAMILIES, ids=lambda cls: cls.__name__)
def fitted(request, tiny):
    """One estimator of each family fitted on the NumPy-backed frame, and that frame.

    Fitted with one torch thread, as the tests fit theirs (conftest's fixture that sets
    it runs per test, after a module's fixtures): training depends on the thread count.
    """
    X = make_frame()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return tiny(request.param).fit(X, make_targets(request.param)), X
    finally:
        torch.set_num_threads(threads)


# ------------------------------------------------------------------- polars


def test_polars_frame_is_read_with_its_names_and_types():
    pl = pytest.importorskip("polars")
    pytest.importorskip("pyarrow")
    X = make_frame()
    score = [float("nan") if i % 5 == 0 else None if i % 5 == 1 else float(i) for i in range(N)]
    frame = pl.from_pandas(X).with_columns(
        pl.col("plan").cast(pl.Enum(["free", "pro", "team"])).alias("tier"),
        pl.Series("user", [2**60 + i if i % 7 else None for i in range(N)], dtype=pl.Int64),
        pl.Series("score", score, dtype=pl.Float64, nan_to_null=False),  # NaN and null
    )
    twin = X.assign(
        tier=X["plan"],
        user=pd.array(frame["user"].to_list(), dtype="Int64"),
        score=np.array(score, dtype=float),
    )
    encoder = FeatureEncoder(categorical_features=[*CATEGORICAL, "tier", "user"]).fit(frame)
    assert encoder.feature_names_in_.tolist() == frame.columns
    assert encoder.numeric_columns_ == [*NUMERIC, "score"]
    by_dtype = FeatureEncoder().fit(frame)
    assert by_dtype.categorical_columns_ == [*CATEGORICAL, "tier"]
    assert by_dtype.numeric_columns_ == [*NUMERIC, "user", "score"]
    # Integer ids with nulls stay exact (no float64 round trip), nulls are missing.
    user = encoder.column_transformer_.named_transformers_["categorical"].categories_[-1]
    assert str(2**60 + 1) in user and len(user) == frame["user"].drop_nulls().n_unique()
    twin_encoder = FeatureEncoder(categorical_features=[*CATEGORICAL, "tier", "user"]).fit(twin)
    for ours, theirs in zip(encoder.encode(frame), twin_encoder.encode(twin), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        encoder.transform(frame.rename({"age": "age_years"}))


def test_polars_frame_trains_the_model_of_its_pandas_twin(fitted, tiny):
    pl = pytest.importorskip("polars")
    pytest.importorskip("pyarrow")
    model, X = fitted
    frame = pl.from_pandas(X)
    from_polars = tiny(type(model)).fit(frame, make_targets(type(model)))
    assert from_polars.feature_names_in_.tolist() == list(X.columns)
    np.testing.assert_array_equal(proba(from_polars, frame), proba(model, X))
    np.testing.assert_array_equal(proba(model, frame), proba(model, X))
    with pytest.raises(ValueError, match="same order as they were in fit"):
        model.predict_proba(frame.select(["age", *frame.columns[:-1]]))


def test_arrow_table_and_interchange_frame_are_read_like_pandas():
    pa = pytest.importorskip("pyarrow")
    X = make_frame()
    table = pa.Table.from_pandas(X, preserve_index=False)

    class InterchangeOnly:
        """A frame that offers only the data frame interchange protocol."""

        def __dataframe__(self, nan_as_null=False, allow_copy=True):
            return table.__dataframe__(nan_as_null, allow_copy)

    expected = FeatureEncoder().fit(X).encode(X)
    for frame in (table, table.combine_chunks().to_batches()[0], InterchangeOnly()):
        encoder = FeatureEncoder().fit(frame)
        assert encoder.feature_names_in_.tolist() == list(X.columns)
        assert encoder.categorical_columns_ == CATEGORICAL
        for ours, theirs in zip(encoder.encode(frame), expected, strict=True):
            np.testing.assert_array_equal(ours, theirs)


def test_missing_pyarrow_or_a_lazy_frame_is_a_clear_error(monkeypatch):
    pl = pytest.importorskip("polars")
    from sklearn_pangu.preprocessing._containers import to_pandas

    frame = pl.from_pandas(make_frame(20))
    with pytest.raises(TypeError, match=r"polars.LazyFrame, which holds a query.*X.collect\(\)"):
        FeatureEncoder().fit(frame.lazy())
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"X is a polars.DataFrame.*pip install pyarrow"):
        FeatureEncoder().fit(frame)
    with pytest.raises(ImportError, match=r"y is a polars.Series"):
        to_pandas(pl.Series("click", [0, 1]), input_name="y")


def test_polars_targets_train_both_families(tiny):
    pl = pytest.importorskip("polars")
    pytest.importorskip("pyarrow")
    from sklearn_pangu.preprocessing._containers import to_pandas

    X = make_frame()
    frame = pl.from_pandas(X)
    y = make_targets(DeepFMClassifier)
    labels = np.where(y == 1, "yes", "no")
    ranked = tiny(DeepFMClassifier).fit(frame, pl.Series("click", labels, dtype=pl.Categorical))
    assert ranked.classes_.tolist() == ["no", "yes"]
    np.testing.assert_array_equal(proba(ranked, X), proba(tiny(DeepFMClassifier).fit(X, labels), X))
    Y = make_targets(MMOEMultiOutput)
    multi = tiny(MMOEMultiOutput).fit(frame, pl.from_pandas(Y))
    assert multi.task_names_ == ["click", "buy"]
    np.testing.assert_array_equal(proba(multi, X), proba(tiny(MMOEMultiOutput).fit(X, Y), X))
    assert to_pandas(pl.Series("click", [1, 0])).name == "click"
    assert to_pandas(pl.Series([1, 0])).name is None


# ------------------------------------------------------- pyarrow-backed pandas


def test_pyarrow_backed_frame_predicts_bit_identically(fitted, tiny):
    pytest.importorskip("pyarrow")
    model, X = fitted
    arrow = arrow_backed(X)
    assert all(isinstance(dtype, pd.ArrowDtype) for dtype in arrow.dtypes)
    expected = proba(model, X)
    np.testing.assert_array_equal(proba(model, arrow), expected)
    from_arrow = tiny(type(model)).fit(arrow, make_targets(type(model)))
    assert from_arrow.encoder_.categorical_columns_ == CATEGORICAL
    np.testing.assert_array_equal(proba(from_arrow, arrow), expected)
    np.testing.assert_array_equal(proba(from_arrow, X), expected)


def test_arrow_column_types_are_read_like_their_numpy_twins():
    pa = pytest.importorskip("pyarrow")
    texts = ["a", "b", None, "a", "c", "b", "a", None]
    flags = [True, False, True, True, False, False, True, None]
    ids = [1, None, 3, 2**60 + 1, 5, 6, 7, 8]

    def arrow(values, arrow_type):
        return pd.array(values, dtype=pd.ArrowDtype(arrow_type))

    twins = {
        "string": (arrow(texts, pa.string()), pd.Series(texts, dtype="str")),
        "large_string": (arrow(texts, pa.large_string()), pd.Series(texts, dtype=object)),
        "string_view": (arrow(texts, pa.string_view()), pd.Series(texts, dtype="str")),
        "dictionary": (
            pd.arrays.ArrowExtensionArray(pa.array(texts).dictionary_encode()),
            pd.Categorical(texts),
        ),
        "bool": (arrow(flags, pa.bool_()), pd.array(flags, dtype="boolean")),
    }
    arrow_frame = pd.DataFrame({name: values for name, (values, _) in twins.items()})
    numpy_frame = pd.DataFrame({name: values for name, (_, values) in twins.items()})
    encoder = FeatureEncoder().fit(arrow_frame)
    assert encoder.categorical_columns_ == list(twins)
    codes = encoder.encode(arrow_frame)[0]
    np.testing.assert_array_equal(codes, FeatureEncoder().fit(numpy_frame).encode(numpy_frame)[0])
    np.testing.assert_array_equal(codes, encoder.encode(numpy_frame)[0])

    numbers = pd.DataFrame(
        {
            "int": arrow(ids, pa.int64()),
            "float": arrow([1.5, None, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], pa.float64()),
            "decimal": arrow(
                [decimal.Decimal(str(v)) if v else None for v in ids[:3]] * 2 + [None] * 2,
                pa.decimal128(38, 0),
            ),
        }
    )
    encoder = FeatureEncoder().fit(numbers)
    assert encoder.numeric_columns_ == ["int", "float", "decimal"]
    numpy_numbers = numbers.astype({"int": "Int64", "float": "float64", "decimal": "float64"})
    np.testing.assert_array_equal(
        encoder.encode(numbers)[1], FeatureEncoder().fit(numpy_numbers).encode(numpy_numbers)[1]
    )
    ids_encoder = FeatureEncoder(categorical_features=["int"]).fit(numbers[["int"]])
    assert str(2**60 + 1) in ids_encoder.column_transformer_.named_transformers_["categorical"].categories_[0]

    times = {
        "timestamp": arrow([datetime.datetime(2024, 1, 1)], pa.timestamp("us")),
        "date": arrow([datetime.date(2024, 1, 1)], pa.date32()),
        "duration": arrow([datetime.timedelta(days=1)], pa.duration("s")),
    }
    for name, values in times.items():
        with pytest.raises(TypeError, match=rf"Column '{name}' is a numeric \(dense\) feature but has dtype"):
            FeatureEncoder().fit(pd.DataFrame({name: values}))


# ---------------------------------------------------------------------- skops


def _types_in_state(obj, seen=None) -> set:
    """Types of every object reachable through the states skops saves (``__getstate__``)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return set()
    seen.add(id(obj))
    found = {type(obj)}
    if isinstance(obj, dict):
        children = [*obj.keys(), *obj.values()]
    elif isinstance(obj, (list, tuple)):
        children = list(obj)
    elif hasattr(obj, "__getstate__") and hasattr(obj, "__dict__") and not isinstance(obj, type):
        state = obj.__getstate__()
        children = list(state.values()) if isinstance(state, dict) else []
    else:
        children = []
    for child in children:
        found |= _types_in_state(child, seen)
    return found


def test_skops_round_trip_predicts_bit_identically(fitted):
    sio = pytest.importorskip("skops.io")
    from sklearn_pangu.io._skops import skops_trusted_types

    model, X = fitted
    arrow = arrow_backed(X) if _has("pyarrow") else X
    model.predict_proba(arrow)  # fills the encoder's lookup caches, which are not saved
    encoder_types = _types_in_state(model.encoder_)
    assert not {t for t in encoder_types if t.__module__.startswith(("pandas", "pyarrow"))}
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    assert set(untrusted) <= set(skops_trusted_types())
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)
    loaded = sio.loads(data, trusted=skops_trusted_types())
    np.testing.assert_array_equal(proba(loaded, X), proba(model, X))
    np.testing.assert_array_equal(proba(loaded, arrow), proba(model, X))


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# ------------------------------------------------------------- bools and 0/1


def _categorical_codes(model, X) -> np.ndarray:
    return model.encoder_.encode(X)[0]


def test_bool_column_matches_zero_one_at_predict_by_value(fitted):
    model, X = fitted
    member = X["member"].to_numpy()
    as_values = {
        "int": member.astype(int),
        "float": member.astype(float),
        "numpy bools in an object column": pd.Series(list(np.array(member)), dtype=object),
        "ints in an object column (JSON)": pd.Series(member.astype(int).tolist(), dtype=object),
        "Int64": pd.array(member.astype(int), dtype="Int64"),
    }
    expected = proba(model, X)
    for name, values in as_values.items():
        np.testing.assert_array_equal(proba(model, X.assign(member=values)), expected, err_msg=name)
    categories = model.encoder_.column_transformer_.named_transformers_["categorical"].categories_
    assert categories[CATEGORICAL.index("member")].tolist() == ["False", "True"]
    # Text is matched exactly: "True" is the name of the category, "1" is not.
    column = CATEGORICAL.index("member")
    text = X.iloc[:2].assign(member=pd.Series(["True", "1"], dtype=object))
    true_code = _categorical_codes(model, X.iloc[:2].assign(member=[True, True]))[0, column]
    assert _categorical_codes(model, text)[:, column].tolist() == [true_code, 0]


def test_integer_category_matches_bools_at_predict_by_value():
    X = pd.DataFrame({"segment": [0, 1, 2, 1, 0, 2], "plan": pd.Categorical([0, 1, 1, 0, 1, 0])})
    encoder = FeatureEncoder(categorical_features=["segment", "plan"]).fit(X)
    codes = encoder.encode(X.iloc[:2])[0]
    as_bools = pd.DataFrame(
        {"segment": [False, True], "plan": pd.Series([np.False_, np.True_], dtype=object)}
    )
    np.testing.assert_array_equal(encoder.encode(as_bools)[0], codes)
    as_text = pd.DataFrame({"segment": ["False", "1"], "plan": ["0", "True"]})
    np.testing.assert_array_equal(encoder.encode(as_text)[0], [[0, codes[0, 1]], [codes[1, 0], 0]])
    categories = encoder.column_transformer_.named_transformers_["categorical"].categories_
    assert [c.tolist() for c in categories] == [["0", "1", "2"], ["0", "1"]]


@pytest.mark.parametrize(
    ("values", "categories"),
    [([True, 1, 0, False, None], ["False", "True"]), ([True, 1, 2, "x"], ["1", "2", "x"])],
)
def test_true_and_one_in_one_object_column_are_one_category_whatever_their_order(values, categories):
    # pd.factorize, like Python, takes True == 1 as one value and keeps the first seen;
    # the category's name does not depend on which comes first.
    for ordered in (values, [values[1], values[0], *values[2:]]):
        X = pd.DataFrame({"o": pd.Series(ordered, dtype=object)})
        encoder = FeatureEncoder().fit(X)
        fitted_categories = encoder.column_transformer_.named_transformers_["categorical"].categories_[0]
        assert fitted_categories.tolist() == categories
        codes = encoder.encode(X)[0].ravel()
        assert codes[0] == codes[1] >= 2


# ------------------------------------------------------------- list cells


LIST_CELLS = {
    "list": [["a", "b"], ["c"]],
    "tuple": [("a", "b"), ("c",)],
    "ndarray": [np.array([1, 2]), np.array([3])],
}
UNSUPPORTED_CELLS = {"dict": [{"a": 1}, {"b": 2}], "set": [{"a"}, {"b"}]}


@pytest.mark.parametrize("kind", list(UNSUPPORTED_CELLS))
def test_dict_or_set_cells_are_a_type_error_naming_the_column(fitted, kind, tiny):
    model, X = fitted
    cells = pd.Series([UNSUPPORTED_CELLS[kind][i % 2] for i in range(len(X))], dtype=object)
    y = make_targets(type(model))
    message = rf"Column 'tags' holds {kind} values .* not supported yet.*X.explode\('tags'\)"
    with pytest.raises(TypeError, match=message):
        tiny(type(model)).fit(X.assign(tags=cells), y)
    with pytest.raises(TypeError, match=message):
        tiny(type(model), categorical_features=CATEGORICAL).fit(X.assign(tags=cells), y)


@pytest.mark.parametrize("kind", [*LIST_CELLS, *UNSUPPORTED_CELLS])
def test_list_cells_in_a_single_value_column_are_a_type_error_naming_it(fitted, kind):
    # A list column is found at fit (see tests/test_encoder_lists.py); at predict, lists in a
    # column fitted on single values, categorical or numeric, are an error naming it.
    model, X = fitted
    cells = pd.Series([{**LIST_CELLS, **UNSUPPORTED_CELLS}[kind][i % 2] for i in range(len(X))], dtype=object)
    mixed = X["city"].astype(object).where(np.arange(len(X)) % 5 > 0, cells)
    with pytest.raises(TypeError, match=rf"Column 'city' holds {kind} values"):
        model.predict_proba(X.assign(city=mixed))
    with pytest.raises(TypeError, match=rf"Column 'age' holds {kind} values"):
        model.predict_proba(X.assign(age=cells))


def test_polars_list_columns_are_list_fields_and_struct_columns_an_error_naming_the_column():
    pl = pytest.importorskip("polars")
    pytest.importorskip("pyarrow")
    frame = pl.DataFrame({"tags": [["a"], ["b", "c"]], "meta": [{"k": 1}, {"k": 2}], "age": [1.0, 2.0]})
    encoder = FeatureEncoder().fit(frame.drop("meta"))
    assert encoder.multi_value_columns_ == ["tags"]
    assert encoder.encode(frame.drop("meta"))[0].tolist() == [[2, -1], [3, 4]]
    with pytest.raises(TypeError, match=r"Column 'meta' holds struct \(Arrow struct"):
        FeatureEncoder().fit(frame)


# ---------------------------------------------------- generated name clashes


def test_generated_feature_name_clash_names_both_columns(fitted, tiny):
    model, X = fitted
    clash = X.assign(missingindicator_age=0.0)
    message = (
        r"Input columns 'missingindicator_age' and 'age' both give the encoded feature "
        r"'missingindicator_age' \('missingindicator_age' itself, and the missing indicator of 'age'\); "
        r"rename one of them"
    )
    with pytest.raises(ValueError, match=message):
        tiny(type(model)).fit(clash, make_targets(type(model)))
    buckets = pd.DataFrame({"age_bucket": ["a", "b"] * 10, "age": np.arange(20.0)})
    with pytest.raises(ValueError, match=r"'age_bucket' and 'age' .*the buckets of 'age'"):
        FeatureEncoder(numeric_encoding="bucket").fit(buckets)
    # Without missing values at fit there is no indicator, so no clash.
    FeatureEncoder().fit(clash.assign(age=X["age"].fillna(0.0)))
