"""Per-column transformers that :class:`FeatureEncoder` routes columns to.

Each one takes a 2-D block (a DataFrame, or an ndarray when the encoder was fitted
on an ndarray) and knows nothing about the other blocks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, Options, RealNotInt
from sklearn.utils.validation import check_is_fitted

from ._containers import arrow_type, is_arrow_temporal, raise_cells_error

#: Index of a category not seen at fit (or too rare to keep).
UNKNOWN_INDEX = 0
#: Index of a missing value (NaN, None, ``pd.NA``).
MISSING_INDEX = 1
#: First index given to a category seen at fit.
FIRST_CATEGORY_INDEX = 2
#: Bound on the magnitude of a standardized dense feature (see :class:`NumericScaler`).
DENSE_CLIP = 1e6
#: Strings read as a missing value in a numeric column: what ``str`` writes for NaN, NA, None, NaT.
MISSING_TEXT = ("nan", "NaN", "<NA>", "None", "NaT")
#: Up to this many rows, :meth:`CategoryCoder.transform` looks a text, integer or bool
#: column's cells up one by one in a dict of its categories: for the few rows of a
#: serving request, faster than hashing the column with pandas.
SMALL_FRAME_ROWS = 512
#: From this many rows up to :data:`SMALL_FRAME_ROWS`, an Arrow-backed text column's
#: cells are looked up by Arrow (``pyarrow.compute.index_in``) rather than one by one in
#: Python: Arrow's call costs more than a few Python lookups but less than a hundred.
ARROW_LOOKUP_ROWS = 100
#: Bytes of the column-major buffer of ``transform``: it encodes as many whole columns
#: as fit in the buffer, then copies them into the row-major output at once, faster
#: than a strided write per column (all the columns of a prediction chunk of 262,144
#: rows fit). One column at a time when a single column is larger.
TRANSFORM_BUFFER_BYTES = 32 * 2**20


def _index_dtype(largest_index: int) -> type:
    """int32 for embedding indices up to 2**31 - 1 (half the memory of int64), else int64."""
    return np.int32 if largest_index <= np.iinfo(np.int32).max else np.int64


def _as_frame(X) -> pd.DataFrame:
    """The coders receive named DataFrames from FeatureEncoder; accept arrays too."""
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _column_groups(n_rows: int, n_columns: int, itemsize: int) -> Iterator[range]:
    """Consecutive columns, as many at a time as fill :data:`TRANSFORM_BUFFER_BYTES` (at least one)."""
    size = max(1, TRANSFORM_BUFFER_BYTES // max(n_rows * itemsize, 1))
    for first in range(0, n_columns, size):
        yield range(first, min(first + size, n_columns))


def _column_names(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns]


#: The other name of a category that a bool and a number share (``True == 1``): a bool
#: column's categories are named ``"True"``/``"False"``, a numeric column's ``"1"``/``"0"``.
BOOL_ALIASES = {"True": "1", "False": "0", "1": "True", "0": "False"}
#: Cells that hold several values; a categorical or numeric column takes one value per cell.
_CONTAINER_TYPES = (list, tuple, dict, set, frozenset, np.ndarray)


def _is_bool_like(value) -> bool:
    """Whether ``value`` is a bool, or a real number (not text) equal to 0 or 1."""
    if isinstance(value, (bool, np.bool_)):
        return True
    return isinstance(value, Real) and value in (0, 1)


def _object_key(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _object_keys(distinct: np.ndarray, name) -> dict:
    """The key of each distinct value of an object column named ``name``.

    A bool and the number it equals are one value (``True == 1``, as in Python, and
    ``pd.factorize`` keeps whichever comes first), so their key depends on the values,
    never on their order: ``"True"``/``"False"`` when every value is a bool or a number
    equal to 0 or 1, as for a bool column, else ``"1"``/``"0"``, as for a numeric one.
    """
    keys, bool_like = {}, True
    for value in distinct:
        if isinstance(value, _CONTAINER_TYPES):
            raise_cells_error(name, value, type(value).__name__)
        bool_like = bool_like and _is_bool_like(value)
        keys[value] = _object_key(value)
    if keys and bool_like:
        return {value: "True" if value else "False" for value in keys}
    return keys


def _raise_unhashable(column: pd.Series, name) -> None:
    """Raise the error naming column ``name`` when one of its cells is a list, dict, tuple or array.

    It runs only after reading the column failed, so it may read every row.
    """
    for value in column:
        if isinstance(value, _CONTAINER_TYPES):
            raise_cells_error(name, value, type(value).__name__)


def category_keys(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return the string key of every value of ``column`` and its missing mask.

    Every categorical column is keyed by strings so that the same category matches
    whatever its dtype at predict time: ``3``, ``3.0`` (an integer column that
    gained a NaN) and ``"3"`` all become ``"3"``, and ``2.5`` becomes ``"2.5"``.
    Integers are keyed exactly, whatever their size. Bools are keyed ``"True"`` and
    ``"False"``; in an object column that also holds other numbers or text they are
    the numbers they equal (see :func:`_object_keys`). Category-dtype columns are
    keyed through their categories by :func:`_codes_and_keys`. A cell holding a list,
    tuple, dict, set or array is a ``TypeError`` naming the column.
    """
    missing = column.isna().to_numpy()
    if pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=object, na_value=False).astype(bool)
        return np.where(values, "True", "False").astype(object), missing
    if pd.api.types.is_integer_dtype(column.dtype):
        # Exact, even beyond 2**53 (hashed 64-bit ids): never through float64.
        numpy_dtype = getattr(column.dtype, "numpy_dtype", column.dtype)
        return column.to_numpy(dtype=numpy_dtype, na_value=0).astype(str).astype(object), missing
    if _is_real_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        keys = values.astype(str).astype(object)
        # Value by value, an integral float is keyed as the integer it equals.
        with np.errstate(invalid="ignore"):
            integral = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2.0**63)
        keys[integral] = values[integral].astype(np.int64).astype(str)
        return keys, missing
    if pd.api.types.is_object_dtype(column.dtype):
        present = column[~missing]
        keys = np.full(len(column), "", dtype=object)
        keys[~missing] = present.map(_object_keys(pd.unique(present), column.name)).to_numpy(dtype=object)
        return keys, missing
    return column.astype(str).to_numpy(dtype=object), missing


