"""The estimator core of the multi-task models: several binary targets from one network."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, MultiOutputMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .._base import EMBEDDING_CONSTRAINTS, BaseCTREstimator, binary_proba, validate_hidden_units
from ..callbacks._scoring import TaskLosses, ValidationAUC
from ..preprocessing._containers import to_pandas
from ..preprocessing._validation import check_mixed_label_types


class BaseMultiTaskEstimator(MultiOutputMixin, ClassifierMixin, BaseCTREstimator):
    """Multi-output binary classifier on a module that returns one logit per task.

    ``fit`` takes ``Y`` of shape (n_samples, n_tasks), each column with two labels;
    ``predict_proba`` returns one (n_samples, 2) array per task, like
    :class:`~sklearn.multioutput.MultiOutputClassifier`. As for
    :class:`~sklearn.ensemble.RandomForestClassifier`, a single target (1-D ``y``
    or one column) gives the single-output API: ``classes_`` one array,
    ``predict`` 1-D, ``predict_proba`` one array. The training loss is the
    ``task_weights``-weighted sum of the tasks' cross-entropies, and early stopping
    follows the mean of the tasks' validation ROC AUCs.
    """

    _parameter_constraints: dict = {
        **BaseCTREstimator._parameter_constraints,
        **EMBEDDING_CONSTRAINTS,
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "tower_units": ["array-like"],
        "task_weights": ["array-like", None],
    }

    #: Smallest and largest number of tasks the model handles (None: no limit).
    _n_tasks_range: tuple[int, int | None] = (1, None)

    def _module_params(self) -> dict:
        return {
            "embedding_dim": self.embedding_dim,
            "tower_units": validate_hidden_units(self.tower_units, "tower_units", allow_empty=True),
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "embedding_l2": self.embedding_l2,
        }

    def _check_y(self, y) -> tuple[list[np.ndarray], list[str], bool]:
        """Split ``y`` into one 1-D label array per task (each keeping its dtype) and their names.

        The last item says whether the names come from ``y`` (a DataFrame's columns, a
        named Series) or are made up by position (``task_0``, ...).
        """
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y = to_pandas(y, input_name="y")
        named = isinstance(y, pd.DataFrame) or (isinstance(y, pd.Series) and y.name is not None)
        if isinstance(y, pd.DataFrame):
            names = [str(c) for c in y.columns]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise ValueError(
                    f"y has the column name(s) {repeated} more than once; give each task column its "
                    "own name (tasks are matched by name)."
                )
            columns = [y.iloc[:, t].to_numpy() for t in range(y.shape[1])]
        elif isinstance(y, pd.Series):
            names = [str(y.name) if y.name is not None else "task_0"]
            columns = [y.to_numpy()]
        else:
            Y = np.asarray(y)
            if Y.ndim == 1:
                Y = Y.reshape(-1, 1)
            if Y.ndim != 2:
                raise ValueError(
                    f"y must be 2-D of shape (n_samples, n_tasks); got an array of shape {Y.shape}."
                )
            names = [f"task_{t}" for t in range(Y.shape[1])]
            columns = list(Y.T)
        # An object column (of an ndarray holding a string task beside an integer one) takes
        # the type of its values, so that integer labels are not an 'unknown' target type.
        columns = [
            pd.Series(column).infer_objects().to_numpy() if column.dtype == object else column
            for column in columns
        ]
        low, high = self._n_tasks_range
        if len(columns) < low or (high is not None and len(columns) > high):
            wanted = f"exactly {low}" if low == high else f"at least {low}"
            raise ValueError(
                f"{type(self).__name__} needs {wanted} target columns in y, got {len(columns)} ({names})."
            )
        # Rows of y are matched to the rows of X by position; a pandas index is ignored.
        for name, column in zip(names, columns, strict=True):
            if pd.isna(column).any():
                raise ValueError(
                    f"y column {name!r} contains NaN or missing values; drop those rows or fill them."
                )
            if column.dtype.kind == "f" and not np.isfinite(column).all():
                raise ValueError(f"y column {name!r} contains infinity; labels must be finite.")
            check_mixed_label_types(column, f"y column {name!r}")
            try:
                check_classification_targets(column)
            except ValueError as exc:
                raise ValueError(f"y column {name!r}: {exc}") from None
        return columns, names, named

    def _columns_of_tasks(self, columns: list, names: list[str], named: bool, call: str) -> list:
        """``y``'s label columns in the order of ``task_names_``, for a call that continues a fit.

        A ``y`` with column names (a DataFrame, a named Series) is matched by name;
        missing or unknown names are an error naming them. An ndarray, or any ``y``
        after a first fit without names, is taken by position.
        """
        tasks = self.task_names_
        if named and tasks == [f"task_{t}" for t in range(len(tasks))] and sorted(names) != sorted(tasks):
            warnings.warn(
                f"y has column names {names}, but {type(self).__name__} was fitted on a y without names; "
                "its columns are taken by position.",
                UserWarning,
                stacklevel=4,
            )
            named = False
        if named:
            missing = [task for task in tasks if task not in names]
            unknown = [name for name in names if name not in tasks]
            if missing or unknown:
                raise ValueError(
                    f"{call}: y has the columns {names}, but the tasks of the first fit are {tasks} "
                    f"(missing: {missing}, not a task: {unknown}). Task columns are matched by name: "
                    "rename them as in task_names_, or pass an array to match them by position."
                )
            return [columns[names.index(task)] for task in tasks]
        if len(columns) != len(tasks):
            raise ValueError(
                f"{call}: y has {len(columns)} columns, the first fit had {len(tasks)} ({tasks})."
            )
        return columns

    def _check_task_weights(self, names: list[str]) -> np.ndarray | None:
        """``task_weights`` as floats, one per task of ``names``, or a ValueError naming it."""
        if self.task_weights is None:
            return None
        try:
            weights = np.asarray(self.task_weights, dtype=np.float64)
        except (TypeError, ValueError):
            weights = None
        if (
            weights is None
            or weights.shape != (len(names),)
            or not np.all(np.isfinite(weights))
            or np.any(weights < 0)
        ):
            raise ValueError(
                f"task_weights must hold {len(names)} non-negative finite numbers, one per task in the "
                f"order of y's columns {names}; got {self.task_weights!r}."
            )
        return weights

    def _criterion_params(self) -> dict:
        weights = self._check_task_weights(self.task_names_)
        return {} if weights is None else {"task_weights": weights.tolist()}

    def _metric_callbacks(self) -> list:
        return [
            ("valid_auc", ValidationAUC(task_names=self.task_names_)),
            ("task_losses", TaskLosses(task_names=self.task_names_)),
        ]

    def _data_module_params(self) -> dict:
        return {**super()._data_module_params(), "n_tasks": len(self.task_names_)}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None) -> BaseMultiTaskEstimator:
        """Fit the model to the raw features ``X`` and the binary targets ``y``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features: string, category, bool and numeric columns.
        y : DataFrame or array-like of shape (n_samples, n_tasks) or (n_samples,)
            One column per task, each with two labels of any type. A DataFrame's
            column names become ``task_names_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of every task's loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "net_")
        with self._fit_transaction(warm):
            X = self._check_X(X, reset=not warm, ensure_min_samples=1)
            columns, names, named = self._check_y(y)
            check_consistent_length(X, *columns)
            if warm:
                columns = self._columns_of_tasks(columns, names, named, "warm_start=True")
                tasks = zip(self.task_names_, self._task_classes(), columns, strict=True)
                for name, classes, column in tasks:
                    unknown = set(np.unique(column)) - set(classes)
                    if unknown:
                        raise ValueError(
                            f"warm_start=True: y column {name!r} has labels {sorted(unknown)} not seen "
                            f"in the first fit ({classes.tolist()})."
                        )
            else:
                self._set_tasks(
                    names, [LabelEncoder().fit(column).classes_ for column in columns], "y column"
                )
            target = self._target(columns)
            _, stratify = np.unique(target, axis=0, return_inverse=True)
            return self._fit_network(X, target, sample_weight, stratify=stratify.ravel(), warm=warm)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None) -> BaseMultiTaskEstimator:
        """Train one epoch on a chunk of rows, for data that does not fit in memory.

        The first call fits the feature encoder on its chunk and builds the network;
        later calls reuse both, so pass a representative sample first (a category not
        seen in the first chunk is encoded as unknown in every later one). There is no
        early stopping and the learning rate stays ``learning_rate``. After ``fit``,
        ``partial_fit`` continues training the fitted network.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A chunk of raw features, with the columns of the first chunk.
        y : DataFrame or array-like of shape (n_samples, n_tasks) or (n_samples,)
            Its targets, one column per task, as in :meth:`fit`.
        classes : list of array-like of shape (2,), default=None
            Both labels of each task, in the order of ``y``'s columns (a single pair for
            one task). Required on the first call, when one chunk may lack a label;
            ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of every task's loss, normalized to mean 1 in each chunk.

        Returns
        -------
        self : object
            The estimator, trained on one more chunk.

        Examples
        --------
        >>> from sklearn_pangu import MMOEMultiOutput
        >>> from sklearn_pangu.datasets import load_census_income
        >>> X, Y = load_census_income(return_X_y=True)
        >>> model = MMOEMultiOutput(random_state=0)
        >>> for start in range(0, 3000, 1000):
        ...     chunk = slice(start, start + 1000)
        ...     model = model.partial_fit(X[chunk], Y[chunk], classes=[[0, 1], [0, 1]])
        >>> len(model.history_)
        3
        """
        first = not hasattr(self, "net_")
        with self._fit_transaction(warm=not first):
            X = self._check_X(X, reset=first, ensure_min_samples=1)
            columns, names, named = self._check_y(y)
            check_consistent_length(X, *columns)
            if first:
                if classes is None:
                    raise ValueError(
                        "classes must be passed on the first call to partial_fit: both labels of each "
                        "task, e.g. classes=[[0, 1], [0, 1]] for two tasks, since one chunk may lack one."
                    )
                if len(columns) == 1 and np.ndim(classes[0]) == 0:
                    classes = [classes]
                if len(classes) != len(columns):
                    raise ValueError(
                        f"classes has {len(classes)} entries for {len(columns)} target columns ({names}); "
                        "pass the two labels of each task."
                    )
                task_classes = [np.unique(column_or_1d(np.asarray(c))) for c in classes]
                self._set_tasks(names, task_classes, "classes for")
            else:
                columns = self._columns_of_tasks(columns, names, named, "partial_fit")
            for name, known, column in zip(self.task_names_, self._task_classes(), columns, strict=True):
                labels = np.unique(column)
                unknown = labels[pd.Index(known).get_indexer(labels) < 0]
                if len(unknown):
                    raise ValueError(
                        f"partial_fit: y column {name!r} has labels {unknown.tolist()} not in its "
                        f"classes {known.tolist()}."
                    )
            return self._fit_network(
                X, self._target(columns), sample_weight, stratify=None, warm=not first, partial=True
            )

    def _set_tasks(self, names: list[str], classes: list[np.ndarray], source: str) -> None:
        """Record the tasks and their two labels each; ``source`` names where the labels come from."""
        for name, found in zip(names, classes, strict=True):
            if len(found) != 2:
                what = "only one class" if len(found) < 2 else f"{len(found)} classes"
                raise ValueError(
                    f"Only binary classification is supported: every task of "
                    f"{type(self).__name__} needs exactly 2 classes, and {source} {name!r} has "
                    f"{what}: {found.tolist()[:10]}."
                )
        self.n_outputs_ = len(names)
        self.classes_ = classes[0] if self.n_outputs_ == 1 else list(classes)
        self.task_names_ = names
        self._check_task_weights(names)

    def _target(self, columns: list[np.ndarray]) -> np.ndarray:
        """One float32 column per task: 1.0 where the label is the task's ``classes[1]``."""
        return np.column_stack(
            [column == classes[1] for column, classes in zip(columns, self._task_classes(), strict=True)]
        ).astype(np.float32)

    def _task_classes(self) -> list[np.ndarray]:
        return [self.classes_] if self.n_outputs_ == 1 else self.classes_

    def predict_proba(self, X) -> list[np.ndarray] | np.ndarray:
        """Probabilities of each task's labels, in the order of ``classes_[t]``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features with the columns seen at fit.

        Returns
        -------
        proba : list of ndarray of shape (n_samples, 2), or ndarray of shape (n_samples, 2)
            One array per task, in the order of ``task_names_``; a single array
            when the model was fitted on one target.
        """
        proba = [binary_proba(logits) for logits in self._raw_outputs(X).T]
        return proba[0] if self.n_outputs_ == 1 else proba

    def predict(self, X) -> np.ndarray:
        """Most likely label of each task for each row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features with the columns seen at fit.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Labels from ``classes_[t]`` in column ``t``; 1-D when the model was
            fitted on one target.
        """
        positive = self._raw_outputs(X) > 0
        columns = [
            classes[p.astype(int)] for classes, p in zip(self._task_classes(), positive.T, strict=True)
        ]
        return columns[0] if self.n_outputs_ == 1 else np.column_stack(columns)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.multi_label = True
        return tags
