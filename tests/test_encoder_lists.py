"""FeatureEncoder's list (multi-value) columns: codes, shared vocabularies, names, persistence, bad input."""

import pickle
import tracemalloc

import joblib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklearn_pangu._fields import PAD_CODE, FieldSpec
from sklearn_pangu.io._encoder_state import encoder_state, rebuild_encoder
from sklearn_pangu.preprocessing import FeatureEncoder

UNKNOWN, MISSING, PAD = 0, 1, PAD_CODE


def _codes(encoder, X):
    codes, _ = encoder.encode(X)
    return codes


def _frame(**columns):
    return pd.DataFrame({name: pd.Series(cells, dtype=object) for name, cells in columns.items()})


def _arrow_frame(arrow_type, **columns):
    pa = pytest.importorskip("pyarrow")
    return pd.DataFrame(
        {
            name: pd.Series(pa.array(cells, type=arrow_type), dtype=pd.ArrowDtype(arrow_type))
            for name, cells in columns.items()
        }
    )


# Items sorted: a=2, b=3, c=4; the longest list has 2 items, so 2 slots.
TAGS = [["b", "a"], ["c"], [], None, np.nan, ["a", None]]
TAGS_CODES = [[3, 2], [4, PAD], [PAD, PAD], [PAD, PAD], [PAD, PAD], [2, MISSING]]


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize("container", [list, tuple, np.array], ids=["list", "tuple", "ndarray"])
def test_list_cells_give_padded_item_codes_oldest_first(container):
    cells = [cell if cell is None or cell is np.nan else container(cell) for cell in TAGS]
    if container is np.array:
        cells[5] = np.array(["a", None], dtype=object)
    X = _frame(tags=cells)
    encoder = FeatureEncoder()
    codes, dense = encoder.fit_encode(X)
    assert codes.dtype == np.int32 and dense.shape == (6, 0)
    assert_array_equal(codes, TAGS_CODES)
    assert_array_equal(_codes(encoder, X), TAGS_CODES)
    assert encoder.multi_value_columns_ == ["tags"] and encoder.categorical_columns_ == []
    assert encoder.field_spec_ == FieldSpec(("tags",), (5,), (), sequence_lengths=(2,), shared_tables=(0,))


@pytest.mark.parametrize("large", [False, True], ids=["list", "large_list"])
def test_arrow_list_columns_are_list_columns(large):
    pa = pytest.importorskip("pyarrow")
    arrow_type = (pa.large_list if large else pa.list_)(pa.string())
    X = _arrow_frame(arrow_type, tags=[["b", "a"], ["c"], [], None, None, ["a", None]])
    assert_array_equal(FeatureEncoder().fit_encode(X)[0], TAGS_CODES)
    # Integer items, matched by value against text and floats of a later object column.
    ints = _arrow_frame(pa.list_(pa.int64()), h=[[10, 7], [7], None])
    encoder = FeatureEncoder().fit(ints)
    # Items are sorted by their text, as categories are: "10" = 2, "7" = 3.
    assert_array_equal(_codes(encoder, ints), [[2, 3], [3, PAD], [PAD, PAD]])
    assert_array_equal(_codes(encoder, _frame(h=[["7", 10.0], [8]])), [[3, 2], [UNKNOWN, PAD]])


def test_delimited_text_is_split_and_text_without_the_delimiter_is_one_item():
    X = pd.DataFrame({"genres": ["x|y", "", None, "y"]})
    encoder = FeatureEncoder(multi_value_features={"genres": "|"})
    assert_array_equal(encoder.fit_encode(X)[0], [[2, 3], [PAD, PAD], [PAD, PAD], [3, PAD]])
    new = pd.DataFrame({"genres": ["y", "z", "y|x|q", ""]})
    # The last two slots keep "x" and "q" (unknown) of "y|x|q".
    assert_array_equal(_codes(encoder, new), [[3, PAD], [UNKNOWN, PAD], [2, UNKNOWN], [PAD, PAD]])
    # Arrow text splits the same way.
    arrow = X.astype({"genres": "string[pyarrow]"})
    assert_array_equal(_codes(encoder, arrow), encoder.encode(X)[0])


