"""Save and load fitted estimators without pickling Python objects.

A file is written by :func:`torch.save` and read back by ``torch.load(weights_only=True)``,
whose unpickler builds only tensors and plain containers (dict, list, tuple, str,
numbers) and refuses any other object. It holds one dict::

    {
        "meta": "<JSON text>",            # format, class name, versions, params, fitted state
        "modules": {"module": state_dict, "criterion": state_dict},
        "optimizers": {"optimizer": optimizer state_dict},
        "checksums": {"meta": "<sha256>", "modules/module/deep.0.weight": "<sha256>", ...},
    }

The JSON records the estimator's class name (one of sklearn_pangu's public
estimators), its ``get_params``, its fitted attributes (``classes_``,
``feature_names_in_``, ``task_names_``, ...), the fitted feature encoder, the
training history and the package versions, with tuples, numpy arrays and numpy
scalars tagged so that they come back with their types (see ``_codec``). Loading
rebuilds the estimator from its class and parameters, the encoder from its state,
and the network with the estimator's own ``_build_net``, then loads the weights.

Since format version 2 the file records a SHA-256 checksum of every member (see
``_integrity``), which loading compares before it reads anything else: a damaged
file is refused with :class:`ModelFileError` instead of predicting from wrong
weights. Version-1 files, which have none, still load with a warning. Saving writes
a temporary file beside the target and renames it into place (see ``_atomic``), so
a failed save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings

import numpy as np
import torch
from skorch.history import History

from .._base import BaseCTREstimator, resolve_device
from .._persistence import running_versions, warn_if_versions_differ
from ._atomic import atomic_write
from ._codec import UnencodableValueError, decode, encode
from ._encoder_state import encoder_state, rebuild_encoder
from ._integrity import CHECKSUMS_KEY, find_damage, member_checksums

FORMAT = "sklearn_pangu.io"
FORMAT_VERSION = 2
#: Versions this module reads; 1 has no checksums.
_READABLE_VERSIONS = (1, 2)
_FITTED_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*_$")
_NOT_ATTRIBUTES = ("net_", "encoder_")


class ModelFileError(ValueError):
    """A file is not a model that :func:`sklearn_pangu.io.load` can read."""


class UnsafeModelFileError(ModelFileError, pickle.UnpicklingError):
    """A file holds Python objects other than tensors and plain data, which loading refuses to build."""


def _estimator_classes() -> dict[str, type]:
    """The estimators a file may name: sklearn_pangu's public estimator classes."""
    import sklearn_pangu

    classes = {}
    for name in sklearn_pangu.__all__:
        obj = getattr(sklearn_pangu, name)
        if isinstance(obj, type) and issubclass(obj, BaseCTREstimator):
            classes[name] = obj
    return classes


def _encode_named(kind: str, name: str, value):
    try:
        return encode(value)
    except UnencodableValueError as exc:
        raise ValueError(
            f"The {kind} {name!r} holds {exc}, which sklearn_pangu.io.save cannot store: the safe "
            "format keeps only plain values (None, bool, numbers, strings, lists, tuples, dicts, "
            f"numpy arrays). Set {name} to such a value before saving (e.g. optimizer='adam', "
            "callbacks=None), or use joblib.dump for a file you will only load from a trusted source."
        ) from None


