"""Feature interaction layers."""

from __future__ import annotations

import torch
from torch import nn


class BiInteractionPooling(nn.Module):
    """Sum of the element-wise products of all field pairs, ``sum_{i<j} e_i * e_j``.

    The bi-interaction pooling of neural factorization machines (He & Chua, 2017):
    it pools ``n_fields`` vectors into one vector of the same size, in time linear in
    the number of fields through
    ``sum_{i<j} e_i * e_j = 1/2 ((sum_i e_i)^2 - sum_i e_i^2)`` (element-wise).

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import BiInteractionPooling
    >>> e = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    >>> BiInteractionPooling()(e)  # (3 + 5 + 15, 8 + 12 + 24)
    tensor([[23., 44.]])
    """

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to the pooled vector, shape ``(batch, dim)``."""
        square_of_sum = embeddings.sum(dim=1).pow(2)
        sum_of_squares = embeddings.pow(2).sum(dim=1)
        return 0.5 * (square_of_sum - sum_of_squares)


class _PairwiseInteractionSum(torch.autograd.Function):
    """``1/2 (||sum_i e_i||^2 - sum_i ||e_i||^2)`` per row, with its gradient in one expression.

    The gradient with respect to ``e_i`` is ``sum_j e_j - e_i``: one pass over the
    embeddings instead of autograd's separate passes for the square, the sums and
    their broadcasts.
    """

    @staticmethod
    def forward(ctx, embeddings: torch.Tensor) -> torch.Tensor:
        field_sum = embeddings.sum(dim=1)
        ctx.save_for_backward(embeddings, field_sum)
        return 0.5 * (field_sum.pow(2).sum(dim=1) - embeddings.pow(2).sum(dim=(1, 2)))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        embeddings, field_sum = ctx.saved_tensors
        # g (sum_j e_j - e_i) as g sum_j e_j + e_i (-g): one pass over the embeddings.
        return torch.addcmul((field_sum * grad[:, None]).unsqueeze(1), embeddings, grad.neg()[:, None, None])


class FactorizationMachine(nn.Module):
    """Pairwise interactions of field vectors, ``sum_{i<j} <e_i, e_j>``.

    Uses the identity ``sum_{i<j} <e_i, e_j> = 1/2 (||sum_i e_i||^2 - sum_i ||e_i||^2)``,
    linear in the number of fields (Rendle, 2010): the sum of the entries of the
    :class:`BiInteractionPooling` vector.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import FactorizationMachine
    >>> e = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    >>> FactorizationMachine()(e)  # 11 + 17 + 39
    tensor([67.])
    """

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to the interaction logit, shape ``(batch,)``."""
        return _PairwiseInteractionSum.apply(embeddings)