def _is_real_dtype(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)


def _bool_aliases(values: pd.Series, keys: np.ndarray) -> dict[int, str]:
    """Position of each bool, or number equal to 0 or 1, among distinct ``values``, and its other name.

    ``keys`` are the keys of ``values``. Text has no other name: ``"1"`` is not ``True``.
    """
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        positions = np.flatnonzero(values.notna().to_numpy())
    elif _is_real_dtype(dtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        positions = np.flatnonzero((numbers == 0) | (numbers == 1))
    elif pd.api.types.is_object_dtype(dtype):
        candidates = np.flatnonzero(pd.Series(keys, dtype=object).isin(list(BOOL_ALIASES)).to_numpy())
        positions = [p for p in candidates if _is_bool_like(values.iloc[p])]
    else:
        return {}
    return {int(p): BOOL_ALIASES[keys[p]] for p in positions}


def _codes_and_keys(column: pd.Series) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Integer code of every row of ``column`` (-1 when missing), the key of each code, and aliases.

    The column is hashed once (its categories, for a category dtype); only its
    distinct values are turned into string keys. Distinct values may share a key
    (``3`` and ``"3"`` in an object column). The aliases give, by code, the other
    name of a bool or a 0/1 number (see :data:`BOOL_ALIASES`), which is looked up when
    its own is not a category.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, distinct = column.array.codes, pd.Series(column.dtype.categories, name=column.name)
    else:
        try:
            codes, uniques = pd.factorize(column, use_na_sentinel=True)
        except TypeError:
            _raise_unhashable(column, column.name)
            raise
        distinct = pd.Series(uniques, name=column.name)
    keys, _ = category_keys(distinct)
    return codes, keys, _bool_aliases(distinct, keys)


def frequency_threshold(min_frequency: int | float | None, n_rows: int) -> int:
    """The fewest rows a category needs to be kept: ``min_frequency``, a count or a fraction of the rows."""
    if min_frequency is None:
        return 1
    if isinstance(min_frequency, Real) and not isinstance(min_frequency, Integral):
        return int(np.ceil(min_frequency * n_rows))
    return int(min_frequency)


def key_counts(codes: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every key of ``codes`` (sorted, each once) and its count; missing codes (-1) are left out.

    Distinct codes may share a key (``3`` and ``"3"``); their counts are summed.
    """
    counts = np.bincount(np.add(codes, 1, dtype=np.intp), minlength=len(keys) + 1)[1:]
    summed = _summed_by_key(keys, counts)
    return summed.index.to_numpy(dtype=object), summed.to_numpy()


def frequent_vocabulary(keys: np.ndarray, counts: np.ndarray, threshold: int) -> np.ndarray:
    """The keys counted at least ``threshold`` times, sorted; ``keys`` may repeat, their counts are summed."""
    summed = _summed_by_key(keys, counts)
    return summed.index[summed.to_numpy() >= threshold].to_numpy(dtype=object)


def _summed_by_key(keys: np.ndarray, counts: np.ndarray) -> pd.Series:
    return pd.Series(counts, index=pd.Index(keys, dtype=object)).groupby(level=0, sort=True).sum()


def _frequent_keys(
    codes: np.ndarray, keys: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """The keys of at least ``threshold`` rows, sorted, and the index table of ``codes`` if it comes free.

    When the keys are distinct (the categories of a category column, the values of
    a string column), each code's count is its key's, and sorting the keys gives
    the table too: no hashing of the keys beyond the check. Otherwise the counts of
    keys shared by several codes are summed, and the table is left to :func:`_index_table`.
    """
    # Shifted by one, the missing rows (code -1) are counted in bin 0, dropped after.
    counts = np.bincount(np.add(codes, 1, dtype=np.intp), minlength=len(keys) + 1)[1:]
    distinct = pd.Index(keys, dtype=object)
    if distinct.is_unique:
        # Timsort (kind="stable") sorts Python strings faster than quicksort does, and
        # several times faster when they come in runs, as category labels often do.
        order = np.arange(len(keys)) if distinct.is_monotonic_increasing else np.argsort(keys, kind="stable")
        kept = order[counts[order] >= threshold]
        largest = FIRST_CATEGORY_INDEX + len(kept) - 1
        table = np.full(len(keys) + 1, UNKNOWN_INDEX, dtype=_index_dtype(largest))
        table[kept] = np.arange(FIRST_CATEGORY_INDEX, largest + 1)
        table[-1] = MISSING_INDEX
        return keys[kept], table
    summed = pd.Series(counts, index=distinct).groupby(level=0).sum()
    return np.sort(summed.index[summed.to_numpy() >= threshold].to_numpy(dtype=object), kind="stable"), None


def _index_table(keys: np.ndarray, index: pd.Index) -> np.ndarray:
    """Embedding index of each code's key, then that of a missing value (code -1 reads it).

    ``table[codes]`` encodes a column in one gather: a key found in ``index`` at
    position ``p`` gets ``p + FIRST_CATEGORY_INDEX``, any other ``UNKNOWN_INDEX``. The
    table is int32 where the indices fit (a gather of half the bytes of int64).
    """
    # An object Index as the target: given a bare array, pandas would first convert
    # text keys to its str dtype (Arrow strings) before looking them up.
    if len(keys):
        positions = index.get_indexer(pd.Index(keys, dtype=object, copy=False))
    else:
        positions = np.empty(0, dtype=np.intp)
    table = np.where(positions >= 0, positions + FIRST_CATEGORY_INDEX, UNKNOWN_INDEX)
    return np.append(table, MISSING_INDEX).astype(_index_dtype(FIRST_CATEGORY_INDEX + len(index) - 1))


def _look_up_aliases(table: np.ndarray, aliases: dict[int, str], index: pd.Index) -> None:
    """Give each code whose key is unknown the index of its alias, when that is a category.

    ``aliases`` holds at most a few codes (the bools, and numbers equal to 0 or 1).
    """
    for code, alias in aliases.items():
        if table[code] == UNKNOWN_INDEX:
            position = index.get_indexer(pd.Index([alias], dtype=object))[0]
            if position >= 0:
                table[code] = position + FIRST_CATEGORY_INDEX


def _is_arrow_text(dtype) -> bool:
    """Whether a column of ``dtype`` holds text in Arrow: pandas' str dtype stored by pyarrow, or Arrow's."""
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    arrow = arrow_type(dtype)
    if arrow is None:
        return False
    import pyarrow.types as types

    return types.is_string(arrow) or types.is_large_string(arrow)


def _text_cells(column: pd.Series) -> list | np.ndarray:
    """The cells of a column of pandas' string dtype: str, or None where missing.

    An Arrow-backed column is read through Arrow, which converts its missing cells as
    fast as the others; pandas' own conversion slows down severalfold on a column
    with any missing cell.
    """
    if _is_arrow_text(column.dtype):
        return column.array.__arrow_array__().to_pylist()
    return column.to_numpy(dtype=object, na_value=None)


class VocabularyMixin:
    """The vocabulary of each column of a coder: ``categories_[j]``, its hash index, and sharing it.

    A column named in the coder's ``shared_features`` keeps every key it saw at fit
    (whatever ``min_frequency``), with its count in ``_shared_counts[j]``, so that
    :class:`FeatureEncoder` can learn one vocabulary from all the columns of a group and
    give it to each of them with :meth:`replace_categories`.
    """

    def _derived(self, cache_name: str, key, j: int, build):
        """``build(categories_[j])``, built at its first use and kept under ``key`` in cache ``cache_name``.

        What it keeps is derived from ``categories_`` and left out of the saved state,
        which holds NumPy arrays and Python objects only (as skops requires). It is
        rebuilt when ``categories_[j]`` is replaced.
        """
        cache = self.__dict__.setdefault(cache_name, {})
        categories = self.categories_[j]
        if key not in cache or cache[key][0] is not categories:
            cache[key] = (categories, build(categories))
        return cache[key][1]

    def _category_index(self, j: int) -> pd.Index:
        """The hash index of ``categories_[j]`` (see :meth:`_derived`)."""
        return self._derived("_index_cache", j, j, lambda categories: pd.Index(categories, dtype=object))

    def replace_categories(self, j: int, categories: np.ndarray) -> np.ndarray:
        """Make ``categories`` the vocabulary of column ``j``; return the new index of each old one.

        ``remap[old_index]`` is the index under the new vocabulary of what had
        ``old_index`` (0 when its category is not in ``categories``), so that codes
        encoded before can be translated with one gather.
        """
        positions = pd.Index(categories, dtype=object).get_indexer(
            pd.Index(self.categories_[j], dtype=object)
        )
        translated = np.where(positions >= 0, positions + FIRST_CATEGORY_INDEX, UNKNOWN_INDEX)
        self.categories_[j] = categories
        self.cardinalities_[j] = len(categories) + FIRST_CATEGORY_INDEX
        return np.concatenate([[UNKNOWN_INDEX, MISSING_INDEX], translated]).astype(np.int64)

    def _category_dict(self, j: int, *, none_is_missing: bool = False) -> dict:
        """``{key: index}`` of ``categories_[j]`` (see :meth:`_derived`).

        With ``none_is_missing``, None is also a key, of :data:`MISSING_INDEX`.
        """

        def build(categories: np.ndarray) -> dict:
            keys = categories.tolist()
            lookup = dict(zip(keys, range(FIRST_CATEGORY_INDEX, FIRST_CATEGORY_INDEX + len(keys))))
            if none_is_missing:
                lookup[None] = MISSING_INDEX
            return lookup

        return self._derived("_dict_cache", (j, none_is_missing), j, build)

    def _arrow_text_codes(self, j: int, cells) -> np.ndarray:
        """The indices of the text cells ``cells`` (a pyarrow array) of column ``j``, looked up by Arrow.

        Arrow finds each cell's position in a value set of a null and then the
        categories (one per Arrow type of the cells, see :meth:`_derived`);
        ``table[position]`` is its index, the last entry (position -1) that of a cell
        not found.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        def build(categories: np.ndarray) -> tuple:
            value_set = pa.array([None, *categories.tolist()], type=cells.type)
            indices = np.arange(FIRST_CATEGORY_INDEX, FIRST_CATEGORY_INDEX + len(categories))
            table = np.concatenate([[MISSING_INDEX], indices, [UNKNOWN_INDEX]])
            return pc.SetLookupOptions(value_set, skip_nulls=False), table.astype(_index_dtype(table.max()))

        options, table = self._derived("_arrow_cache", (j, cells.type), j, build)
        # Positions as integers, or as floats with NaN when a cell was not found.
        positions = pc.call_function("index_in", [cells], options).to_numpy(zero_copy_only=False)
        if positions.dtype.kind == "f":
            positions = np.nan_to_num(positions, nan=-1).astype(np.intp)
        return table[positions]

    def __getstate__(self) -> dict:
        # The indexes, dicts and tables are caches derived from categories_ (``_indexes``
        # is their name in files saved by earlier versions), the counts scratch of a fit.
        caches = (
            "_index_cache",
            "_dict_cache",
            "_arrow_cache",
            "_category_tables",
            "_indexes",
            "_shared_counts",
        )
        return {name: value for name, value in super().__getstate__().items() if name not in caches}


class CategoryCoder(VocabularyMixin, TransformerMixin, BaseEstimator):
    """Map each categorical column to embedding indices.

    Index 0 is for unknown (and, with ``min_frequency``, rare) categories, index 1
    for missing values, and indices from 2 on for the categories seen at fit, in
    sorted order. Lookup is hash based (``pandas.Index.get_indexer``).

    Parameters
    ----------
    min_frequency : int or float, default=None
        Categories seen fewer times than this at fit (a fraction of the rows when
        a float) share index 0 with unknown categories.
    shared_features : tuple of str, default=()
        Columns whose vocabulary another column shares: each keeps all its
        categories at fit, with their counts (see :class:`VocabularyMixin`).
    """

    _parameter_constraints: dict = {
        "min_frequency": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            None,
        ],
        "shared_features": [tuple],
    }

    def __init__(self, *, min_frequency: int | float | None = None, shared_features: tuple = ()) -> None:
        self.min_frequency = min_frequency
        self.shared_features = shared_features

    def fit(self, X, y=None) -> CategoryCoder:
        self._fit(_as_frame(X), out=None)
        return self

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit and encode ``X``, hashing each column once."""
        frame = _as_frame(X)
        # A column has at most as many categories as rows.
        out = np.empty(frame.shape, dtype=_index_dtype(len(frame) + FIRST_CATEGORY_INDEX - 1))
        self._fit(frame, out)
        return out

    def _fit(self, frame: pd.DataFrame, out: np.ndarray | None) -> None:
        """Learn the categories of ``frame``, column by column, and write its indices into ``out``.

        Each column's integer codes (8 bytes a row) are dropped before the next column
        is read, so encoding many columns holds the codes of one column at a time.
        """
        self._validate_params()
        threshold = frequency_threshold(self.min_frequency, len(frame))
        self.feature_names_out_ = np.asarray(_column_names(frame), dtype=object)
        self.categories_, self._shared_counts = [], {}
        self._index_cache, self._category_tables = {}, {}
        for j, name in enumerate(self.feature_names_out_):
            column = frame.iloc[:, j]
            codes, keys, aliases = _codes_and_keys(column)
            if name in self.shared_features:
                frequent, self._shared_counts[j] = key_counts(codes, keys)
                table = None
            else:
                frequent, table = _frequent_keys(codes, keys, threshold)
            self.categories_.append(frequent)
            if table is None:
                table = _index_table(keys, self._category_index(j))
            _look_up_aliases(table, aliases, self._category_index(j))
            self._remember(j, column, table)
            if out is not None:
                out[:, j] = table[codes]
        self.cardinalities_ = np.array([len(c) + FIRST_CATEGORY_INDEX for c in self.categories_])

    def _remember(self, j: int, column: pd.Series, table: np.ndarray) -> None:
        """Keep the table of a category-dtype column: its next call with these categories reuses it."""
        if isinstance(column.dtype, pd.CategoricalDtype):
            tables = self.__dict__.setdefault("_category_tables", {})
            tables[j] = (self.categories_[j], column.dtype.categories, table)

    def _lookup(self, j: int, column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Codes of ``column`` and the index table of its codes."""
        if isinstance(column.dtype, pd.CategoricalDtype):
            fitted, categories, table = self.__dict__.setdefault("_category_tables", {}).get(j, (None,) * 3)
            current = column.dtype.categories
            same = categories is not None and (categories is current or categories.equals(current))
            if same and fitted is self.categories_[j]:
                return column.array.codes, table
        codes, keys, aliases = _codes_and_keys(column)
        table = _index_table(keys, self._category_index(j))
        _look_up_aliases(table, aliases, self._category_index(j))
        self._remember(j, column, table)
        return codes, table

    def _small_column_codes(self, j: int, column: pd.Series) -> list[int] | np.ndarray | None:
        """The indices of ``column``'s cells, looked up one by one; None unless its cells allow it.

        Text cells (in a str or object column) are their own keys, looked up by Arrow
        from :data:`ARROW_LOOKUP_ROWS` rows when Arrow holds them; integers and bools
        are keyed as :func:`category_keys` keys them, a 0/1 or bool unknown under its
        own key looked up under its other name (:data:`BOOL_ALIASES`). A column of any
        other dtype, or an object column holding anything but text and missing
        values, gives None: the general path encodes it.
        """
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            return None
        if len(column) >= ARROW_LOOKUP_ROWS and _is_arrow_text(dtype):
            return self._arrow_text_codes(j, column.array.__arrow_array__())
        if isinstance(dtype, pd.StringDtype):
            # Text or missing, nothing else: missing cells read as None, looked up as missing.
            lookup = self._category_dict(j, none_is_missing=True)
            cells = _text_cells(column)
            return list(map(lookup.get, cells, itertools.repeat(UNKNOWN_INDEX, len(cells))))
        lookup = self._category_dict(j)
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            out = []
            for value in column.to_numpy(dtype=object):
                if type(value) is str:
                    out.append(lookup.get(value, UNKNOWN_INDEX))
                elif value is None or value is pd.NA or (type(value) is float and value != value):
                    out.append(MISSING_INDEX)
                else:
                    return None
            return out
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":
            values = column.to_numpy()
            keys = (np.where(values, "True", "False") if dtype.kind == "b" else values.astype(str)).tolist()
            out = [lookup.get(key, UNKNOWN_INDEX) for key in keys]
            # An integer's key is in BOOL_ALIASES only for 0 and 1.
            for i, (index, key) in enumerate(zip(out, keys, strict=True)):
                if index == UNKNOWN_INDEX and key in BOOL_ALIASES:
                    out[i] = lookup.get(BOOL_ALIASES[key], UNKNOWN_INDEX)
            return out
        return None

    def small_frame_codes(self, columns: Sequence[pd.Series]) -> np.ndarray:
        """The codes of a few rows, given as this coder's columns in order, read cell by cell.

        For a request of a few rows a lookup per cell costs less than the vectorized
        path's setup; a column whose cells do not allow it takes the vectorized path.
        """
        largest = max(self.cardinalities_, default=FIRST_CATEGORY_INDEX) - 1
        n_rows = len(columns[0]) if columns else 0
        out = np.empty((n_rows, len(columns)), dtype=_index_dtype(largest))
        for j, column in enumerate(columns):
            codes = self._small_column_codes(j, column)
            if codes is None:
                codes, table = self._lookup(j, column)
                codes = table[codes]
            out[:, j] = codes
        return out

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self)
        frame = _as_frame(X)
        if len(frame) <= SMALL_FRAME_ROWS and frame.shape[1]:
            return self.small_frame_codes([column for _, column in frame.items()])
        largest = max(self.cardinalities_, default=FIRST_CATEGORY_INDEX) - 1
        out = np.empty(frame.shape, dtype=_index_dtype(largest))
        for columns in _column_groups(*frame.shape, out.itemsize):
            # One column's codes at a time, as in fit.
            columns_first = np.empty((len(columns), len(frame)), dtype=out.dtype)
            for k, j in enumerate(columns):
                codes, table = self._lookup(j, frame.iloc[:, j])
                np.take(table.astype(out.dtype, copy=False), codes, out=columns_first[k])
            out[:, columns.start : columns.stop] = columns_first.T
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self)
        return self.feature_names_out_.copy()