def save(estimator: BaseCTREstimator, path: str | os.PathLike) -> None:
    """Save an estimator to a file that :func:`load` reads without running code from it.

    The file holds the network weights and optimizer state as tensors, and the
    hyper-parameters, fitted attributes, fitted feature encoder, training history
    and package versions as JSON. An unfitted estimator saves its parameters only.

    The file also records a SHA-256 checksum of each of these, which :func:`load`
    verifies. It is written to a temporary file in the same folder
    (``.<name>.<random>.tmp``), flushed to the disk and then renamed onto ``path``
    in one step: a reader sees the previous file or the new one, and a save that
    fails (a full disk, a file size limit, an interrupt) leaves the previous file
    as it was and removes the temporary file. A process killed during the save may
    leave its temporary file behind.

    Parameters
    ----------
    estimator : estimator
        An instance of one of sklearn_pangu's public estimators, fitted or not.
        Subclasses defined elsewhere cannot be saved: loading only rebuilds
        sklearn_pangu's own classes.
    path : str or path-like
        File to write; it is replaced if it exists (a symbolic link is followed,
        and an existing file's permission bits are kept).

    Raises
    ------
    TypeError
        If ``estimator`` is not one of sklearn_pangu's public estimators.
    ValueError
        If a hyper-parameter or fitted attribute is not plain data, e.g. a callable
        ``optimizer``, a ``callbacks`` list or a ``RandomState`` as
        ``random_state``; the message names it. Nothing is written.
    OSError
        If the file cannot be written, e.g. ``[Errno 28] No space left on device``
        or ``[Errno 27] File too large``; the errno and the ``__cause__`` are the
        system's error, and the message names ``path``, the cause, and says that
        the previous file is unchanged.
    RuntimeError
        If torch fails to serialise the payload for another reason; the message
        names ``path`` and the cause, which is the ``__cause__``.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sklearn_pangu import FMClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu.io import load, save
    >>> X, y = make_ctr_classification(n_samples=300, random_state=0)
    >>> model = FMClassifier(embedding_dim=4, max_epochs=2, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "model.pt"
    ...     save(model, path)
    ...     loaded = load(path)
    >>> np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    True
    """
    name = type(estimator).__name__
    if _estimator_classes().get(name) is not type(estimator):
        raise TypeError(
            f"sklearn_pangu.io.save stores sklearn_pangu's public estimators only, got {type(estimator)!r}; "
            "use joblib.dump for other objects."
        )
    params = {
        key: _encode_named("parameter", key, value) for key, value in estimator.get_params(deep=False).items()
    }
    fitted = hasattr(estimator, "net_")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": name,
        "versions": running_versions(),
        "params": params,
        "fitted": fitted,
    }
    payload = {}
    if fitted:
        net = estimator.net_
        meta["attributes"] = {
            key: _encode_named("fitted attribute", key, value)
            for key, value in vars(estimator).items()
            if _FITTED_ATTRIBUTE.match(key) and key not in _NOT_ATTRIBUTES
        }
        meta["encoder"] = encoder_state(estimator.encoder_)
        meta["network"] = {
            key: _encode_named("network setting", key, value)
            for key, value in estimator._fitted_network_spec().items()
        }
        meta["history"] = _encode_named("net attribute", "history", net.history.to_list())
        payload["modules"] = {
            module: _cpu_state(getattr(net, f"{module}_").state_dict())
            for module in [*net._modules, *net._criteria]
        }
        payload["optimizers"] = {
            name: _plain_state(getattr(net, f"{name}_").state_dict()) for name in net._optimizers
        }
    payload["meta"] = json.dumps(meta, allow_nan=False, separators=(",", ":"))
    payload[CHECKSUMS_KEY] = member_checksums(payload)
    atomic_write(path, lambda file: torch.save(payload, file))


def _cpu_state(state: dict) -> dict:
    return {key: value.detach().cpu() for key, value in state.items()}


def _plain_state(value):
    """An optimizer's state with numpy scalars as Python numbers, which the weights-only loader builds.

    A learning rate set from a numpy scalar (``np.float64(1e-3)``, as searches over
    ``np.logspace`` hand it over) ends up in the optimizer's parameter groups.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {key: _plain_state(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain_state(item) for item in value)
    return value


def _refusal_reason(exc: Exception) -> str:
    """What torch's weights-only unpickler refused (its inner error), without its advice on loading anyway."""
    inner = exc.__cause__ or exc.__context__
    reason = str(inner).split(". Please")[0].strip() if inner is not None else ""
    return reason or type(exc).__name__


#: What torch's weights-only unpickler says when a file asks it to build or call an object it refuses.
_REFUSED_OBJECT = re.compile(
    r"not an allowed global|is blocked|unrecognized function|Can only (create|build)"
)


def _looks_like_torch_archive(path: str) -> bool:
    """Whether the file starts as a zip archive does (a file cut short counts), as torch.save's do."""
    with open(path, "rb") as file:
        start = file.read(4)
    return start == b"PK\x03\x04"[: len(start)]


