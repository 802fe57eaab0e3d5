"""Field embeddings: one fused table for every categorical field."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._fields import FieldSpec


@contextlib.contextmanager
def add_rows_into_held_gradients(module: nn.Module) -> Iterator[None]:
    """Within it, ``module``'s tables add their gradient rows straight into their held gradients.

    It turns on :attr:`FieldEmbedding.add_rows_into_held_gradient` of every
    :class:`FieldEmbedding` in ``module``, and puts back their settings on the way
    out. A training loop that zeroes the gradients in place between steps (rather
    than setting them to None), and computes them with a plain ``loss.backward()``,
    wraps each step's forward and backward passes in this. A table whose weight then
    holds a dense gradient gets its gradient rows added into it with ``index_add_``,
    and autograd is handed no gradient for the weight. Without it, every step builds
    a new table-sized gradient, which for a table of more than 32 MiB means fresh
    pages from the system each time (glibc serves such blocks with ``mmap``):
    milliseconds of page faults per step. ``weight.grad`` holds the same values
    either way; a hook registered on the weight tensor receives None instead of the
    rows.
    """
    layers = [layer for layer in module.modules() if isinstance(layer, FieldEmbedding)]
    before = [layer.add_rows_into_held_gradient for layer in layers]
    for layer in layers:
        layer.add_rows_into_held_gradient = True
    try:
        yield
    finally:
        for layer, setting in zip(layers, before, strict=True):
            layer.add_rows_into_held_gradient = setting


class _AddedRowsGradient(torch.autograd.Function):
    """``weight[indices]``, whose backward sums the gradient rows with ``index_add_``.

    On the CPU, ``nn.Embedding``'s dense backward sorts the indices before it sums;
    adding the rows in place is several times faster and gives the same gradient (up
    to the order of additions). On CUDA the sort-based backward avoids atomic adds,
    so it stays in use there. With ``into_held_gradient`` the backward adds into the
    gradient the weight holds instead: see :func:`add_rows_into_held_gradients`.
    """

    @staticmethod
    def forward(ctx, weight: torch.Tensor, indices: torch.Tensor, into_held_gradient: bool) -> torch.Tensor:
        ctx.save_for_backward(indices)
        # A parameter (a leaf): holding it creates no reference cycle through the graph.
        ctx.weight = weight
        ctx.into_held_gradient = into_held_gradient
        return weight.index_select(0, indices.reshape(-1)).view(*indices.shape, weight.shape[1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, None, None]:
        (indices,) = ctx.saved_tensors
        weight = ctx.weight
        rows, grad = indices.reshape(-1), grad.reshape(-1, grad.shape[-1])
        held = weight.grad
        if (
            ctx.into_held_gradient
            and held is not None
            and held.layout == torch.strided
            and not torch.is_grad_enabled()
        ):
            _add_rows_into(held, rows, grad)
            return None, None, None
        return _add_rows_into(grad.new_zeros(weight.shape), rows, grad), None, None


def _add_rows_into(target: torch.Tensor, rows: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``target.index_add_(0, rows, grad)``; a one-column target (a first-order table) as a vector.

    Adding scalars into a vector is about three times faster than adding rows of one
    element into a matrix, on the CPU.
    """
    if target.shape[1] == 1 and target.is_contiguous():
        target.view(-1).index_add_(0, rows, grad.reshape(-1))
        return target
    return target.index_add_(0, rows, grad)


def lookup_rows(
    table: nn.Embedding, indices: torch.Tensor, *, into_held_gradient: bool = False
) -> torch.Tensor:
    """Rows ``indices`` of ``table``, as ``table(indices)``, with a faster dense backward on the CPU.

    A table with sparse gradients (``sparse_embeddings=True``) and tables on other
    devices use ``nn.Embedding`` itself. With ``into_held_gradient``, the backward
    adds the rows into the dense gradient the table's weight already holds, if any
    (see :func:`add_rows_into_held_gradients`).
    """
    weight = table.weight
    if table.sparse or weight.device.type != "cpu" or not (weight.requires_grad and torch.is_grad_enabled()):
        return table(indices)
    return _AddedRowsGradient.apply(weight, indices, into_held_gradient)


