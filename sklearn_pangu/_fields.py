"""The contract between the feature encoder and the torch modules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    """Describe the encoded input a model receives.

    A batch is a pair ``(codes, dense)``: ``codes`` is an integer tensor of shape
    ``(batch, n_categorical)`` whose column ``j`` holds indices in
    ``[0, cardinalities[j])``, and ``dense`` is a float tensor of shape
    ``(batch, n_dense)``.

    Parameters
    ----------
    categorical_fields : tuple of str
        Names of the categorical fields, in column order of ``codes``.
    cardinalities : tuple of int
        Number of distinct indices of each categorical field, reserved indices
        (unknown, missing) included.
    dense_features : tuple of str
        Names of the dense features, in column order of ``dense``.
    """

    categorical_fields: tuple[str, ...] = ()
    cardinalities: tuple[int, ...] = ()
    dense_features: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.categorical_fields) != len(self.cardinalities):
            raise ValueError(
                "categorical_fields and cardinalities must have the same length, got "
                f"{len(self.categorical_fields)} and {len(self.cardinalities)}."
            )
        if any(c < 1 for c in self.cardinalities):
            raise ValueError(f"Every cardinality must be >= 1, got {self.cardinalities}.")

    @property
    def n_categorical(self) -> int:
        """Number of categorical fields."""
        return len(self.categorical_fields)

    @property
    def n_dense(self) -> int:
        """Number of dense features."""
        return len(self.dense_features)

    @property
    def n_fields(self) -> int:
        """Number of fields a model sees: one per categorical field and dense feature."""
        return self.n_categorical + self.n_dense
