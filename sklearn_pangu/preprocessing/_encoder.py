"""FeatureEncoder: a raw DataFrame or ndarray to embedding indices and dense features."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.compose import ColumnTransformer
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._fields import PAD_CODE, FieldSpec
from ._column_coders import (
    SMALL_FRAME_ROWS,
    CategoryCoder,
    NumericScaler,
    PiecewiseLinearEncoder,
    QuantileBucketizer,
    frequency_threshold,
    frequent_vocabulary,
    numeric_series_values,
)
from ._containers import arrow_type, is_arrow_categorical, is_arrow_list, normalize_arrow_columns, to_pandas
from ._list_coder import DEFAULT_MAX_SEQUENCE_LENGTH, LIST_CELLS, ListCoder

_CATEGORICAL_DTYPE_KINDS = "OSUb"
#: Cells read to find whether an object column holds lists before scanning it all.
_CELLS_SNIFFED = 100

#: How a numeric column is encoded; see FeatureEncoder's ``numeric_encoding``.
NUMERIC_ENCODINGS = ("scale", "bucket", "scale_and_bucket", "piecewise_linear")
DEFAULT_NUMERIC_ENCODING = "scale"


def _holds_lists(column: pd.Series) -> bool:
    """Whether ``column`` is a list column by its data: Arrow lists, or a first present cell that is a list.

    The list coder then checks every cell, so a column mixing lists and single values
    is an error whichever comes first.
    """
    if is_arrow_list(arrow_type(column.dtype)):
        return True
    if not pd.api.types.is_object_dtype(column.dtype):
        return False
    values = column.to_numpy(dtype=object)
    for value in values[:_CELLS_SNIFFED]:
        if isinstance(value, LIST_CELLS) or not pd.isna(value):
            return isinstance(value, LIST_CELLS)
    present = np.flatnonzero(pd.notna(values))
    return bool(len(present)) and isinstance(values[present[0]], LIST_CELLS)


def _is_categorical_dtype(dtype) -> bool:
    arrow = arrow_type(dtype)
    if arrow is not None:
        return is_arrow_categorical(arrow)
    return (
        isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype))
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or (isinstance(dtype, np.dtype) and dtype.kind in _CATEGORICAL_DTYPE_KINDS)
        or pd.api.types.is_string_dtype(dtype)
    )


def _frame_of_columns(columns: Mapping) -> pd.DataFrame:
    """A dict of columns, ``{"user": ["u1"], "item": ["i9"]}``, as a DataFrame in the dict's order."""
    try:
        return pd.DataFrame(dict(columns))
    except ValueError as exc:
        raise ValueError(
            "X is a dict, read as columns: give each column's values as a list, one value per row "
            f"(e.g. {{'user': ['u1'], 'item': ['i9']}} for one row), all of the same length. ({exc})"
        ) from None


def as_2d_input(X, *, ensure_min_samples: int = 1) -> pd.DataFrame | np.ndarray:
    """Return ``X`` as a DataFrame, or check it is a 2-D, dense array.

    A pandas DataFrame is kept, with its Arrow dictionary and ``string_view`` columns
    replaced by pandas ones; a polars or Arrow frame (or any frame with
    ``__arrow_c_stream__`` or ``__dataframe__``) is read as such a DataFrame, with its
    names and types (see :func:`~sklearn_pangu.preprocessing._containers.to_pandas`).
    """
    if isinstance(X, Mapping) and not sp.issparse(X):  # a DOK sparse matrix is a dict too
        X = _frame_of_columns(X)
    X = to_pandas(X)
    if isinstance(X, pd.DataFrame):
        if X.shape[0] < ensure_min_samples:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of "
                f"{ensure_min_samples} is required."
            )
        if X.shape[1] == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        return normalize_arrow_columns(X)
    if isinstance(X, (list, tuple)) and X and all(isinstance(row, dict) for row in X):
        raise TypeError(
            "X is a list of dicts (records); build a DataFrame first: pandas.DataFrame(records), or "
            "pandas.DataFrame(records, columns=model.feature_names_in_) at predict time, so that an "
            "absent field becomes a missing value."
        )
    return check_array(
        X,
        accept_sparse=False,
        dtype=None,
        ensure_all_finite=False,
        ensure_min_samples=ensure_min_samples,
    )


