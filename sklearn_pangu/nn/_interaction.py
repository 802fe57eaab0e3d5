"""Feature interaction layers."""

from __future__ import annotations

import torch
from torch import nn


class FactorizationMachine(nn.Module):
    """Pairwise interactions of field vectors, ``sum_{i<j} <e_i, e_j>``.

    Uses the identity ``sum_{i<j} <e_i, e_j> = 1/2 (||sum_i e_i||^2 - sum_i ||e_i||^2)``,
    linear in the number of fields (Rendle, 2010).

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
        square_of_sum = embeddings.sum(dim=1).pow(2)
        sum_of_squares = embeddings.pow(2).sum(dim=1)
        return 0.5 * (square_of_sum - sum_of_squares).sum(dim=1)
