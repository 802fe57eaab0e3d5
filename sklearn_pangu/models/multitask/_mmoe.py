"""MMoE and OMoE (Ma et al., KDD 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import FieldEmbedding, MixtureOfExperts, TaskTowers


class MMOEModule(nn.Module):
    """Field embedding -> experts mixed by one softmax gate per task (or one shared) -> towers.

    With ``shared_gate=True`` a single gate serves every task: the one-gate
    mixture-of-experts (OMoE) baseline of the MMoE paper.
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        n_tasks: int,
        embedding_dim: int,
        num_experts: int,
        expert_units: Sequence[int],
        tower_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        embedding_l2: float = 0.0,
        shared_gate: bool = False,
    ) -> None:
        super().__init__()
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.experts = MixtureOfExperts(
            field_spec.n_fields * embedding_dim,
            num_experts=num_experts,
            expert_units=expert_units,
            num_gates=1 if shared_gate else n_tasks,
            dropout=dropout,
            batch_norm=batch_norm,
        )
        self.towers = TaskTowers(
            expert_units[-1], n_tasks=n_tasks, tower_units=tower_units, dropout=dropout, batch_norm=batch_norm
        )
        self.n_tasks = n_tasks

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        mixtures = self.experts(self.embedding(codes, dense).flatten(start_dim=1))
        if mixtures.shape[0] == 1:
            mixtures = mixtures.expand(self.n_tasks, *mixtures.shape[1:])
        return self.towers(mixtures)
