"""Dice, the data-adaptive activation of DIN (Zhou et al., KDD 2018)."""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable


def _column_sums(values: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    return values.sum(dim=0) if weights is None else weights @ values


class _BatchDice(torch.autograd.Function):
    """Dice on ``(rows, features)`` with the moments of the rows ``weights`` marks (all if None).

    Returns the output and the batch's mean and biased variance. Autograd of the same
    formula allocates a dozen tensors the size of the input and passes over each; the
    gradient written out needs two, filled in place.
    """

    @staticmethod
    def forward(ctx, x, alpha, weights, count, eps):
        y = torch.empty_like(x)
        mean = _column_sums(x, weights) / count
        var = _column_sums(torch.sub(x, mean, out=y).square_(), weights) / count
        scale = torch.rsqrt(var + eps)
        p = torch.addcmul(-mean * scale, x, scale).sigmoid_()
        torch.addcmul(alpha, p, 1.0 - alpha, out=y).mul_(x)
        ctx.save_for_backward(x, p, alpha, weights, count, mean, scale)
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    @once_differentiable
    def backward(ctx, grad, _mean, _var):
        x, p, alpha, weights, count, mean, scale = ctx.saved_tensors
        # y = x (alpha + (1 - alpha) p), p = sigmoid((x - mean) scale), scale = (var + eps)^-1/2.
        beta = 1.0 - alpha
        grad_x_input = grad * x
        grad_alpha = grad_x_input.sum(dim=0)
        slope = torch.addcmul(p, p, p, value=-1.0).mul_(grad_x_input)  # grad x p (1 - p)
        grad_alpha -= grad_x_input.mul_(p).sum(dim=0)
        # Every output depends on the moments, padded ones too; the moments on the valid rows only.
        slope_sum = slope.sum(dim=0)
        slope_x_sum = torch.mul(slope, x, out=grad_x_input).sum(dim=0)
        grad_mean = -scale * beta * slope_sum
        grad_var = -0.5 * scale.pow(3) * beta * (slope_x_sum - mean * slope_sum)
        grad_x = slope.mul_(beta * scale)
        grad_x.addcmul_(torch.addcmul(alpha, p, beta, out=grad_x_input), grad)
        # d mean / d x = 1 / count and d var / d x = 2 (x - mean) / count on the valid rows.
        coefficient = 2.0 * grad_var / count
        moments = torch.addcmul(grad_mean / count - coefficient * mean, x, coefficient, out=grad_x_input)
        if weights is None:
            grad_x.add_(moments)
        else:
            grad_x.addcmul_(moments, weights.unsqueeze(1))
        return grad_x, grad_alpha, None, None, None


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
        if self.training:
            flat = inputs.reshape(-1, self.num_features)
            weights = None if mask is None else mask.reshape(-1).to(flat.dtype)
            count = flat.new_tensor(flat.shape[0]) if weights is None else weights.sum()
            if flat.shape[0] > 0:
                return self._batch_forward(flat, weights, count).reshape(inputs.shape)
        return self._activate(inputs, self.running_mean, self.running_var)

    def _batch_forward(self, flat: torch.Tensor, weights: torch.Tensor | None, count: torch.Tensor):
        # A batch without a valid position leaves the moving averages as they are, decided
        # without reading the count on the host; its outputs are all padding.
        alpha = self.alpha.to(flat.dtype)
        out, mean, var = _BatchDice.apply(flat, alpha, weights, count.clamp_min(1), self.eps)
        with torch.no_grad():
            unbiased = var * torch.where(count > 1, count / (count - 1).clamp_min(1), 1.0)
            step = self.momentum * (count > 0).to(self.running_mean.dtype)
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), step)
            self.running_var.lerp_(unbiased.to(self.running_var.dtype), step)
        return out

    def _activate(self, inputs: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
        # p + (1 - p) alpha = alpha + (1 - alpha) p, each one pass over the inputs.
        scale = torch.rsqrt(var + self.eps)
        p = torch.addcmul(-mean * scale, inputs, scale)
        if torch.is_grad_enabled():
            return inputs * torch.addcmul(self.alpha, p.sigmoid(), 1.0 - self.alpha)
        # Inference: one buffer the size of the inputs, the rest in place.
        return p.sigmoid_().mul_(1.0 - self.alpha).add_(self.alpha).mul_(inputs)
