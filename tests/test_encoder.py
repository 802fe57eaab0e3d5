"""Behaviour of FeatureEncoder that users and the estimators rely on."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_pangu.preprocessing import FeatureEncoder

UNKNOWN, MISSING = 0, 1


def _codes(encoder, X):
    codes, _ = encoder.encode(X)
    return codes


def _dense(encoder, X):
    _, dense = encoder.encode(X)
    return dense


# --------------------------------------------------------------------------- index layout


def test_index_layout_unknown_missing_then_sorted_categories():
    X = pd.DataFrame({"city": ["Rome", "Paris", "Oslo", "Paris"]})
    encoder = FeatureEncoder().fit(X)
    assert encoder.field_spec_.categorical_fields == ("city",)
    assert encoder.field_spec_.cardinalities == (5,)  # unknown, missing, 3 categories
    new = pd.DataFrame({"city": ["Oslo", "Paris", "Rome", "Berlin", None]})
    assert_array_equal(_codes(encoder, new).ravel(), [2, 3, 4, UNKNOWN, MISSING])
    # The mapping depends on the categories, not on the order of the fit rows.
    shuffled = FeatureEncoder().fit(X.iloc[::-1].reset_index(drop=True))
    assert_array_equal(_codes(shuffled, new), _codes(encoder, new))


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA], ids=["nan", "None", "NA"])
@pytest.mark.parametrize("dtype", ["str", object])
def test_missing_values_map_to_one_even_if_unseen_at_fit(missing, dtype):
    fit = pd.DataFrame({"c": pd.Series(["a", "b", "a"], dtype=dtype)})
    encoder = FeatureEncoder().fit(fit)
    assert encoder.field_spec_.cardinalities == (4,)
    new = pd.DataFrame({"c": pd.Series(["b", missing, "zzz"], dtype=dtype)})
    assert_array_equal(_codes(encoder, new).ravel(), [3, MISSING, UNKNOWN])


def test_none_in_object_column_at_fit_is_missing_not_a_category():
    X = pd.DataFrame({"c": pd.Series(["a", None, "b", None], dtype=object)})
    encoder = FeatureEncoder().fit(X)
    # "None" must not become a category of its own.
    assert encoder.field_spec_.cardinalities == (4,)
    assert_array_equal(_codes(encoder, X).ravel(), [2, MISSING, 3, MISSING])
    assert_array_equal(_codes(encoder, pd.DataFrame({"c": ["None", "nan"]})).ravel(), [UNKNOWN, UNKNOWN])


def test_categorical_dtype_codes_and_unused_categories():
    X = pd.DataFrame({"c": pd.Categorical(["b", "a", None, "b"], categories=["a", "b", "z"])})
    encoder = FeatureEncoder().fit(X)
    # Only categories observed at fit get an index; declared but unused ones do not.
    assert encoder.field_spec_.cardinalities == (4,)
    assert_array_equal(_codes(encoder, X).ravel(), [3, 2, MISSING, 3])
    # At transform the category dtype may have other categories: matched by value.
    new = pd.DataFrame({"c": pd.Categorical(["z", "b", "q", None])})
    assert_array_equal(_codes(encoder, new).ravel(), [UNKNOWN, 3, UNKNOWN, MISSING])


def test_bool_and_nullable_boolean_columns_are_categorical():
    X = pd.DataFrame(
        {
            "flag": [True, False, True],
            "maybe": pd.array([True, None, False], dtype="boolean"),
        }
    )
    encoder = FeatureEncoder().fit(X)
    assert encoder.field_spec_.categorical_fields == ("flag", "maybe")
    assert encoder.field_spec_.cardinalities == (4, 4)
    assert encoder.field_spec_.dense_features == ()
    # "False" < "True", so False -> 2, True -> 3.
    assert_array_equal(_codes(encoder, X), [[3, 3], [2, MISSING], [3, 2]])
    new = pd.DataFrame({"flag": pd.array([pd.NA, False], dtype="boolean"), "maybe": [True, True]})
    assert_array_equal(_codes(encoder, new), [[MISSING, 3], [2, 3]])


def test_dtype_routing_from_dtype():
    X = pd.DataFrame(
        {
            "s": pd.Series(["a", "b"], dtype="str"),
            "o": pd.Series(["a", 1], dtype=object),
            "cat": pd.Categorical(["x", "y"]),
            "b": [True, False],
            "nb": pd.array([True, None], dtype="boolean"),
            "i": [1, 2],
            "ni": pd.array([1, pd.NA], dtype="Int64"),
            "f32": np.array([0.5, 1.5], dtype=np.float32),
        }
    )
    assert X["s"].dtype == "str"
    encoder = FeatureEncoder().fit(X)
    assert encoder.categorical_columns_ == ["s", "o", "cat", "b", "nb"]
    assert encoder.numeric_columns_ == ["i", "ni", "f32"]
    assert encoder.field_spec_.dense_features == ("i", "ni", "f32", "missingindicator_ni")


def test_nullable_int_column_with_na_is_scaled_and_imputed():
    X = pd.DataFrame({"n": pd.array([1, pd.NA, 3, 5], dtype="Int64")})
    encoder = FeatureEncoder().fit(X)
    dense = _dense(encoder, X)
    assert dense.dtype == np.float32
    observed = np.array([1.0, 3.0, 5.0])
    expected = (observed - observed.mean()) / observed.std()
    assert_allclose(dense[[0, 2, 3], 0], expected, rtol=1e-6)
    assert dense[1, 0] == 0.0
    assert_array_equal(dense[:, 1], [0, 1, 0, 0])


# --------------------------------------------------------------------------- integer id columns


ID_FRAME = pd.DataFrame({"id": [3, 5, 3, 7], "v": [0.5, 1.5, 2.5, 3.5]})


@pytest.mark.parametrize(
    "categorical_features",
    [["id"], np.array(["id"]), [0], np.array([0]), [True, False], np.array([True, False])],
    ids=["name", "name-array", "index", "index-array", "mask", "mask-array"],
)
def test_integer_id_column_made_categorical(categorical_features):
    encoder = FeatureEncoder(categorical_features=categorical_features).fit(ID_FRAME)
    assert encoder.categorical_columns_ == ["id"]
    assert encoder.numeric_columns_ == ["v"]
    spec = encoder.field_spec_
    assert spec.categorical_fields == ("id",)
    assert spec.cardinalities == (5,)
    assert spec.dense_features == ("v",)
    ref = _codes(encoder, ID_FRAME).ravel()
    assert len(set(ref.tolist())) == 3 and ref[0] == ref[2]
    assert set(ref.tolist()) == {2, 3, 4}
    three = ref[0]
    # 3 as int, as float (an int column that gained a NaN), as str and as nullable Int64.
    variants = {
        "int": pd.Series([3, 4], dtype="int64"),
        "float": pd.Series([3.0, np.nan]),
        "str": pd.Series(["3", None], dtype="str"),
        "object-str": pd.Series(["3", "4"], dtype=object),
        "object-int": pd.Series([3, None], dtype=object),
        "Int64": pd.array([3, pd.NA], dtype="Int64"),
        "category": pd.Categorical([3, 4]),
    }
    for name, column in variants.items():
        codes = _codes(encoder, pd.DataFrame({"id": column, "v": [1.0, 2.0]})).ravel()
        assert codes[0] == three, name
        assert codes[1] in (UNKNOWN, MISSING), name


def test_float_id_in_object_column_matches_integer_category():
    encoder = FeatureEncoder(categorical_features=["id"]).fit(ID_FRAME)
    three = _codes(encoder, ID_FRAME)[0, 0]
    mixed = pd.DataFrame({"id": pd.Series(["3", 3, 3.0], dtype=object), "v": [1.0, 2.0, 3.0]})
    assert_array_equal(_codes(encoder, mixed).ravel(), [three, three, three])


def test_categorical_features_validation():
    with pytest.raises(ValueError, match="nope"):
        FeatureEncoder(categorical_features=["id", "nope"]).fit(ID_FRAME)
    with pytest.raises(ValueError, match="out of range"):
        FeatureEncoder(categorical_features=[5]).fit(ID_FRAME)
    with pytest.raises(ValueError, match="boolean mask"):
        FeatureEncoder(categorical_features=[True]).fit(ID_FRAME)
    with pytest.raises(ValueError, match="DataFrame"):
        FeatureEncoder(categorical_features=["x0"]).fit(ID_FRAME.to_numpy())


def test_empty_categorical_features_makes_everything_numeric():
    X = pd.DataFrame({"a": ["1", "2"], "b": [3.0, 4.0]})
    encoder = FeatureEncoder(categorical_features=[]).fit(X)
    assert encoder.field_spec_.n_categorical == 0
    assert encoder.field_spec_.dense_features == ("a", "b")


# --------------------------------------------------------------------------- min_frequency


RARE = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]})  # 11 rows


@pytest.mark.parametrize(
    "min_frequency, kept",
    [(3, ["a", "b"]), (0.25, ["a", "b"]), (0.4, ["a"]), (1, ["a", "b", "c", "d"]), (None, list("abcd"))],
)
def test_min_frequency_sends_rare_categories_to_unknown(min_frequency, kept):
    # A float is a fraction of the 11 fit rows: 0.25 -> at least 2.75, 0.4 -> at least 4.4.
    encoder = FeatureEncoder(min_frequency=min_frequency).fit(RARE)
    assert encoder.field_spec_.cardinalities == (2 + len(kept),)
    codes = _codes(encoder, pd.DataFrame({"c": ["a", "b", "c", "d", None]})).ravel()
    expected = [2 + kept.index(v) if v in kept else UNKNOWN for v in "abcd"] + [MISSING]
    assert_array_equal(codes, expected)


def test_min_frequency_counts_by_key_whatever_the_category_order():
    # Categories in numeric, not sorted, order: indices still follow the sorted keys.
    values = ["10", "9", "10", "100", "9", "10"]
    unsorted = pd.Categorical(values, categories=["9", "10", "100"])
    # 3 and "3" (and 3.0) are one key: their rows count together.
    shared = pd.Series([3, "3", 3.0, "x", "y", "y"], dtype=object)
    X = pd.DataFrame({"unsorted": unsorted, "shared": shared})
    encoder = FeatureEncoder(min_frequency=2, categorical_features=["unsorted", "shared"])
    codes = _codes(encoder.fit(X), X)
    assert encoder.field_spec_.cardinalities == (4, 4)
    # Sorted kept keys: "10" (3 rows) and "9" (2 rows); "100" is rare. "3" (3 rows) and "y" (2).
    assert_array_equal(codes[:, 0], [2, 3, 2, UNKNOWN, 3, 2])
    assert_array_equal(codes[:, 1], [2, 2, 2, UNKNOWN, 3, 3])
    assert_array_equal(encoder.fit_encode(X)[0], codes)


# --------------------------------------------------------------------------- numeric scaling


def test_numeric_scaling_imputation_and_missing_indicator():
    rng = np.random.default_rng(0)
    x = rng.normal(10.0, 3.0, 50)
    with_nan = rng.normal(-2.0, 0.5, 50)
    with_nan[[3, 7, 20]] = np.nan
    X = pd.DataFrame({"x": x, "y": with_nan})
    encoder = FeatureEncoder().fit(X)
    assert encoder.field_spec_.dense_features == ("x", "y", "missingindicator_y")
    assert encoder.get_feature_names_out().tolist() == ["x", "y", "missingindicator_y"]
    dense = _dense(encoder, X)
    assert dense.shape == (50, 3)
    assert_allclose(dense[:, 0].mean(), 0.0, atol=1e-6)
    assert_allclose(dense[:, 0].std(), 1.0, rtol=1e-5)
    observed = ~np.isnan(with_nan)
    assert_allclose(dense[observed, 1].mean(), 0.0, atol=1e-6)
    assert_allclose(dense[observed, 1].std(), 1.0, rtol=1e-5)
    assert_array_equal(dense[~observed, 1], 0.0)  # imputed with the mean, i.e. 0 after scaling
    assert_array_equal(dense[:, 2], (~observed).astype(np.float32))
    # Same affine map on new data.
    new = pd.DataFrame({"x": [x.mean() + x.std()], "y": [np.nan]})
    assert_allclose(_dense(encoder, new), [[1.0, 0.0, 1.0]], rtol=1e-5, atol=1e-6)


def test_nan_at_transform_in_numeric_column_without_nan_at_fit():
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    encoder = FeatureEncoder().fit(X)
    assert encoder.field_spec_.dense_features == ("x",)  # no indicator column
    dense = _dense(encoder, pd.DataFrame({"x": [np.nan, 2.0]}))
    assert dense.shape == (2, 1)
    assert_array_equal(dense.ravel(), [0.0, 0.0])


def test_constant_and_all_nan_numeric_columns():
    X = pd.DataFrame({"k": [5.0] * 4, "n": [np.nan] * 4, "m": [1.0, np.nan, 3.0, 5.0]})
    encoder = FeatureEncoder().fit(X)
    assert encoder.field_spec_.dense_features == ("k", "n", "m", "missingindicator_n", "missingindicator_m")
    dense = _dense(encoder, X)
    assert np.isfinite(dense).all()
    assert_array_equal(dense[:, 0], 0.0)
    assert_array_equal(dense[:, 1], 0.0)
    assert_array_equal(dense[:, 3], 1.0)
    new = _dense(encoder, pd.DataFrame({"k": [7.0], "n": [2.0], "m": [np.nan]}))
    assert np.isfinite(new).all()
    assert new[0, 0] > 0  # above the constant stays above after centring
    assert_array_equal(new[0, 3:], [0.0, 1.0])


def test_numeric_strings_at_transform_are_converted():
    encoder = FeatureEncoder().fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))
    as_numbers = encoder.transform(pd.DataFrame({"a": [1.5, 3.0, np.nan]}))
    for column in (
        pd.Series(["1.5", "3", None], dtype=object),
        pd.Series(["1.5", "3", None], dtype="str"),
    ):
        assert_allclose(encoder.transform(pd.DataFrame({"a": column})), as_numbers)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_inf_is_a_value_error_naming_the_column(bad):
    with pytest.raises(ValueError, match="income"):
        FeatureEncoder().fit(pd.DataFrame({"age": [1.0, 2.0], "income": [1.0, bad]}))
    encoder = FeatureEncoder().fit(pd.DataFrame({"age": [1.0, 2.0], "income": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="income"):
        encoder.transform(pd.DataFrame({"age": [1.0, 2.0], "income": [bad, 2.0]}))
    with pytest.raises(ValueError, match="income"):
        encoder.encode(pd.DataFrame({"age": [1.0, 2.0], "income": [bad, 2.0]}))


def test_non_numeric_string_in_numeric_column_names_the_column():
    encoder = FeatureEncoder().fit(pd.DataFrame({"age": [1.0, 2.0], "c": ["a", "b"]}))
    with pytest.raises(ValueError, match="'age'"):
        encoder.transform(pd.DataFrame({"age": ["3", "three"], "c": ["a", "b"]}))
    with pytest.raises(ValueError, match="'age'"):
        encoder.encode(pd.DataFrame({"age": ["3", "three"], "c": ["a", "b"]}))


def test_missing_or_renamed_column_at_transform_names_the_column():
    encoder = FeatureEncoder().fit(pd.DataFrame({"age": [1.0, 2.0], "city": ["a", "b"]}))
    with pytest.raises(ValueError, match="city"):
        encoder.transform(pd.DataFrame({"age": [1.0]}))
    with pytest.raises(ValueError, match="city"):
        encoder.encode(pd.DataFrame({"age": [1.0]}))
    with pytest.raises(ValueError, match="town"):
        encoder.encode(pd.DataFrame({"age": [1.0], "town": ["a"]}))


# --------------------------------------------------------------------------- bucket encoding


def test_bucket_encoding_makes_categorical_fields():
    X = pd.DataFrame({"c": list("abab") * 2, "x": np.arange(8.0), "y": [1.0, np.nan] * 4})
    encoder = FeatureEncoder(numeric_encoding="bucket", n_bins=4).fit(X)
    spec = encoder.field_spec_
    assert spec.categorical_fields == ("c", "x_bucket", "y_bucket")
    assert spec.dense_features == ()
    assert encoder.get_feature_names_out().tolist() == ["c", "x_bucket", "y_bucket"]
    codes, dense = encoder.encode(X)
    assert dense.shape == (8, 0) and dense.dtype == np.float32
    assert codes.dtype == np.int32
    # Quartile edges of 0..7 are 1.75, 3.5, 5.25: four buckets, indices 2..5.
    assert spec.cardinalities[1] == 6
    assert_array_equal(codes[:, 1], [2, 2, 3, 3, 4, 4, 5, 5])
    assert_array_equal(codes[1::2, 2], MISSING)
    assert (codes < np.array(spec.cardinalities)).all() and (codes >= 0).all()
    # Values outside the fit range fall in the first and last bucket; NaN -> 1.
    new = pd.DataFrame({"c": ["a", "a", "a"], "x": [-100.0, 100.0, np.nan], "y": [0.0, 5.0, np.nan]})
    new_codes = _codes(encoder, new)
    assert_array_equal(new_codes[:, 1], [2, 5, MISSING])
    assert_array_equal(new_codes[2, 2], MISSING)
    assert (new_codes < np.array(spec.cardinalities)).all() and (new_codes >= 0).all()
    assert_array_equal(encoder.transform(new), new_codes)


def test_bucket_encoding_is_monotone_and_bounded_by_n_bins():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.lognormal(size=200)})
    encoder = FeatureEncoder(numeric_encoding="bucket", n_bins=8).fit(X)
    assert encoder.field_spec_.cardinalities[0] <= 8 + 2
    order = np.argsort(X["x"].to_numpy())
    codes = _codes(encoder, X).ravel()[order]
    assert (np.diff(codes) >= 0).all()
    assert codes.min() == 2 and codes.max() == encoder.field_spec_.cardinalities[0] - 1


def test_a_heavily_repeated_value_gets_its_own_bucket_and_the_rest_share_quantiles():
    # 90 zeros and 1..10: zero holds 90% >= 1/4 of the values, so it is a bucket alone,
    # and 1..10 share the other three buckets at their tertiles, 4 and 7.
    X = pd.DataFrame({"wage": np.r_[np.zeros(90), np.arange(1.0, 11.0)]})
    encoder = FeatureEncoder(numeric_encoding="bucket", n_bins=4).fit(X)
    (edges,) = encoder.column_transformer_.named_transformers_["buckets"].bin_edges_
    assert_array_equal(edges, [0.0, np.nextafter(0.0, 1.0), 4.0, 7.0])
    assert encoder.field_spec_.cardinalities == (5 + 2,)
    new = pd.DataFrame({"wage": [-5.0, 0.0, 1e-300, 1.0, 3.5, 4.0, 6.0, 10.0, 99.0, np.nan]})
    # below every value seen | zero | (0, 4) | [4, 7) | from 7 on | missing
    assert_array_equal(_codes(encoder, new).ravel(), [2, 3, 4, 4, 4, 5, 5, 6, 6, MISSING])


def test_a_column_of_two_repeated_values_gets_two_buckets_and_the_ends():
    X = pd.DataFrame({"weeks": [0.0] * 50 + [52.0] * 40 + [10.0, 20.0, 30.0, 40.0] * 2 + [np.nan] * 2})
    encoder = FeatureEncoder(numeric_encoding="bucket", n_bins=8).fit(X)
    codes = _codes(encoder, pd.DataFrame({"weeks": [0.0, 52.0, 25.0, 60.0, -1.0]})).ravel()
    assert len(set(codes[:2])) == 2 and codes[0] != codes[2] != codes[1]
    assert codes[3] == codes.max() and codes[4] == 2


def test_scale_and_bucket_gives_the_dense_feature_and_the_bucket_field():
    X = MIXED[["age", "clicks"]]
    both = FeatureEncoder(numeric_encoding="scale_and_bucket", n_bins=3).fit(X)
    assert both.field_spec_.categorical_fields == ("age_bucket", "clicks_bucket")
    assert both.field_spec_.dense_features == ("age", "clicks", "missingindicator_age")
    assert both.get_feature_names_out().tolist() == [
        "age_bucket",
        "clicks_bucket",
        "age",
        "clicks",
        "missingindicator_age",
    ]
    codes, dense = both.encode(X)
    assert_array_equal(codes, FeatureEncoder(numeric_encoding="bucket", n_bins=3).fit(X).encode(X)[0])
    assert_array_equal(dense, FeatureEncoder().fit(X).encode(X)[1])


def _pieces_by_hand(x, boundaries):
    """Uncentred piecewise-linear codes: 1 below, the position inside, 0 above."""
    low, high = np.asarray(boundaries[:-1]), np.asarray(boundaries[1:])
    return np.clip((np.asarray(x)[:, None] - low) / (high - low), 0, 1)


def test_piecewise_linear_codes_by_hand():
    # wage: 90 zeros and 1..10, boundaries 0 | ulp | 4 | 7 | 10 (the zero step, then the
    # tertiles of 1..10 and the maximum); age: 0..98 and NaN, boundaries at its quartiles.
    wage, age = np.r_[np.zeros(90), np.arange(1.0, 11.0)], np.r_[np.arange(99.0), np.nan]
    encoder = FeatureEncoder(numeric_encoding="piecewise_linear", n_bins=4).fit(
        pd.DataFrame({"wage": wage, "age": age})
    )
    spec = encoder.field_spec_
    pieces = [f"wage_piece_{t}" for t in range(4)] + [f"age_piece_{t}" for t in range(4)]
    assert spec.dense_features == (*pieces, "missingindicator_age")
    assert spec.dense_fields == (0, 0, 0, 0, 1, 1, 1, 1, 1) and spec.n_fields == 2
    new = pd.DataFrame(
        {"wage": [-1.0, 0.0, 2.0, 5.5, 10.0, 50.0], "age": [0.0, 36.75, 98.0, np.nan, 200.0, -3.0]}
    )
    _, dense = encoder.encode(new)
    wage_codes = [
        [0, 0, 0, 0],  # below the range: as its low end, 0
        [0, 0, 0, 0],  # the zero itself
        [1, 0.5, 0, 0],  # above zero, halfway from 0 to 4
        [1, 1, 0.5, 0],
        [1, 1, 1, 1],
        [1, 1, 1, 1],  # above the range: as its high end
    ]
    age_codes = [[0, 0, 0, 0], [1, 0.5, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]]
    # Each piece centred by its mean over the training values; a missing value is all zeros.
    wage_centers = _pieces_by_hand(wage, [0, 1e-300, 4, 7, 10]).mean(axis=0)
    age_centers = _pieces_by_hand(age[:-1], [0, 24.5, 49, 73.5, 98]).mean(axis=0)
    assert_allclose(wage_centers, [0.1, 0.085, 0.05, 0.02], atol=1e-12)
    expected_age = np.array(age_codes) - age_centers
    expected_age[3] = 0.0
    indicator = [[0], [0], [0], [1], [0], [0]]
    assert_allclose(
        dense, np.hstack([np.array(wage_codes) - wage_centers, expected_age, indicator]), atol=1e-6
    )


def test_a_column_named_like_another_ones_piece_is_an_error_naming_both():
    X = pd.DataFrame({"age": np.arange(20.0), "age_piece_0": np.arange(20.0)})
    encoder = FeatureEncoder(numeric_encoding={"age": "piecewise_linear"})
    with pytest.raises(ValueError, match=r"'age_piece_0' and 'age'.*and a piece of 'age'"):
        encoder.fit(X)


def test_numeric_encoding_by_column():
    encoder = FeatureEncoder(numeric_encoding={"clicks": "bucket"}).fit(MIXED)
    # A numeric column not named is scaled.
    assert encoder.field_spec_.categorical_fields == ("city", "tier", "clicks_bucket")
    assert encoder.field_spec_.dense_features == ("age", "missingindicator_age")


@pytest.mark.parametrize(
    "numeric_encoding, message",
    [
        ({"age": "log"}, "numeric_encoding gives column 'age' the encoding 'log'"),
        ({"city": "bucket"}, "numeric_encoding names 'city', which is not a numeric column"),
        ({"town": "bucket"}, "numeric_encoding names 'town', which is not a numeric column"),
        ("log", "numeric_encoding"),
    ],
)
def test_bad_numeric_encoding_names_the_column(numeric_encoding, message):
    with pytest.raises(ValueError, match=message):
        FeatureEncoder(numeric_encoding=numeric_encoding).fit(MIXED)


# --------------------------------------------------------------------------- sklearn API


MIXED = pd.DataFrame(
    {
        "city": pd.Series(["Paris", "Rome", None, "Oslo"], dtype="str"),
        "age": [31.0, np.nan, 45.0, 20.0],
        "tier": pd.Categorical(["x", "y", "x", "y"]),
        "clicks": [1, 2, 3, 4],
    }
)


def test_field_spec_and_feature_names_out():
    encoder = FeatureEncoder().fit(MIXED)
    spec = encoder.field_spec_
    assert spec.categorical_fields == ("city", "tier")
    assert spec.cardinalities == (5, 4)
    assert spec.dense_features == ("age", "clicks", "missingindicator_age")
    names = encoder.get_feature_names_out()
    assert names.tolist() == [*spec.categorical_fields, *spec.dense_features]
    out = encoder.transform(MIXED)
    assert out.shape == (4, len(names))
    codes, dense = encoder.encode(MIXED)
    assert_allclose(out, np.hstack([codes, dense]), rtol=1e-6)
    assert encoder.n_features_in_ == 4
    assert encoder.feature_names_in_.tolist() == list(MIXED.columns)


def test_set_output_pandas():
    encoder = FeatureEncoder().set_output(transform="pandas").fit(MIXED)
    out = encoder.transform(MIXED)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == encoder.get_feature_names_out().tolist()
    plain = FeatureEncoder().fit(MIXED).transform(MIXED)
    assert_allclose(out.to_numpy(dtype=float), plain)
    # fit_transform goes through the same path.
    out2 = clone(encoder).set_output(transform="pandas").fit_transform(MIXED)
    assert out2.columns.tolist() == out.columns.tolist()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"numeric_encoding": "bucket", "n_bins": 3},
        {"numeric_encoding": "scale_and_bucket", "n_bins": 3},
        {"numeric_encoding": {"age": "bucket", "clicks": "scale_and_bucket"}},
        {"numeric_encoding": {"age": "piecewise_linear"}, "n_bins": 2},
        {"min_frequency": 2},
        {"categorical_features": ["clicks", "city", "tier"]},
    ],
)
@pytest.mark.parametrize("transform_output", ["default", "pandas"])
def test_fit_encode_equals_fit_then_encode(params, transform_output):
    X = pd.concat([MIXED] * 3, ignore_index=True)
    with sklearn.config_context(transform_output=transform_output):
        once = FeatureEncoder(**params)
        codes, dense = once.fit_encode(X)
        twice = FeatureEncoder(**params).fit(X)
        expected_codes, expected_dense = twice.encode(X)
    assert codes.dtype == expected_codes.dtype and dense.dtype == np.float32
    assert_array_equal(codes, expected_codes)
    assert_array_equal(dense, expected_dense)
    assert once.field_spec_ == twice.field_spec_
    assert_array_equal(once.encode(X)[0], codes)
    # fit_encode builds the dense block in float32, but leaves transform as fit does.
    with sklearn.config_context(transform_output=transform_output):
        transformed, expected = once.transform(X), twice.transform(X)
    assert_array_equal(np.asarray(transformed), np.asarray(expected))
    assert np.asarray(transformed).dtype == np.asarray(expected).dtype


def test_inside_a_pipeline():
    X = pd.concat([MIXED] * 5, ignore_index=True)
    y = np.tile([0, 1], 10)
    pipe = make_pipeline(FeatureEncoder(min_frequency=2), LogisticRegression())
    pipe.fit(X, y)
    assert pipe.get_params()["featureencoder__min_frequency"] == 2
    new = pd.DataFrame(
        {"city": ["Berlin", None], "age": [np.nan, 50.0], "tier": ["x", "q"], "clicks": [2, 9]}
    )
    proba = pipe.predict_proba(new)
    assert proba.shape == (2, 2) and np.isfinite(proba).all()
    assert (
        pipe[:-1].get_feature_names_out().tolist() == FeatureEncoder().fit(X).get_feature_names_out().tolist()
    )
    assert pipe[-1].coef_.shape == (1, 5)


def test_empty_batch_encodes_to_empty_blocks():
    encoder = FeatureEncoder().fit(MIXED)
    codes, dense = encoder.encode(MIXED.iloc[:0])
    assert codes.shape == (0, 2) and codes.dtype == np.int32
    assert dense.shape == (0, 3) and dense.dtype == np.float32


# --------------------------------------------------------------------------- ndarray input


def test_numeric_ndarray_is_all_dense():
    A = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 4.0]])
    encoder = FeatureEncoder().fit(A)
    spec = encoder.field_spec_
    assert spec.n_categorical == 0
    assert spec.dense_features == ("x0", "x1", "missingindicator_x1")
    codes, dense = encoder.encode(A)
    assert codes.shape == (3, 0) and codes.dtype == np.int32
    assert dense.shape == (3, 3)
    assert_allclose(dense[:, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)], rtol=1e-6)
    assert_array_equal(dense[:, 2], [0, 1, 0])


def test_object_ndarray_is_all_categorical():
    objects = np.array([["a", 1], ["b", 2], [None, 1]], dtype=object)
    encoder = FeatureEncoder().fit(objects)
    spec = encoder.field_spec_
    assert spec.categorical_fields == ("x0", "x1")
    assert spec.cardinalities == (4, 4)
    assert spec.n_dense == 0
    codes, dense = encoder.encode(objects)
    assert_array_equal(codes, [[2, 2], [3, 3], [MISSING, 2]])
    assert dense.shape == (3, 0)
    assert_array_equal(_codes(encoder, np.array([["zz", 7]], dtype=object)), [[UNKNOWN, UNKNOWN]])


def test_ndarray_with_integer_id_column_by_index():
    A = np.array([[3.0, 0.5], [5.0, 1.5], [3.0, 2.5]])
    encoder = FeatureEncoder(categorical_features=[0]).fit(A)
    assert encoder.field_spec_.categorical_fields == ("x0",)
    assert encoder.field_spec_.dense_features == ("x1",)
    codes, dense = encoder.encode(A)
    assert_array_equal(codes.ravel(), [2, 3, 2])
    assert dense.shape == (3, 1)


# --------------------------------------------------------------------------- randomized contract


def _random_frame(rng, n, vocab):
    def draw(values, p_missing, missing=None):
        out = rng.choice(np.asarray(values, dtype=object), n).astype(object)
        out[rng.random(n) < p_missing] = missing
        return out

    letters = [f"v{i}" for i in range(vocab)]
    return pd.DataFrame(
        {
            "s": pd.Series(draw(letters, 0.1), dtype="str"),
            "o": pd.Series(draw(letters[: vocab // 2], 0.2, None), dtype=object),
            "cat": pd.Categorical(draw(letters, 0.15, np.nan)),
            "b": rng.random(n) < 0.5,
            "nb": pd.array(draw([True, False], 0.3, pd.NA), dtype="boolean"),
            "id": rng.integers(0, vocab, n),
            "f": np.where(rng.random(n) < 0.2, np.nan, rng.normal(3.0, 10.0, n)),
            "ni": pd.array(draw(list(range(vocab)), 0.25, pd.NA), dtype="Int64"),
        }
    )


@pytest.mark.parametrize("numeric_encoding", ["scale", "bucket", "scale_and_bucket", "piecewise_linear"])
def test_encode_contract_on_random_frames_with_unseen_values(numeric_encoding):
    for seed in range(4):
        rng = np.random.default_rng(seed)
        fit = _random_frame(rng, 60, vocab=8)
        new = _random_frame(rng, 40, vocab=16)  # half of the values never seen at fit
        encoder = FeatureEncoder(
            categorical_features=["s", "o", "cat", "b", "nb", "id"],
            numeric_encoding=numeric_encoding,
            n_bins=5,
            min_frequency=2 if seed % 2 else None,
        ).fit(fit)
        spec = encoder.field_spec_
        cardinalities = np.array(spec.cardinalities)
        for X in (fit, new):
            codes, dense = encoder.encode(X)
            assert codes.dtype == np.int32 and dense.dtype == np.float32
            assert codes.shape == (len(X), spec.n_categorical)
            assert dense.shape == (len(X), spec.n_dense)
            assert (codes >= 0).all()
            assert (codes < cardinalities).all(), (seed, codes.max(axis=0), cardinalities)
            assert np.isfinite(dense).all()
            assert_allclose(encoder.transform(X), np.hstack([codes, dense]), rtol=1e-6)
        codes = encoder.encode(new)[0]
        # Missing values of the categorical columns are 1, values unseen at fit are 0.
        for column in ["s", "o", "cat", "nb"]:
            j = encoder.categorical_columns_.index(column)
            values = new[column]
            assert_array_equal(codes[values.isna().to_numpy(), j], MISSING)
            seen = set(fit[column].dropna().astype(str))
            unseen = (~values.isna() & ~values.astype(str).isin(seen)).to_numpy()
            assert_array_equal(codes[unseen, j], UNKNOWN)


def test_category_columns_reuse_their_lookup_and_stay_correct():
    X = pd.DataFrame({"c": pd.Categorical(["b", "a", "c", "a"]), "s": ["x", "y", "x", "z"]})
    encoder = FeatureEncoder().fit(X)
    first, _ = encoder.encode(X)
    np.testing.assert_array_equal(encoder.encode(X)[0], first)
    # Same values, other categories (order and an unseen one): the lookup is rebuilt.
    other = X.assign(c=pd.Categorical(["b", "a", "c", "a"], categories=["c", "b", "a", "new"]))
    np.testing.assert_array_equal(encoder.encode(other)[0], first)
    unseen = X.assign(c=pd.Categorical(["new", "a", None, "a"], categories=["c", "b", "a", "new"]))
    codes, _ = encoder.encode(unseen)
    np.testing.assert_array_equal(codes[:, 0], [0, first[1, 0], 1, first[3, 0]])
    restored = pickle.loads(pickle.dumps(encoder))
    np.testing.assert_array_equal(restored.encode(X)[0], first)


@pytest.mark.parametrize("numeric_encoding", ["scale", "bucket", "scale_and_bucket", "piecewise_linear"])
def test_encoding_a_few_columns_at_a_time_equals_encoding_all_at_once(monkeypatch, numeric_encoding):
    from sklearn_pangu.preprocessing import _column_coders

    rng = np.random.default_rng(0)
    fit, new = _random_frame(rng, 60, vocab=8), _random_frame(rng, 41, vocab=16)
    encoder = FeatureEncoder(
        categorical_features=["s", "o", "cat", "b", "nb", "id"], numeric_encoding=numeric_encoding
    ).fit(fit)
    at_once = encoder.encode(new), encoder.transform(new)
    # A buffer of 400 bytes: two int32 columns of 41 rows at a time, one float64 column.
    monkeypatch.setattr(_column_coders, "TRANSFORM_BUFFER_BYTES", 400)
    (codes, dense), transformed = encoder.encode(new), encoder.transform(new)
    assert_array_equal(codes, at_once[0][0])
    assert_array_equal(dense, at_once[0][1])
    assert_array_equal(transformed, at_once[1])


def _mixed_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    text = rng.choice(["a", "b", "c", "d"], n)
    return pd.DataFrame(
        {
            "text": text,
            "text_object": pd.Series(text, dtype=object),
            "mixed_object": pd.Series([3, "3", 4.0, True, "x", 1] * (n // 6) + [0] * (n % 6), dtype=object),
            "flag": rng.random(n) < 0.5,
            "flag_object": pd.Series(rng.random(n) < 0.5, dtype=object),
            "level": rng.integers(0, 5, n),
            "small": rng.integers(0, 2, n).astype(np.uint8),
            "nullable": pd.array(rng.integers(0, 4, n), dtype="Int64"),
            "kind": pd.Categorical(rng.choice(["x", "y"], n)),
            "ratio": rng.choice([0.5, 1.0, 2.0], n),
        }
    )


def test_a_few_rows_encode_as_in_a_large_frame(monkeypatch):
    """Up to SMALL_FRAME_ROWS rows take a per-cell lookup; the codes are the hashing path's."""
    from sklearn_pangu.preprocessing import _column_coders

    train = _mixed_frame(300, 0)
    train = train.assign(switch=train["flag"], bit=train["small"])
    encoder = FeatureEncoder(categorical_features=list(train.columns)).fit(train)
    test = _mixed_frame(60, 1).astype({"text_object": object, "level": object})
    # Bools fitted, 0/1 integers given, and the other way round: each one's other name.
    test = test.assign(switch=test["flag"].astype(int), bit=test["small"].astype(bool))
    test.loc[0, ["text", "text_object"]] = ["unseen", None]
    test.loc[1, ["text", "text_object"]] = [np.nan, np.nan]
    test.loc[2, "level"] = 9  # unseen
    test.loc[3, "level"] = "2"  # text: a category's key
    test.loc[4, "nullable"] = pd.NA
    test.loc[5, "flag_object"] = 1  # a bool's other name
    small = [test.iloc[i : i + 1] for i in range(8)] + [test]
    fast = [encoder.transform(frame) for frame in small]
    monkeypatch.setattr(_column_coders, "SMALL_FRAME_ROWS", 0)
    for frame, codes in zip(small, fast, strict=True):
        assert_array_equal(codes, encoder.transform(frame))
    assert fast[-1][:, 0].tolist()[:2] == [0, 1]  # unknown, missing


