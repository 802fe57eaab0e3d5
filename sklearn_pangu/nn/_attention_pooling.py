"""Attention-based pooling of a set of vectors."""

from __future__ import annotations

import torch
from torch import nn


class AttentionPooling(nn.Module):
    """Weighted sum of vectors, with weights from a one-hidden-layer attention network.

    Each input vector ``x_p`` gets the score ``h^T ReLU(W x_p + b)``; a softmax over
    the vectors of a row turns the scores into weights ``a_p``, and the output is
    ``sum_p a_p x_p``. This is the attention-based pooling layer of attentional
    factorization machines (Xiao et al., 2017), where the vectors are the pairwise
    interactions and ``attention_dim`` is the attention factor ``t``.

    Parameters
    ----------
    input_dim : int
        Size of each input vector.
    attention_dim : int
        Hidden size ``t`` of the attention network (``W`` is ``t x input_dim``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import AttentionPooling
    >>> pooling = AttentionPooling(input_dim=4, attention_dim=8)
    >>> x = torch.randn(2, 6, 4)
    >>> pooling(x).shape
    torch.Size([2, 4])
    >>> torch.allclose(pooling.attention_weights(x).sum(dim=1), torch.ones(2))
    True
    """

    def __init__(self, input_dim: int, attention_dim: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(int(input_dim), int(attention_dim))
        self.score = nn.Linear(int(attention_dim), 1, bias=False)
        nn.init.xavier_normal_(self.hidden.weight)
        nn.init.zeros_(self.hidden.bias)
        nn.init.xavier_normal_(self.score.weight)

    def attention_weights(self, inputs: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n, input_dim)`` to the weights ``a``, shape ``(batch, n)``, rows summing to 1."""
        scores = self.score(torch.relu(self.hidden(inputs))).squeeze(-1)
        return torch.softmax(scores, dim=1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n, input_dim)`` to the pooled vector, shape ``(batch, input_dim)``."""
        return torch.bmm(self.attention_weights(inputs).unsqueeze(1), inputs).squeeze(1)
