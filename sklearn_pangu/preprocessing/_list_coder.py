"""List (multi-value) columns to padded matrices of item indices.

A list column is read into one flat array of items and the number of items of each
row, without a Python loop over the items: Arrow list columns through their offsets,
object columns of lists, tuples or 1-D arrays through ``pyarrow.array`` (or, without
pyarrow or for items of mixed types, ``itertools.chain``), delimited text through
``pyarrow.compute.split_pattern``. Each row keeps its last ``L`` items; the kept items
are keyed and looked up like the categories of a single-value column (the same
:func:`~sklearn_pangu.preprocessing._column_coders.category_keys`, hash lookup and
reserved indices), then scattered into an ``(n_rows, L)`` matrix, oldest item first,
with :data:`~sklearn_pangu._fields.PAD_CODE` after the last one.
"""

from __future__ import annotations

import itertools
from numbers import Integral
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, RealNotInt
from sklearn.utils.validation import check_is_fitted

from .._fields import PAD_CODE
from ._column_coders import (
    FIRST_CATEGORY_INDEX,
    VocabularyMixin,
    _as_frame,
    _bool_aliases,
    _codes_and_keys,
    _column_names,
    _frequent_keys,
    _index_dtype,
    _index_table,
    _look_up_aliases,
    _object_key,
    category_keys,
    frequency_threshold,
    key_counts,
)
from ._containers import arrow_type, is_arrow_list, raise_cells_error

#: Slots of a list field whose column ``max_sequence_length`` does not name.
DEFAULT_MAX_SEQUENCE_LENGTH = 50
#: Cells that hold the items of a list column.
LIST_CELLS = (list, tuple, np.ndarray)
_UNSUPPORTED_CELLS = (dict, set, frozenset)


class Lists(NamedTuple):
    """The items of a list column: all rows' items, row after row, and each row's number of items."""

    items: pd.Series
    lengths: np.ndarray


def _shown(value) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _single_values_error(name, example, *, among_lists: bool) -> TypeError:
    where = "among its lists" if among_lists else "where lists were expected"
    return TypeError(
        f"Column {name!r} is a list column but holds single values {where} (e.g. {_shown(example)}): "
        "every cell of a list column holds a list, tuple or 1-D array of items, or a missing value "
        "(None, NaN) for no items, at fit and at predict. Text with a delimiter is declared with "
        f"multi_value_features={{{name!r}: '|'}}."
    )


def _nested_error(name, example, what: str = "an item") -> TypeError:
    return TypeError(
        f"Column {name!r} holds lists of lists or of other containers (e.g. {what} {_shown(example)}): the "
        "items of a list column must be single values. Flatten each cell, or join each inner list into "
        "one item."
    )


def _pyarrow():
    """pyarrow, or None: the fast readers need it, the others do without."""
    try:
        import pyarrow
        import pyarrow.compute  # noqa: F401
    except ImportError:
        return None
    return pyarrow


def _no_items(n_rows: int) -> Lists:
    return Lists(pd.Series([], dtype=object), np.zeros(n_rows, dtype=np.int64))


def read_lists(column: pd.Series, name, delimiter: str | None = None) -> Lists:
    """Read the items of a list column.

    Parameters
    ----------
    column : Series
        An Arrow list column; an object column of lists, tuples or 1-D arrays; or,
        with ``delimiter``, text (or numbers, one item each). Missing cells (None,
        NaN, ``pd.NA``) and empty lists have no items; a missing value inside a list
        is a missing item.
    name : str
        The column, as errors name it.
    delimiter : str, default=None
        Split text cells on it (``""`` has no items, text without it is one item).

    Returns
    -------
    lists : Lists
        The flat items and each row's number of items.

    Raises
    ------
    TypeError
        Naming the column, when a cell holds a single value where lists are
        expected, when a list holds lists, or when a cell holds a dict or a set.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_pangu.preprocessing._list_coder import read_lists
    >>> lists = read_lists(pd.Series([["a", "b"], None, ["c"]]), "tags")
    >>> lists.items.tolist(), lists.lengths.tolist()
    (['a', 'b', 'c'], [2, 0, 1])
    """
    dtype = column.dtype
    arrow = arrow_type(dtype)
    if is_arrow_list(arrow):
        return _from_arrow(column.array.__arrow_array__(), name)
    pa = _pyarrow()
    text = pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype)
    if delimiter is not None and text and pa is not None:
        return _split_text(column.array.__arrow_array__(), name, delimiter)
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) or text:
        return _from_objects(column.to_numpy(dtype=object), name, delimiter)
    present = column.notna().to_numpy()
    if not present.any():
        return _no_items(len(column))
    if delimiter is None:
        raise _single_values_error(name, column[present].iloc[0], among_lists=False)
    # Numbers in a delimited column: one item each.
    return Lists(column[present].reset_index(drop=True), present.astype(np.int64))