@pytest.mark.parametrize("storage", ["python", "pyarrow"])
def test_a_few_text_rows_with_missing_cells_encode_as_in_a_large_frame(monkeypatch, storage):
    """Both storages of pandas' string dtype: missing cells (None, NaN, NA) get the missing index."""
    if storage == "pyarrow":
        pytest.importorskip("pyarrow")
    from sklearn_pangu.preprocessing import _column_coders

    dtype = pd.StringDtype(storage)
    train = pd.DataFrame({"city": pd.array(["paris", "rome", None, "oslo"] * 5, dtype=dtype)})
    encoder = FeatureEncoder().fit(train)
    test = pd.DataFrame({"city": pd.array(["rome", None, "lima", np.nan, "paris", pd.NA], dtype=dtype)})
    fast = encoder.transform(test)
    monkeypatch.setattr(_column_coders, "SMALL_FRAME_ROWS", 0)
    assert_array_equal(fast, encoder.transform(test))
    assert fast[:, 0].tolist() == [4, 1, 0, 1, 3, 1]  # oslo 2, paris 3, rome 4; unknown 0, missing 1


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "large_string[pyarrow]"])
def test_arrow_looks_up_text_cells_as_python_does(monkeypatch, dtype):
    """From ARROW_LOOKUP_ROWS rows Arrow finds the cells of an Arrow text column: same indices."""
    pa = pytest.importorskip("pyarrow")
    from sklearn_pangu.preprocessing import _column_coders

    if dtype == "str" and pd.StringDtype(na_value=np.nan).storage != "pyarrow":
        pytest.skip("pandas' str dtype is not stored by pyarrow here")
    if dtype == "large_string[pyarrow]":
        dtype = pd.ArrowDtype(pa.large_string())
    train = pd.DataFrame({"city": pd.Series(["paris", "rome", None, "oslo"] * 5, dtype=dtype)})
    encoder = FeatureEncoder().fit(train)
    cells = ["rome", None, "lima", "paris", "", "oslo", "Rome", "nan"]
    part = pd.DataFrame({"city": pd.Series(cells * 20, dtype=dtype)})
    test = pd.concat([part, part], ignore_index=True)  # two Arrow chunks
    assert _column_coders.ARROW_LOOKUP_ROWS <= len(test) <= _column_coders.SMALL_FRAME_ROWS
    by_arrow = encoder.transform(test)
    # oslo 2, paris 3, rome 4; unknown 0, missing 1
    assert by_arrow[:8, 0].tolist() == [4, 1, 0, 3, 0, 2, 0, 0]
    assert_array_equal(pickle.loads(pickle.dumps(encoder)).transform(test), by_arrow)
    monkeypatch.setattr(_column_coders, "ARROW_LOOKUP_ROWS", len(test) + 1)
    assert_array_equal(by_arrow, encoder.transform(test))  # cell by cell in Python
    monkeypatch.setattr(_column_coders, "SMALL_FRAME_ROWS", 0)
    assert_array_equal(by_arrow, encoder.transform(test))  # the column hashed by pandas


