"""Two-level mixture of experts: second-level experts read mixtures of first-level experts."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._experts import MixtureOfExperts
from ._mlp import MLP


class MultiLevelMixtureOfExperts(nn.Module):
    """Experts over mixtures of experts, mixed by input-conditioned softmax gates.

    Level 1 is a :class:`~sklearn_pangu.nn.MixtureOfExperts` over ``x`` with one
    gate per level-2 expert: gate ``i`` computes
    ``h_i = sum_e softmax(V_i x + c_i)_e f_e(x)``. Level-2 expert ``i`` reads
    ``h_i``; gate ``g`` of level 2, also conditioned on ``x``, returns
    ``sum_i softmax(W_g x + b_g)_i F_i(h_i)``. Every expert and gate is a registered
    submodule.

    Parameters
    ----------
    input_dim : int
        Size of the input vector.
    num_experts : int
        Number of level-1 experts.
    expert_units : sequence of int
        Hidden layers of each level-1 expert MLP; the last one is its output size.
    num_level2_experts : int
        Number of level-2 experts, hence of level-1 gates.
    level2_expert_units : sequence of int
        Hidden layers of each level-2 expert MLP; the last one is its output size.
    num_gates : int
        Number of level-2 gates, hence of mixtures returned.
    dropout : float, default=0.0
        Dropout after each expert layer.
    batch_norm : bool, default=False
        Batch normalization in each expert layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import MultiLevelMixtureOfExperts
    >>> moe = MultiLevelMixtureOfExperts(
    ...     6, num_experts=4, expert_units=(8,), num_level2_experts=3, level2_expert_units=(5,), num_gates=2
    ... )
    >>> moe(torch.zeros(7, 6)).shape
    torch.Size([2, 7, 5])
    """

    def __init__(
        self,
        input_dim: int,
        *,
        num_experts: int,
        expert_units: Sequence[int],
        num_level2_experts: int,
        level2_expert_units: Sequence[int],
        num_gates: int,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.level1 = MixtureOfExperts(
            input_dim,
            num_experts=num_experts,
            expert_units=expert_units,
            num_gates=num_level2_experts,
            dropout=dropout,
            batch_norm=batch_norm,
        )
        self.experts = nn.ModuleList(
            MLP(self.level1.output_dim, level2_expert_units, dropout=dropout, batch_norm=batch_norm)
            for _ in range(num_level2_experts)
        )
        self.gates = nn.ModuleList(nn.Linear(input_dim, num_level2_experts) for _ in range(num_gates))
        self.output_dim = int(level2_expert_units[-1])

    def gate_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Each level-2 gate's softmax over the level-2 experts, ``(num_gates, batch, num_level2_experts)``.

        The level-1 gates' weights are ``self.level1.gate_weights(x)``.
        """
        return torch.stack([torch.softmax(gate(x), dim=-1) for gate in self.gates])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return each level-2 gate's mixture, shape ``(num_gates, batch, level2_expert_units[-1])``."""
        level1 = self.level1(x)  # (num_level2_experts, batch, expert_units[-1])
        experts = torch.stack([expert(h) for expert, h in zip(self.experts, level1, strict=True)], dim=1)
        return torch.einsum("gbe,bed->gbd", self.gate_weights(x), experts)