def _output_sources(transformer) -> list[tuple[str, str, str]]:
    """``(output name, input column, what it is)`` of each output of a fitted column coder."""
    names_out = [str(name) for name in transformer.get_feature_names_out()]
    if isinstance(transformer, NumericScaler):
        names_in = [str(name) for name in transformer.feature_names_in_]
        indicated = [(names_in[j], "the missing indicator of ") for j in transformer.indicator_features_]
        sources = [(name, "") for name in names_in] + indicated
    elif isinstance(transformer, QuantileBucketizer):
        sources = [(str(name), "the buckets of ") for name in transformer.feature_names_in_]
    elif isinstance(transformer, PiecewiseLinearEncoder):
        names_in = [str(name) for name in transformer.feature_names_in_]
        sources = [
            (names_in[j], "a piece of ")
            for j, n_pieces in enumerate(transformer.pieces_)
            for _ in range(n_pieces)
        ]
        sources += [(names_in[j], "the missing indicator of ") for j in transformer.indicator_features_]
    elif isinstance(transformer, ListCoder):
        sources = [
            (str(name), "the item slots of ")
            for name, length in zip(transformer.feature_names_in_, transformer.sequence_lengths_, strict=True)
            for _ in range(length)
        ]
    else:
        sources = [(name, "") for name in names_out]
    return [(out, column, what) for out, (column, what) in zip(names_out, sources, strict=True)]


def _describe(column: str, what: str) -> str:
    return f"{what}{column!r}" if what else f"{column!r} itself"


def _check_distinct_output_names(transformers) -> None:
    """Raise a ``ValueError`` naming both input columns when two outputs have one name."""
    seen = {}
    for name, transformer, columns in transformers:
        if name == "remainder" or len(columns) == 0:
            continue
        for out, column, what in _output_sources(transformer):
            if out in seen:
                first, first_what = seen[out]
                raise ValueError(
                    f"Input columns {first!r} and {column!r} both give the encoded feature {out!r} "
                    f"({_describe(first, first_what)}, and {_describe(column, what)}); rename one of them."
                )
            seen[out] = (column, what)


