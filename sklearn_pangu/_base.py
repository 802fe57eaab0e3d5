"""The estimator core shared by every ranking classifier."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from abc import ABCMeta, abstractmethod
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    assert_all_finite,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch.callbacks import Callback
from skorch.utils import noop

from ._dataset import BatchIterator, EncodedDataset, FixedValidationSplit
from ._fields import SEQUENCE_POOLINGS
from ._loss import TaskWeightedBCEWithLogitsLoss
from ._net import CTRNet
from ._optim import LazyAdam, QuietSparseAdagrad
from ._persistence import VersionedPickleMixin
from ._prediction import cpu_prediction_threads, predict_outputs
from .callbacks._logging import EpochProgress
from .callbacks._scoring import ValidationAUC
from .callbacks._training import PlateauLearningRateDecay, ValidationEarlyStopping
from .exceptions import NonFiniteLossError
from .preprocessing import FeatureEncoder
from .preprocessing._containers import to_pandas
from .preprocessing._encoder import NUMERIC_ENCODINGS, as_2d_input
from .preprocessing._validation import check_mixed_label_types

#: Prediction encodes about this many rows at a time (a whole number of prediction batches).
PREDICT_CHUNK_ROWS = 262_144
#: ``early_stopping='auto'`` turns early stopping on above this many samples.
AUTO_EARLY_STOPPING_MIN_SAMPLES = 10_000

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}
#: What each optimizer name means with ``sparse_embeddings=True``; the others reject sparse gradients.
SPARSE_OPTIMIZERS = {
    "adam": LazyAdam,
    "adagrad": QuietSparseAdagrad,
    "sgd": torch.optim.SGD,
}


#: Constraints of the embedding parameters, for the estimators that take them.
EMBEDDING_CONSTRAINTS = {
    "embedding_dim": [Interval(Integral, 1, None, closed="left")],
    "embedding_l2": [Interval(Real, 0, None, closed="left")],
}


def resolve_device(device: str) -> torch.device:
    """Parse ``device`` and check this machine can train on it, or raise a ValueError naming it."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'cpu', 'cuda' or 'cuda:N'. ({exc})"
        ) from None
    if parsed.type == "cpu":
        return parsed
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was requested but this machine has no CUDA GPU.")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only {torch.cuda.device_count()} GPU(s) exist."
            )
    elif parsed.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device={device!r} was requested but MPS is not available.")
    else:
        _check_other_backend(device, parsed)
    return parsed


def _check_other_backend(device: str, parsed: torch.device) -> None:
    """Check a device type other than cpu, cuda and mps (xpu, ...) through its ``torch.<type>`` module."""
    backend = getattr(torch, parsed.type, None)
    is_available = getattr(backend, "is_available", None)
    if not callable(is_available) or not is_available():
        raise ValueError(
            f"device={device!r} was requested, but this torch build ({torch.__version__}) cannot train on "
            f"{parsed.type!r} devices on this machine; use 'cpu', or 'cuda' where a CUDA GPU is available."
        )
    device_count = getattr(backend, "device_count", None)
    if parsed.index is not None and callable(device_count) and parsed.index >= device_count():
        raise ValueError(
            f"device={device!r} was requested but only {device_count()} {parsed.type} device(s) exist."
        )


def auto_predict_batch_size(device) -> int:
    """Rows per forward pass with ``predict_batch_size='auto'`` on ``device``.

    1,024 on the CPU, where each of six models predicted faster, and with less memory,
    than at 4,096 or 16,384 rows (section "Prediction batch size on the CPU" of
    ``benchmarks/RESULTS.md``); 16,384 on a GPU.
    """
    return 1024 if torch.device(device).type == "cpu" else 16_384


def binary_proba(logits: np.ndarray) -> np.ndarray:
    """``[1 - p, p]`` per row for ``p = expit(logits)``, shape ``(n_samples, 2)``.

    Written into the result in place: besides the logits, no temporary as long as them.
    """
    proba = np.empty((len(logits), 2))
    expit(logits, out=proba[:, 1])
    np.subtract(1.0, proba[:, 1], out=proba[:, 0])
    return proba


def normalized_sample_weight(sample_weight, X) -> np.ndarray | None:
    """``sample_weight`` checked (finite, non-negative, not all zero) and scaled to mean 1.

    Scaled by the largest weight first, so that the mean cannot overflow whatever the
    weights' magnitude (``1e306`` included); only their ratios matter to the loss.
    """
    if sample_weight is None:
        return None
    weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    weight = weight / weight.max()
    return weight / weight.mean()