def numeric_values(frame: pd.DataFrame, names, positions=None) -> np.ndarray:
    """Return ``frame`` (its columns at ``positions``, default all) as float64 with NaN for missing values.

    Numbers that arrive as strings are converted (``" 3 "``, ``"1e-3"``), and the
    empty string and the text of a missing value (:data:`MISSING_TEXT`) are missing.
    A value that is not a number, or an infinite one (``"inf"`` included), is a
    ``ValueError`` and a complex, date or time column a ``TypeError``, each naming
    its column (``names``, one per column read).
    """
    positions = range(frame.shape[1]) if positions is None else positions
    return numeric_series_values([frame.iloc[:, j] for j in positions], names)


def numeric_series_values(columns: Sequence[pd.Series], names) -> np.ndarray:
    """:func:`numeric_values` of ``columns``, one per name of ``names``, as the columns of the result."""
    values = np.empty((len(columns[0]) if columns else 0, len(columns)), dtype=np.float64)
    for k, column in enumerate(columns):
        values[:, k] = numeric_series(column, names[k], check_finite=False)
    infinite = np.isinf(values)
    if infinite.any():
        _raise_infinite([names[j] for j in np.flatnonzero(infinite.any(axis=0))])
    return values


def numeric_column(frame: pd.DataFrame, j: int, name, *, check_finite: bool = True) -> np.ndarray:
    """Column ``j`` of ``frame`` as float64, read as :func:`numeric_values` reads it."""
    return numeric_series(frame.iloc[:, j], name, check_finite=check_finite)