def _weight_gradient(
    weight: torch.Tensor, rows: torch.Tensor, grad: torch.Tensor, into_held_gradient: bool
) -> torch.Tensor | None:
    """The gradient of ``weight`` from gradients ``grad`` of its rows ``rows``, summed with ``index_add_``.

    With ``into_held_gradient`` (and a dense gradient held, outside a double
    backward) they are added into ``weight.grad`` instead, and None is returned.
    """
    grad = grad.to(weight.dtype)
    held = weight.grad
    if (
        into_held_gradient
        and held is not None
        and held.layout == torch.strided
        and not torch.is_grad_enabled()
    ):
        _add_rows_into(held, rows, grad)
        return None
    return _add_rows_into(grad.new_zeros(weight.shape), rows, grad)


class _PooledRowsGradient(torch.autograd.Function):
    """``F.embedding_bag`` in mode ``'sum'`` or ``'mean'``, whose backward adds rows with ``index_add_``.

    The CPU counterpart of :class:`_AddedRowsGradient` for pooled list fields:
    ``embedding_bag``'s own dense backward sorts the ids and hands autograd a new
    table-sized gradient.
    """

    @staticmethod
    def forward(
        ctx,
        weight: torch.Tensor,
        ids: torch.Tensor,
        counts: torch.Tensor,
        mean: bool,
        into_held_gradient: bool,
    ) -> torch.Tensor:
        ctx.save_for_backward(ids, counts)
        ctx.weight = weight
        ctx.mean = mean
        ctx.into_held_gradient = into_held_gradient
        offsets = counts.cumsum(0) - counts
        return F.embedding_bag(ids, weight, offsets, mode="mean" if mean else "sum")

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, None, None, None, None]:
        ids, counts = ctx.saved_tensors
        if ctx.mean:
            grad = grad / counts.clamp(min=1).unsqueeze(1).to(grad.dtype)
        rows = grad.repeat_interleave(counts, dim=0, output_size=ids.numel())
        return _weight_gradient(ctx.weight, ids, rows, ctx.into_held_gradient), None, None, None, None


