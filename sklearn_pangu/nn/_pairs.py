"""All pairs of fields ``i < j``, as index tensors built once."""

from __future__ import annotations

import torch
from torch import nn


def field_pairs(n_fields: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the indices ``(i, j)`` of every field pair ``i < j``, in row-major order.

    Parameters
    ----------
    n_fields : int
        Number of fields.

    Returns
    -------
    rows, cols : LongTensor of shape (n_fields * (n_fields - 1) // 2,)
        The first and the second field of each pair:
        ``(0, 1), (0, 2), ..., (0, n-1), (1, 2), ..., (n-2, n-1)``.

    Examples
    --------
    >>> from sklearn_pangu.nn import field_pairs
    >>> rows, cols = field_pairs(4)
    >>> rows.tolist(), cols.tolist()
    ([0, 0, 0, 1, 1, 2], [1, 2, 3, 2, 3, 3])
    """
    rows, cols = torch.triu_indices(int(n_fields), int(n_fields), offset=1)
    return rows, cols


def field_major(embeddings: torch.Tensor) -> torch.Tensor:
    """Return ``(batch, n_fields, dim)`` field vectors as a contiguous ``(n_fields, batch, dim)`` tensor."""
    return embeddings.transpose(0, 1).contiguous()


class PairwiseProduct(nn.Module):
    """Element-wise products of all field pairs, ``e_i * e_j`` for ``i < j``.

    The pair-wise interaction layer of attentional factorization machines: it
    expands ``n_fields`` vectors into ``n_fields * (n_fields - 1) / 2`` interacted
    vectors of the same size, in the order of :func:`field_pairs`.

    Parameters
    ----------
    n_fields : int
        Number of fields of the input.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import PairwiseProduct
    >>> e = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    >>> PairwiseProduct(3)(e)  # pairs (0, 1), (0, 2), (1, 2)
    tensor([[[ 3.,  8.],
             [ 5., 12.],
             [15., 24.]]])
    """

    def __init__(self, n_fields: int) -> None:
        super().__init__()
        rows, cols = field_pairs(n_fields)
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)

    @property
    def n_pairs(self) -> int:
        """Number of field pairs, the second dimension of the output."""
        return int(self.rows.numel())

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to ``(batch, n_pairs, dim)``.

        The output is a transposed view of a field-major ``(n_pairs, batch, dim)``
        tensor: gathering whole ``(batch, dim)`` blocks per field is several times
        faster than gathering ``dim``-sized pieces of every row.
        """
        by_field = field_major(embeddings)
        return (by_field.index_select(0, self.rows) * by_field.index_select(0, self.cols)).transpose(0, 1)