def test_declared_list_columns_by_name_and_all_missing_cells():
    X = _frame(tags=[None, None, ["a"]], empty=[None, None, None])
    encoder = FeatureEncoder(multi_value_features=["tags", "empty"])
    codes = encoder.fit_encode(X)[0]
    # A column without items has one slot, and only pads.
    assert encoder.field_spec_.sequence_lengths == (1, 1)
    assert encoder.field_spec_.cardinalities == (3, 2)
    assert_array_equal(codes, [[PAD, PAD], [PAD, PAD], [2, PAD]])


def test_unknown_items_and_items_matched_by_value():
    encoder = FeatureEncoder().fit(_frame(h=[[3, 4], [4.0]]))
    # 3, 3.0 and "3" are one item; 5 was not seen at fit; None is a missing item.
    new = _frame(h=[["3", 4.0], [5, 3.0], [3.0, None]])
    assert_array_equal(_codes(encoder, new), [[2, 3], [UNKNOWN, 2], [2, MISSING]])
    assert encoder.field_spec_.sequence_lengths == (2,)


def test_min_frequency_counts_items():
    # a: 3 times, c: 2, b: 1.
    X = _frame(tags=[["a", "b"], ["a", "c"], ["a", "c"]])
    encoder = FeatureEncoder(min_frequency=2)
    assert_array_equal(encoder.fit_encode(X)[0], [[2, UNKNOWN], [2, 3], [2, 3]])
    assert encoder.field_spec_.cardinalities == (4,)


def test_long_lists_keep_their_last_items():
    X = _frame(h=[[1, 2, 3, 4], [5], [6, 7, 8]])
    encoder = FeatureEncoder(max_sequence_length=2)
    # Kept: [3, 4], [5], [7, 8]; only kept items enter the vocabulary (3, 4, 5, 7, 8 -> 2 to 6).
    assert_array_equal(encoder.fit_encode(X)[0], [[2, 3], [4, PAD], [5, 6]])
    assert encoder.field_spec_.sequence_lengths == (2,)
    assert_array_equal(_codes(encoder, _frame(h=[[8, 1, 2, 3]])), [[UNKNOWN, 2]])


def test_max_sequence_length_per_column_and_slots_follow_the_longest_list():
    X = _frame(a=[["x", "y", "z"], ["y"]], b=[["x", "y", "z"], ["y"]])
    encoder = FeatureEncoder(max_sequence_length={"a": 1})
    codes = encoder.fit_encode(X)[0]
    # a: 1 slot (the last item); b: 3 slots (its longest list, under the default 50).
    assert encoder.field_spec_.sequence_lengths == (1, 3)
    assert_array_equal(codes, [[3, 2, 3, 4], [2, 3, PAD, PAD]])
    assert encoder.field_spec_.code_columns(1) == slice(1, 4)