def numeric_series(column: pd.Series, name, *, check_finite: bool = True) -> np.ndarray:
    """``column`` as float64, read as :func:`numeric_values` reads it."""
    dtype = column.dtype
    if pd.api.types.is_complex_dtype(dtype) or _is_time_dtype(dtype):
        hint = " (e.g. the parts of a date)" if _is_time_dtype(dtype) else ""
        raise TypeError(
            f"Column {name!r} is a numeric (dense) feature but has dtype {dtype}, which is "
            f"not a real number. Convert it to real numbers{hint}, or name it in "
            "categorical_features."
        )
    if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
        as_objects = column.astype(object)
        try:
            missing = column.isna() | as_objects.isin(MISSING_TEXT)
            column = pd.to_numeric(as_objects.where(~missing, np.nan))
        except (ValueError, TypeError) as exc:
            _raise_unhashable(as_objects, name)
            raise ValueError(
                f"Column {name!r} is a numeric (dense) feature but holds a value that is "
                f"not a number: {exc}. Convert it, or name it in categorical_features."
            ) from None
        if pd.api.types.is_complex_dtype(column.dtype):
            raise TypeError(f"Column {name!r} is a numeric (dense) feature but holds complex numbers.")
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biuf":  # NaN is the missing value
        values = column.to_numpy(dtype=np.float64)
    else:
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if check_finite and np.isinf(values).any():
        _raise_infinite([name])
    return values


