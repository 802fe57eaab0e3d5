"""Parameter constraints and module arguments shared by the ranking estimators."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from .._base import BaseCTRClassifier, validate_hidden_units

EMBEDDING_CONSTRAINTS = {
    "embedding_dim": [Interval(Integral, 1, None, closed="left")],
    "embedding_l2": [Interval(Real, 0, None, closed="left")],
}
DEEP_CONSTRAINTS = {
    "hidden_units": ["array-like"],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
}


class DeepClassifier(BaseCTRClassifier):
    """Base of the models with an embedding and an MLP: their constraints and module arguments.

    A subclass whose module takes more arguments extends ``_parameter_constraints``
    and :meth:`_module_params`.
    """

    _parameter_constraints = {
        **BaseCTRClassifier._parameter_constraints,
        **EMBEDDING_CONSTRAINTS,
        **DEEP_CONSTRAINTS,
    }

    def _module_params(self) -> dict:
        return {
            "embedding_dim": self.embedding_dim,
            "hidden_units": validate_hidden_units(self.hidden_units),
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "embedding_l2": self.embedding_l2,
        }
