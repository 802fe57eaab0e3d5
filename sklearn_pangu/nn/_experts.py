"""Mixtures of experts: experts (MLPs) mixed by input-conditioned softmax gates."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._mlp import MLP


class MixtureOfExperts(nn.Module):
    """Experts over one input, mixed by several gates, each a softmax over the experts.

    Gate ``g`` computes ``softmax(W_g x)`` and returns ``sum_e softmax(W_g x)_e f_e(x)``.
    One gate shared by all tasks is the one-gate mixture (OMoE); one gate per task is
    MMoE (Ma et al., KDD 2018). Experts and gates are registered submodules.

    Parameters
    ----------
    input_dim : int
        Size of the input vector.
    num_experts : int
        Number of experts.
    expert_units : sequence of int
        Hidden layers of each expert MLP; the last one is the expert's output size.
    num_gates : int
        Number of gates, hence of mixtures returned.
    dropout : float, default=0.0
        Dropout after each expert layer.
    batch_norm : bool, default=False
        Batch normalization in each expert layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import MixtureOfExperts
    >>> moe = MixtureOfExperts(6, num_experts=3, expert_units=(8,), num_gates=2)
    >>> moe(torch.zeros(5, 6)).shape
    torch.Size([2, 5, 8])
    """

    def __init__(
        self,
        input_dim: int,
        *,
        num_experts: int,
        expert_units: Sequence[int],
        num_gates: int,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.experts = nn.ModuleList(
            MLP(input_dim, expert_units, dropout=dropout, batch_norm=batch_norm) for _ in range(num_experts)
        )
        self.gates = nn.ModuleList(nn.Linear(input_dim, num_experts) for _ in range(num_gates))
        self.output_dim = int(expert_units[-1])

    def gate_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Each gate's softmax over the experts, shape ``(num_gates, batch, num_experts)``."""
        return torch.stack([torch.softmax(gate(x), dim=-1) for gate in self.gates])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return each gate's mixture, shape ``(num_gates, batch, expert_units[-1])``."""
        experts = torch.stack([expert(x) for expert in self.experts], dim=1)
        return torch.einsum("gbe,bed->gbd", self.gate_weights(x), experts)


class TaskTowers(nn.Module):
    """One MLP tower per task ending in a logit; task ``t`` reads input ``t``.

    Parameters
    ----------
    input_dim : int
        Size of each task's input vector.
    n_tasks : int
        Number of towers.
    tower_units : sequence of int
        Hidden layers of each tower (may be empty: a linear logit).
    dropout : float, default=0.0
        Dropout after each hidden layer.
    batch_norm : bool, default=False
        Batch normalization in each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import TaskTowers
    >>> TaskTowers(4, n_tasks=2, tower_units=(8,))(torch.zeros(2, 3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        input_dim: int,
        *,
        n_tasks: int,
        tower_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.towers = nn.ModuleList(
            MLP(input_dim, tower_units, dropout=dropout, batch_norm=batch_norm, output_dim=1)
            for _ in range(n_tasks)
        )

    def forward(self, inputs: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        """Map ``n_tasks`` inputs of shape ``(batch, input_dim)`` to logits ``(batch, n_tasks)``."""
        return torch.cat([tower(x) for tower, x in zip(self.towers, inputs, strict=True)], dim=-1)
