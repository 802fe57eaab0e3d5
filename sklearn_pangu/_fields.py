"""The contract between the feature encoder and the torch modules."""

from __future__ import annotations

from dataclasses import dataclass

SEQUENCE_POOLINGS = ("mean", "sum", "max")

#: The code of an empty slot of a list field (after its last item).
PAD_CODE = -1


@dataclass(frozen=True)
class FieldSpec:
    """Describe the encoded input a model receives.

    A batch is a pair ``(codes, dense)``. ``codes`` is an integer tensor of shape
    ``(batch, n_code_columns)``: categorical field ``j`` occupies the columns
    :meth:`code_columns` ``(j)``, in field order. A single-value field has one
    column holding an index in ``[0, cardinalities[j])``. A list (multi-value)
    field has ``sequence_lengths[j]`` columns: its items' indices, oldest first,
    then :data:`PAD_CODE` in the slots after the last item. ``dense`` is a float
    tensor of shape ``(batch, n_dense)``.

    Parameters
    ----------
    categorical_fields : tuple of str
        Names of the categorical fields, single-value and list fields alike, in
        the order of their columns in ``codes``.
    cardinalities : tuple of int
        Number of distinct indices of each categorical field, reserved indices
        (unknown, missing) included. Fields that share a vocabulary have the same.
    dense_features : tuple of str
        Names of the dense features, in column order of ``dense``.
    sequence_lengths : tuple of int, default=()
        For each categorical field, 0 for a single-value field, or the number of
        item slots of a list field. Empty means every field is single-value.
    shared_tables : tuple of int, default=()
        For each categorical field, the index of the field whose vocabulary (and
        so embedding table) it uses: its own index, or that of the first field of
        its shared vocabulary. Empty means every field has its own.
    sequence_pooling : {'mean', 'sum', 'max'}, default='mean'
        How a model pools the item vectors of a list field into one field vector;
        empty slots never count, and a list without items pools to zeros.
    dense_fields : tuple of int, default=()
        For each dense feature, the index of the field (among the dense fields,
        from 0, in order of first appearance) whose vector it adds into: the
        pieces of a piecewise-linear encoded column make one field. Empty means
        every dense feature is a field of its own.

    Examples
    --------
    >>> from sklearn_pangu._fields import FieldSpec
    >>> spec = FieldSpec(("item", "history"), (10, 10), ("price",), sequence_lengths=(0, 3),
    ...                  shared_tables=(0, 0))
    >>> spec.n_code_columns, spec.code_columns(1), spec.list_fields
    (4, slice(1, 4, None), (1,))
    """

    categorical_fields: tuple[str, ...] = ()
    cardinalities: tuple[int, ...] = ()
    dense_features: tuple[str, ...] = ()
    sequence_lengths: tuple[int, ...] = ()
    shared_tables: tuple[int, ...] = ()
    sequence_pooling: str = "mean"
    dense_fields: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.categorical_fields)
        if len(self.cardinalities) != n:
            raise ValueError(
                "categorical_fields and cardinalities must have the same length, got "
                f"{n} and {len(self.cardinalities)}."
            )
        if any(c < 1 for c in self.cardinalities):
            raise ValueError(f"Every cardinality must be >= 1, got {self.cardinalities}.")
        if not self.sequence_lengths:
            object.__setattr__(self, "sequence_lengths", (0,) * n)
        if not self.shared_tables:
            object.__setattr__(self, "shared_tables", tuple(range(n)))
        if len(self.sequence_lengths) != n or any(length < 0 for length in self.sequence_lengths):
            raise ValueError(
                "sequence_lengths must hold one length >= 0 per categorical field, got "
                f"{self.sequence_lengths}."
            )
        if len(self.shared_tables) != n:
            raise ValueError(
                f"shared_tables must hold one field index per categorical field, got {self.shared_tables}."
            )
        for j, owner in enumerate(self.shared_tables):
            if not 0 <= owner <= j or self.shared_tables[owner] != owner:
                raise ValueError(
                    f"shared_tables[{j}] = {owner} must be the index of an earlier field that owns its table."
                )
            if self.cardinalities[owner] != self.cardinalities[j]:
                raise ValueError(
                    f"Fields {self.categorical_fields[j]!r} and {self.categorical_fields[owner]!r} share a "
                    "table but have different cardinalities."
                )
        if not self.dense_fields:
            object.__setattr__(self, "dense_fields", tuple(range(len(self.dense_features))))
        seen = 0
        for field in self.dense_fields:
            if field > seen or field < 0 or len(self.dense_fields) != self.n_dense:
                raise ValueError(
                    "dense_fields must hold one field index per dense feature, numbered from 0 in order "
                    f"of first appearance, got {self.dense_fields}."
                )
            seen = max(seen, field + 1)
        if self.sequence_pooling not in SEQUENCE_POOLINGS:
            raise ValueError(
                f"sequence_pooling must be one of {SEQUENCE_POOLINGS}, got {self.sequence_pooling!r}."
            )

    @property
    def n_categorical(self) -> int:
        """Number of categorical fields, list fields included."""
        return len(self.categorical_fields)

    @property
    def n_dense(self) -> int:
        """Number of dense features."""
        return len(self.dense_features)

    @property
    def n_dense_fields(self) -> int:
        """Number of field vectors of the dense features (see ``dense_fields``)."""
        return max(self.dense_fields, default=-1) + 1

    @property
    def n_fields(self) -> int:
        """Number of field vectors a model sees: one per categorical field and dense field."""
        return self.n_categorical + self.n_dense_fields

    @property
    def list_fields(self) -> tuple[int, ...]:
        """Indices of the list fields among the categorical fields."""
        return tuple(j for j, length in enumerate(self.sequence_lengths) if length)

    @property
    def n_code_columns(self) -> int:
        """Number of columns of ``codes``: one per single-value field, the slots of each list field."""
        return sum(max(length, 1) for length in self.sequence_lengths)

    def code_columns(self, field: int) -> slice:
        """The columns of ``codes`` that hold categorical field ``field``."""
        start = sum(max(length, 1) for length in self.sequence_lengths[:field])
        return slice(start, start + max(self.sequence_lengths[field], 1))

    def field_index(self, name: str) -> int:
        """Index of the categorical field called ``name``; a ``ValueError`` naming it if there is none."""
        try:
            return self.categorical_fields.index(name)
        except ValueError:
            raise ValueError(
                f"No categorical field is called {name!r}; the fields are {list(self.categorical_fields)}."
            ) from None