def optimizer_class(optimizer, sparse_embeddings: bool) -> type:
    """The optimizer class that ``optimizer`` names, given ``sparse_embeddings``, or the callable itself."""
    if not sparse_embeddings or callable(optimizer):
        return OPTIMIZERS.get(optimizer, optimizer)
    if optimizer not in SPARSE_OPTIMIZERS:
        raise ValueError(
            f"optimizer={optimizer!r} cannot take the sparse gradients of sparse_embeddings=True; use one "
            f"of {sorted(SPARSE_OPTIMIZERS)} or sparse_embeddings=False."
        )
    return SPARSE_OPTIMIZERS[optimizer]


def _same_value(a, b) -> bool:
    """Whether two parameter values are equal, for scalars, strings, tuples and array-likes alike."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    try:
        return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
    except (TypeError, ValueError):
        return a is b


def _as_dataset(codes: np.ndarray, dense: np.ndarray, target=None, weight=None) -> EncodedDataset:
    """An :class:`EncodedDataset` sharing the memory of the encoder's arrays; labels as float32."""
    return EncodedDataset(
        torch.from_numpy(codes),
        torch.from_numpy(dense),
        None if target is None else torch.as_tensor(target, dtype=torch.float32),
        None if weight is None else torch.as_tensor(weight, dtype=torch.float32),
    )


@dataclass(frozen=True)
class TrainingBackend:
    """How the fits of one estimator build and seed their net; see :func:`training_backend`.

    Attributes
    ----------
    estimator : BaseCTREstimator
        The estimator whose fits it applies to.
    net_class : subclass of CTRNet
        The net to build instead of a :class:`~sklearn_pangu._net.CTRNet`.
    net_options : dict
        Arguments of ``net_class`` in place of ``device=<the estimator's device>``.
    random_state : int
        Seed of the fits in place of the estimator's ``random_state``.
    """

    estimator: BaseCTREstimator
    net_class: type[CTRNet]
    net_options: dict
    random_state: int


_active_backend: ContextVar[TrainingBackend | None] = ContextVar("sklearn_pangu_backend", default=None)


@contextlib.contextmanager
def training_backend(
    estimator: BaseCTREstimator, net_class: type[CTRNet], net_options: dict, random_state: int
) -> Iterator[None]:
    """Within it, ``estimator``'s fits train a ``net_class`` and draw their seeds from ``random_state``.

    The hook through which another way of training takes over the net of a fit, as
    :func:`~sklearn_pangu.distributed.fit_with_accelerator` does, without changing
    the estimator: ``net_options`` replace the ``device`` argument of the net, and
    ``random_state`` stands in for the estimator's own (which every process of a
    distributed fit must share). It holds for the current thread (or task) only, and
    only for ``estimator``; the fitted ``net_`` is the ``net_class`` instance.
    """
    token = _active_backend.set(TrainingBackend(estimator, net_class, dict(net_options), random_state))
    try:
        yield
    finally:
        _active_backend.reset(token)


def validate_hidden_units(
    hidden_units, name: str = "hidden_units", *, allow_empty: bool = False
) -> tuple[int, ...]:
    """Return layer widths as a tuple of positive ints, or raise a ValueError naming ``name``."""
    try:
        units = tuple(hidden_units)
    except TypeError:
        units = None
    valid = units is not None and (allow_empty or units)
    if not valid or not all(isinstance(u, Integral) and not isinstance(u, bool) and u > 0 for u in units):
        what = "tuple" if allow_empty else "non-empty tuple"
        raise ValueError(f"{name} must be a {what} of positive ints, got {hidden_units!r}.")
    return tuple(int(u) for u in units)