def _raise_infinite(names: list) -> None:
    raise ValueError(
        f"Numeric column(s) {names} contain inf or -inf. Replace them with finite values "
        "or NaN (NaN is imputed)."
    )


def _is_time_dtype(dtype) -> bool:
    return (
        is_arrow_temporal(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype))
    )


class NumericScaler(TransformerMixin, BaseEstimator):
    """Standardize numeric columns, impute NaN with the mean, add missing indicators.

    A missing indicator column is added for each column that had missing values at
    fit; a constant or all-missing column is centred and left unscaled. The mean
    and standard deviation are computed without overflow for any finite input, and
    standardized values are clipped to ``[-DENSE_CLIP, DENSE_CLIP]`` so that a
    number far outside the range seen at fit (``1e300`` after fitting on ages)
    stays finite in float32 and in the network. At fit no value can be clipped
    unless there are more than ``DENSE_CLIP ** 2`` rows, since a sample's
    standardized values are bounded by the square root of its size.

    Parameters
    ----------
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Type of the array :meth:`transform` returns; each column is computed in
        float64 first. ``FeatureEncoder.fit_encode`` fits with float32, what the
        network reads, so that no float64 block of all rows is built.
    """

    _parameter_constraints: dict = {"dtype": [Options(type, {np.float64, np.float32})]}

    def __init__(self, *, dtype=np.float64) -> None:
        self.dtype = dtype

    def fit(self, X, y=None) -> NumericScaler:
        self._validate_params()
        frame = _as_frame(X)
        names = _column_names(frame)
        # One column at a time: the temporaries are a column, not a copy of X.
        n_columns = frame.shape[1]
        self.mean_, self.scale_ = np.zeros(n_columns), np.ones(n_columns)
        counts = np.zeros(n_columns, dtype=np.int64)
        for j in range(n_columns):
            values = numeric_column(frame, j, names[j])
            observed = values[~np.isnan(values)]
            counts[j] = observed.size
            if not observed.size:
                continue
            # Work in units of the column's largest magnitude, so no sum can overflow.
            unit = np.max(np.abs(observed))
            unit = unit if unit > 0 else 1.0
            unitless = observed / unit
            mean = unitless.mean()
            scale = np.sqrt(np.mean((unitless - mean) ** 2)) * unit
            self.mean_[j] = mean * unit
            self.scale_[j] = scale if scale > 0 else 1.0
        self.indicator_features_ = np.flatnonzero(counts < len(frame))
        self.feature_names_in_ = np.asarray(names, dtype=object)
        return self

    def transform(self, X) -> np.ndarray:
        return self.transform_as(X, self.dtype)

    def transform_as(self, X, dtype) -> np.ndarray:
        """:meth:`transform` into an array of ``dtype``, each column computed in float64.

        ``FeatureEncoder.encode`` asks for float32, what the network reads, so that no
        float64 block of all rows is built.
        """
        check_is_fitted(self)
        frame = _as_frame(X)
        names = list(self.feature_names_in_)
        n_columns = len(names)
        out = np.empty((len(frame), n_columns + len(self.indicator_features_)), dtype=dtype)
        indicator_of = {j: n_columns + k for k, j in enumerate(self.indicator_features_)}
        for columns in _column_groups(len(frame), n_columns, np.dtype(np.float64).itemsize):
            values = np.empty((len(columns), len(frame)))
            for k, j in enumerate(columns):
                values[k] = numeric_column(frame, j, names[j])
            self._scale_columns(values, columns, out, indicator_of)
        return out

    def transform_values(self, values: np.ndarray, dtype) -> np.ndarray:
        """:meth:`transform_as` of the columns already read as float64, ``values`` of shape (n, k)."""
        n_columns = len(self.feature_names_in_)
        out = np.empty((len(values), n_columns + len(self.indicator_features_)), dtype=dtype)
        indicator_of = {j: n_columns + k for k, j in enumerate(self.indicator_features_)}
        self._scale_columns(values.T.copy(), range(n_columns), out, indicator_of)
        return out

    def _scale_columns(self, values: np.ndarray, columns: range, out: np.ndarray, indicator_of: dict) -> None:
        """Scale ``values`` (columns ``columns``, one per row of it) in place into ``out``."""
        group = slice(columns.start, columns.stop)
        with np.errstate(over="ignore"):
            # A finite value minus the finite mean overflows to +-inf, never NaN, and
            # the clip bounds it; so NaN marks exactly the missing values.
            values -= self.mean_[group, None]
            values /= self.scale_[group, None]
        missing = np.isnan(values)
        np.copyto(values, 0.0, where=missing)  # the mean, imputed
        np.clip(values, -DENSE_CLIP, DENSE_CLIP, out=values)
        out[:, group] = values.T
        for k, j in enumerate(columns):
            if j in indicator_of:
                out[:, indicator_of[j]] = missing[k]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self)
        indicators = [f"missingindicator_{self.feature_names_in_[j]}" for j in self.indicator_features_]
        return np.asarray([*self.feature_names_in_, *indicators], dtype=object)


