"""Field embeddings: one fused table for every categorical field."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import nn


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


class FieldEmbedding(nn.Module):
    """Embed every field of a batch as a vector, from one fused table.

    Categorical field ``j`` looks its index up in rows
    ``offsets[j] : offsets[j] + cardinalities[j]`` of a single ``nn.Embedding``;
    dense feature ``k`` is embedded as ``x_k * v_k``, the real-valued-feature
    embedding of factorization machines.

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
        batch (each counted once, however often it occurs) and on the dense vectors.
        Only rows a batch uses are penalized, so gradients stay sparse. Read it with
        :meth:`pop_penalty`.
    init_std : float, default=1e-4
        Standard deviation of the normal initialization.

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
    """

    add_rows_into_held_gradient = False

    def __init__(
        self,
        cardinalities: Sequence[int],
        n_dense: int,
        embedding_dim: int,
        *,
        l2: float = 0.0,
        init_std: float = 1e-4,
    ) -> None:
        super().__init__()
        cardinalities = [int(c) for c in cardinalities]
        self.n_categorical = len(cardinalities)
        self.n_dense = int(n_dense)
        self.embedding_dim = int(embedding_dim)
        self.l2 = float(l2)
        offsets = [0]
        for cardinality in cardinalities[:-1]:
            offsets.append(offsets[-1] + cardinality)
        self.register_buffer("offsets", torch.tensor([offsets], dtype=torch.long), persistent=False)
        self.table = nn.Embedding(max(sum(cardinalities), 1), self.embedding_dim)
        self.dense_weight = nn.Parameter(torch.empty(self.n_dense, self.embedding_dim))
        nn.init.normal_(self.table.weight, std=init_std)
        nn.init.normal_(self.dense_weight, std=init_std)
        self._penalty: torch.Tensor | None = None

    @property
    def n_fields(self) -> int:
        """Number of field vectors per row."""
        return self.n_categorical + self.n_dense

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """Return the field vectors, shape ``(batch, n_fields, embedding_dim)``."""
        parts = []
        if self.n_categorical:
            rows = lookup_rows(
                self.table, codes + self.offsets, into_held_gradient=self.add_rows_into_held_gradient
            )
            parts.append(rows)
        if self.n_dense:
            parts.append(dense.unsqueeze(-1) * self.dense_weight)
        if self.training and self.l2 > 0:
            penalty = self.dense_weight.pow(2).sum()
            if self.n_categorical:
                penalty = penalty + self._distinct_rows_square_norm(codes + self.offsets, rows)
            self._penalty = self.l2 * penalty
        if not parts:
            return dense.new_zeros((dense.shape[0], 0, self.embedding_dim))
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

    @staticmethod
    def _distinct_rows_square_norm(indices: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Sum of ``||row||^2`` over the distinct table rows of a batch, each counted once.

        Each lookup is weighted by one over the count of its index, which gives the
        sum over distinct rows from the rows already gathered.
        """
        _, inverse, counts = torch.unique(indices, return_inverse=True, return_counts=True)
        weight = counts.reciprocal().to(rows.dtype)[inverse]
        return (rows.pow(2).sum(dim=-1) * weight).sum()

    def pop_penalty(self) -> torch.Tensor | None:
        """Return the L2 penalty of the last training forward pass, and forget it."""
        penalty, self._penalty = self._penalty, None
        return penalty


class LinearLogit(nn.Module):
    """First-order term: a bias plus one weight per categorical index and dense feature.

    The weights are a one-dimensional :class:`FieldEmbedding` without L2 penalty:
    ``embedding_l2`` regularizes embedding vectors, not first-order weights.

    Parameters
    ----------
    cardinalities : sequence of int
        Number of indices of each categorical field.
    n_dense : int
        Number of dense features.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import LinearLogit
    >>> LinearLogit([5, 3], n_dense=2)(torch.tensor([[4, 2]]), torch.ones(1, 2)).shape
    torch.Size([1])
    """

    def __init__(self, cardinalities: Sequence[int], n_dense: int) -> None:
        super().__init__()
        self.weights = FieldEmbedding(cardinalities, n_dense, 1)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """Return the linear logit, shape ``(batch,)``."""
        return self.weights(codes, dense).sum(dim=(1, 2)) + self.bias
