"""The two layers of AITM (Xi et al., KDD 2021): adaptive information transfer and the calibrator."""

from __future__ import annotations

import math

import torch
from torch import nn

from ._mlp import MLP, xavier_linear


class AdaptiveInformationTransfer(nn.Module):
    """Adaptive information transfer (AIT): fuse what the previous task passes on with task ``t``'s vector.

    The AIT module of AITM (Xi et al., KDD 2021). A transfer layer ``g`` (a fully
    connected layer with ReLU) maps the previous task's representation ``z_{t-1}`` to
    the transferred information ``p_{t-1} = g(z_{t-1})``. A self-attention over the
    two vectors ``u in {p_{t-1}, q_t}``, where ``q_t`` is task ``t``'s tower output,
    weighs them and returns

    ``z_t = sum_u w_u h_1(u)``, ``w_u = softmax_u(<h_2(u), h_3(u)> / sqrt(dim))``,

    with ``h_1``, ``h_2``, ``h_3`` the value, query and key projections (linear
    layers ``dim -> dim``). Each vector's weight comes from its own query-key product,
    so the module learns how much of the transferred information task ``t`` uses.

    Parameters
    ----------
    dim : int
        Size of the task representations (the towers' output size).
    dropout : float, default=0.0
        Dropout after the transfer layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import AdaptiveInformationTransfer
    >>> ait = AdaptiveInformationTransfer(4)
    >>> ait(torch.zeros(3, 4), torch.ones(3, 4)).shape
    torch.Size([3, 4])
    """

    def __init__(self, dim: int, *, dropout: float = 0.0) -> None:
        super().__init__()
        self.dim = int(dim)
        self.transfer = MLP(self.dim, (self.dim,), dropout=dropout)
        self.value = xavier_linear(self.dim, self.dim)
        self.query = xavier_linear(self.dim, self.dim)
        self.key = xavier_linear(self.dim, self.dim)

    def attention_weights(self, transferred: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
        """Weights ``(w_p, w_q)`` of the transferred and the current vector, shape ``(batch, 2)``."""
        stacked = torch.stack([transferred, current], dim=1)
        scores = (self.query(stacked) * self.key(stacked)).sum(dim=-1) / math.sqrt(self.dim)
        return torch.softmax(scores, dim=1)

    def forward(self, previous: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
        """Return ``z_t``, shape ``(batch, dim)``, from ``z_{t-1}`` and ``q_t`` (both ``(batch, dim)``)."""
        transferred = self.transfer(previous)
        weights = self.attention_weights(transferred, current)
        values = self.value(torch.stack([transferred, current], dim=1))
        return (weights.unsqueeze(-1) * values).sum(dim=1)


class BehavioralExpectationCalibrator(nn.Module):
    """Penalize a later step of a conversion funnel predicted more likely than the step before it.

    The behavioral expectation calibrator of AITM (Xi et al., KDD 2021): for tasks
    ordered along the funnel (impression -> click -> conversion ...), a row's
    probability of step ``t`` should not exceed that of step ``t - 1``. The penalty is

    ``weight * sum_{t >= 1} mean_i max(p_{i,t} - p_{i,t-1}, 0)``, ``p = sigmoid(logits)``,

    the per-row mean of the paper's loss term, summed over consecutive task pairs like
    the tasks' cross-entropies. ``forward`` returns the logits unchanged; in training
    mode (and with ``weight > 0``) it stores the penalty for :meth:`pop_penalty`, which
    the training loop adds to the loss.

    Parameters
    ----------
    weight : float
        Weight of the penalty (the paper's ``alpha``); 0 turns the calibrator off.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import BehavioralExpectationCalibrator
    >>> calibrator = BehavioralExpectationCalibrator(0.5)
    >>> float(calibrator.penalty(torch.tensor([[0.0, 0.0], [0.0, 100.0]])))
    0.125
    """

    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = float(weight)
        self._penalty: torch.Tensor | None = None

    def penalty(self, logits: torch.Tensor) -> torch.Tensor:
        """The weighted penalty of logits ``(batch, n_tasks)``, a scalar tensor."""
        probabilities = torch.sigmoid(logits)
        excess = torch.relu(probabilities[:, 1:] - probabilities[:, :-1])
        return self.weight * excess.mean(dim=0).sum()

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        """Return ``logits``; in training mode, store their penalty."""
        if self.training and self.weight > 0:
            self._penalty = self.penalty(logits)
        return logits

    def pop_penalty(self) -> torch.Tensor | None:
        """Return the penalty of the last training forward pass, and forget it."""
        penalty, self._penalty = self._penalty, None
        return penalty