def bucket_edges(column: np.ndarray, n_bins: int) -> np.ndarray:
    """Sorted bucket edges of one column: repeated values on their own, quantiles of the rest.

    A value that holds at least ``1 / n_bins`` of the present values ``v`` gets the
    bucket ``[v, nextafter(v, inf))``; the other values share the remaining buckets
    at their quantiles (NumPy's default, linear), ties merged. NaN is ignored.
    """
    ordered = np.sort(column[~np.isnan(column)])
    if not ordered.size:
        return np.array([])
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, ordered.size])
    frequent = counts * n_bins >= ordered.size
    repeated = ordered[starts[frequent]]
    rest = ordered[~np.repeat(frequent, counts)]
    n_shared = n_bins - len(repeated)
    edges = [repeated, np.nextafter(repeated, np.inf)]
    if rest.size and n_shared >= 2:
        # np.quantile on the sorted values, without sorting them again.
        position = np.linspace(0, 1, n_shared + 1)[1:-1] * (rest.size - 1)
        below = np.floor(position).astype(np.intp)
        above = np.minimum(below + 1, rest.size - 1)
        edges.append(rest[below] + (position - below) * (rest[above] - rest[below]))
    return np.unique(np.concatenate(edges))


class QuantileBucketizer(TransformerMixin, BaseEstimator):
    """Turn numeric columns into categorical fields of quantile buckets.

    A value that holds at least ``1 / n_bins`` of a column's present values (the
    zero of a mostly-zero column) gets a bucket of its own; the other values share
    the remaining buckets by quantiles. Index 1 is for missing values and indices
    from 2 on for the buckets, in the order of the values, so the codes share the
    layout of :class:`CategoryCoder`.

    Parameters
    ----------
    n_bins : int, default=32
        Largest number of buckets per column; ties in the quantiles merge buckets.

    Attributes
    ----------
    bin_edges_ : list of ndarray
        Per column, the sorted edges: bucket ``k`` holds the values in
        ``[edges[k - 1], edges[k])`` (open-ended at both ends). A repeated value
        ``v`` has the bucket ``[v, nextafter(v, inf))``.
    cardinalities_ : ndarray of int
        Indices per column: the buckets, the missing index and the unused 0.
    """

    _parameter_constraints: dict = {"n_bins": [Interval(Integral, 2, None, closed="left")]}

    def __init__(self, *, n_bins: int = 32) -> None:
        self.n_bins = n_bins

    def fit(self, X, y=None) -> QuantileBucketizer:
        self._validate_params()
        frame = _as_frame(X)
        names = _column_names(frame)
        values = numeric_values(frame, names)
        self.bin_edges_ = [bucket_edges(values[:, j], self.n_bins) for j in range(values.shape[1])]
        self.cardinalities_ = np.array([len(e) + 1 + FIRST_CATEGORY_INDEX for e in self.bin_edges_])
        self.feature_names_in_ = np.asarray(names, dtype=object)
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self)
        frame = _as_frame(X)
        return self.transform_values(numeric_values(frame, list(self.feature_names_in_)))

    def transform_values(self, values: np.ndarray) -> np.ndarray:
        """:meth:`transform` of the columns already read as float64, ``values`` of shape (n, k)."""
        codes = np.empty(values.shape, dtype=_index_dtype(max(self.cardinalities_, default=0)))
        for j, edges in enumerate(self.bin_edges_):
            column = np.searchsorted(edges, values[:, j], side="right") + FIRST_CATEGORY_INDEX
            column[np.isnan(values[:, j])] = MISSING_INDEX
            codes[:, j] = column
        return codes

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self)
        return np.asarray([f"{name}_bucket" for name in self.feature_names_in_], dtype=object)


