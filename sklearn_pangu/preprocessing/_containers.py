"""Data frames of other libraries (polars, pyarrow, the interchange protocol) read as pandas.

Every estimator reads ``X`` through :func:`~sklearn_pangu.preprocessing._encoder.as_2d_input`,
which calls :func:`to_pandas` and then :func:`normalize_arrow_columns`: a polars
DataFrame, a pyarrow Table or any frame with ``__arrow_c_stream__`` or
``__dataframe__`` becomes a pandas DataFrame of Arrow-backed columns, with its column
names and types, exactly as ``pandas.read_parquet(..., dtype_backend="pyarrow")``
would give it. Arrow columns pandas cannot compute on are then replaced by their
pandas equivalents: a dictionary column (polars ``Categorical`` and ``Enum``) by a
``category`` column, a ``string_view`` column by a ``large_string`` one. Arrow list
columns stay as they are: the encoder reads them as list (multi-value) columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow

#: Protocols that mark a data frame or series of another library.
_ARROW_PROTOCOLS = ("__arrow_c_stream__", "__arrow_c_array__")
_INTERCHANGE_PROTOCOL = "__dataframe__"


def to_pandas(data: object, *, input_name: str = "X") -> object:
    """Return a frame or series of another library as pandas; anything else unchanged.

    A polars DataFrame, a pyarrow Table or RecordBatch, or any object with the Arrow
    PyCapsule interface (``__arrow_c_stream__``, ``__arrow_c_array__``) or the data frame
    interchange protocol (``__dataframe__``) becomes a pandas DataFrame whose columns
    keep their names and Arrow types (``pandas.ArrowDtype``): integers stay exact, with
    nulls as missing values. Columns are then passed through
    :func:`normalize_arrow_columns`: dictionary columns (polars ``Categorical``,
    ``Enum``) become ``category`` columns. A polars Series or a pyarrow Array or
    ChunkedArray becomes a pandas Series, with its name. Converting needs pyarrow.

    Parameters
    ----------
    data : object
        Features or labels, in any container.
    input_name : str, default="X"
        How an error names ``data``, e.g. ``"y"``.

    Returns
    -------
    converted : DataFrame, Series or object
        ``data`` as pandas when it is a frame or series of another library, else
        ``data`` itself (pandas objects, NumPy arrays and lists included).

    Raises
    ------
    ImportError
        If ``data`` needs converting and pyarrow is not installed.
    TypeError
        If ``data`` is a polars LazyFrame (collect it first), cannot be read as an
        Arrow table, or has a column of structs or maps.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from sklearn_pangu.preprocessing._containers import to_pandas
    >>> frame = to_pandas(pa.table({"user": [10, None, 2**60 + 1], "city": ["a", "b", None]}))
    >>> frame.dtypes.astype(str).tolist()
    ['int64[pyarrow]', 'string[pyarrow]']
    >>> int(frame["user"].iloc[2]) == 2**60 + 1
    True
    """
    if isinstance(data, (pd.DataFrame, pd.Series, np.ndarray)):
        return data
    _reject_lazy_frame(data, input_name)
    kind = type(data)
    is_arrow = any(hasattr(kind, name) for name in _ARROW_PROTOCOLS)
    if not (is_arrow or hasattr(kind, _INTERCHANGE_PROTOCOL)):
        return data
    pa = _import_pyarrow(data, input_name)
    if is_arrow and not hasattr(data, "columns"):
        return _arrow_series(data, pa)
    return normalize_arrow_columns(_arrow_table(data, pa, input_name).to_pandas(types_mapper=pd.ArrowDtype))


def _type_name(data) -> str:
    """``polars.DataFrame`` for a polars DataFrame: the top package and the class name."""
    return f"{type(data).__module__.partition('.')[0]}.{type(data).__name__}"


def _reject_lazy_frame(data, input_name: str) -> None:
    if type(data).__name__ == "LazyFrame" and hasattr(data, "collect"):
        raise TypeError(
            f"{input_name} is a {_type_name(data)}, which holds a query, not data; pass "
            f"{input_name}.collect()."
        )


def _import_pyarrow(data, input_name: str):
    try:
        import pyarrow
    except ImportError:
        raise ImportError(
            f"{input_name} is a {_type_name(data)}; reading it with its column names and types needs "
            f"pyarrow, which is not installed. Install it (pip install pyarrow; {input_name}.to_pandas() "
            "needs it too), or pass a pandas DataFrame."
        ) from None
    return pyarrow


def _arrow_table(data, pa, input_name: str):
    """``data`` as a pyarrow Table, through the Arrow C stream or the interchange protocol."""
    try:
        if any(hasattr(type(data), name) for name in _ARROW_PROTOCOLS):
            return pa.table(data)
        import pyarrow.interchange

        return pyarrow.interchange.from_dataframe(data)
    except (AttributeError, NotImplementedError, TypeError, ValueError) as exc:
        raise TypeError(
            f"{input_name} is a {_type_name(data)}, which pyarrow could not read as a table ({exc}). "
            f"Pass a pandas DataFrame instead (e.g. {input_name}.to_pandas(), or {input_name}.compute() "
            "for dask)."
        ) from exc


def _arrow_series(data, pa) -> pd.Series:
    """A one-column Arrow stream or array (a polars Series) as a pandas Series with its name."""
    array = pa.chunked_array(data) if hasattr(type(data), "__arrow_c_stream__") else pa.array(data)
    frame = normalize_arrow_columns(array.to_pandas(types_mapper=pd.ArrowDtype).to_frame())
    # polars names an unnamed Series "".
    return frame.iloc[:, 0].rename(getattr(data, "name", None) or None)


def arrow_type(dtype: object) -> pyarrow.DataType | None:
    """The pyarrow type of a pandas column dtype.

    Parameters
    ----------
    dtype : dtype
        A column's dtype.

    Returns
    -------
    arrow : pyarrow.DataType or None
        ``dtype.pyarrow_dtype`` for a ``pandas.ArrowDtype``, else None.
    """
    return dtype.pyarrow_dtype if isinstance(dtype, pd.ArrowDtype) else None


def is_arrow_categorical(arrow: pyarrow.DataType) -> bool:
    """Whether columns of an Arrow type are categorical by dtype.

    Parameters
    ----------
    arrow : pyarrow.DataType
        A column's Arrow type.

    Returns
    -------
    categorical : bool
        True for text, bytes, bool, dictionary and null types, as their NumPy-backed
        twins (object, ``str``, ``category``, bool) are.
    """
    import pyarrow.types as types

    return (
        types.is_string(arrow)
        or types.is_large_string(arrow)
        or types.is_string_view(arrow)
        or types.is_binary(arrow)
        or types.is_large_binary(arrow)
        or types.is_binary_view(arrow)
        or types.is_fixed_size_binary(arrow)
        or types.is_boolean(arrow)
        or types.is_dictionary(arrow)
        or types.is_null(arrow)
    )


def is_arrow_list(arrow: pyarrow.DataType | None) -> bool:
    """Whether an Arrow type is a list type: ``list``, ``large_list`` or ``fixed_size_list``.

    Parameters
    ----------
    arrow : pyarrow.DataType or None
        A column's Arrow type (None for a column that is not Arrow-backed).

    Returns
    -------
    is_list : bool
        True for the list types, whose cells hold several values.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from sklearn_pangu.preprocessing._containers import is_arrow_list
    >>> is_arrow_list(pa.large_list(pa.string())), is_arrow_list(pa.string())
    (True, False)
    """
    if arrow is None:
        return False
    import pyarrow.types as types

    return types.is_list(arrow) or types.is_large_list(arrow) or types.is_fixed_size_list(arrow)


def is_arrow_temporal(dtype: object) -> bool:
    """Whether a column dtype is an Arrow timestamp, date, time, duration or interval type.

    Parameters
    ----------
    dtype : dtype
        A column's dtype.

    Returns
    -------
    temporal : bool
        True for those ``pandas.ArrowDtype`` types, which are not real numbers.
    """
    arrow = arrow_type(dtype)
    if arrow is None:
        return False
    import pyarrow.types as types

    return types.is_temporal(arrow) or types.is_interval(arrow)


def normalize_arrow_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace the Arrow columns pandas cannot compute on by their pandas equivalents.

    A dictionary column becomes a ``category`` column (its codes and dictionary,
    without hashing the rows), a ``string_view`` column a ``large_string`` one. List
    columns (``list``, ``large_list``, ``fixed_size_list``) are kept; a column of
    structs, maps or list views is a ``TypeError`` naming it. ``frame`` itself is not
    modified; without such columns it is returned as it is.

    Parameters
    ----------
    frame : DataFrame
        Any DataFrame.

    Returns
    -------
    frame : DataFrame
        ``frame``, or a shallow copy with the replaced columns.
    """
    replaced = {}
    for j, dtype in enumerate(frame.dtypes):
        if arrow_type(dtype) is not None:
            column = _computable_column(frame.iloc[:, j])
            if column is not None:
                replaced[j] = column
    if not replaced:
        return frame
    frame = frame.copy(deep=False)
    for j, column in replaced.items():
        frame.isetitem(j, column)
    return frame