def test_thousands_of_items_are_truncated_without_an_n_by_longest_matrix():
    n_rows, longest = 2_000, 400_000
    cells = [[1]] * (n_rows - 1) + [list(range(longest))]
    X = _frame(h=cells)
    tracemalloc.start()
    try:
        codes = FeatureEncoder(max_sequence_length=5).fit_encode(X)[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert codes.shape == (n_rows, 5)
    # The last 5 items, oldest first; keys sort as text: "1" = 2, then "399995" to "399999".
    assert_array_equal(codes[-1], [3, 4, 5, 6, 7])
    assert_array_equal(codes[0], [2, PAD, PAD, PAD, PAD])
    # An (n_rows, longest) int32 matrix alone would be 3.2 GB.
    assert peak < 300 * 2**20


# --------------------------------------------------------------------------- shared vocabularies


def test_shared_vocabulary_of_a_scalar_and_a_list_column_sums_the_counts():
    X = _frame(item=["a", "b", "b"], history=[["a"], ["c"], ["a"]])
    shared = FeatureEncoder(min_frequency=2, shared_vocabulary={"history": "item"})
    # a: 1 + 2 = 3, b: 2, c: 1 -> a=2, b=3, c unknown.
    assert_array_equal(shared.fit_encode(X)[0], [[2, 2], [3, UNKNOWN], [3, 2]])
    assert shared.field_spec_ == FieldSpec(
        ("item", "history"), (4, 4), (), sequence_lengths=(0, 1), shared_tables=(0, 0)
    )
    assert shared.vocabulary_groups_ == [["item", "history"]]
    assert_array_equal(_codes(shared, X), [[2, 2], [3, UNKNOWN], [3, 2]])
    # Alone, each column counts its own values: item keeps b only, history a only.
    alone = FeatureEncoder(min_frequency=2)
    assert_array_equal(alone.fit_encode(X)[0], [[UNKNOWN, 2], [2, UNKNOWN], [2, 2]])
    assert alone.field_spec_.shared_tables == (0, 1)


def test_shared_vocabulary_between_two_list_columns_and_a_chain_of_pairs():
    X = pd.DataFrame(
        {
            "genres": ["x|y", "z", ""],
            "liked": pd.Series([["w"], [], ["x", "z"]], dtype=object),
            "other": pd.Series([["q"], ["q"], ["q"]], dtype=object),
            "city": ["p", "q", "p"],
        }
    )
    encoder = FeatureEncoder(
        multi_value_features={"genres": "|"}, shared_vocabulary={"liked": "genres", "other": "city"}
    )
    codes = encoder.fit_encode(X)[0]
    spec = encoder.field_spec_
    # Scalar fields first, then list fields, each in column order.
    assert spec.categorical_fields == ("city", "genres", "liked", "other")
    assert spec.sequence_lengths == (0, 2, 2, 1)
    assert spec.shared_tables == (0, 1, 1, 0)
    # genres + liked: w=2, x=3, y=4, z=5; city + other: p=2, q=3.
    assert spec.cardinalities == (4, 6, 6, 4)
    assert_array_equal(codes, [[2, 3, 4, 2, PAD, 3], [3, 5, PAD, PAD, PAD, 3], [2, PAD, PAD, 3, 5, 3]])
    assert_array_equal(_codes(encoder, X), codes)
    assert encoder.vocabulary_groups_ == [["city", "other"], ["genres", "liked"]]


def test_field_order_scalar_then_buckets_then_lists():
    X = pd.DataFrame(
        {
            "tags": pd.Series([[1, 2, 3], [4], [], [5, 6]], dtype=object),
            "age": [1.0, 2.0, 3.0, 4.0],
            "city": ["a", "b", "a", "b"],
        }
    )
    encoder = FeatureEncoder(numeric_encoding="bucket", n_bins=2, max_sequence_length=2)
    codes = encoder.fit_encode(X)[0]
    spec = encoder.field_spec_
    assert spec.categorical_fields == ("city", "age_bucket", "tags")
    assert spec.sequence_lengths == (0, 0, 2) and spec.n_code_columns == 4
    assert_array_equal(codes[:, 0], [2, 3, 2, 3])
    assert_array_equal(codes[:, 2:], [[2, 3], [4, PAD], [PAD, PAD], [5, 6]])
    assert encoder.get_feature_names_out().tolist() == ["city", "age_bucket", "tags_0", "tags_1"]


# --------------------------------------------------------------------------- names, output, persistence


def test_feature_names_and_pandas_output():
    X = pd.DataFrame(
        {"city": ["a", "b"], "tags": pd.Series([["x", "y"], ["y"]], dtype=object), "age": [1.0, 3.0]}
    )
    encoder = FeatureEncoder().set_output(transform="pandas")
    out = encoder.fit_transform(X)
    assert encoder.get_feature_names_out().tolist() == ["city", "tags_0", "tags_1", "age"]
    assert list(out.columns) == ["city", "tags_0", "tags_1", "age"]
    assert_array_equal(out[["city", "tags_0", "tags_1"]].to_numpy(), [[2, 2, 3], [3, 3, PAD]])
    assert_array_equal(encoder.transform(X).to_numpy(), out.to_numpy())
    assert encoder.field_spec_.dense_features == ("age",)


@pytest.mark.parametrize("how", ["pickle", "joblib", "state"])
def test_list_coders_round_trip(how, tmp_path):
    X = pd.DataFrame(
        {
            "item": ["a", "b", "c"],
            "genres": ["x|y", "", "y"],
            "history": pd.Series([["b", "c", "a"], [], None], dtype=object),
            "price": [1.0, 2.0, np.nan],
        }
    )
    encoder = FeatureEncoder(
        multi_value_features={"genres": "|"}, max_sequence_length=2, shared_vocabulary={"history": "item"}
    ).fit(X)
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(encoder))
    elif how == "joblib":
        joblib.dump(encoder, tmp_path / "encoder.joblib")
        loaded = joblib.load(tmp_path / "encoder.joblib")
    else:
        loaded = rebuild_encoder(encoder_state(encoder))
    new = X.assign(history=pd.Series([["c", "zz"], ["a"], ["b", "a", "c"]], dtype=object))
    assert loaded.field_spec_ == encoder.field_spec_
    for got, expected in zip(loaded.encode(new), encoder.encode(new), strict=True):
        assert_array_equal(got, expected)
    assert_array_equal(loaded.encode(new)[0][:, 3:], [[4, UNKNOWN], [2, PAD], [2, 4]])