class FieldEmbedding(nn.Module):
    """Embed every field of a batch as a vector, from one fused table.

    Categorical field ``j`` looks its index up in rows
    ``offsets[j] : offsets[j] + cardinalities[j]`` of a single ``nn.Embedding``; a
    field that shares the table of an earlier field (``shared_tables``) has no rows of
    its own and uses that field's. A list field (``sequence_lengths[j] > 0``) holds
    up to ``sequence_lengths[j]`` item indices in consecutive columns of ``codes``,
    then :data:`~sklearn_pangu._fields.PAD_CODE` (-1); its vector is the
    ``sequence_pooling`` of its items' rows, where empty slots never count and a row
    without items gets zeros. Dense feature ``k`` is embedded as ``x_k * v_k``, the
    real-valued-feature embedding of factorization machines.

    Parameters
    ----------
    cardinalities : sequence of int
        Number of indices of each categorical field.
    n_dense : int
        Number of dense features to embed.
    embedding_dim : int
        Size of each field vector.
    l2 : float, default=0.0
        Weight of the L2 penalty on the distinct table rows looked up in a training
        batch (each counted once, however often it occurs, whether through
        :meth:`forward`, :meth:`lookup_sequence` or :meth:`lookup_field`) and on the
        dense vectors. Only rows a batch uses are penalized, so gradients stay
        sparse. Read it with :meth:`pop_penalty`.
    init_std : float, default=1e-4
        Standard deviation of the normal initialization.
    sequence_lengths : sequence of int, default=()
        Per categorical field, 0 for a single-value field or the number of item
        slots of a list field; empty means every field is single-value.
    shared_tables : sequence of int, default=()
        Per categorical field, the index of the field whose table rows it uses (its
        own, or that of an earlier field that owns them); empty means each its own.
    sequence_pooling : {'mean', 'sum', 'max'}, default='mean'
        How the item rows of a list field pool into its vector. ``'max'`` cannot
        give sparse gradients (``table.sparse``).
    dense_fields : sequence of int, default=()
        Per dense feature, the dense field whose vector ``x_k * v_k`` adds into
        (numbered from 0 in order of first appearance), as
        :attr:`FieldSpec.dense_fields`: a piecewise-linear encoded column's
        pieces make one field, ``sum_t x_t * v_t``. Empty means each its own.

    Attributes
    ----------
    add_rows_into_held_gradient : bool
        Whether a training backward pass on the CPU adds the table's gradient rows
        into the dense gradient ``table.weight.grad`` already holds, instead of
        handing autograd a new table-sized gradient to add. False by default; a
        training loop that computes gradients with ``loss.backward()`` and zeroes
        them in place between steps turns it on around each step, which spares a
        table-sized allocation per step. ``table.weight.grad`` ends up the same
        either way.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import FieldEmbedding
    >>> embedding = FieldEmbedding([5, 3], n_dense=1, embedding_dim=4)
    >>> embedding(torch.tensor([[4, 2]]), torch.tensor([[0.5]])).shape
    torch.Size([1, 3, 4])

    A list field of 3 slots sharing the table of field 0 (an item and the user's
    history of items):

    >>> history = FieldEmbedding([5, 5], 0, 4, sequence_lengths=[0, 3], shared_tables=[0, 0])
    >>> history.table.num_embeddings
    5
    >>> history(torch.tensor([[4, 1, 3, -1]]), torch.zeros(1, 0)).shape
    torch.Size([1, 2, 4])

    Three dense features, the first two the pieces of one column:

    >>> pieces = FieldEmbedding([5], 3, 4, dense_fields=[0, 0, 1])
    >>> pieces(torch.tensor([[4]]), torch.tensor([[1.0, 0.5, 2.0]])).shape
    torch.Size([1, 3, 4])
    """

    add_rows_into_held_gradient = False
    # Defaults for modules pickled before list fields existed.
    sequence_pooling = "mean"
    _list_fields: tuple[int, ...] = ()
    _penalty_records: tuple = ()
    _penalty_dense = False
    _step_closed = False
    _n_dense_fields = None
    _cardinalities: tuple[int, ...] | None = None
    _projecting = 0  # how many nn.projecting contexts are open

    def __init__(
        self,
        cardinalities: Sequence[int],
        n_dense: int,
        embedding_dim: int,
        *,
        l2: float = 0.0,
        init_std: float = 1e-4,
        sequence_lengths: Sequence[int] = (),
        shared_tables: Sequence[int] = (),
        sequence_pooling: str = "mean",
        dense_fields: Sequence[int] = (),
    ) -> None:
        super().__init__()
        cardinalities = tuple(int(c) for c in cardinalities)
        spec = FieldSpec(
            tuple(str(j) for j in range(len(cardinalities))),
            cardinalities,
            tuple(str(j) for j in range(int(n_dense))),
            sequence_lengths=tuple(int(length) for length in sequence_lengths),
            shared_tables=tuple(int(owner) for owner in shared_tables),
            sequence_pooling=sequence_pooling,
            dense_fields=tuple(int(field) for field in dense_fields),
        )
        self.n_categorical = spec.n_categorical
        self.n_dense = int(n_dense)
        self._n_dense_fields = spec.n_dense_fields
        self.register_buffer(
            "_dense_fields",
            None
            if spec.n_dense_fields == self.n_dense
            else torch.tensor(spec.dense_fields, dtype=torch.long),
            persistent=False,
        )
        self.embedding_dim = int(embedding_dim)
        self.l2 = float(l2)
        self.sequence_lengths = spec.sequence_lengths
        self.shared_tables = spec.shared_tables
        self.sequence_pooling = spec.sequence_pooling
        self._list_fields = spec.list_fields
        self._cardinalities = cardinalities
        self._columns = tuple(spec.code_columns(j) for j in range(spec.n_categorical))
        table_offsets, n_rows = {}, 0
        for j, owner in enumerate(spec.shared_tables):
            if owner == j:
                table_offsets[j], n_rows = n_rows, n_rows + cardinalities[j]
        self._table_offsets = tuple(table_offsets[owner] for owner in spec.shared_tables)
        self.register_buffer(
            "offsets", torch.tensor([self._table_offsets], dtype=torch.long), persistent=False
        )
        if self._list_fields:
            scalar = [j for j in range(self.n_categorical) if j not in self._list_fields]
            columns = [self._columns[j].start for j in scalar]
            # Encoders put the list fields last: the scalar codes are then a view.
            self._scalar_slice = slice(0, len(scalar)) if columns == list(range(len(scalar))) else None
            self.register_buffer("_scalar_columns", torch.tensor(columns, dtype=torch.long), persistent=False)
            self.register_buffer(
                "_scalar_offsets",
                torch.tensor([[self._table_offsets[j] for j in scalar]], dtype=torch.long),
                persistent=False,
            )
            order = scalar + list(self._list_fields)
            self._field_order = (
                None if order == sorted(order) else [order.index(j) for j in range(len(order))]
            )
        self.table = nn.Embedding(max(n_rows, 1), self.embedding_dim)
        self.dense_weight = nn.Parameter(torch.empty(self.n_dense, self.embedding_dim))
        nn.init.normal_(self.table.weight, std=init_std)
        nn.init.normal_(self.dense_weight, std=init_std)

    @classmethod
    def from_spec(
        cls, spec: FieldSpec, embedding_dim: int, *, l2: float = 0.0, init_std: float = 1e-4
    ) -> FieldEmbedding:
        """The embedding of every field of ``spec``: its tables, list fields and pooling.

        Parameters
        ----------
        spec : FieldSpec
            The encoded input: cardinalities, sequence lengths, shared tables, pooling.
        embedding_dim : int
            Size of each field vector.
        l2 : float, default=0.0
            Weight of the L2 penalty on the rows a training batch looks up.
        init_std : float, default=1e-4
            Standard deviation of the normal initialization.

        Returns
        -------
        embedding : FieldEmbedding
            One vector per field of ``spec`` (``spec.n_fields``).

        Examples
        --------
        >>> from sklearn_pangu._fields import FieldSpec
        >>> from sklearn_pangu.nn import FieldEmbedding
        >>> spec = FieldSpec(("item", "tags"), (6, 4), ("price",), sequence_lengths=(0, 3))
        >>> FieldEmbedding.from_spec(spec, 8).n_fields
        3
        """
        return cls(
            spec.cardinalities,
            spec.n_dense,
            embedding_dim,
            l2=l2,
            init_std=init_std,
            sequence_lengths=spec.sequence_lengths,
            shared_tables=spec.shared_tables,
            sequence_pooling=spec.sequence_pooling,
            dense_fields=spec.dense_fields,
        )

    @property
    def n_dense_fields(self) -> int:
        """Number of field vectors of the dense features."""
        return self.n_dense if self._n_dense_fields is None else self._n_dense_fields

    @property
    def n_fields(self) -> int:
        """Number of field vectors per row."""
        return self.n_categorical + self.n_dense_fields

    def forward(
        self, codes: torch.Tensor, dense: torch.Tensor, *, pooled: dict[int, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Return the field vectors, shape ``(batch, n_fields, embedding_dim)``.

        Parameters
        ----------
        codes : Tensor of shape (batch, n_code_columns)
            The categorical codes: one column per single-value field, its slots per list field.
        dense : Tensor of shape (batch, n_dense)
            The dense features.
        pooled : dict of int to Tensor of shape (batch, embedding_dim), default=None
            Vectors that stand for list fields (by field index) instead of their
            pooled items; those fields are not pooled at all.

        Returns
        -------
        vectors : Tensor of shape (batch, n_fields, embedding_dim)
            The categorical fields' vectors in field order, then the dense features'.
        """
        recording = self.training and self.l2 > 0
        if recording and self._step_closed:
            self._forget_penalty()
        parts = []
        if not self._list_fields:
            if pooled:
                self._check_list_field(next(iter(pooled)))
            if self.n_categorical:
                indices = codes + self.offsets
                rows = lookup_rows(self.table, indices, into_held_gradient=self.add_rows_into_held_gradient)
                parts.append(rows)
                if recording:
                    self._penalty_records = (*self._penalty_records, (indices, rows))
        else:
            parts.append(self._categorical_vectors(codes, pooled or {}, recording))
        if self.n_dense:
            vectors = dense.unsqueeze(-1) * self.dense_weight
            if getattr(self, "_dense_fields", None) is not None:
                # The dense features of one field (a column's pieces) add into one vector.
                grouped = vectors.new_zeros((vectors.shape[0], self.n_dense_fields, self.embedding_dim))
                vectors = grouped.index_add_(1, self._dense_fields, vectors)
            parts.append(vectors)
        if recording:
            self._penalty_dense, self._step_closed = True, True
        if not parts:
            return dense.new_zeros((dense.shape[0], 0, self.embedding_dim))
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

    def _categorical_vectors(
        self, codes: torch.Tensor, pooled: dict[int, torch.Tensor], recording: bool
    ) -> torch.Tensor:
        """The vectors of the categorical fields when some are list fields: ``(batch, n_categorical, D)``."""
        for field in pooled:
            self._check_list_field(field)
        scalar_codes = (
            codes[:, self._scalar_slice] if self._scalar_slice is not None else codes[:, self._scalar_columns]
        )
        indices = scalar_codes.long() + self._scalar_offsets
        scalar_rows = lookup_rows(self.table, indices, into_held_gradient=self.add_rows_into_held_gradient)
        if recording and indices.shape[1]:
            self._penalty_records = (*self._penalty_records, (indices, scalar_rows))
        to_pool = [j for j in self._list_fields if j not in pooled]
        bags = self._pool(codes, to_pool, recording) if to_pool else None
        if pooled:
            vectors, k = [], 0
            for j in self._list_fields:
                if j in pooled:
                    vectors.append(pooled[j].to(scalar_rows.dtype))
                else:
                    vectors.append(bags[k])
                    k += 1
            list_rows = torch.stack(vectors, dim=1)
        else:
            list_rows = bags.transpose(0, 1)
        out = torch.cat([scalar_rows, list_rows], dim=1)
        if self._field_order is not None:
            out = out[:, self._field_order]
        return out

    def _pool(self, codes: torch.Tensor, fields: list[int], recording: bool) -> torch.Tensor:
        """The pooled item rows of list ``fields``, shape ``(len(fields), batch, D)``, in one bag call."""
        if torch.compiler.is_exporting():
            return self._pool_padded(codes, fields)
        ids, counts = [], []
        for j in fields:
            block = codes[:, self._columns[j]]
            valid = block >= 0
            ids.append(block[valid].long() + self._table_offsets[j])
            counts.append(valid.sum(dim=1))
        ids, counts = torch.cat(ids), torch.cat(counts)
        if recording:
            self._penalty_records = (*self._penalty_records, (ids, None))
        weight, mode = self.table.weight, self.sequence_pooling
        if mode == "max" and self.table.sparse:
            raise ValueError(
                "sequence_pooling='max' cannot give sparse gradients (sparse_embeddings=True); use "
                "sequence_pooling='mean' or 'sum', or dense gradients."
            )
        fast_backward = (
            mode != "max"
            and not self.table.sparse
            and weight.device.type == "cpu"
            and weight.requires_grad
            and torch.is_grad_enabled()
        )
        if fast_backward:
            out = _PooledRowsGradient.apply(
                weight, ids, counts, mode == "mean", self.add_rows_into_held_gradient
            )
        else:
            offsets = counts.cumsum(0) - counts
            out = F.embedding_bag(ids, weight, offsets, mode=mode, sparse=self.table.sparse)
        return out.view(len(fields), codes.shape[0], self.embedding_dim)

    def _pool_padded(self, codes: torch.Tensor, fields: list[int]) -> torch.Tensor:
        """:meth:`_pool` over every slot with the empty ones masked: the form ``torch.export`` traces.

        Its shapes do not depend on the number of items, so an exported graph (ONNX)
        gathers and reduces without loops; a row's result is :meth:`_pool`'s.
        """
        pooled = []
        for j in fields:
            block = codes[:, self._columns[j]]
            valid = block >= 0
            ids = torch.where(valid, block, 0).long() + self._table_offsets[j]
            rows = self.table.weight[ids] * valid.unsqueeze(-1)
            if self.sequence_pooling == "max":
                rows = rows.masked_fill(~valid.unsqueeze(-1), float("-inf")).amax(dim=1)
                pooled.append(torch.where(valid.any(dim=1, keepdim=True), rows, 0.0))
                continue
            total = rows.sum(dim=1)
            if self.sequence_pooling == "mean":
                total = total / valid.sum(dim=1, keepdim=True).clamp(min=1)
            pooled.append(total)
        return torch.stack(pooled)

    def lookup_sequence(self, codes: torch.Tensor, field: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The item vectors of list field ``field``, unpooled, and which slots hold items.

        Parameters
        ----------
        codes : Tensor of shape (batch, n_code_columns)
            The categorical codes.
        field : int
            Index of a list field.

        Returns
        -------
        rows : Tensor of shape (batch, sequence_lengths[field], embedding_dim)
            The rows of the items, oldest first; zeros in empty slots.
        mask : Tensor of shape (batch, sequence_lengths[field]), bool
            True at the slots that hold an item.

        Examples
        --------
        >>> import torch
        >>> from sklearn_pangu.nn import FieldEmbedding
        >>> embedding = FieldEmbedding([5, 5], 0, 2, sequence_lengths=[0, 3], shared_tables=[0, 0])
        >>> rows, mask = embedding.lookup_sequence(torch.tensor([[4, 1, 3, -1]]), 1)
        >>> rows.shape, mask.tolist()
        (torch.Size([1, 3, 2]), [[True, True, False]])
        """
        self._check_list_field(field)
        block = codes[:, self._columns[field]]
        mask = block >= 0
        ids = block[mask].long() + self._table_offsets[field]
        rows = self._lookup(ids)
        positions = mask.reshape(-1).nonzero().squeeze(1)
        out = rows.new_zeros(mask.numel(), self.embedding_dim).index_copy(0, positions, rows)
        return out.view(*mask.shape, self.embedding_dim), mask

    def lookup_field(self, codes: torch.Tensor, field: int) -> torch.Tensor:
        """The vector of single-value field ``field``, shape ``(batch, embedding_dim)``.

        Examples
        --------
        >>> import torch
        >>> from sklearn_pangu.nn import FieldEmbedding
        >>> embedding = FieldEmbedding([5, 5], 0, 2, sequence_lengths=[0, 3], shared_tables=[0, 0])
        >>> embedding.lookup_field(torch.tensor([[4, 1, 3, -1]]), 0).shape
        torch.Size([1, 2])
        """
        if not 0 <= field < self.n_categorical or self.sequence_lengths[field]:
            raise ValueError(
                f"Field {field} is not a single-value field; the single-value fields are "
                f"{[j for j in range(self.n_categorical) if not self.sequence_lengths[j]]}."
            )
        column = self._columns[field].start
        return self._lookup(codes[:, column].long() + self._table_offsets[field])

    def _lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Table rows ``indices`` (already offset), recorded for the L2 penalty in training."""
        rows = lookup_rows(self.table, indices, into_held_gradient=self.add_rows_into_held_gradient)
        if self.training and self.l2 > 0:
            if self._step_closed:
                self._forget_penalty()
            self._penalty_records = (*self._penalty_records, (indices, rows))
        return rows

    def _check_list_field(self, field) -> None:
        if field not in self._list_fields:
            raise ValueError(
                f"Field {field!r} is not a list field; the list fields are {list(self._list_fields)}."
            )

    @staticmethod
    def _distinct_rows_square_norm(indices: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Sum of ``||row||^2`` over the distinct table rows of a batch, each counted once.

        Each lookup is weighted by one over the count of its index, which gives the
        sum over distinct rows from the rows already gathered.
        """
        _, inverse, counts = torch.unique(indices, return_inverse=True, return_counts=True)
        weight = counts.reciprocal().to(rows.dtype)[inverse]
        return (rows.pow(2).sum(dim=-1) * weight).sum()

    def _rows_penalty(self) -> torch.Tensor:
        """Sum of ``||row||^2`` over the distinct table rows the recorded lookups used."""
        records = self._penalty_records
        if len(records) == 1 and records[0][1] is not None:
            return self._distinct_rows_square_norm(*records[0])
        if all(rows is not None for _, rows in records):
            indices = torch.cat([indices.reshape(-1) for indices, _ in records])
            rows = torch.cat([rows.reshape(-1, self.embedding_dim) for _, rows in records])
            return self._distinct_rows_square_norm(indices, rows)
        # Pooled items were never gathered one by one: gather each distinct row once. Marking
        # the rows used is faster than sorting the indices (torch.unique) for long lists.
        used = torch.zeros(self.table.num_embeddings, dtype=torch.bool, device=self.table.weight.device)
        for indices, _ in records:
            used[indices.reshape(-1)] = True
        distinct = used.nonzero().squeeze(1)
        rows = lookup_rows(self.table, distinct, into_held_gradient=self.add_rows_into_held_gradient)
        return rows.pow(2).sum()

    def _forget_penalty(self) -> None:
        self._penalty_records, self._penalty_dense, self._step_closed = (), False, False

    def pop_penalty(self) -> torch.Tensor | None:
        """Return the L2 penalty of the last training step, and forget it.

        A step is what the lookups (:meth:`lookup_sequence`, :meth:`lookup_field`)
        and the :meth:`forward` pass that follows them looked up; a lookup after a
        forward pass starts the next step.
        """
        penalty = None
        if self._penalty_dense:
            penalty = self.dense_weight.pow(2).sum()
        if self._penalty_records:
            rows = self._rows_penalty()
            penalty = rows if penalty is None else penalty + rows
        self._forget_penalty()
        return None if penalty is None else self.l2 * penalty


class LinearLogit(nn.Module):
    """First-order term: a bias plus one weight per categorical index and dense feature.

    The weights are a one-dimensional :class:`FieldEmbedding` without L2 penalty:
    ``embedding_l2`` regularizes embedding vectors, not first-order weights. A list
    field contributes the ``sequence_pooling`` of its items' weights.

    Parameters
    ----------
    cardinalities : sequence of int
        Number of indices of each categorical field.
    n_dense : int
        Number of dense features.
    sequence_lengths : sequence of int, default=()
        Per categorical field, 0 for a single-value field or the slots of a list field.
    shared_tables : sequence of int, default=()
        Per categorical field, the index of the field whose weights it uses.
    sequence_pooling : {'mean', 'sum', 'max'}, default='mean'
        How the item weights of a list field pool into one.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import LinearLogit
    >>> LinearLogit([5, 3], n_dense=2)(torch.tensor([[4, 2]]), torch.ones(1, 2)).shape
    torch.Size([1])
    """

    def __init__(
        self,
        cardinalities: Sequence[int],
        n_dense: int,
        *,
        sequence_lengths: Sequence[int] = (),
        shared_tables: Sequence[int] = (),
        sequence_pooling: str = "mean",
    ) -> None:
        super().__init__()
        self.weights = FieldEmbedding(
            cardinalities,
            n_dense,
            1,
            sequence_lengths=sequence_lengths,
            shared_tables=shared_tables,
            sequence_pooling=sequence_pooling,
        )
        self.bias = nn.Parameter(torch.zeros(1))

    @classmethod
    def from_spec(cls, spec: FieldSpec) -> LinearLogit:
        """The first-order term of every field of ``spec``.

        Examples
        --------
        >>> import torch
        >>> from sklearn_pangu._fields import FieldSpec
        >>> from sklearn_pangu.nn import LinearLogit
        >>> spec = FieldSpec(("item", "tags"), (6, 4), (), sequence_lengths=(0, 2))
        >>> LinearLogit.from_spec(spec)(torch.tensor([[5, 1, -1]]), torch.zeros(1, 0)).shape
        torch.Size([1])
        """
        return cls(
            spec.cardinalities,
            spec.n_dense,
            sequence_lengths=spec.sequence_lengths,
            shared_tables=spec.shared_tables,
            sequence_pooling=spec.sequence_pooling,
        )

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """Return the linear logit, shape ``(batch,)``."""
        return self.weights(codes, dense).sum(dim=(1, 2)) + self.bias