def _read_payload(path: str) -> dict:
    """The file's payload, its checksums verified when it has them (format version 2)."""
    try:
        with warnings.catch_warnings():
            # A plain pickle (protocol > 2) is refused below; torch's note about its protocol is noise.
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = _refusal_reason(exc)
        if _looks_like_torch_archive(path) and not _REFUSED_OBJECT.search(reason):
            raise ModelFileError(
                f"{path!r} is damaged or is not a model file written by sklearn_pangu.io.save: the pickled "
                f"data in its archive cannot be read ({reason})."
            ) from exc
        raise UnsafeModelFileError(
            f"Refusing to load {path!r}: it is not a model file written by sklearn_pangu.io.save, or it is "
            "one that has been damaged. It holds pickled data other than tensors and plain values, which "
            f"only an unpickler that runs code from the file could read ({reason}). Open a pickle or "
            "joblib file only if you trust its source."
        ) from exc
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"{path!r} is damaged or is not a model file written by sklearn_pangu.io.save: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(payload, dict):
        raise ModelFileError(f"{path!r} is not a model file written by sklearn_pangu.io.save.")
    if CHECKSUMS_KEY in payload:
        problem = find_damage(payload)
        if problem is not None:
            raise ModelFileError(
                f"{path!r} is corrupted (damaged since it was saved): {problem}. Nothing was loaded from "
                "it; restore the file from a copy or save the model again."
            )
    if not isinstance(payload.get("meta"), str):
        raise ModelFileError(f"{path!r} is not a model file written by sklearn_pangu.io.save.")
    return payload


def _check_format_version(version, has_checksums: bool, path: str) -> None:
    """Refuse a format version this module does not read, or a version-2 file without its checksums."""
    if type(version) is int and version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path!r} has the format version {version}, which is newer than this sklearn_pangu reads "
            f"({FORMAT_VERSION}); upgrade sklearn_pangu. (A damaged file can show such a version too.)"
        )
    if type(version) is not int or version not in _READABLE_VERSIONS:
        raise ModelFileError(
            f"{path!r} is corrupted or is not a model file written by sklearn_pangu.io.save: its format "
            f"version {version!r} is none that sklearn_pangu.io has written."
        )
    if version >= 2 and not has_checksums:
        raise ModelFileError(
            f"{path!r} is corrupted: it says format version {version} but lacks the checksums every such "
            "file has, so its integrity cannot be checked. Nothing was loaded from it."
        )
    if not has_checksums:
        warnings.warn(
            f"{path!r} was saved with format version {version}, which has no checksums: its integrity "
            "cannot be checked, so a damaged file may load with wrong weights. Save it again to add them.",
            UserWarning,
            stacklevel=3,
        )


def load(path: str | os.PathLike, map_location: str | torch.device | None = None) -> BaseCTREstimator:
    """Load an estimator saved by :func:`save`, never running code from the file.

    The file is read with ``torch.load(weights_only=True)``, which refuses any
    Python object other than tensors and plain containers, so a file from an
    untrusted source cannot run code. The estimator is rebuilt from its class
    name, which must be one of sklearn_pangu's public estimators. A fitted model
    predicts exactly as before saving; its optimizer state and training history
    are restored too, so ``partial_fit`` and ``fit`` with ``warm_start=True``
    continue training as they would have on the saved estimator.

    Before anything in the file is parsed or used, the SHA-256 checksum that
    :func:`save` recorded for each member (the JSON metadata, every tensor of every
    module and optimizer state, every other optimizer value) is recomputed and
    compared, so a damaged file is refused rather than loaded with wrong weights.
    This costs one pass over the weights. Checksums detect accidental damage, not
    deliberate edits: whoever edits a file can recompute them.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    map_location : str or torch.device, default=None
        Device to put the network on; the estimator's ``device`` parameter is set
        to it. None keeps the saved ``device`` when this machine has it and
        otherwise moves the model to ``'cpu'`` (setting ``device='cpu'``) with a
        ``UserWarning``: a model trained on a GPU loads on a CPU-only machine.

    Returns
    -------
    estimator : estimator
        The rebuilt estimator, fitted if it was fitted when saved.

    Raises
    ------
    UnsafeModelFileError
        If the file holds Python objects other than tensors and plain data (a
        pickle or joblib file, or a torch file with arbitrary objects). It is a
        subclass of both ``ValueError`` and ``pickle.UnpicklingError``.
    ModelFileError
        If the file is not a model written by :func:`save`, or names a class that
        is not one of sklearn_pangu's public estimators. If the file is damaged:
        a member does not match its checksum, is missing or was not saved (the
        message says the file is corrupted and names the member), a version-2 file
        lacks its checksums, or torch cannot read the file as an archive (truncated,
        empty; the message says it is damaged or not a model file). If its format
        version is newer than this sklearn_pangu reads, or unknown.

    Warns
    -----
    UserWarning
        When the file has format version 1 (saved before checksums were recorded):
        its integrity cannot be checked.
    PersistenceVersionWarning
        When sklearn_pangu, torch, scikit-learn or skorch differs from the version
        that saved the file; the message names both versions of each.

    See Also
    --------
    save : Write such a file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_pangu import MMOEMultiOutput
    >>> from sklearn_pangu.datasets import load_census_income
    >>> from sklearn_pangu.io import load, save
    >>> X, Y = load_census_income(return_X_y=True)
    >>> model = MMOEMultiOutput(embedding_dim=4, max_epochs=1, random_state=0).fit(X[:300], Y[:300])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save(model, pathlib.Path(folder) / "mmoe.pt")
    ...     loaded = load(pathlib.Path(folder) / "mmoe.pt", map_location="cpu")
    >>> loaded.task_names_ == model.task_names_
    True
    """
    path = os.fspath(path)
    if map_location is not None:
        try:
            map_location = str(torch.device(map_location))
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"map_location={map_location!r} is not a torch device: {exc}") from None
        resolve_device(map_location)
    payload = _read_payload(path)
    try:
        meta = json.loads(payload["meta"])
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("it does not name the sklearn_pangu.io format")
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(
            f"{path!r} is not a model file written by sklearn_pangu.io.save: {exc}."
        ) from None
    _check_format_version(meta.get("format_version"), CHECKSUMS_KEY in payload, path)
    name = meta.get("estimator")
    estimator_class = _estimator_classes().get(name) if isinstance(name, str) else None
    if estimator_class is None:
        raise ModelFileError(
            f"{path!r} names the class {name!r}, which is not one of sklearn_pangu's public estimators; "
            "sklearn_pangu.io.load rebuilds only those."
        )
    warn_if_versions_differ(meta.get("versions"), stacklevel=2)
    try:
        return _rebuild(estimator_class, meta, payload, path, map_location)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError, RecursionError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(
            f"{path!r} could not be rebuilt as a {name}: {type(exc).__name__}: {exc}"
        ) from exc


