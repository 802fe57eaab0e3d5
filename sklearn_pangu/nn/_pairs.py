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


def pair_products(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """Return ``left_ij * right_j`` for every field pair ``i < j``, in the order of :func:`field_pairs`.

    Parameters
    ----------
    left : Tensor of shape (batch, n_fields - 1, dim) or (batch, n_pairs, dim)
        The first factor: one vector per first field ``i`` (shared by its pairs), or one
        per pair.
    right : Tensor of shape (batch, n_fields, dim)
        The field vectors ``e_j``.

    Returns
    -------
    Tensor of shape (batch, n_pairs, dim)
        Contiguous, one block of pairs per first field: no gather of the pairs, so the
        backward pass sums plain slices instead of scattering into the fields.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import pair_products
    >>> e = torch.tensor([[[1.0], [2.0], [3.0]]])
    >>> pair_products(e[:, :-1], e)[0, :, 0].tolist()  # pairs (0, 1), (0, 2), (1, 2)
    [2.0, 3.0, 6.0]
    """
    n_fields = right.shape[1]
    per_pair = left.shape[1] != n_fields - 1
    blocks, start = [], 0
    for i in range(n_fields - 1):
        width = n_fields - 1 - i
        first = left[:, start : start + width] if per_pair else left[:, i : i + 1]
        blocks.append(first * right[:, i + 1 :])
        start += width
    if not blocks:
        return right.new_zeros(right.shape[0], 0, right.shape[2])
    return torch.cat(blocks, dim=1)


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
        self.n_fields = int(n_fields)

    @property
    def n_pairs(self) -> int:
        """Number of field pairs, the second dimension of the output."""
        return self.n_fields * (self.n_fields - 1) // 2

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to ``(batch, n_pairs, dim)``."""
        return pair_products(embeddings[:, :-1], embeddings)
