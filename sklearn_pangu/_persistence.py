"""Versions recorded in saved models, and the warning raised when they differ at load time.

Every estimator pickles (``pickle``, ``joblib``, ``copy.deepcopy``) through
:class:`VersionedPickleMixin`, which stores the versions of sklearn_pangu, torch,
scikit-learn and skorch next to the estimator's state and compares them when the
state is loaded. The safe format of :mod:`sklearn_pangu.io` records and compares the
same four versions through :func:`running_versions` and :func:`warn_if_versions_differ`.

scikit-learn's own ``BaseEstimator.__getstate__`` records ``_sklearn_version`` only
for classes defined in scikit-learn's modules, so it never covers sklearn_pangu's
estimators: the mixin names scikit-learn among the packages it checks. A scikit-learn
object held inside a fitted estimator (the feature encoder's ``ColumnTransformer``)
still raises scikit-learn's ``InconsistentVersionWarning`` about itself.
"""

from __future__ import annotations

import warnings

#: Key of the versions dict in a pickled estimator's state.
VERSIONS_KEY = "_sklearn_pangu_versions"
#: Packages whose versions a saved model records, in the order warnings name them.
PACKAGES = ("sklearn_pangu", "torch", "scikit-learn", "skorch")


class PersistenceVersionWarning(UserWarning):
    """A model is loaded under package versions other than those it was saved with.

    Predictions may differ, or loading may fail further on, when torch, skorch,
    scikit-learn or sklearn_pangu changed between saving and loading.

    Parameters
    ----------
    saved_versions : dict of str to str
        Versions recorded when the model was saved, for the packages that differ.
    running_versions : dict of str to str
        Versions running now, for the same packages.

    Attributes
    ----------
    saved_versions : dict of str to str
        Versions recorded when the model was saved, for the packages that differ.
    running_versions : dict of str to str
        Versions running now, for the same packages.
    """

    def __init__(self, saved_versions: dict[str, str], running_versions: dict[str, str]) -> None:
        self.saved_versions = dict(saved_versions)
        self.running_versions = dict(running_versions)
        differences = ", ".join(
            f"{name} {saved_versions[name]} (saved) vs {running_versions[name]} (running)"
            for name in saved_versions
        )
        super().__init__(
            f"This model was saved under other package versions than the ones running now: {differences}. "
            "It may predict differently or fail; refit it under the running versions, or load it "
            "where the saved versions are installed."
        )


def running_versions() -> dict[str, str]:
    """Versions of sklearn_pangu, torch, scikit-learn and skorch running in this process.

    Returns
    -------
    versions : dict of str to str
        ``{"sklearn_pangu": ..., "torch": ..., "scikit-learn": ..., "skorch": ...}``.

    Examples
    --------
    >>> from sklearn_pangu._persistence import running_versions
    >>> sorted(running_versions())
    ['scikit-learn', 'sklearn_pangu', 'skorch', 'torch']
    """
    import sklearn
    import skorch
    import torch

    import sklearn_pangu  # the package imports this module, so read its version at call time

    return {
        "sklearn_pangu": str(sklearn_pangu.__version__),
        "torch": str(torch.__version__),
        "scikit-learn": str(sklearn.__version__),
        "skorch": str(skorch.__version__),
    }


def warn_if_versions_differ(saved: dict | None, *, stacklevel: int = 2) -> None:
    """Warn with :class:`PersistenceVersionWarning` naming each package whose version changed.

    Parameters
    ----------
    saved : dict of str to str or None
        Versions recorded at save time. None (a file from before versions were
        recorded) and packages it does not name are not compared.
    stacklevel : int, default=2
        Passed to :func:`warnings.warn`.
    """
    if not isinstance(saved, dict):
        return
    running = running_versions()
    differing = [name for name in PACKAGES if name in saved and str(saved[name]) != running[name]]
    if differing:
        warnings.warn(
            PersistenceVersionWarning(
                {name: str(saved[name]) for name in differing}, {name: running[name] for name in differing}
            ),
            stacklevel=stacklevel + 1,
        )


class VersionedPickleMixin:
    """Record package versions in the pickled state and warn when they differ at load time.

    ``__getstate__`` adds a ``_sklearn_pangu_versions`` dict (see
    :func:`running_versions`) to the state of scikit-learn's ``BaseEstimator``;
    ``__setstate__`` removes it, warns with :class:`PersistenceVersionWarning` when
    any of the four versions differs from the running one, and hands the rest of the
    state on. Put it before ``BaseEstimator`` in the bases. A pickle without the
    dict (made before versions were recorded) loads without a warning.
    """

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        return {**state, VERSIONS_KEY: running_versions()}

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        warn_if_versions_differ(state.pop(VERSIONS_KEY, None), stacklevel=2)
        super().__setstate__(state)