def test_scalar_only_frames_encode_as_before():
    X = pd.DataFrame({"city": ["b", "a", None], "n": pd.Series([1, 2, 2]), "age": [1.0, 2.0, 3.0]})
    encoder = FeatureEncoder(categorical_features=["city", "n"])
    codes, dense = encoder.fit_encode(X)
    assert_array_equal(codes, [[3, 2], [2, 3], [MISSING, 3]])
    assert encoder.multi_value_columns_ == [] and encoder.vocabulary_groups_ == []
    assert encoder.field_spec_ == FieldSpec(("city", "n"), (4, 4), ("age",))
    assert encoder.field_spec_.sequence_lengths == (0, 0) and encoder.field_spec_.shared_tables == (0, 1)
    assert encoder.get_feature_names_out().tolist() == ["city", "n", "age"]


# --------------------------------------------------------------------------- bad input


def test_lists_mixed_with_single_values_name_the_column():
    with pytest.raises(TypeError, match=r"Column 'tags' is a list column but holds single values among"):
        FeatureEncoder().fit(_frame(tags=[["a"], "b", None]))
    # A single value first: a single-value column that meets a list.
    with pytest.raises(TypeError, match=r"Column 'tags' holds list values .* where single values"):
        FeatureEncoder().fit(_frame(tags=["b", ["a"]]))
    with pytest.raises(TypeError, match=r"Column 'tags' is a list column but holds single values"):
        FeatureEncoder(multi_value_features=["tags"]).fit(_frame(tags=["b", "c"]))


@pytest.mark.parametrize(
    "cells",
    [[[["a"]], [["b"]]], [["a", ["b"]], ["c"]], [np.array([["a", "b"]]), np.array([["c", "d"]])]],
    ids=["lists of lists", "a list among items", "2-D arrays"],
)
def test_lists_of_lists_name_the_column(cells):
    with pytest.raises(TypeError, match=r"Column 'tags' holds lists of lists"):
        FeatureEncoder().fit(_frame(tags=cells))


def test_arrow_lists_of_lists_name_the_column():
    pa = pytest.importorskip("pyarrow")
    X = _arrow_frame(pa.list_(pa.list_(pa.string())), tags=[[["a"]], [["b", "c"]]])
    with pytest.raises(TypeError, match=r"Column 'tags' holds lists of lists"):
        FeatureEncoder().fit(X)


def test_single_values_where_lists_were_fitted_name_the_column():
    encoder = FeatureEncoder().fit(_frame(tags=[["a"], ["b"]], city=["x", "y"]))
    for cells in (["a", "b"], [1, 2], [["a"], "b"]):
        with pytest.raises(TypeError, match=r"Column 'tags' is a list column but holds single values"):
            encoder.encode(_frame(tags=cells, city=["x", "y"]))
    # Missing cells are rows without items, whatever the column's dtype.
    assert_array_equal(
        _codes(encoder, pd.DataFrame({"tags": [np.nan, np.nan], "city": ["x", "y"]})), [[2, PAD], [3, PAD]]
    )


