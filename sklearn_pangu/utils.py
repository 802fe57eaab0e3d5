"""Helpers for working with the package's estimators."""

from __future__ import annotations

import inspect

from sklearn.base import BaseEstimator


def all_estimators() -> list[tuple[str, type]]:
    """Return ``(name, class)`` for every public estimator of sklearn_pangu.

    Returns
    -------
    estimators : list of (str, type)
        Sorted by name; includes the feature encoder.

    Examples
    --------
    >>> from sklearn_pangu.utils import all_estimators
    >>> "DeepFMClassifier" in dict(all_estimators())
    True
    """
    import sklearn_pangu
    from sklearn_pangu import preprocessing

    found = {}
    for module in (sklearn_pangu, preprocessing):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and not inspect.isabstract(obj):
                found[name] = obj
    return sorted(found.items())