def _target_device(saved: str, map_location: str | None, path: str) -> str:
    if map_location is not None:
        return map_location
    try:
        resolve_device(saved)
    except ValueError:
        warnings.warn(
            f"{path!r} was saved with device={saved!r}, which this machine lacks; the model is loaded "
            "on 'cpu' and its device parameter set to 'cpu'. Pass map_location to choose another.",
            UserWarning,
            stacklevel=4,
        )
        return "cpu"
    return saved


def _rebuild(estimator_class: type, meta: dict, payload: dict, path: str, map_location) -> BaseCTREstimator:
    estimator = estimator_class()
    params = {key: decode(value) for key, value in meta["params"].items()}
    estimator.set_params(**params)
    estimator.set_params(device=_target_device(estimator.device, map_location, path))
    if not meta["fitted"]:
        return estimator

    for key, value in meta["attributes"].items():
        if not _FITTED_ATTRIBUTE.match(key) or key in _NOT_ATTRIBUTES or hasattr(estimator_class, key):
            raise ValueError(f"unexpected fitted attribute {key!r}")
        setattr(estimator, key, decode(value))
    estimator.encoder_ = rebuild_encoder(meta["encoder"])

    device = resolve_device(estimator.device)
    # The network as it was fitted, whatever set_params changed since; a file from
    # before networks were recorded builds it from the parameters.
    if "network" in meta:
        spec = {key: decode(value) for key, value in meta["network"].items()}
    else:
        spec = estimator._network_spec()
    net = estimator._build_net(device, spec, estimator._net_callbacks())
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        net.initialize()
    _load_states(net, payload.get("modules"), [*net._modules, *net._criteria], "module")
    _load_states(net, payload.get("optimizers"), list(net._optimizers), "optimizer")
    history = decode(meta["history"])
    if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
        raise ValueError("the training history is not a list of dicts")
    net.history = History(history)
    estimator.net_ = net
    return estimator


def _load_states(net, states, names: list[str], kind: str) -> None:
    if not isinstance(states, dict) or set(states) - set(names):
        raise ValueError(f"the {kind} states do not match the network ({names})")
    if kind == "module" and set(states) != set(names):
        raise ValueError(f"the file lacks the weights of {sorted(set(names) - set(states))}")
    for name, state in states.items():
        getattr(net, f"{name}_").load_state_dict(state)