def _from_objects(values: np.ndarray, name, delimiter: str | None) -> Lists:
    """The items of an object column (lists, tuples, 1-D arrays, or text with a delimiter)."""
    present = pd.notna(values)
    cells = values if present.all() else values[present]
    kinds = set(map(type, cells))
    lists = {kind for kind in kinds if issubclass(kind, LIST_CELLS)}
    singles = kinds - lists
    for kind in singles:
        if issubclass(kind, _UNSUPPORTED_CELLS):
            raise_cells_error(name, next(c for c in cells if type(c) is kind), kind.__name__)
    if singles and (lists or delimiter is None):
        example = next(c for c in cells if type(c) in singles)
        raise _single_values_error(name, example, among_lists=bool(lists))
    if singles:
        return _delimited_objects(values, present, cells, singles, name, delimiter)
    if not lists:
        return _no_items(len(values))
    pa = _pyarrow()
    if pa is not None:
        try:
            array = pa.array(values, from_pandas=True)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            pass  # items of mixed types, integers beyond 64 bits, arrays of 2 dimensions
        else:
            # Nested items go the Python way, whose error shows them as they are.
            if is_arrow_list(array.type) and not pa.types.is_nested(array.type.value_type):
                return _from_arrow(array, name)
    return _from_python(cells, present, name)


def _delimited_objects(values, present, cells, kinds: set, name, delimiter: str) -> Lists:
    """Text cells split on ``delimiter``; a number (a cell that is not text) is one item."""
    is_text = [issubclass(kind, str) for kind in kinds]
    if all(is_text):
        strings = values
    elif not any(is_text):
        return Lists(pd.Series(cells, dtype=object), present.astype(np.int64))
    else:
        strings = values.copy()
        strings[present] = [cell if isinstance(cell, str) else _object_key(cell) for cell in cells]
    pa = _pyarrow()
    if pa is not None:
        return _split_text(pa.array(strings, type=pa.large_string(), mask=~present), name, delimiter)
    texts = strings[present]
    lengths = np.zeros(len(values), dtype=np.int64)
    lengths[present] = [text.count(delimiter) + 1 if text else 0 for text in texts]
    nonempty = [text for text in texts if text]
    items = delimiter.join(nonempty).split(delimiter) if nonempty else []
    return Lists(pd.Series(items, dtype=object), lengths)


def _from_python(cells: np.ndarray, present: np.ndarray, name) -> Lists:
    """The items of object cells that are all lists, tuples or arrays, through ``itertools.chain``."""
    for cell in cells:
        if isinstance(cell, np.ndarray) and cell.ndim != 1:
            raise _nested_error(name, cell, "a cell")
    lengths = np.zeros(len(present), dtype=np.int64)
    lengths[present] = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    items = np.fromiter(itertools.chain.from_iterable(cells), dtype=object, count=int(lengths.sum()))
    return Lists(pd.Series(items, dtype=object, copy=False), lengths)


