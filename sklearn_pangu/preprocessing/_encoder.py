"""FeatureEncoder: a raw DataFrame or ndarray to embedding indices and dense features."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.compose import ColumnTransformer
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._fields import FieldSpec
from ._column_coders import CategoryCoder, NumericScaler, QuantileBucketizer
from ._containers import arrow_type, is_arrow_categorical, normalize_arrow_columns, to_pandas

_CATEGORICAL_DTYPE_KINDS = "OSUb"


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


def as_2d_input(X, *, ensure_min_samples: int = 1) -> pd.DataFrame | np.ndarray:
    """Return ``X`` as a DataFrame, or check it is a 2-D, dense array.

    A pandas DataFrame is kept, with its Arrow dictionary and ``string_view`` columns
    replaced by pandas ones; a polars or Arrow frame (or any frame with
    ``__arrow_c_stream__`` or ``__dataframe__``) is read as such a DataFrame, with its
    names and types (see :func:`~sklearn_pangu.preprocessing._containers.to_pandas`).
    """
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
    ``numeric_encoding='bucket'``, quantile buckets that are categorical fields.

    Categories are matched by value whatever the dtype they arrive in (``3``,
    ``3.0`` and ``"3"`` are one category, and so are ``True`` and ``1``; a category
    column may bring other categories at predict). A numeric column may arrive as
    text at predict: numbers are converted, and ``""`` or the text of a missing value
    (``"nan"``, ``"<NA>"``, ``"None"``) is missing. ``inf``, text that is not a
    number, complex or date columns, and cells holding lists or dicts are errors that
    name the column. Standardized values are clipped to ``[-1e6, 1e6]``, so any
    finite number encodes to a finite one.

    ``X`` may be a pandas DataFrame (NumPy- or pyarrow-backed), an ndarray, or a
    polars or pyarrow frame (any frame with ``__arrow_c_stream__`` or
    ``__dataframe__``), which is read with its column names and types.

    Columns are routed by a :class:`~sklearn.compose.ColumnTransformer`, so the
    encoder takes part in ``set_output`` and ``get_feature_names_out`` like any
    scikit-learn transformer. :meth:`transform` returns one 2-D array, codes first
    and dense features after; the estimators call :meth:`encode` to get the two
    blocks with their own dtypes.

    Parameters
    ----------
    categorical_features : 'from_dtype', array-like of str or int, or array-like of bool, default='from_dtype'
        Which columns are categorical. ``'from_dtype'`` takes object, string,
        category and bool columns of a DataFrame (pyarrow dictionary, string, binary
        and bool columns too, and every column of a non-numeric ndarray); all numeric
        columns are dense. A list of column names or indices, or a boolean mask,
        names them explicitly, which is how an integer id column becomes categorical.
    min_frequency : int or float, default=None
        Categories seen fewer times than this at fit (a fraction of the rows when
        a float in (0, 1)) share the index of unknown categories.
    numeric_encoding : {'scale', 'bucket'}, default='scale'
        ``'scale'`` keeps numeric columns as dense features; ``'bucket'`` turns
        each into a categorical field of up to ``n_bins`` quantile buckets.
    n_bins : int, default=16
        Number of quantile buckets when ``numeric_encoding='bucket'``.

    Attributes
    ----------
    column_transformer_ : ColumnTransformer
        The fitted transformer that routes the columns.
    field_spec_ : FieldSpec
        Names and cardinalities of the categorical fields and names of the dense
        features, as the models consume them.
    categorical_columns_ : list
        Input columns encoded as categorical fields.
    numeric_columns_ : list
        Input columns treated as numbers.
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
    """

    _parameter_constraints: dict = {
        "categorical_features": [StrOptions({"from_dtype"}), "array-like"],
        "min_frequency": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            None,
        ],
        "numeric_encoding": [StrOptions({"scale", "bucket"})],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        *,
        categorical_features="from_dtype",
        min_frequency: int | float | None = None,
        numeric_encoding: str = "scale",
        n_bins: int = 16,
    ) -> None:
        self.categorical_features = categorical_features
        self.min_frequency = min_frequency
        self.numeric_encoding = numeric_encoding
        self.n_bins = n_bins

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
        X_out : ndarray of shape (n_samples, n_fields) or DataFrame
            Encoded features, as :meth:`transform` returns them.
        """
        X = self._prepare_fit(X)
        encoded = self.column_transformer_.fit_transform(X)
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
        codes : ndarray of shape (n_samples, n_categorical), dtype int32
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
        self.field_spec_ = self._build_field_spec()
        return self.encode(X) if blocks is None else self._model_blocks(blocks, frame.shape[0])

    def _prepare_fit(self, X, dense_dtype=np.float64) -> pd.DataFrame:
        """Validate ``X``, pick the column types and build the unfitted ColumnTransformer.

        ``dense_dtype`` is the dtype of the numeric scaler's output at fit.
        """
        X = as_2d_input(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        mask = self._categorical_mask(X)
        X = self._named_frame(X)
        columns = list(X.columns)
        self.categorical_columns_ = [c for c, m in zip(columns, mask) if m]
        self.numeric_columns_ = [c for c, m in zip(columns, mask) if not m]
        self._positions = {"categorical": np.flatnonzero(mask), "numeric": np.flatnonzero(~mask)}
        numeric = (
            NumericScaler(dtype=dense_dtype)
            if self.numeric_encoding == "scale"
            else QuantileBucketizer(n_bins=self.n_bins)
        )
        self.column_transformer_ = _FitOnlyColumnTransformer(
            [
                ("categorical", CategoryCoder(min_frequency=self.min_frequency), self.categorical_columns_),
                ("numeric", numeric, self.numeric_columns_),
            ],
            remainder="drop",
            sparse_threshold=0,
            verbose_feature_names_out=False,
        )
        return X

    def _build_field_spec(self) -> FieldSpec:
        fields, cardinalities = [], []
        for name, transformer, columns in self.column_transformer_.transformers_:
            if name == "remainder" or len(columns) == 0 or not hasattr(transformer, "cardinalities_"):
                continue
            fields.extend(transformer.get_feature_names_out().tolist())
            cardinalities.extend(int(c) for c in transformer.cardinalities_)
        names = self.column_transformer_.get_feature_names_out().tolist()
        return FieldSpec(
            categorical_fields=tuple(str(f) for f in fields),
            cardinalities=tuple(cardinalities),
            dense_features=tuple(str(n) for n in names[len(fields) :]),
        )

    def transform(self, X):
        """Encode ``X`` as one array: embedding indices first, then dense features.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features with the columns seen at fit.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_fields) or DataFrame
            Encoded features (a DataFrame under ``set_output(transform='pandas')``).
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
        codes : ndarray of shape (n_samples, n_categorical), dtype int32
            Embedding index of every categorical field within the field (int64 only
            for a field of more than 2**31 - 1 indices).
        dense : ndarray of shape (n_samples, n_dense), dtype float32
            Scaled dense features.
        """
        X = self._check_input(X)
        blocks = {}
        for name, transformer, _ in self.column_transformer_.transformers_:
            positions = self._positions.get(name, ())
            if len(positions):
                columns = X.iloc[:, positions]
                if isinstance(transformer, NumericScaler):
                    blocks[name] = transformer.transform_as(columns, np.float32)
                else:
                    blocks[name] = transformer.transform(columns)
        return self._model_blocks(blocks, X.shape[0])

    def _model_blocks(self, blocks: dict, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
        """The codes and dense arrays of :meth:`encode`, from the transformers' outputs by name."""
        blocks = {"categorical": np.empty((n_rows, 0), np.int32), "numeric": np.empty((n_rows, 0)), **blocks}
        if self.numeric_encoding == "bucket":
            codes = np.hstack([blocks["categorical"], blocks["numeric"]])
            dense = np.empty((n_rows, 0), dtype=np.float32)
        else:
            codes = blocks["categorical"]
            dense = np.asarray(blocks["numeric"], dtype=np.float32)
        # int32 halves the memory of the encoded rows a fit holds; torch adds the int64
        # field offsets batch by batch.
        narrow = max(self.field_spec_.cardinalities, default=0) <= np.iinfo(np.int32).max
        codes = np.ascontiguousarray(codes, dtype=np.int32 if narrow else np.int64)
        return codes, np.ascontiguousarray(dense)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns: categorical fields, then dense features.

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