def _piece_codes(column: np.ndarray, boundaries: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``(n, K)`` uncentred piecewise-linear codes of ``column`` over ``boundaries`` (NaN rows: NaN)."""
    if out is None:
        out = np.empty((len(column), max(len(boundaries) - 1, 0)))
    if len(boundaries) < 2:
        return out
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        # A step piece's width is one ulp: any value above it divides to inf.
        np.subtract(column[:, None], boundaries[:-1], out=out)
        out /= np.diff(boundaries)
    return np.clip(out, 0.0, 1.0, out=out)


class PiecewiseLinearEncoder(TransformerMixin, BaseEstimator):
    """Encode numeric columns as piecewise-linear codes over their buckets (Gorishniy et al., 2022).

    A column's pieces are the intervals between consecutive boundaries
    ``b_0 < b_1 < ... < b_K``: its smallest value at fit, the edges of
    :func:`bucket_edges` inside its range, and its largest value. Piece ``t``
    encodes a value ``x`` as ``clip((x - b_t) / (b_{t+1} - b_t), 0, 1)``: 1 for the
    pieces below ``x``, the position of ``x`` inside its own piece, 0 above. A
    value seen at fit outside the range encodes as the nearer end. A repeated value
    ``v`` has the piece ``[v, nextafter(v, inf))``, a step: 0 at ``v``, 1 above.

    Each piece's code is then centred by its mean over the values present at fit,
    as the scaler centres a value: so the pieces do not start as copies of the
    model's bias (uncentred, they are mostly 1 or mostly 0 for every row, and a
    network's first steps move them all with the bias). A missing value encodes
    as those means, that is zeros, with a missing-indicator column after the
    pieces for each column that had missing values at fit.

    Parameters
    ----------
    n_bins : int, default=32
        As :class:`QuantileBucketizer`'s; a column has at most ``n_bins`` pieces
        plus one per repeated value.

    Attributes
    ----------
    boundaries_ : list of ndarray
        Per column, ``b_0 .. b_K`` (empty for a column without values at fit, one
        value for a constant column: no pieces).
    centers_ : list of ndarray
        Per column, the mean of each piece's code over the values present at fit.
    indicator_features_ : ndarray of int
        Columns that had missing values at fit.

    References
    ----------
    .. [1] Y. Gorishniy, I. Rubachev and A. Babenko, "On Embeddings for Numerical
       Features in Tabular Deep Learning", NeurIPS 2022.
    """

    _parameter_constraints: dict = {"n_bins": [Interval(Integral, 2, None, closed="left")]}

    def __init__(self, *, n_bins: int = 32) -> None:
        self.n_bins = n_bins

    def fit(self, X, y=None) -> PiecewiseLinearEncoder:
        self._validate_params()
        frame = _as_frame(X)
        names = _column_names(frame)
        values = numeric_values(frame, names)
        self.boundaries_, self.centers_ = [], []
        for column in values.T:
            present = column[~np.isnan(column)]
            boundaries = np.array([])
            if present.size:
                low, high = present.min(), present.max()
                edges = bucket_edges(present, self.n_bins)
                boundaries = np.unique(np.r_[low, edges[(edges > low) & (edges < high)], high])
            self.boundaries_.append(boundaries)
            self.centers_.append(_piece_codes(present, boundaries).mean(axis=0))
        self.indicator_features_ = np.flatnonzero(np.isnan(values).any(axis=0))
        self.feature_names_in_ = np.asarray(names, dtype=object)
        return self

    @property
    def pieces_(self) -> list[int]:
        """Number of pieces of each column."""
        return [max(len(b) - 1, 0) for b in self.boundaries_]

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self)
        frame = _as_frame(X)
        return self.transform_values(numeric_values(frame, list(self.feature_names_in_)))

    def transform_values(self, values: np.ndarray) -> np.ndarray:
        """:meth:`transform` of the columns already read as float64, ``values`` of shape (n, k)."""
        out = np.zeros((len(values), sum(self.pieces_) + len(self.indicator_features_)))
        start = 0
        for j, (boundaries, centers) in enumerate(zip(self.boundaries_, self.centers_, strict=True)):
            n_pieces = len(centers)
            if n_pieces:
                codes = _piece_codes(values[:, j], boundaries, out[:, start : start + n_pieces])
                codes -= centers
                codes[np.isnan(values[:, j])] = 0.0
            start += n_pieces
        for k, j in enumerate(self.indicator_features_):
            out[:, start + k] = np.isnan(values[:, j])
        return out

    def dense_fields(self) -> list[int]:
        """For each output column, the index of the input column it encodes."""
        check_is_fitted(self)
        owners = [j for j, n in enumerate(self.pieces_) for _ in range(n)]
        return owners + [int(j) for j in self.indicator_features_]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self)
        names = [
            f"{name}_piece_{t}"
            for name, n_pieces in zip(self.feature_names_in_, self.pieces_, strict=True)
            for t in range(n_pieces)
        ]
        indicators = [f"missingindicator_{self.feature_names_in_[j]}" for j in self.indicator_features_]
        return np.asarray([*names, *indicators], dtype=object)