@pytest.mark.parametrize("numeric_encoding", ["scale", "scale_and_bucket", "piecewise_linear", "bucket"])
def test_a_few_rows_of_numbers_encode_as_in_a_large_frame(numeric_encoding, monkeypatch):
    """Up to SMALL_FRAME_ROWS rows, each numeric column is read once for all its encodings."""
    from sklearn_pangu.preprocessing import _encoder

    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {
            "age": rng.normal(40, 10, 300),
            "gain": np.where(rng.random(300) < 0.7, 0.0, rng.exponential(100, 300)),
            "count": rng.integers(0, 9, 300),
            "city": rng.choice(["a", "b"], 300),
        }
    )
    train.loc[::7, "age"] = np.nan
    encoder = FeatureEncoder(numeric_encoding=numeric_encoding, n_bins=5).fit(train)
    test = train.iloc[:20].astype({"count": object}).copy()
    test.loc[0, "age"] = 1e300
    test.loc[1, "gain"] = -5.0
    test.loc[2, "count"] = " 4 "  # a number as text
    small = [test.iloc[i : i + 1] for i in range(4)] + [test]
    fast = [encoder.encode(frame) for frame in small]
    monkeypatch.setattr(_encoder, "SMALL_FRAME_ROWS", 0)
    for frame, (codes, dense) in zip(small, fast, strict=True):
        expected_codes, expected_dense = encoder.encode(frame)
        assert_array_equal(codes, expected_codes)
        assert_array_equal(dense, expected_dense)
    with pytest.raises(ValueError, match="'gain'"):
        monkeypatch.setattr(_encoder, "SMALL_FRAME_ROWS", 512)
        encoder.encode(test.iloc[:1].assign(gain="many"))