class _FitOnlyColumnTransformer(ColumnTransformer):
    """A ColumnTransformer whose ``fit`` does not stack the transformed blocks it discards.

    scikit-learn's ``fit`` runs ``fit_transform`` and drops its result; stacking the
    blocks into one float64 array would be the largest temporary of fitting an
    encoder on many rows.
    """

    def fit(self, X, y=None, **params):
        # A configured output container (set_output) needs the stacked result.
        self._output = "discard" if _get_output_config("transform", self)["dense"] == "default" else None
        try:
            return super().fit(X, y, **params)
        finally:
            del self._output

    def fit_blocks(self, X) -> dict | None:
        """Fit, and return each transformer's output unstacked, by name (those with columns).

        Under a configured output container (``set_output``, ``transform_output``) the
        outputs are containers, not arrays: it only fits, and returns None.
        """
        if _get_output_config("transform", self)["dense"] != "default":
            self.fit(X)
            return None
        self._output = "blocks"
        try:
            blocks = self.fit_transform(X)
        finally:
            del self._output
        names = [name for name, _, columns in self.transformers_ if name != "remainder" and len(columns)]
        return dict(zip(names, blocks, strict=True)) if isinstance(blocks, list) else {}

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output names, as ``ColumnTransformer`` gives them; a ``ValueError`` if two are the same.

        Two input columns clash when one's generated name is the other's name: ``age``
        with missing values gives ``missingindicator_age``, and with
        ``numeric_encoding='bucket'`` ``age_bucket``.
        """
        check_is_fitted(self)
        _check_distinct_output_names(self.transformers_)
        return super().get_feature_names_out(input_features)

    def _hstack(self, Xs, *, n_samples):
        output = getattr(self, "_output", None)
        if output == "discard":
            return None
        if output == "blocks":
            return list(Xs)
        return super()._hstack(Xs, n_samples=n_samples)


class FeatureEncoder(TransformerMixin, BaseEstimator):
    """Encode raw tabular features for the embedding models.

    Categorical columns become integer embedding indices: 0 for categories not
    seen at fit (and rare ones, see ``min_frequency``), 1 for missing values
    (NaN, None, ``pd.NA``), and 2 onwards for the categories seen at fit. Numeric
    columns become standardized dense features with NaN imputed by the mean and a
    missing indicator for every column that had missing values at fit, or, with
    ``numeric_encoding='bucket'``, quantile buckets that are categorical fields
    (``'scale_and_bucket'``: both), or, with ``'piecewise_linear'``, piecewise-linear
    codes over those buckets.

    List (multi-value) columns, such as a movie's genres or the items a user
    clicked before, become list fields of ``L`` slots: the indices of a row's items
    in cell order (put them oldest first), then -1 in the slots after the last
    item. Items are indexed like categories (0 unknown or rare, 1 a missing item
    inside a list, 2 onwards the items seen at fit); an empty list, None or NaN
    is a row without items. A list longer than ``L`` keeps its **last** ``L``
    items, the most recent ones, and only kept items enter the vocabulary. ``L``
    is the smaller of ``max_sequence_length`` and the longest list seen at fit.

    Categories are matched by value whatever the dtype they arrive in (``3``,
    ``3.0`` and ``"3"`` are one category, and so are ``True`` and ``1``; a category
    column may bring other categories at predict); so are the items of a list. A
    numeric column may arrive as text at predict: numbers are converted, and ``""``
    or the text of a missing value (``"nan"``, ``"<NA>"``, ``"None"``) is missing.
    ``inf``, text that is not a number, complex or date columns, cells holding
    dicts or sets, lists in a single-value column, single values in a list column
    and lists of lists are errors that name the column. Standardized values are
    clipped to ``[-1e6, 1e6]``, so any finite number encodes to a finite one.

    ``X`` may be a pandas DataFrame (NumPy- or pyarrow-backed), an ndarray, or a
    polars or pyarrow frame (any frame with ``__arrow_c_stream__`` or
    ``__dataframe__``), which is read with its column names and types.

    Columns are routed by a :class:`~sklearn.compose.ColumnTransformer`, so the
    encoder takes part in ``set_output`` and ``get_feature_names_out`` like any
    scikit-learn transformer. :meth:`transform` returns one 2-D array, codes first
    and dense features after (a list field ``history`` of ``L`` slots gives the
    columns ``history_0`` to ``history_{L-1}``); the estimators call :meth:`encode`
    to get the two blocks with their own dtypes.

    Parameters
    ----------
    categorical_features : 'from_dtype', array-like of str or int, or array-like of bool, default='from_dtype'
        Which columns are categorical. ``'from_dtype'`` takes object, string,
        category and bool columns of a DataFrame (pyarrow dictionary, string, binary
        and bool columns too, and every column of a non-numeric ndarray); all numeric
        columns are dense. A list of column names or indices, or a boolean mask,
        names them explicitly, which is how an integer id column becomes categorical.
        List columns are list fields whatever this says.
    min_frequency : int or float, default=None
        Categories (and the items of a list column) seen fewer times than this at
        fit (a fraction of the rows when a float in (0, 1)) share the index of
        unknown categories. A shared vocabulary counts a value over all its columns.
    numeric_encoding : {'scale', 'bucket', 'scale_and_bucket', 'piecewise_linear'} or dict, default='scale'
        How numeric columns are encoded. ``'scale'``: a standardized dense
        feature. ``'bucket'``: a categorical field of quantile buckets, whose edges
        are learned at fit; a value that holds at least ``1 / n_bins`` of a
        column's present values at fit (the exact zero of a mostly-zero column,
        say) gets a bucket of its own, and the other values share the remaining
        buckets by quantiles. Values below or above every value seen at fit fall
        in the end buckets, and a missing value has its own index.
        ``'scale_and_bucket'``: both, the dense feature and the bucket field.
        ``'piecewise_linear'``: the piecewise-linear encoding of Gorishniy et al.
        (NeurIPS 2022) over the same buckets, dense features ``{column}_piece_{t}``
        (1 for the pieces below the value, its position inside its own piece, 0
        above, each centred by its mean at fit; values outside the fit range as
        the nearer end; a missing value at the means, with a missing indicator for
        a column that had missing values at fit) that the models embed as one
        field, ``sum_t x_t * v_t``. A dict sets the encoding by column name, e.g.
        ``{"income": "bucket"}``; a numeric column not named gets ``'scale'``.
    n_bins : int, default=32
        Most buckets of a bucketed numeric column, its own buckets of repeated
        values included.
    multi_value_features : None, list of str or dict of str to str, default=None
        Which columns are list columns. Columns whose cells are lists, tuples or
        1-D arrays (an object column whose first present cell is one) and pyarrow
        ``list``/``large_list`` columns are found from the data. A list of names
        declares list-cell columns besides (an error if one holds single values);
        a dict ``{"genres": "|"}`` declares columns of delimited text, split on
        the delimiter: ``"Comedy|Drama"`` holds two items, ``""`` none, and text
        without the delimiter one.
    max_sequence_length : int or dict of str to int, default=50
        Most slots of a list field (at least 1): one for every list column, or by
        column name (a column not named gets 50). A longer list keeps its last
        items.
    shared_vocabulary : dict of str to str, default=None
        Columns that share one vocabulary (and so one embedding table), e.g.
        ``{"history": "movie_id"}`` for a user's past items and the item being
        scored. Each pair joins two columns; pairs sharing a column make one group.
        Every named column must be a categorical or list column. The vocabulary is
        learned from all the group's columns, with ``min_frequency`` counting a
        value over all of them.

    Attributes
    ----------
    column_transformer_ : ColumnTransformer
        The fitted transformer that routes the columns.
    field_spec_ : FieldSpec
        Names, cardinalities, list slots and shared tables of the categorical
        fields (single-value columns, then numeric buckets, then list columns)
        and names of the dense features, as the models consume them.
    categorical_columns_ : list
        Input columns encoded as single-value categorical fields.
    numeric_columns_ : list
        Input columns treated as numbers.
    multi_value_columns_ : list
        Input columns encoded as list fields.
    vocabulary_groups_ : list of list of str
        The groups of columns that share one vocabulary, each in field order.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input column names, when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_pangu.preprocessing import FeatureEncoder
    >>> X = pd.DataFrame({"city": ["Paris", "Rome", None], "age": [31.0, None, 45.0]})
    >>> encoder = FeatureEncoder().fit(X)
    >>> encoder.field_spec_.cardinalities
    (4,)
    >>> codes, dense = encoder.encode(pd.DataFrame({"city": ["Rome", "Oslo"], "age": [40.0, 50.0]}))
    >>> codes.ravel().tolist()
    [3, 0]
    >>> encoder.get_feature_names_out().tolist()
    ['city', 'age', 'missingindicator_age']

    A list column, and a history of items sharing the vocabulary of the item column:

    >>> X = pd.DataFrame({
    ...     "item": ["a", "b", "c"],
    ...     "genres": ["x|y", "", "y"],
    ...     "history": [["b", "c", "a"], [], None],
    ... })
    >>> encoder = FeatureEncoder(
    ...     multi_value_features={"genres": "|"}, max_sequence_length=2,
    ...     shared_vocabulary={"history": "item"},
    ... )
    >>> encoder.fit_encode(X)[0].tolist()
    [[2, 2, 3, 4, 2], [3, -1, -1, -1, -1], [4, 3, -1, -1, -1]]
    >>> spec = encoder.field_spec_
    >>> spec.categorical_fields, spec.sequence_lengths, spec.shared_tables
    (('item', 'genres', 'history'), (0, 2, 2), (0, 1, 0))
    >>> encoder.get_feature_names_out().tolist()
    ['item', 'genres_0', 'genres_1', 'history_0', 'history_1']
    """

    _parameter_constraints: dict = {
        "categorical_features": [StrOptions({"from_dtype"}), "array-like"],
        "min_frequency": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            None,
        ],
        "numeric_encoding": [StrOptions(set(NUMERIC_ENCODINGS)), dict],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "multi_value_features": [None, dict, "array-like"],
        "max_sequence_length": [Interval(Integral, 1, None, closed="left"), dict],
        "shared_vocabulary": [None, dict],
    }

    def __init__(
        self,
        *,
        categorical_features="from_dtype",
        min_frequency: int | float | None = None,
        numeric_encoding: str | dict = DEFAULT_NUMERIC_ENCODING,
        n_bins: int = 32,
        multi_value_features: list | dict | None = None,
        max_sequence_length: int | dict = DEFAULT_MAX_SEQUENCE_LENGTH,
        shared_vocabulary: dict | None = None,
    ) -> None:
        self.categorical_features = categorical_features
        self.min_frequency = min_frequency
        self.numeric_encoding = numeric_encoding
        self.n_bins = n_bins
        self.multi_value_features = multi_value_features
        self.max_sequence_length = max_sequence_length
        self.shared_vocabulary = shared_vocabulary

    def _categorical_mask(self, X) -> np.ndarray:
        n_columns = X.shape[1]
        names = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else None
        spec = self.categorical_features
        if isinstance(spec, str):
            if names is not None:
                return np.array(
                    [_is_categorical_dtype(X.dtypes.iloc[j]) for j in range(n_columns)], dtype=bool
                )
            return np.full(n_columns, _is_categorical_dtype(X.dtype), dtype=bool)
        spec = np.asarray(spec)
        if spec.size == 0:
            return np.zeros(n_columns, dtype=bool)
        if spec.dtype.kind == "b":
            if spec.shape != (n_columns,):
                raise ValueError(
                    f"categorical_features as a boolean mask must have shape ({n_columns},), "
                    f"got {spec.shape}."
                )
            return spec.copy()
        mask = np.zeros(n_columns, dtype=bool)
        if spec.dtype.kind in "iu":
            bad = spec[(spec < -n_columns) | (spec >= n_columns)]
            if bad.size:
                raise ValueError(
                    f"categorical_features has indices {bad.tolist()} out of range for X "
                    f"with {n_columns} columns."
                )
            mask[spec] = True
            return mask
        if names is None:
            raise ValueError(
                "categorical_features names columns by string, which needs X to be a "
                "DataFrame with column names; for an ndarray pass indices or a boolean mask."
            )
        unknown = [str(s) for s in spec if str(s) not in names]
        if unknown:
            raise ValueError(f"categorical_features names columns not in X: {unknown}.")
        mask[[names.index(str(s)) for s in spec]] = True
        return mask

    def _list_columns(self, X: pd.DataFrame) -> dict:
        """The list columns of ``X``, each with its delimiter (None for list cells), in column order."""
        columns = [str(c) for c in X.columns]
        declared = self.multi_value_features
        if declared is None:
            declared = {}
        elif isinstance(declared, dict):
            for name, delimiter in declared.items():
                if not isinstance(delimiter, str) or not delimiter:
                    raise ValueError(
                        f"multi_value_features gives column {name!r} the delimiter {delimiter!r}; a "
                        "delimiter is a non-empty string, e.g. {'genres': '|'}. Name list-cell columns in a "
                        "list instead."
                    )
        else:
            declared = dict.fromkeys(np.asarray(declared, dtype=object).ravel().tolist())
        unknown = [name for name in declared if name not in columns]
        if unknown:
            raise ValueError(
                f"multi_value_features names {unknown[0]!r}, which is not a column of X; the columns are "
                f"{columns}."
            )
        return {
            name: declared.get(name)
            for j, name in enumerate(columns)
            if name in declared or _holds_lists(X.iloc[:, j])
        }

    def _check_max_sequence_length(self) -> None:
        """Raise a ``ValueError`` naming the column for a bad entry of ``max_sequence_length``."""
        if not isinstance(self.max_sequence_length, dict):
            return
        for name, length in self.max_sequence_length.items():
            if isinstance(length, bool) or not isinstance(length, Integral) or length < 1:
                raise ValueError(
                    f"max_sequence_length gives column {name!r} the length {length!r}; each length must be "
                    "an int >= 1."
                )
            if name not in self.multi_value_columns_:
                raise ValueError(
                    f"max_sequence_length names {name!r}, which is not a list column of X; the list columns "
                    f"are {self.multi_value_columns_}."
                )

    def _numeric_encodings(self) -> dict[str, str]:
        """The encoding of each numeric column; a ``ValueError`` names a bad entry of ``numeric_encoding``."""
        encoding = self.numeric_encoding
        if not isinstance(encoding, dict):
            return dict.fromkeys(self.numeric_columns_, encoding)
        for name, value in encoding.items():
            if value not in NUMERIC_ENCODINGS:
                raise ValueError(
                    f"numeric_encoding gives column {name!r} the encoding {value!r}; each must be one of "
                    f"{list(NUMERIC_ENCODINGS)}."
                )
            if name not in self.numeric_columns_:
                raise ValueError(
                    f"numeric_encoding names {name!r}, which is not a numeric column of X; the numeric "
                    f"columns are {self.numeric_columns_}."
                )
        return {name: encoding.get(name, DEFAULT_NUMERIC_ENCODING) for name in self.numeric_columns_}

    def _vocabulary_groups(self, columns: list) -> list[list[str]]:
        """The groups of ``shared_vocabulary`` (connected columns), in field order, by their first field."""
        pairs = self.shared_vocabulary or {}
        fields = [*self.categorical_columns_, *self.multi_value_columns_]
        parent = {}

        def root(name):
            while parent.setdefault(name, name) != name:
                name = parent[name]
            return name

        for key, value in pairs.items():
            for name in (key, value):
                if name not in columns:
                    raise ValueError(
                        f"shared_vocabulary names {name!r}, which is not a column of X; the columns are "
                        f"{columns}."
                    )
                if name not in fields:
                    raise ValueError(
                        f"shared_vocabulary names {name!r}, a numeric column: only categorical and list "
                        f"columns share a vocabulary. Name {name!r} in categorical_features to make it "
                        "categorical."
                    )
            parent[root(key)] = root(value)
        groups = {}
        for name in fields:
            if name in parent:
                groups.setdefault(root(name), []).append(name)
        return [group for group in groups.values() if len(group) > 1]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> FeatureEncoder:
        """Learn the categories, buckets and scaling of every column.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features.
        y : None
            Ignored.

        Returns
        -------
        self : FeatureEncoder
            The fitted encoder.
        """
        X = self._prepare_fit(X)
        self.column_transformer_.fit(X)
        self._share_vocabularies(len(X))
        self.field_spec_ = self._build_field_spec()
        return self

    def fit_transform(self, X, y=None):
        """Fit to ``X`` and encode it, reading each column once.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features.
        y : None
            Ignored.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_code_columns + n_dense) or DataFrame
            Encoded features, as :meth:`transform` returns them.
        """
        frame = self._prepare_fit(X)
        if self.vocabulary_groups_:
            # Shared columns are encoded once their group's vocabulary is known.
            self.column_transformer_.fit(frame)
            self._share_vocabularies(len(frame))
            self.field_spec_ = self._build_field_spec()
            return self.column_transformer_.transform(frame)
        encoded = self.column_transformer_.fit_transform(frame)
        self.field_spec_ = self._build_field_spec()
        return encoded

    def fit_encode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Fit to ``X`` and return :meth:`encode` of it, reading each column once.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_code_columns), dtype int32
            As :meth:`encode` returns them.
        dense : ndarray of shape (n_samples, n_dense), dtype float32
            As :meth:`encode` returns them.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn_pangu.preprocessing import FeatureEncoder
        >>> X = pd.DataFrame({"city": ["a", "b", "a"], "price": [1.0, 2.0, 3.0]})
        >>> codes, dense = FeatureEncoder().fit_encode(X)
        >>> codes.ravel().tolist(), dense.shape
        ([2, 3, 2], (3, 1))
        """
        # The scaler fits and transforms in float32 here, what the model reads; it then
        # goes back to float64, the dtype of transform's dense features.
        frame = self._prepare_fit(X, dense_dtype=np.float32)
        blocks = self.column_transformer_.fit_blocks(frame)
        fitted_and_unfitted = self.column_transformer_.transformers_ + self.column_transformer_.transformers
        for _, transformer, _ in fitted_and_unfitted:
            if isinstance(transformer, NumericScaler):
                transformer.set_params(dtype=np.float64)
        self._share_vocabularies(frame.shape[0], blocks)
        self.field_spec_ = self._build_field_spec()
        return self.encode(X) if blocks is None else self._model_blocks(blocks, frame.shape[0])

    def _prepare_fit(self, X, dense_dtype=np.float64) -> pd.DataFrame:
        """Validate ``X``, pick the column types and build the unfitted ColumnTransformer.

        ``dense_dtype`` is the dtype of the numeric scaler's output at fit.
        """
        self._validate_params()
        X = as_2d_input(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        mask = self._categorical_mask(X)
        X = self._named_frame(X)
        columns = list(X.columns)
        lists = self._list_columns(X)
        is_list = np.array([c in lists for c in columns], dtype=bool)
        mask &= ~is_list
        self.categorical_columns_ = [c for c, m in zip(columns, mask) if m]
        self.numeric_columns_ = [c for c, m, listed in zip(columns, mask, is_list) if not (m or listed)]
        self.multi_value_columns_ = list(lists)
        self._check_max_sequence_length()
        self.vocabulary_groups_ = self._vocabulary_groups(columns)
        shared = {name for group in self.vocabulary_groups_ for name in group}
        encodings = self._numeric_encodings()
        scaled = [c for c in self.numeric_columns_ if encodings[c] in ("scale", "scale_and_bucket")]
        bucketed = [c for c in self.numeric_columns_ if encodings[c] in ("bucket", "scale_and_bucket")]
        pieces = [c for c in self.numeric_columns_ if encodings[c] == "piecewise_linear"]
        position = {c: j for j, c in enumerate(columns)}
        self._positions = {
            "categorical": np.flatnonzero(mask),
            "buckets": np.array([position[c] for c in bucketed], dtype=np.intp),
            "lists": np.flatnonzero(is_list),
            "numeric": np.array([position[c] for c in scaled], dtype=np.intp),
            "pieces": np.array([position[c] for c in pieces], dtype=np.intp),
        }
        categorical = CategoryCoder(
            min_frequency=self.min_frequency,
            shared_features=tuple(c for c in self.categorical_columns_ if c in shared),
        )
        list_coder = ListCoder(
            min_frequency=self.min_frequency,
            max_sequence_length=self.max_sequence_length,
            delimiters={name: delimiter for name, delimiter in lists.items() if delimiter is not None},
            shared_features=tuple(c for c in self.multi_value_columns_ if c in shared),
        )
        # Output order: codes in field order (single-value, buckets, lists), then dense features.
        routes = [
            ("categorical", categorical, self.categorical_columns_),
            ("buckets", QuantileBucketizer(n_bins=self.n_bins), bucketed),
            ("lists", list_coder, self.multi_value_columns_),
            ("numeric", NumericScaler(dtype=dense_dtype), scaled),
            ("pieces", PiecewiseLinearEncoder(n_bins=self.n_bins), pieces),
        ]
        self.column_transformer_ = _FitOnlyColumnTransformer(
            routes, remainder="drop", sparse_threshold=0, verbose_feature_names_out=False
        )
        return X

    def _fitted_coders(self) -> dict:
        return {
            name: transformer
            for name, transformer, columns in self.column_transformer_.transformers_
            if name != "remainder" and len(columns)
        }

    def _share_vocabularies(self, n_rows: int, blocks: dict | None = None) -> None:
        """Give each group of ``vocabulary_groups_`` one vocabulary, learned from all its columns.

        The coders kept every value of a shared column with its count; a group's
        vocabulary is the values counted at least ``min_frequency`` times over its
        columns. Codes already in ``blocks`` are translated to it.
        """
        coders = self._fitted_coders()
        threshold = frequency_threshold(self.min_frequency, n_rows)
        for group in self.vocabulary_groups_:
            members = []
            for name in group:
                route = "categorical" if name in self.categorical_columns_ else "lists"
                coder = coders[route]
                names = coder.feature_names_in_ if route == "lists" else coder.feature_names_out_
                members.append((route, coder, list(names).index(name)))
            keys = np.concatenate([coder.categories_[j] for _, coder, j in members])
            counts = np.concatenate([coder._shared_counts[j] for _, coder, j in members])
            vocabulary = frequent_vocabulary(keys, counts, threshold)
            for route, coder, j in members:
                remap = coder.replace_categories(j, vocabulary)
                if blocks is not None and route in blocks:
                    if route == "lists":
                        start = int(coder.sequence_lengths_[:j].sum())
                        columns = slice(start, start + int(coder.sequence_lengths_[j]))
                    else:
                        columns = slice(j, j + 1)
                    # A pad (-1) reads the appended last entry, itself a pad.
                    block = blocks[route]
                    block[:, columns] = np.append(remap, PAD_CODE).astype(block.dtype)[block[:, columns]]
        for coder in coders.values():
            coder.__dict__.pop("_shared_counts", None)

    def _build_field_spec(self) -> FieldSpec:
        coders = self._fitted_coders()
        fields, cardinalities, lengths, columns = [], [], [], []
        for name, coder in coders.items():
            if not hasattr(coder, "cardinalities_"):
                continue
            if name == "lists":
                names = [str(c) for c in coder.feature_names_in_]
                lengths.extend(int(n) for n in coder.sequence_lengths_)
                columns.extend(names)
            else:
                names = [str(c) for c in coder.get_feature_names_out()]
                lengths.extend([0] * len(names))
                columns.extend(names if name == "categorical" else [None] * len(names))
            fields.extend(names)
            cardinalities.extend(int(c) for c in coder.cardinalities_)
        owner_of_group = {}
        group_of = {
            name: g for g, group in enumerate(getattr(self, "vocabulary_groups_", [])) for name in group
        }
        shared_tables = []
        for j, column in enumerate(columns):
            group = group_of.get(column)
            shared_tables.append(j if group is None else owner_of_group.setdefault(group, j))
        names = self.column_transformer_.get_feature_names_out().tolist()
        n_code_columns = sum(max(length, 1) for length in lengths)
        return FieldSpec(
            categorical_fields=tuple(fields),
            cardinalities=tuple(cardinalities),
            dense_features=tuple(str(n) for n in names[n_code_columns:]),
            sequence_lengths=tuple(lengths),
            shared_tables=tuple(shared_tables),
            dense_fields=self._dense_fields(coders),
        )

    @staticmethod
    def _dense_fields(coders: dict) -> tuple[int, ...]:
        """The dense field of each dense feature: one per scaled feature, one per piecewise column."""
        n_scaled = len(coders["numeric"].get_feature_names_out()) if "numeric" in coders else 0
        fields = list(range(n_scaled))
        if "pieces" in coders:
            owners = coders["pieces"].dense_fields()
            number = {owner: n_scaled + k for k, owner in enumerate(dict.fromkeys(owners))}
            fields += [number[owner] for owner in owners]
        return tuple(fields)

    def transform(self, X):
        """Encode ``X`` as one array: embedding indices first, then dense features.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features with the columns seen at fit.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_code_columns + n_dense) or DataFrame
            Encoded features (a DataFrame under ``set_output(transform='pandas')``):
            the codes of ``field_spec_`` (a list field's ``L`` slots as the columns
            ``f"{column}_{i}"``), then the dense features.
        """
        return self.column_transformer_.transform(self._check_input(X))

    def _check_input(self, X):
        check_is_fitted(self)
        X = as_2d_input(X, ensure_min_samples=0)
        validate_data(self, X, skip_check_array=True, reset=False)
        return self._named_frame(X)

    def _named_frame(self, X) -> pd.DataFrame:
        """``X`` as a DataFrame with string column names: the fitted names, or x0, x1, ..."""
        fitted_names = getattr(self, "feature_names_in_", None)
        if isinstance(X, pd.DataFrame) and fitted_names is not None:
            return X
        names = list(fitted_names) if fitted_names is not None else [f"x{i}" for i in range(X.shape[1])]
        if isinstance(X, pd.DataFrame):
            return X.set_axis(names, axis=1)
        return pd.DataFrame(X, columns=names)

    def encode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Encode ``X`` into the two blocks a model consumes.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features with the columns seen at fit.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_code_columns), dtype int32
            Embedding index of every categorical field within the field (int64 only
            for a field of more than 2**31 - 1 indices): one column per single-value
            field, and ``L`` per list field (its items' indices, oldest first, then
            -1), in the order of ``field_spec_.categorical_fields``.
        dense : ndarray of shape (n_samples, n_dense), dtype float32
            Scaled dense features.
        """
        return self._encode(self._check_input(X))

    def _encode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode` of ``X`` already checked, here or by an estimator's own check of its input."""
        X = self._named_frame(X)
        blocks = self._small_frame_blocks(X) if X.shape[0] <= SMALL_FRAME_ROWS else {}
        for name, transformer, _ in self.column_transformer_.transformers_:
            positions = self._positions.get(name, ())
            if len(positions) and name not in blocks:
                columns = X.iloc[:, positions]
                if isinstance(transformer, NumericScaler):
                    blocks[name] = transformer.transform_as(columns, np.float32)
                else:
                    blocks[name] = transformer.transform(columns)
        return self._model_blocks(blocks, X.shape[0])

    def _small_frame_blocks(self, X: pd.DataFrame) -> dict:
        """The categorical and numeric transformers' blocks of a few rows, every column read once.

        For a request of a few rows, reading the columns costs more than encoding
        them: each is read once, and the scaled value and the buckets of a numeric
        column come from that one read.
        """
        coders = self._fitted_coders()
        columns = [column for _, column in X.items()]
        blocks = {}
        if "categorical" in coders:
            own = [columns[p] for p in self._positions["categorical"]]
            blocks["categorical"] = coders["categorical"].small_frame_codes(own)
        routes = [name for name in ("buckets", "numeric", "pieces") if name in coders]
        if not routes:
            return blocks
        positions = np.unique(np.concatenate([self._positions[name] for name in routes]))
        names = [str(name) for name in X.columns[positions]]
        values = numeric_series_values([columns[p] for p in positions], names)
        column_of = {position: k for k, position in enumerate(positions)}
        for name in routes:
            own = values[:, [column_of[p] for p in self._positions[name]]]
            transformer = coders[name]
            if name == "numeric":
                blocks[name] = transformer.transform_values(own, np.float32)
            else:
                blocks[name] = transformer.transform_values(own)
        return blocks

    def _model_blocks(self, blocks: dict, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
        """The codes and dense arrays of :meth:`encode`, from the transformers' outputs by name."""
        empty = np.empty((n_rows, 0), np.int32)
        blocks = {
            "categorical": empty,
            "buckets": empty,
            "lists": empty,
            "numeric": np.empty((n_rows, 0)),
            "pieces": np.empty((n_rows, 0)),
            **blocks,
        }
        code_blocks = [blocks[name] for name in ("categorical", "buckets", "lists") if blocks[name].shape[1]]
        codes = (code_blocks or [empty])[0] if len(code_blocks) <= 1 else np.hstack(code_blocks)
        dense = np.asarray(blocks["numeric"], dtype=np.float32)
        if blocks["pieces"].shape[1]:
            dense = np.hstack([dense, np.asarray(blocks["pieces"], dtype=np.float32)])
        # int32 halves the memory of the encoded rows a fit holds; torch adds the int64
        # field offsets batch by batch.
        narrow = max(self.field_spec_.cardinalities, default=0) <= np.iinfo(np.int32).max
        codes = np.ascontiguousarray(codes, dtype=np.int32 if narrow else np.int64)
        return codes, np.ascontiguousarray(dense)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns: categorical fields (a list field's slots), then dense features.

        Parameters
        ----------
        input_features : None
            Ignored; the names come from the fitted columns.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Output column names.
        """
        check_is_fitted(self)
        return self.column_transformer_.get_feature_names_out()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
