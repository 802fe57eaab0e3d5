"""Dice, the data-adaptive activation of DIN (Zhou et al., KDD 2018)."""

from __future__ import annotations

import torch
from torch import nn


class Dice(nn.Module):
    """Data-adaptive activation: ``f(s) = p(s) * s + (1 - p(s)) * alpha * s``.

    ``p(s) = sigmoid((s - E[s]) / sqrt(Var[s] + eps))`` per feature: in training
    ``E`` and ``Var`` are the moments of the batch, taken over the valid positions
    only when a ``mask`` is given (padded behaviour slots never count); at
    inference they are the moving averages, updated in training as batch
    normalization does (``momentum``, unbiased variance). ``alpha`` is learned per
    feature and starts at 0, so Dice starts as a smooth gate between the identity
    and zero. With ``p`` a hard step at 0 it would be PReLU.

    Parameters
    ----------
    num_features : int
        Size of the last dimension of the input.
    eps : float, default=1e-8
        Added to the variance.
    momentum : float, default=0.1
        Weight of a batch's moments in the moving averages.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import Dice
    >>> dice = Dice(3)
    >>> dice(torch.randn(4, 5, 3), mask=torch.ones(4, 5, dtype=torch.bool)).shape
    torch.Size([4, 5, 3])
    """

    def __init__(self, num_features: int, *, eps: float = 1e-8, momentum: float = 0.1) -> None:
        super().__init__()
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.alpha = nn.Parameter(torch.zeros(self.num_features))
        self.register_buffer("running_mean", torch.zeros(self.num_features))
        self.register_buffer("running_var", torch.ones(self.num_features))

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Apply Dice to ``inputs`` ``(..., num_features)``; ``mask`` ``(...)`` marks the valid positions."""
        mean, var = self.running_mean, self.running_var
        if self.training:
            flat = inputs.reshape(-1, self.num_features)
            if mask is not None:
                flat = flat[mask.reshape(-1)]
            count = flat.shape[0]
            if count > 0:
                var, mean = torch.var_mean(flat, dim=0, unbiased=False)
                with torch.no_grad():
                    unbiased = var * (count / (count - 1)) if count > 1 else var
                    self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), self.momentum)
                    self.running_var.lerp_(unbiased.detach().to(self.running_var.dtype), self.momentum)
        # p = sigmoid((s - mean) / sqrt(var + eps)) and p + (1 - p) alpha = alpha + (1 - alpha) p,
        # each one pass over the inputs (they are (batch, L, units) in DIN: the cost is memory).
        scale = torch.rsqrt(var + self.eps)
        p = torch.sigmoid(torch.addcmul(-mean * scale, inputs, scale))
        return inputs * torch.addcmul(self.alpha, p, 1.0 - self.alpha)