def test_bad_parameters_name_the_column_or_parameter():
    X = pd.DataFrame({"t": pd.Series([["a"], ["b"]], dtype=object), "age": [1.0, 2.0], "city": ["p", "q"]})
    cases = [
        ({"shared_vocabulary": {"t": "nope"}}, r"shared_vocabulary names 'nope', which is not a column"),
        ({"shared_vocabulary": {"t": "age"}}, r"shared_vocabulary names 'age', a numeric column"),
        ({"max_sequence_length": 0}, r"'max_sequence_length' parameter"),
        ({"max_sequence_length": {"t": 0}}, r"max_sequence_length gives column 't' the length 0"),
        (
            {"max_sequence_length": {"city": 3}},
            r"max_sequence_length names 'city', which is not a list column",
        ),
        ({"multi_value_features": ["nope"]}, r"multi_value_features names 'nope', which is not a column"),
        ({"multi_value_features": {"t": ""}}, r"multi_value_features gives column 't' the delimiter ''"),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            FeatureEncoder(**params).fit(X)


# --- added by the encoder helper: containers, readers without pyarrow, fitting paths, persistence


def test_polars_list_columns_and_lists_of_categoricals():
    pl = pytest.importorskip("polars")
    pytest.importorskip("pyarrow")
    text = pl.DataFrame({"t": [["b", "a"], ["c"], None]})
    categories = pl.DataFrame({"t": [["b", "a"], ["c"], None]}, schema={"t": pl.List(pl.Categorical)})
    expected = [[3, 2], [4, PAD], [PAD, PAD]]
    for frame in (text, categories):
        encoder = FeatureEncoder().fit(frame)
        assert_array_equal(_codes(encoder, frame), expected)
        # The same encoder reads pandas lists at predict.
        assert_array_equal(
            _codes(encoder, _frame(t=[["a"], ["c", "z"], []])), [[2, PAD], [4, UNKNOWN], [PAD, PAD]]
        )


def test_readers_without_pyarrow_give_the_same_codes(monkeypatch):
    from sklearn_pangu.preprocessing import _list_coder

    X = pd.DataFrame(
        {
            "tags": pd.Series(
                [["b", "a"], ("c",), np.array(["a", None], dtype=object), None, []], dtype=object
            ),
            "genres": ["x|y", "", None, "y", "x"],
            "ids": pd.Series([[1, 2**63 + 5], [3], None, [3.0, "1"], [True]], dtype=object),
        }
    )
    params = {"multi_value_features": {"genres": "|"}, "max_sequence_length": 2}
    with_arrow = FeatureEncoder(**params).fit_encode(X)[0]
    monkeypatch.setattr(_list_coder, "_pyarrow", lambda: None)
    assert_array_equal(FeatureEncoder(**params).fit_encode(X)[0], with_arrow)
    # tags: a=2, b=3, c=4; genres: x=2, y=3; ids (keys as text): "1"=2, "3"=3, "9223372036854775813"=4.
    assert_array_equal(
        with_arrow,
        [
            [3, 2, 2, 3, 2, 4],
            [4, PAD, PAD, PAD, 3, PAD],
            [2, MISSING, PAD, PAD, PAD, PAD],
            [PAD, PAD, 3, PAD, 3, 2],
            [PAD, PAD, 2, PAD, 2, PAD],
        ],
    )


def test_a_delimited_column_reads_text_of_any_dtype_numbers_and_lists():
    encoder = FeatureEncoder(multi_value_features={"g": "|"}).fit(pd.DataFrame({"g": ["x|3", "y", ""]}))
    expected = [[3, 4], [4, PAD], [PAD, PAD], [PAD, PAD]]
    text = pd.Series(["x|y", "y", "", None], dtype=object)
    for dtype in (object, "category", pd.StringDtype("python"), "str"):
        assert_array_equal(_codes(encoder, pd.DataFrame({"g": text.astype(dtype)})), expected)
    # A number is one item (3 and "3" are one item), and so is text without the delimiter.
    numbers = pd.DataFrame({"g": [3.0, np.nan, 4]})
    assert_array_equal(_codes(encoder, numbers), [[2, PAD], [PAD, PAD], [UNKNOWN, PAD]])
    lists = _frame(g=[["x", "y"], ["y"], [], None])
    assert_array_equal(_codes(encoder, lists), expected)


@pytest.mark.parametrize("cell", [{"a": 1}, {"a"}], ids=["dict", "set"])
def test_dict_and_set_cells_name_the_column(cell):
    kind = type(cell).__name__
    with pytest.raises(TypeError, match=rf"Column 't' holds {kind} values .* not supported"):
        FeatureEncoder().fit(_frame(t=[cell, cell], u=["a", "b"]))
    with pytest.raises(TypeError, match=rf"Column 't' holds {kind} values .* not supported"):
        FeatureEncoder().fit(_frame(t=[["a"], cell]))


@pytest.mark.parametrize("output", ["default", "pandas"])
def test_every_fitting_path_gives_the_codes_of_fit_then_encode(output):
    X = pd.DataFrame(
        {
            "item": ["a", "b", "b", "d", "a"],
            "history": pd.Series([["a", "c"], ["c"], ["d", "a", "b"], [], ["e"]], dtype=object),
            "genres": ["x|y", "y", "z", "", "x"],
            "liked": pd.Series([["y"], ["w"], [], ["x"], ["y"]], dtype=object),
            "price": [1.0, 2.0, np.nan, 4.0, 5.0],
        }
    )
    params = {
        "min_frequency": 2,
        "max_sequence_length": {"history": 2},
        "multi_value_features": {"genres": "|"},
        "shared_vocabulary": {"history": "item", "liked": "genres"},
    }
    reference = FeatureEncoder(**params).fit(X)
    codes, dense = reference.encode(X)
    # item + history (kept items): a 2+2, b 2+1, c 0+2, d 1, e 1 -> a=2, b=3, c=4; genres + liked: x 2+1,
    # y 2+2, z 1, w 1 -> x=2, y=3.
    assert_array_equal(codes[:, 0], [2, 3, 3, UNKNOWN, 2])
    assert_array_equal(codes[:, 1:3], [[2, 4], [4, PAD], [2, 3], [PAD, PAD], [UNKNOWN, PAD]])
    assert_array_equal(
        codes[:, 3:], [[2, 3, 3], [3, PAD, UNKNOWN], [UNKNOWN, PAD, PAD], [PAD, PAD, 2], [2, PAD, 3]]
    )
    assert reference.field_spec_.categorical_fields == ("item", "history", "genres", "liked")
    assert reference.field_spec_.shared_tables == (0, 0, 2, 2)
    assert reference.field_spec_.cardinalities == (5, 5, 4, 4)
    encoder = FeatureEncoder(**params).set_output(transform=output)
    fitted_codes, fitted_dense = encoder.fit_encode(X)
    assert_array_equal(fitted_codes, codes)
    assert_array_equal(fitted_dense, dense)
    transformed = FeatureEncoder(**params).set_output(transform=output).fit_transform(X)
    assert_array_equal(np.asarray(transformed), np.asarray(encoder.transform(X)))
    assert_array_equal(np.asarray(transformed)[:, : codes.shape[1]], codes)


def test_integer_items_of_a_narrow_and_a_wide_range_are_keyed_alike():
    cells = [[5, 7], [7, 5, 9], [], [9]]
    narrow = FeatureEncoder().fit(_frame(h=cells))
    wide = FeatureEncoder().fit(_frame(h=[[item + 2**62 for item in cell] for cell in cells]))
    assert_array_equal(
        _codes(narrow, _frame(h=cells)), _codes(wide, _frame(h=[[i + 2**62 for i in c] for c in cells]))
    )
    assert_array_equal(_codes(narrow, _frame(h=[[9, 6, "7"]])), [[4, UNKNOWN, 3]])


def test_ndarray_input_and_empty_input():
    X = np.empty((3, 2), dtype=object)
    X[:, 0] = ["a", "b", "a"]
    X[:, 1] = pd.Series([["u"], ["v", "u"], None], dtype=object).to_numpy()
    encoder = FeatureEncoder()
    assert_array_equal(encoder.fit_encode(X)[0], [[2, 2, PAD], [3, 3, 2], [2, PAD, PAD]])
    assert encoder.multi_value_columns_ == ["x1"]
    assert encoder.get_feature_names_out().tolist() == ["x0", "x1_0", "x1_1"]
    empty = encoder.encode(X[:0])[0]
    assert empty.shape == (0, 3) and empty.dtype == np.int32


def test_list_slots_may_not_clash_with_a_column_name():
    X = pd.DataFrame({"tags": pd.Series([["a"], ["b"]], dtype=object), "tags_0": ["x", "y"]})
    with pytest.raises(ValueError, match=r"'tags_0' and 'tags' .*the item slots of 'tags'"):
        FeatureEncoder().fit(X)


def test_more_bad_parameters():
    X = pd.DataFrame({"t": pd.Series([["a"], ["b"]], dtype=object), "city": ["p", "q"], "town": ["q", "r"]})
    for length in (True, 2.5, -1):
        with pytest.raises(ValueError, match=r"max_sequence_length gives column 't' the length"):
            FeatureEncoder(max_sequence_length={"t": length}).fit(X)
    with pytest.raises(ValueError, match=r"'multi_value_features' parameter"):
        FeatureEncoder(multi_value_features="t").fit(X)
    # Two single-value columns may share a vocabulary too.
    encoder = FeatureEncoder(shared_vocabulary={"city": "town"}).fit(X)
    assert encoder.field_spec_.shared_tables == (0, 0, 2)
    assert_array_equal(_codes(encoder, X)[:, :2], [[2, 3], [3, 4]])


def test_encoder_state_is_json_and_skops_round_trips(tmp_path):
    import json

    X = pd.DataFrame(
        {
            "item": ["a", "b", "c"],
            "genres": ["x|y", "", "y"],
            "history": pd.Series([["b", "c", "a"], [], None], dtype=object),
        }
    )
    encoder = FeatureEncoder(
        multi_value_features={"genres": "|"},
        max_sequence_length={"history": 2},
        shared_vocabulary={"history": "item"},
    ).fit(X)
    rebuilt = rebuild_encoder(json.loads(json.dumps(encoder_state(encoder), allow_nan=False)))
    assert rebuilt.field_spec_ == encoder.field_spec_
    assert rebuilt.get_params() == encoder.get_params()
    assert_array_equal(_codes(rebuilt, X), _codes(encoder, X))
    sio = pytest.importorskip("skops.io")
    from sklearn_pangu.io._skops import skops_trusted_types

    path = tmp_path / "encoder.skops"
    sio.dump(encoder, path)
    loaded = sio.load(path, trusted=skops_trusted_types())
    assert_array_equal(_codes(loaded, X), _codes(encoder, X))


def test_partial_fit_reads_new_items_as_unknown():
    from sklearn_pangu import LRClassifier

    X = pd.DataFrame(
        {
            "user": ["u", "v"] * 20,
            "history": pd.Series([["a", "b"], ["b"], [], ["c", "a"]] * 10, dtype=object),
        }
    )
    y = np.tile([0, 1], 20)
    model = LRClassifier(max_epochs=1, batch_size=8, random_state=0).fit(X, y)
    vocabulary = model.encoder_.column_transformer_.named_transformers_["lists"].categories_[0].tolist()
    later = X.assign(history=pd.Series([["new", "a"]] * 40, dtype=object))
    model.partial_fit(later, y)
    assert (
        model.encoder_.column_transformer_.named_transformers_["lists"].categories_[0].tolist() == vocabulary
    )
    assert_array_equal(model.encoder_.encode(later.head(1))[0], [[2, UNKNOWN, 2]])
    assert np.isfinite(model.predict_proba(later)).all()
