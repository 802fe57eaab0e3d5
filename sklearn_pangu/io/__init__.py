"""Saving and loading fitted estimators.

Pickle and joblib work for every estimator and record the package versions, but
unpickling runs code named by the file: load such files only from sources you
trust. :func:`save` and :func:`load` use a format that holds tensors and JSON
only, so :func:`load` never runs code from the file.
"""

from .._persistence import PersistenceVersionWarning
from ._safe_format import ModelFileError, UnsafeModelFileError, load, save
from ._skops import skops_trusted_types

__all__ = [
    "ModelFileError",
    "PersistenceVersionWarning",
    "UnsafeModelFileError",
    "load",
    "save",
    "skops_trusted_types",
]
