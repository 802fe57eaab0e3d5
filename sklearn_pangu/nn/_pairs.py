"""All pairs of fields ``i < j``, as index tensors built once."""

from __future__ import annotations

from collections.abc import Sequence

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


def pairs_per_first_field(n_fields: int) -> list[int]:
    """How many pairs each first field ``i`` has, ``n_fields - 1 - i``, in :func:`field_pairs` order."""
    return [n_fields - 1 - i for i in range(n_fields - 1)]


def pair_products(left: torch.Tensor | Sequence[torch.Tensor], right: torch.Tensor) -> torch.Tensor:
    """Return ``left_ij * right_j`` for every field pair ``i < j``, in the order of :func:`field_pairs`.

    Parameters
    ----------
    left : Tensor of shape (batch, n_fields - 1, dim) or (batch, n_pairs, dim), or sequence of Tensor
        The first factor: one vector per first field ``i`` (shared by its pairs), or one
        per pair; or, per pair, the ``n_fields - 1`` blocks of shape
        ``(batch, n_fields - 1 - i, dim)``, one per first field ``i``.
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
    if n_fields < 2:
        return right.new_zeros(right.shape[0], 0, right.shape[2])
    # split and unbind, not slices: their backward is one cat or stack, where the backward
    # of each slice writes a zero tensor of the whole input.
    if not isinstance(left, torch.Tensor):
        firsts = list(left)
    elif left.shape[1] != n_fields - 1:
        firsts = left.split(pairs_per_first_field(n_fields), dim=1)
    else:
        firsts = [first.unsqueeze(1) for first in left.unbind(1)]
    return torch.cat([first * right[:, i + 1 :] for i, first in enumerate(firsts)], dim=1)


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
