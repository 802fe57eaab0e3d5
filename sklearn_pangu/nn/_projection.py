"""A linear layer over flattened field vectors, computed as a sum of projected table rows."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ._embedding import FieldEmbedding

#: The most elements (16 MiB of float32) of a projected table :func:`projected_linear`
#: builds: the categorical fields with the fewest categories are projected up to it.
PROJECTION_MAX_ELEMENTS = 1 << 22


class _Projection(NamedTuple):
    weights: tuple  # what the weights were when it was built: (data_ptr, _version, dtype) each
    projected: torch.Tensor | None  # the projected categorical fields; None: all of them
    rows: torch.Tensor  # (their cardinalities summed, out_features)
    offsets: torch.Tensor  # (1, len(projected)): where each one's rows start
    kept: torch.Tensor  # the other fields, whose vectors still go through a matrix product
    kept_weight: torch.Tensor  # (len(kept) * embedding_dim, out_features): their blocks of the weight
    dense: torch.Tensor  # (n_dense, out_features)


#: The projected tables by the layer they stand for; a table goes with its layer.
_projections: weakref.WeakKeyDictionary[nn.Linear, _Projection] = weakref.WeakKeyDictionary()
_counting = threading.Lock()  # guards FieldEmbedding._projecting, the count of open projecting contexts
_building = threading.Lock()  # one table built at a time: threads predicting together wait for it


@contextlib.contextmanager
def projecting(module: nn.Module) -> Iterator[None]:
    """Within it, :func:`projected_linear` runs the first layers over ``module``'s field vectors.

    Contexts nest and may be open in several threads at once: the projection applies
    while any is open.

    A projected table is built on first use and kept, by its layer, until one of
    the weights it comes from changes: it is keyed by their storage and their
    version counters, which every in-place update autograd tracks increases
    (optimizer steps, ``load_state_dict``). Fused optimizers (``torch.optim.Adam(...,
    fused=True)``) update weights without counting it: a loop that steps one must
    call ``torch.autograd.graph.increment_version`` on the weights after its steps,
    before predicting within this context, as sklearn_pangu's training does after
    each training pass.

    Parameters
    ----------
    module : nn.Module
        The module whose :class:`FieldEmbedding` layers may have their consumers'
        first layers projected.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import MLP, FieldEmbedding, projecting
    >>> embedding, mlp = FieldEmbedding([5, 3], 1, 4).eval(), MLP(12, (8,), output_dim=1).eval()
    >>> codes, dense = torch.tensor([[4, 2]]), torch.tensor([[0.5]])
    >>> with torch.inference_mode(), projecting(embedding):
    ...     logit = mlp(embedding(codes, dense).flatten(1), fields=(embedding, codes, dense))
    >>> logit.shape
    torch.Size([1, 1])
    """
    embeddings = [layer for layer in module.modules() if isinstance(layer, FieldEmbedding)]
    with _counting:
        for layer in embeddings:
            layer._projecting += 1
    try:
        yield
    finally:
        with _counting:
            for layer in embeddings:
                layer._projecting -= 1


def projected_linear(
    embedding: FieldEmbedding,
    linear: nn.Linear,
    codes: torch.Tensor,
    dense: torch.Tensor,
    input: torch.Tensor,
) -> torch.Tensor | None:
    """``linear(input)``, for ``input = embedding(codes, dense).flatten(1)``, from projected rows.

    The layer is linear in each field's vector, so its output is the bias plus, per
    categorical field, the field's table row multiplied by that field's block of the
    weight, plus, per dense feature, its value times its vector's product with its
    field's block. Each table row's products are computed once, into a table of
    ``out_features`` columns per row, and a batch then costs one lookup and sum per
    field (``embedding_bag``) instead of the matrix product over every field's
    vector: ``embedding_dim`` times fewer multiplications, and no flattened input.
    The fields with the fewest categories are projected, as many as fit in
    :data:`PROJECTION_MAX_ELEMENTS`; the vectors of the others go through the matrix
    product with their blocks of the weight. The result equals the layer's up to
    the order of float additions.

    It applies within :func:`projecting` (which says when the projected tables are
    built again), in inference only (eval mode, gradients off), outside tracing and
    export, to an embedding without list fields of which at least one categorical
    field fits; elsewhere it returns None.

    Parameters
    ----------
    embedding : FieldEmbedding
        The embedding whose field vectors, flattened, are ``linear``'s input.
    linear : nn.Linear
        A layer with ``embedding.n_fields * embedding.embedding_dim`` inputs.
    codes : Tensor of shape (batch, n_categorical)
        The categorical codes, as :meth:`FieldEmbedding.forward` takes them.
    dense : Tensor of shape (batch, n_dense)
        The dense features.
    input : Tensor of shape (batch, n_fields * embedding_dim)
        ``embedding(codes, dense).flatten(1)``.

    Returns
    -------
    output : Tensor of shape (batch, out_features) or None
        The layer's output, or None where the projection does not apply: compute
        the layer as written then.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_pangu.nn import FieldEmbedding, projected_linear, projecting
    >>> embedding, linear = FieldEmbedding([5, 3], 1, 4).eval(), nn.Linear(12, 8).eval()
    >>> codes, dense = torch.tensor([[4, 2]]), torch.tensor([[0.5]])
    >>> with torch.no_grad(), projecting(embedding):
    ...     input = embedding(codes, dense).flatten(1)
    ...     output = projected_linear(embedding, linear, codes, dense, input)
    >>> torch.allclose(output, linear(input), atol=1e-6)
    True
    """
    if (
        not embedding._projecting
        or embedding.training
        or linear.training
        or torch.is_grad_enabled()
        or torch.jit.is_tracing()
        or torch.compiler.is_compiling()
        or torch.compiler.is_exporting()
        or embedding._list_fields
        or embedding._cardinalities is None
        or not embedding.n_categorical
        or min(embedding._cardinalities) * linear.out_features > PROJECTION_MAX_ELEMENTS
        or linear.in_features != embedding.n_fields * embedding.embedding_dim
    ):
        return None
    weights = (embedding.table.weight, embedding.dense_weight, linear.weight, linear.bias)
    state = tuple((w.data_ptr(), w._version, w.dtype) for w in weights if w is not None)
    projection = _projections.get(linear)
    if projection is None or projection.weights != state:
        with _building:
            projection = _projections.get(linear)
            if projection is None or projection.weights != state:
                projection = _projections[linear] = _projection(embedding, linear, state)
    projected_codes = codes if projection.projected is None else codes[:, projection.projected]
    output = F.embedding_bag(projected_codes.long() + projection.offsets, projection.rows, mode="sum")
    if linear.bias is not None:
        output = output + linear.bias
    if len(projection.kept):
        kept = input.reshape(len(input), embedding.n_fields, embedding.embedding_dim)[:, projection.kept]
        output = torch.addmm(output, kept.flatten(1), projection.kept_weight)
    if embedding.n_dense:
        output = torch.addmm(output, dense, projection.dense)
    return output


def _projection(embedding: FieldEmbedding, linear: nn.Linear, weights: tuple) -> _Projection:
    """``embedding``'s table rows and dense vectors, each through its field's block of ``linear``."""
    units, n_categorical, dim = linear.out_features, embedding.n_categorical, embedding.embedding_dim
    weight = linear.weight.reshape(units, embedding.n_fields, dim)
    table, cardinalities = embedding.table.weight, embedding._cardinalities
    projected, budget = [], PROJECTION_MAX_ELEMENTS // units
    for j in sorted(range(n_categorical), key=cardinalities.__getitem__):
        if cardinalities[j] > budget:
            break
        projected.append(j)
        budget -= cardinalities[j]
    projected.sort()
    kept = sorted(set(range(n_categorical)) - set(projected))
    starts = torch.tensor([0, *(cardinalities[j] for j in projected)], device=table.device).cumsum(0)
    rows = table.new_empty((int(starts[-1]), units))
    for j, start, stop in zip(projected, starts[:-1].tolist(), starts[1:].tolist(), strict=True):
        own = table[embedding._table_offsets[j] : embedding._table_offsets[j] + cardinalities[j]]
        torch.mm(own, weight[:, j].T, out=rows[start:stop])
    dense_fields = (
        torch.arange(embedding.n_dense, device=table.device)
        if embedding._dense_fields is None
        else embedding._dense_fields
    )
    dense = torch.einsum("kd,ukd->ku", embedding.dense_weight, weight[:, n_categorical + dense_fields])
    kept_weight = weight[:, kept].reshape(units, len(kept) * dim).T.contiguous()
    return _Projection(
        weights,
        None if len(projected) == n_categorical else torch.tensor(projected, device=table.device),
        rows,
        starts[:-1].unsqueeze(0),
        torch.tensor(kept, dtype=torch.long, device=table.device),
        kept_weight,
        dense,
    )
