"""Errors that the estimators raise besides scikit-learn's and Python's own."""

from ._training import NonFiniteLossError

__all__ = ["NonFiniteLossError"]