def _split_text(text, name, delimiter: str) -> Lists:
    """Arrow text split on ``delimiter``, with ``""`` as a row without items."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    return _from_arrow(pc.split_pattern(text, pattern=delimiter), name)


def _from_arrow(array, name) -> Lists:
    """The items of an Arrow list array or chunked array, through its offsets."""
    import pyarrow as pa
    import pyarrow.compute as pc

    value_type = array.type.value_type
    if pa.types.is_nested(value_type):
        raise _nested_error(name, _first_list(array), "a cell")
    lengths = pc.list_value_length(array).fill_null(0).to_numpy().astype(np.int64, copy=False)
    items = pc.list_flatten(array)
    if pa.types.is_dictionary(value_type):
        value_type = _computable(value_type.value_type)
        chunks = items.chunks if isinstance(items, pa.ChunkedArray) else [items]
        items = pa.chunked_array(
            [chunk.dictionary.cast(value_type).take(chunk.indices) for chunk in chunks], type=value_type
        )
    elif _computable(value_type) != value_type:
        value_type = _computable(value_type)
        items = items.cast(value_type)
    if pa.types.is_null(value_type):
        items = items.cast(pa.string())
    elif (pa.types.is_integer(value_type) or pa.types.is_floating(value_type)) and not items.null_count:
        # NumPy numbers hash faster than Arrow's.
        return Lists(pd.Series(items.to_numpy(), copy=False), lengths)
    if isinstance(items, pa.ChunkedArray) and items.num_chunks == 0:
        items = pa.chunked_array([], type=items.type)
    return Lists(pd.Series(pd.arrays.ArrowExtensionArray(items)), lengths)


def _computable(arrow):
    """The Arrow type pandas computes on for items of type ``arrow``: views become large strings or binaries.

    polars gives its text, and the categories of a list of categoricals, as views.
    """
    import pyarrow as pa

    if pa.types.is_string_view(arrow):
        return pa.large_string()
    if pa.types.is_binary_view(arrow):
        return pa.large_binary()
    return arrow


def _first_list(array):
    """The first non-empty list of an Arrow list array, as Python values (for an error message)."""
    for value in array:
        cell = value.as_py()
        if cell:
            return cell
    return None


def keep_last(lists: Lists, length: int) -> Lists:
    """Keep the last ``length`` items of each row; the rows' other items are dropped.

    It indexes the kept items only: the work and memory follow the kept items, not
    the longest list.
    """
    lengths = lists.lengths
    if not len(lengths) or lengths.max() <= length:
        return lists
    kept = np.minimum(lengths, length)
    ends = np.cumsum(lengths)
    first_out = np.cumsum(kept) - kept
    positions = np.arange(int(kept.sum())) + np.repeat(ends - kept - first_out, kept)
    return Lists(pd.Series(lists.items.array.take(positions)), kept)


def _padded(values: np.ndarray, lengths: np.ndarray, out: np.ndarray) -> None:
    """Write each row's ``lengths[i]`` values (row after row in ``values``) into ``out``'s first slots."""
    out.fill(PAD_CODE)
    out[np.arange(out.shape[1]) < lengths[:, None]] = values


def _dense_integer_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, str]] | None:
    """:func:`item_codes` of integer items spanning a range no wider than their count, without hashing.

    Item ids usually are such a range: a bitmap of the values seen, and its running
    count, give each value its rank. None when the range is wider.
    """
    low, high = int(values.min()), int(values.max())
    span = high - low + 1
    if span > max(len(values), 2**16):
        return None
    offsets = values - values.dtype.type(low)
    seen = np.zeros(span, dtype=bool)
    seen[offsets] = True
    rank = np.cumsum(seen, dtype=np.int32) - 1
    distinct = pd.Series(np.flatnonzero(seen) + low)
    keys, _ = category_keys(distinct)
    return rank[offsets], keys, _bool_aliases(distinct, keys)


def item_codes(items: pd.Series, name) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Codes, keys and aliases (as ``_column_coders._codes_and_keys``) of the items of list column ``name``.

    An item that is itself a list, tuple, array, dict or set is a ``TypeError`` naming
    the column.
    """
    if items.dtype.kind in "iu" and isinstance(items.dtype, np.dtype) and len(items):
        codes = _dense_integer_codes(items.to_numpy())
        if codes is not None:
            return codes
    try:
        return _codes_and_keys(items)
    except TypeError:
        if items.dtype == object:
            for item in items:
                if isinstance(item, (*LIST_CELLS, *_UNSUPPORTED_CELLS)):
                    raise _nested_error(name, item) from None
        raise