class BaseCTREstimator(VersionedPickleMixin, BaseEstimator, metaclass=ABCMeta):
    """Trains a torch CTR module with skorch on raw features: the part every estimator shares.

    It validates the shared hyper-parameters, fits the :class:`FeatureEncoder`, holds
    out the early-stopping split, builds the skorch net once and runs the epochs.
    Subclasses turn their labels into the float target tensor (one column per task,
    or a vector for one task), set ``_module_class`` and implement
    :meth:`_module_params`; their ``__init__`` lists the shared hyper-parameters
    plus their own.
    """

    _parameter_constraints: dict = {
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_decay": [Interval(Real, 0, 1, closed="right")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), callable],
        "sparse_embeddings": ["boolean"],
        "mixed_precision": [StrOptions({"bfloat16"}), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "predict_batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(RealNotInt, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like"],
        "numeric_encoding": [StrOptions(set(NUMERIC_ENCODINGS)), dict],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "multi_value_features": [None, dict, "array-like"],
        "max_sequence_length": [Interval(Integral, 1, None, closed="left"), dict],
        "shared_vocabulary": [None, dict],
        "sequence_pooling": [StrOptions(set(SEQUENCE_POOLINGS))],
        "device": [str],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
    }

    _module_class: type[torch.nn.Module]

    @abstractmethod
    def _module_params(self) -> dict:
        """Model hyper-parameters passed to ``_module_class`` besides the field spec."""

    def _data_module_params(self) -> dict:
        """Arguments of ``_module_class`` that come from the fitted data."""
        return {"field_spec": self.encoder_.field_spec_}

    def _encoder_params(self) -> dict:
        """Keyword arguments of the :class:`FeatureEncoder` a fit builds."""
        return {
            "categorical_features": self.categorical_features,
            "numeric_encoding": self.numeric_encoding,
            "n_bins": self.n_bins,
            "multi_value_features": self.multi_value_features,
            "max_sequence_length": self.max_sequence_length,
            "shared_vocabulary": self.shared_vocabulary,
        }

    def _criterion_params(self) -> dict:
        """Arguments of :class:`TaskWeightedBCEWithLogitsLoss` besides the defaults."""
        return {}

    def _metric_callbacks(self) -> list:
        """``(name, callback)`` pairs that record validation metrics; the first records ``valid_auc``."""
        return [("valid_auc", ValidationAUC())]

    # ------------------------------------------------------------------ input
    def _check_X(self, X, *, reset: bool, ensure_min_samples: int = 0):
        """Check ``X`` is 2-D with the fitted columns; return it as the encoder should see it.

        As in scikit-learn, columns are matched by position: a DataFrame must have the
        fitted names in the fitted order (a ``ValueError`` names the columns that moved,
        are missing or are new), and an ndarray after a DataFrame fit, or the reverse,
        warns once and is read by position.
        """
        fitted = None if reset else getattr(self, "feature_names_in_", None)
        named = isinstance(X, Mapping) and not sp.issparse(X)
        if named and fitted is not None and set(X) == {str(name) for name in fitted}:
            X = {str(name): X[str(name)] for name in fitted}  # a dict's columns are matched by name
        X = as_2d_input(X, ensure_min_samples=ensure_min_samples)
        has_fitted_columns = False
        if fitted is not None and isinstance(X, pd.DataFrame):
            names = X.columns.tolist()
            fitted_names = [str(name) for name in fitted]
            has_fitted_columns = names == fitted_names
            all_strings = all(isinstance(name, str) for name in names)
            if all_strings and not has_fitted_columns and sorted(names) == sorted(fitted_names):
                moved = [f"{a!r} where {b!r} was" for a, b in zip(names, fitted_names) if a != b]
                raise ValueError(
                    "The feature names should match those that were passed during fit. Feature "
                    f"names must be in the same order as they were in fit: X has {', '.join(moved[:5])}"
                    f"{' ...' if len(moved) > 5 else ''} at fit. Reorder them with "
                    "X[model.feature_names_in_]."
                )
        if not has_fitted_columns:
            # A frame with the fitted names in the fitted order is all that validate_data
            # checks for here (names, then their number); skipping it saves a one-row
            # prediction a tenth of its time.
            validate_data(self, X, skip_check_array=True, reset=reset)
        if reset:
            return X
        # validate_data has warned about a change between names and no names; the encoder
        # need not warn again.
        if fitted is not None and not isinstance(X, pd.DataFrame):
            return pd.DataFrame(X, columns=list(fitted))
        if fitted is None and isinstance(X, pd.DataFrame) and hasattr(self, "n_features_in_"):
            return X.set_axis(range(X.shape[1]), axis=1)
        return X

    def _dataset(self, X, target=None, weight=None) -> EncodedDataset:
        return _as_dataset(*self.encoder_._encode(X), target, weight)  # X passed _check_X

    # ------------------------------------------------------------------- fit
    @contextlib.contextmanager
    def _fit_transaction(self, warm: bool):
        """Undo everything a ``fit`` or ``partial_fit`` changed when it raises.

        Fitted attributes are assigned as the fit goes; when it raises (a
        ``KeyboardInterrupt`` outside the training loop included) the estimator's
        attributes are put back as they were, and a warm start's network, trained in
        place, gets back its weights, optimizer state, history and settings from a
        copy made before (see :meth:`CTRNet.training_state`). A fitted model then
        predicts exactly as before the failed call, an unfitted one stays unfitted.
        A :class:`NonFiniteLossError` takes what the fit trained along, as its
        ``trained_estimator``.
        """
        attributes = dict(vars(self))
        net_state = self.net_.training_state() if warm else None
        try:
            yield
        except BaseException as exc:
            if isinstance(exc, NonFiniteLossError):
                exc.trained_estimator = self._copy_with_attributes(copy_net=warm)
            if net_state is not None:
                attributes["net_"].restore_training_state(net_state)
            vars(self).clear()
            vars(self).update(attributes)
            raise

    def _copy_with_attributes(self, copy_net: bool) -> BaseCTREstimator:
        """A new estimator with this one's parameters and fitted attributes; its own net with ``copy_net``."""
        estimator = object.__new__(type(self))
        vars(estimator).update(vars(self))
        if copy_net:
            estimator.net_ = copy.deepcopy(self.net_)
        return estimator

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "net_")

    def _network_spec(self) -> dict:
        """What the network is built from besides the data, from the current parameters (validated).

        Its module's and loss's arguments, the optimizer, the precision it predicts in,
        and how it pools list fields.
        """
        if self.sequence_pooling == "max" and self.sparse_embeddings:
            raise ValueError(
                "sequence_pooling='max' cannot be combined with sparse_embeddings=True: max pooling has "
                "no sparse gradient. Use sequence_pooling='mean' or 'sum', or sparse_embeddings=False."
            )
        return {
            "module": self._module_params(),
            "criterion": self._criterion_params(),
            "optimizer": self.optimizer,
            "sparse_embeddings": bool(self.sparse_embeddings),
            "mixed_precision": self.mixed_precision,
            "sequence_pooling": self.sequence_pooling,
        }

    def _fitted_network_spec(self) -> dict:
        """What the fitted ``net_`` was built from, as :meth:`_network_spec` gave it then, read off the net.

        Parameters changed by ``set_params`` since do not change it; saving and warm
        starts go by it.
        """
        net = self.net_
        data = self._data_module_params()
        built = {}
        for kind in ("module", "criterion"):
            prefix = f"{kind}__"
            built[kind] = {
                name[len(prefix) :]: value
                for name, value in vars(net).items()
                if name.startswith(prefix) and name[len(prefix) :] not in data
            }
        named = SPARSE_OPTIMIZERS if net.sparse_embeddings else OPTIMIZERS
        optimizer = next((name for name, cls in named.items() if cls is net.optimizer), net.optimizer)
        return {
            **built,
            "optimizer": optimizer,
            "sparse_embeddings": bool(net.sparse_embeddings),
            "mixed_precision": net.mixed_precision,
            "sequence_pooling": getattr(vars(net).get("module__field_spec"), "sequence_pooling", "mean"),
        }

    def _check_warm_start(self, spec: dict, fitted: dict) -> None:
        """A warm start (``warm_start=True``, ``partial_fit``) continues the fitted network and encoder.

        Refuse, naming them, the parameters of ``spec`` it cannot honour, given the
        ``fitted`` spec: the network's architecture (every argument of its module and
        ``sequence_pooling``), the optimizer and the encoder's parameters
        (:meth:`_encoder_params`: ``categorical_features``, ``multi_value_features``, ...).
        """
        changed = [
            f"{name}={value!r} (the fitted network has {fitted['module'].get(name)!r})"
            for name, value in spec["module"].items()
            if name not in fitted["module"] or not _same_value(value, fitted["module"][name])
        ]
        pooling = fitted.get("sequence_pooling", "mean")
        if spec["sequence_pooling"] != pooling:
            changed.append(
                f"sequence_pooling={spec['sequence_pooling']!r} (the fitted network has {pooling!r})"
            )
        encoder_defaults = FeatureEncoder().get_params()
        for name, value in self._encoder_params().items():
            # An encoder pickled before a parameter existed had its default.
            fitted_value = getattr(self.encoder_, name, encoder_defaults.get(name))
            if not _same_value(value, fitted_value):
                changed.append(f"{name}={value!r} (the fitted encoder has {fitted_value!r})")
        if changed:
            raise ValueError(
                f"{'; '.join(changed)}: a warm start (warm_start=True, partial_fit) continues the network "
                "and feature encoder of the first fit, so it cannot change this. Set it back, or fit with "
                "warm_start=False to build a new network."
            )
        if spec["sparse_embeddings"] != fitted["sparse_embeddings"] or self.net_.optimizer is not (
            optimizer_class(spec["optimizer"], spec["sparse_embeddings"])
        ):
            raise ValueError(
                f"optimizer={self.optimizer!r} with sparse_embeddings={self.sparse_embeddings} differs "
                "from the first fit's; a warm start (warm_start=True, partial_fit) continues the first "
                "fit's optimizer and its state. Set them back, or fit with warm_start=False."
            )

    def _net_callbacks(self) -> list:
        """New callbacks for each fit: metrics, learning-rate decay, progress, early stopping, the user's.

        Raises a ``TypeError`` naming the entry of ``callbacks`` that is not a skorch callback.
        """
        for position, entry in enumerate(self.callbacks or ()):
            named = isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
            callback = entry[1] if named else entry
            if not (
                isinstance(callback, Callback)
                or (isinstance(callback, type) and issubclass(callback, Callback))
            ):
                raise TypeError(
                    f"callbacks[{position}] is {entry!r}, which is not a skorch callback. Pass instances "
                    "of skorch.callbacks.Callback (or such classes, or (name, callback) pairs), e.g. "
                    "callbacks=[sklearn_pangu.callbacks.SkipNonFiniteLoss()]."
                )
        early_stopping = ValidationEarlyStopping(
            monitor="valid_auc",
            lower_is_better=False,
            threshold=0.0,
            load_best=True,
            patience=self.n_iter_no_change,
            sink=print if self.verbose else noop,
        )
        return [
            *self._metric_callbacks(),
            ("learning_rate_decay", PlateauLearningRateDecay(float(self.learning_rate_decay))),
            ("progress", EpochProgress()),
            ("early_stopping", early_stopping),
            *(self.callbacks or ()),
        ]

    def _fit_network(
        self,
        X,
        target: np.ndarray,
        sample_weight,
        stratify: np.ndarray | None,
        warm: bool,
        partial: bool = False,
    ):
        """Encode ``X`` and train the network on ``target`` (float32, one column per task).

        ``stratify`` labels the rows for the stratified early-stopping split. With
        ``partial``, train one epoch on ``X`` without early stopping (``partial_fit``).
        With ``warm``, continue the fitted network and encoder. Call it inside
        :meth:`_fit_transaction`: it assigns fitted attributes as it goes.
        """
        device = resolve_device(self.device)
        spec = self._network_spec()
        fitted = self._fitted_network_spec() if warm else None
        if warm:
            self._check_warm_start(spec, fitted)
        callbacks = self._net_callbacks()
        weight = normalized_sample_weight(sample_weight, X)

        if warm:
            dataset = self._dataset(X, target, weight)
        else:
            self.encoder_ = FeatureEncoder(**self._encoder_params())
            dataset = _as_dataset(*self.encoder_.fit_encode(X), target, weight)

        backend = self._backend()
        rng = check_random_state(self.random_state if backend is None else backend.random_state)
        split_seed, torch_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        if partial and warm:
            # A new seed per chunk, so chunks are not shuffled and dropped out alike.
            torch_seed = (int(torch_seed) + len(self.net_.history)) % np.iinfo(np.int32).max
        split = None if partial else self._validation_split(dataset, stratify, int(split_seed))
        dataset, valid_dataset = split if split is not None else (dataset, None)

        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(int(torch_seed))
            if not warm:
                self.net_ = self._build_net(device, spec, callbacks, backend)
                self.net_.initialize()
            else:
                self._continue_net(spec, fitted, callbacks)
            net = self.net_
            net.mixed_precision = self.mixed_precision
            net.set_params(
                max_epochs=1 if partial else self.max_epochs,
                verbose=int(self.verbose),
                batch_size=self.batch_size,
            )
            # Set on every fit, so that a warm start follows a changed predict_batch_size; skorch's
            # get_iterator reads the attribute, and its set_params raises for it once initialized.
            net.iterator_valid__batch_size = self._predict_batch_size(device)
            for group in net.optimizer_.param_groups:
                group["lr"] = float(self.learning_rate)
            net.train_split = None if valid_dataset is None else FixedValidationSplit(valid_dataset)
            epochs_before = len(net.history)
            try:
                # A KeyboardInterrupt ends partial_fit early without an error: see below.
                net.partial_fit(dataset)
            except NonFiniteLossError as exc:
                raise self._stopped_by_non_finite_loss(exc) from None
            finally:
                net.train_split = None
                self.n_iter_ = len(net.history) - epochs_before
            epochs_done = net.warn_if_interrupted(stacklevel=4)
            if epochs_done is not None:
                self.n_iter_ = epochs_done
        self._clear_best_weights()
        return self

    def _continue_net(self, spec: dict, fitted: dict, callbacks: list) -> None:
        """Give the fitted net this fit's callbacks, and its loss's weights if they differ from ``fitted``."""
        net = self.net_
        net.callbacks = callbacks
        net.initialize_callbacks()
        if spec["criterion"] != fitted["criterion"]:
            for name in [name for name in vars(net) if name.startswith("criterion__")]:
                delattr(net, name)
            for name, value in spec["criterion"].items():
                setattr(net, f"criterion__{name}", value)
            net.criterion_ = TaskWeightedBCEWithLogitsLoss(**spec["criterion"]).to(net.device)

    def _stopped_by_non_finite_loss(self, exc: NonFiniteLossError) -> NonFiniteLossError:
        """The error that ends a fit stopped by a non-finite loss; the net holds the weights it names."""
        has_best = self._early_stopping_callback().best_model_weights_ is not None
        kept = self._restore_best_weights() if has_best else exc.kept
        self._clear_best_weights()
        return NonFiniteLossError(
            f"{exc} Training stopped, and the estimator is left as it was before this call. The "
            f"error's trained_estimator holds what it trained: a fitted copy with the weights {kept}. "
            "Lower learning_rate, raise embedding_l2, check the input for extreme values, or "
            "pass callbacks=[sklearn_pangu.callbacks.SkipNonFiniteLoss()] to skip such batches.",
            epoch=exc.epoch,
            batch=exc.batch,
            kept=kept,
        )

    def _validation_split(self, dataset: EncodedDataset, stratify: np.ndarray, seed: int):
        n_samples = len(dataset)
        use = self.early_stopping
        if use == "auto":
            use = n_samples > AUTO_EARLY_STOPPING_MIN_SAMPLES
        if not use:
            return None
        n_valid = math.ceil(self.validation_fraction * n_samples)
        if n_valid >= n_samples:
            raise ValueError(
                f"early_stopping holds out validation_fraction={self.validation_fraction} of the "
                f"{n_samples} training rows for validation ({n_valid} rows), which leaves none to train "
                "on. Lower validation_fraction, pass more rows, or set early_stopping=False."
            )
        indices = np.arange(n_samples)
        try:
            train, valid = train_test_split(
                indices, test_size=self.validation_fraction, stratify=stratify, random_state=seed
            )
        except ValueError:
            # Some label has too few rows to appear on both sides.
            train, valid = train_test_split(indices, test_size=self.validation_fraction, random_state=seed)
        return dataset.subset(train), dataset.subset(valid)

    @staticmethod
    def _optimizer_options(spec: dict, device: torch.device) -> dict:
        """Keyword arguments of the optimizer of ``spec`` besides the learning rate.

        ``'adam'`` and ``'adamw'`` run torch's fused implementation on the CPU and on
        CUDA: one kernel per step instead of a pass over the weights per operation, and
        no temporary the size of the model; the same arithmetic up to float rounding.
        """
        fusable = spec["optimizer"] in ("adam", "adamw") and not spec["sparse_embeddings"]
        return {"fused": True} if fusable and device.type in ("cpu", "cuda") else {}

    def _backend(self) -> TrainingBackend | None:
        """The :class:`TrainingBackend` set for this estimator's fits by :func:`training_backend`, or None."""
        backend = _active_backend.get()
        return backend if backend is not None and backend.estimator is self else None

    def _build_net(
        self, device: torch.device, spec: dict, callbacks: list, backend: TrainingBackend | None = None
    ) -> CTRNet:
        """A new, uninitialized net of the network ``spec`` (see :meth:`_network_spec`) on ``device``.

        With a ``backend``, its ``net_class`` built with its ``net_options`` in place of ``device``.
        """
        net_class, net_options = CTRNet, {"device": str(device)}
        if backend is not None:
            net_class, net_options = backend.net_class, backend.net_options
        data = self._data_module_params()
        # How list fields pool is the spec's (a saved network's), whatever set_params changed since.
        pooling = spec.get("sequence_pooling", self.sequence_pooling)
        data["field_spec"] = dataclasses.replace(data["field_spec"], sequence_pooling=pooling)
        # The module goes in as a class with its arguments, never as an instance:
        # skorch pickles module_ with a device map, but not the ``module`` argument.
        return net_class(
            module=self._module_class,
            **{f"module__{name}": value for name, value in data.items()},
            **{f"module__{name}": value for name, value in spec["module"].items()},
            criterion=TaskWeightedBCEWithLogitsLoss,
            **{f"criterion__{name}": value for name, value in spec["criterion"].items()},
            optimizer=optimizer_class(spec["optimizer"], spec["sparse_embeddings"]),
            **{f"optimizer__{name}": value for name, value in self._optimizer_options(spec, device).items()},
            lr=float(self.learning_rate),
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=BatchIterator,
            iterator_train__shuffle=True,
            iterator_valid=BatchIterator,
            train_split=None,
            callbacks=callbacks,
            verbose=int(self.verbose),
            sparse_embeddings=spec["sparse_embeddings"],
            mixed_precision=spec["mixed_precision"],
            **net_options,
        )

    def _predict_batch_size(self, device) -> int:
        """Rows per forward pass when predicting on ``device`` (``predict_batch_size`` resolved)."""
        if self.predict_batch_size == "auto":
            return auto_predict_batch_size(device)
        return int(self.predict_batch_size)

    def _early_stopping_callback(self) -> ValidationEarlyStopping:
        return dict(self.net_.callbacks_)["early_stopping"]

    def _restore_best_weights(self) -> str:
        callback = self._early_stopping_callback()
        if getattr(callback, "best_model_weights_", None) is not None:
            self.net_.module_.load_state_dict(callback.best_model_weights_)
            return f"of its best validation epoch ({callback.best_epoch_})"
        return "from before the failing batch"

    def _clear_best_weights(self) -> None:
        self._early_stopping_callback().best_model_weights_ = None

    # --------------------------------------------------------------- predict
    def _raw_outputs(self, X, net=None) -> np.ndarray:
        """Logits for the rows of ``X``: shape (n_samples,) or (n_samples, n_tasks), float64.

        ``net`` stands in for ``net_`` in :func:`predict_outputs` to take other outputs
        of the module (ESMM's tower logits).
        """
        check_is_fitted(self)
        net = self.net_ if net is None else net
        X = self._check_X(X, reset=False)
        # Encode and predict a chunk of rows at a time: the encoded rows (int32 codes,
        # 4 bytes per field) never exist for all of a large X at once, so memory beyond
        # X and the result stays flat. Chunks are whole prediction batches: the same
        # batches, and so the same bits, as predicting X in one go.
        batch_size = self._predict_batch_size(self.net_.device)
        n_threads = cpu_prediction_threads(self.net_.device, batch_size)
        chunk = max(PREDICT_CHUNK_ROWS // batch_size, 1) * batch_size
        rows = X.iloc if isinstance(X, pd.DataFrame) else X
        logits = None
        for start in range(0, max(X.shape[0], 1), chunk):
            # A slice of a frame is a new frame, slower to read column by column: a few rows go whole.
            part_X = X if X.shape[0] <= chunk else rows[start : start + chunk]
            part = predict_outputs(net, self._dataset(part_X), batch_size, n_threads)
            if logits is None:
                logits = np.empty((X.shape[0], *part.shape[1:]), dtype=np.float64)
            logits[start : start + len(part)] = part.numpy()
        return logits

    @property
    def history_(self):
        """Per-epoch history of the skorch net: losses, ``valid_auc``, duration."""
        check_is_fitted(self)
        return self.net_.history

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


class BaseCTRClassifier(ClassifierMixin, BaseCTREstimator):
    """Binary classifier on a CTR module that returns one logit per row."""

    def _check_y(self, y) -> np.ndarray:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y = to_pandas(y, input_name="y")
        # Labels are matched to the rows of X by position; a pandas index is ignored.
        y = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
        if y.ndim == 2 and y.shape[1] > 1:
            raise ValueError(
                f"{type(self).__name__} learns one binary target, but y has {y.shape[1]} columns. "
                "For several targets use a multi-task estimator, e.g. MMOEMultiOutput."
            )
        y = column_or_1d(y, warn=True)
        if y.dtype.kind == "f":
            assert_all_finite(y, input_name="y")
        if pd.isna(y).any():
            raise ValueError("Input y contains NaN or missing values; drop those rows or fill them.")
        check_mixed_label_types(y, "y")
        check_classification_targets(y)
        return y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None) -> BaseCTRClassifier:
        """Fit the model to the raw features ``X`` and binary labels ``y``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features: string, category, bool and numeric columns.
        y : array-like of shape (n_samples,)
            Two-class labels of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the training loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "net_")
        with self._fit_transaction(warm):
            X = self._check_X(X, reset=not warm, ensure_min_samples=1)
            y = self._check_y(y)
            check_consistent_length(X, y)
            if warm:
                unknown = set(np.unique(y)) - set(self.classes_)
                if unknown:
                    raise ValueError(
                        f"warm_start=True: y has classes {sorted(unknown)} not seen in the first fit "
                        f"(classes_={self.classes_.tolist()})."
                    )
            else:
                label_encoder = LabelEncoder().fit(y)
                n_classes = len(label_encoder.classes_)
                if n_classes != 2:
                    what = "only one class" if n_classes < 2 else f"{n_classes} classes"
                    raise ValueError(
                        f"Only binary classification is supported: {type(self).__name__} needs "
                        f"exactly 2 classes in y, got {what}: {label_encoder.classes_.tolist()[:10]}. "
                        "For more than two classes wrap it in sklearn.multiclass.OneVsRestClassifier."
                    )
                self.classes_ = label_encoder.classes_
            target = (y == self.classes_[1]).astype(np.float32)
            return self._fit_network(X, target, sample_weight, stratify=target, warm=warm)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None) -> BaseCTRClassifier:
        """Train one epoch on a chunk of rows, for data that does not fit in memory.

        The first call fits the feature encoder on its chunk and builds the network;
        later calls reuse both, so pass a representative sample first (a category not
        seen in the first chunk is encoded as unknown in every later one). There is no
        early stopping and the learning rate stays ``learning_rate``. After ``fit``,
        ``partial_fit`` continues training the fitted network; a later ``fit``
        starts afresh (unless ``warm_start=True``).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A chunk of raw features, with the columns of the first chunk.
        y : array-like of shape (n_samples,)
            Its two-class labels.
        classes : array-like of shape (2,), default=None
            Both labels. Required on the first call, when one chunk may hold only one
            of them; ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the training loss, normalized to mean 1 in each chunk.

        Returns
        -------
        self : object
            The estimator, trained on one more chunk.

        Examples
        --------
        >>> from sklearn_pangu import FMClassifier
        >>> from sklearn_pangu.datasets import make_ctr_classification
        >>> X, y = make_ctr_classification(n_samples=3000, random_state=0)
        >>> model = FMClassifier(random_state=0)
        >>> for start in range(0, 3000, 1000):
        ...     model = model.partial_fit(X[start : start + 1000], y[start : start + 1000], classes=[0, 1])
        >>> len(model.history_)
        3
        """
        first = not hasattr(self, "net_")
        if first:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit, e.g. "
                    "partial_fit(X, y, classes=[0, 1]): one chunk may not hold both labels."
                )
            classes = np.unique(column_or_1d(np.asarray(classes)))
            if len(classes) != 2:
                raise ValueError(
                    f"Only binary classification is supported: classes must hold exactly 2 labels, "
                    f"got {classes.tolist()[:10]}."
                )
        with self._fit_transaction(warm=not first):
            X = self._check_X(X, reset=first, ensure_min_samples=1)
            y = self._check_y(y)
            check_consistent_length(X, y)
            known = self.classes_ if not first else classes
            labels = np.unique(y)
            # pandas matches by value and type: "1" is not the class 1.
            unknown = labels[pd.Index(known).get_indexer(labels) < 0]
            if len(unknown):
                raise ValueError(
                    f"partial_fit: y has labels {unknown.tolist()} not in classes={known.tolist()}."
                )
            if first:
                self.classes_ = classes
            target = (y == self.classes_[1]).astype(np.float32)
            return self._fit_network(X, target, sample_weight, stratify=None, warm=not first, partial=True)

    def decision_function(self, X) -> np.ndarray:
        """Logit of the positive class ``classes_[1]`` for each row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features with the columns seen at fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Log-odds of ``classes_[1]``.
        """
        return self._raw_outputs(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities in the order of ``classes_``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features with the columns seen at fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Probability of ``classes_[0]`` and ``classes_[1]``.
        """
        return binary_proba(self.decision_function(X))

    def predict(self, X) -> np.ndarray:
        """Most likely class of each row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features with the columns seen at fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
