"""The types to trust when loading a fitted estimator saved with skops.

``skops.io.dump(model, path)`` stores a fitted estimator of this package, and
``skops.io.load(path, trusted=skops_trusted_types())`` loads it back. skops asks the
caller to name every type in the file that it does not trust by default; these are
the estimator, encoder and training classes of this package, the skorch classes the
network is built of, the optimizer class and two functions (``print`` and
``functools.partial``, held by skorch's callbacks).

Trusting them is not a safety check on the file. A fitted estimator holds a skorch
net, and skorch keeps the network, optimizer and loss as pickled bytes in its own
state (``NeuralNet.__getstate__``); when skops rebuilds the net, skorch unpickles
them with the :mod:`pickle` module (tensors through ``torch.load``). Loading a skops
file of an estimator therefore runs whatever those bytes name, as loading a pickle
does: load it only from a source you trust, and use
:func:`sklearn_pangu.io.save` and :func:`sklearn_pangu.io.load` for files from
anywhere else.
"""

from __future__ import annotations

import functools


def _qualified_name(obj) -> str:
    """``module.Name`` of a class or function, as skops names a type."""
    return f"{obj.__module__}.{obj.__qualname__}"


def _package_types() -> list:
    """The classes of this package that a fitted estimator holds, whatever its options."""
    from .._base import OPTIMIZERS, SPARSE_OPTIMIZERS
    from .._dataset import BatchIterator
    from .._fields import FieldSpec
    from .._loss import TaskWeightedBCEWithLogitsLoss
    from .._net import CTRNet
    from ..callbacks import _logging, _scoring, _training
    from ..preprocessing import _column_coders, _encoder, _list_coder
    from ..utils import all_estimators

    estimators = [cls for _, cls in all_estimators()]
    modules = [cls._module_class for cls in estimators if hasattr(cls, "_module_class")]
    training = [
        CTRNet,
        BatchIterator,
        TaskWeightedBCEWithLogitsLoss,
        _logging.EpochProgress,
        _scoring.TaskLosses,
        _scoring.ValidationAUC,
        _training.PlateauLearningRateDecay,
        _training.SkipNonFiniteLoss,
        _training.ValidationEarlyStopping,
    ]
    encoding = [
        FieldSpec,
        _encoder._FitOnlyColumnTransformer,
        _column_coders.CategoryCoder,
        _column_coders.NumericScaler,
        _column_coders.QuantileBucketizer,
        _column_coders.PiecewiseLinearEncoder,
        _list_coder.ListCoder,
    ]
    optimizers = [*OPTIMIZERS.values(), *SPARSE_OPTIMIZERS.values()]
    return [*estimators, *modules, *training, *encoding, *optimizers]


def _skorch_types() -> list:
    """The skorch classes and functions in a fitted net's state."""
    from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
    from skorch.dataset import Dataset
    from skorch.history import History
    from skorch.setter import optimizer_setter
    from skorch.utils import noop

    return [EpochTimer, PassthroughScoring, PrintLog, Dataset, History, optimizer_setter, noop]


def skops_trusted_types() -> list[str]:
    """Names of the types to trust when loading a fitted estimator with skops.

    Pass them as ``skops.io.load(path, trusted=skops_trusted_types())``, or as
    ``skops_trusted_types=`` of MLflow's scikit-learn flavour saved with
    ``serialization_format="skops"``. They cover every estimator of this package
    with its default callbacks and any ``optimizer`` name; a callback of your own,
    or a net trained through ``sklearn_pangu.distributed``, adds its own classes:
    ``skops.io.get_untrusted_types(file=path)`` lists what a file holds.

    Trusting them does not make loading safe: skorch unpickles the network, optimizer
    and loss from bytes in the file (see the module's notes), so load skops files of
    these estimators only from sources you trust, as you would a pickle, and use
    :func:`sklearn_pangu.io.save` and :func:`sklearn_pangu.io.load` otherwise.

    Returns
    -------
    names : list of str
        Sorted, fully qualified type names, as ``skops.io.get_untrusted_types``
        reports them.

    Examples
    --------
    >>> from sklearn_pangu.io._skops import skops_trusted_types
    >>> "sklearn_pangu.ranking._deepfm.DeepFMClassifier" in skops_trusted_types()
    True
    """
    objects = [*_package_types(), *_skorch_types(), print, functools.partial]
    return sorted({_qualified_name(obj) for obj in objects})