class ListCoder(VocabularyMixin, TransformerMixin, BaseEstimator):
    """Map each list column to a padded matrix of item indices.

    A list column with ``L`` slots becomes ``L`` output columns: its items' indices
    in cell order (oldest first), then :data:`~sklearn_pangu._fields.PAD_CODE` (-1)
    in the slots after the last item. A list of more than ``L`` items keeps its last
    ``L``. Items are indexed like the categories of
    :class:`~sklearn_pangu.preprocessing._column_coders.CategoryCoder`: 0 for items not
    seen at fit (and rare ones), 1 for a missing item (None or NaN inside a list), 2
    onwards for the items seen at fit, in sorted order of their keys. Only the kept
    items are seen: an item that only ever came before a row's last ``L`` is unknown.
    ``L`` is the smaller of ``max_sequence_length`` and the longest list seen at fit,
    and at least 1.

    Parameters
    ----------
    min_frequency : int or float, default=None
        Items seen fewer times than this at fit (a fraction of the rows when a
        float) share index 0 with unknown items.
    max_sequence_length : int or dict of str to int, default=50
        Most slots of a list field: one for every column, or by column name (a
        column not named gets :data:`DEFAULT_MAX_SEQUENCE_LENGTH`).
    delimiters : dict of str to str, default=None
        The columns of delimited text, and the delimiter of each.
    shared_features : tuple of str, default=()
        Columns whose vocabulary another column shares: each keeps all its items
        at fit, with their counts (see
        :class:`~sklearn_pangu.preprocessing._column_coders.VocabularyMixin`).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_pangu.preprocessing._list_coder import ListCoder
    >>> X = pd.DataFrame({"tags": [["a", "b", "c"], [], ["b", None]]})
    >>> ListCoder(max_sequence_length=2).fit_transform(X).tolist()
    [[2, 3], [-1, -1], [2, 1]]
    """

    _parameter_constraints: dict = {
        "min_frequency": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            None,
        ],
        "max_sequence_length": [Interval(Integral, 1, None, closed="left"), dict],
        "delimiters": [dict, None],
        "shared_features": [tuple],
    }

    def __init__(
        self,
        *,
        min_frequency: int | float | None = None,
        max_sequence_length: int | dict = DEFAULT_MAX_SEQUENCE_LENGTH,
        delimiters: dict | None = None,
        shared_features: tuple = (),
    ) -> None:
        self.min_frequency = min_frequency
        self.max_sequence_length = max_sequence_length
        self.delimiters = delimiters
        self.shared_features = shared_features

    def _limit(self, name: str) -> int:
        if isinstance(self.max_sequence_length, dict):
            return int(self.max_sequence_length.get(name, DEFAULT_MAX_SEQUENCE_LENGTH))
        return int(self.max_sequence_length)

    def _read(self, frame: pd.DataFrame, j: int) -> Lists:
        name = self.feature_names_in_[j]
        return read_lists(frame.iloc[:, j], name, (self.delimiters or {}).get(name))

    def fit(self, X, y=None) -> ListCoder:
        self._fit(_as_frame(X), encode=False)
        return self

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit and encode ``X``, reading each column once."""
        return self._fit(_as_frame(X), encode=True)

    def _fit(self, frame: pd.DataFrame, *, encode: bool) -> np.ndarray | None:
        self._validate_params()
        threshold = frequency_threshold(self.min_frequency, len(frame))
        self.feature_names_in_ = np.asarray(_column_names(frame), dtype=object)
        self.categories_, self._shared_counts, self._index_cache = [], {}, {}
        lengths, blocks = [], []
        for j, name in enumerate(self.feature_names_in_):
            lists = self._read(frame, j)
            length = max(1, min(self._limit(name), int(lists.lengths.max(initial=0))))
            lists = keep_last(lists, length)
            codes, keys, aliases = item_codes(lists.items, name)
            if name in self.shared_features:
                frequent, self._shared_counts[j] = key_counts(codes, keys)
                table = None
            else:
                frequent, table = _frequent_keys(codes, keys, threshold)
            self.categories_.append(frequent)
            lengths.append(length)
            if encode:
                if table is None:
                    table = _index_table(keys, self._category_index(j))
                _look_up_aliases(table, aliases, self._category_index(j))
                block = np.empty((len(frame), length), dtype=table.dtype)
                _padded(table[codes], lists.lengths, block)
                blocks.append(block)
        self.sequence_lengths_ = np.array(lengths, dtype=np.int64)
        self.cardinalities_ = np.array([len(c) + FIRST_CATEGORY_INDEX for c in self.categories_])
        if not encode:
            return None
        dtype = _index_dtype(max(self.cardinalities_, default=FIRST_CATEGORY_INDEX) - 1)
        return (
            np.hstack([b.astype(dtype, copy=False) for b in blocks]) if blocks else np.empty((len(frame), 0))
        )

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self)
        frame = _as_frame(X)
        largest = max(self.cardinalities_, default=FIRST_CATEGORY_INDEX) - 1
        out = np.empty((len(frame), int(self.sequence_lengths_.sum())), dtype=_index_dtype(largest))
        start = 0
        for j, length in enumerate(self.sequence_lengths_):
            lists = keep_last(self._read(frame, j), int(length))
            codes, keys, aliases = item_codes(lists.items, self.feature_names_in_[j])
            table = _index_table(keys, self._category_index(j))
            _look_up_aliases(table, aliases, self._category_index(j))
            _padded(table[codes], lists.lengths, out[:, start : start + length])
            start += length
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self)
        names = [
            f"{name}_{slot}"
            for name, length in zip(self.feature_names_in_, self.sequence_lengths_, strict=True)
            for slot in range(length)
        ]
        return np.asarray(names, dtype=object)