def _computable_column(column: pd.Series) -> pd.Series | None:
    """The pandas equivalent of an Arrow column pandas cannot compute on, or None if it can."""
    import pyarrow as pa

    arrow = column.dtype.pyarrow_dtype
    if is_arrow_list(arrow):
        return None
    if pa.types.is_nested(arrow):
        kind = "struct" if pa.types.is_struct(arrow) else "map" if pa.types.is_map(arrow) else "list view"
        raise_cells_error(column.name, _first_value(column), f"{kind} (Arrow {arrow})")
    if pa.types.is_dictionary(arrow):
        values = pa.array(column.array)
        if pa.types.is_string_view(arrow.value_type):
            values = values.cast(pa.dictionary(arrow.index_type, pa.large_string()))
        # The dictionary becomes the categories and its indices the codes: no hashing.
        return pd.Series(values.to_pandas().array, index=column.index, name=column.name)
    if pa.types.is_string_view(arrow):
        values = pa.array(column.array).cast(pa.large_string())
        return pd.Series(pd.arrays.ArrowExtensionArray(values), index=column.index, name=column.name)
    return None


def _first_value(column: pd.Series):
    present = column[column.notna()]
    return present.iloc[0] if len(present) else None


def raise_cells_error(name: object, example: object, found: str) -> None:
    """Raise the ``TypeError`` of a column whose cells hold several values where single values were expected.

    Parameters
    ----------
    name : str
        The column.
    example : object
        One of its cells, shown in the message.
    found : str
        What the cells are, e.g. ``"list"`` or ``"struct (Arrow struct<k: int64>)"``.

    Raises
    ------
    TypeError
        Always.
    """
    shown = repr(example)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    if found.startswith(("list", "tuple", "ndarray")):
        raise TypeError(
            f"Column {name!r} holds {found} values (e.g. {shown}) where single values were expected: it "
            "is a single-value column (its cells at fit were single values, or it mixes lists with single "
            "values). A list column holds a list, tuple or 1-D array in every cell (None or NaN for no "
            "items), at fit and at predict; see multi_value_features."
        )
    raise TypeError(
        f"Column {name!r} holds {found} values (e.g. {shown}), not one value per cell; cells of dicts, "
        "sets, structs and maps are not supported yet. Spread dicts into columns (pandas.json_normalize), "
        "make each set a list (a list column), or explode the column into one row per value "
        f"(X.explode({name!r}))."
    )
