"""Multi-level MMoE: MMoE gating at two levels of experts."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._embedding import FieldEmbedding
from ...nn._experts import TaskTowers
from ...nn._multilevel_experts import MultiLevelMixtureOfExperts


class MLMMOEModule(nn.Module):
    """Field embedding -> level-1 experts -> level-2 experts on level-1 mixtures -> task gates -> towers.

    Every gate reads the flattened field embeddings ``x``: ``num_level2_experts``
    level-1 gates each mix the level-1 experts into the input of one level-2
    expert, and one gate per task mixes the level-2 experts into the input of the
    task's tower.
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        n_tasks: int,
        embedding_dim: int,
        num_experts: int,
        expert_units: Sequence[int],
        num_level2_experts: int,
        level2_expert_units: Sequence[int],
        tower_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.mixture = MultiLevelMixtureOfExperts(
            field_spec.n_fields * embedding_dim,
            num_experts=num_experts,
            expert_units=expert_units,
            num_level2_experts=num_level2_experts,
            level2_expert_units=level2_expert_units,
            num_gates=n_tasks,
            dropout=dropout,
            batch_norm=batch_norm,
        )
        self.towers = TaskTowers(
            self.mixture.output_dim,
            n_tasks=n_tasks,
            tower_units=tower_units,
            dropout=dropout,
            batch_norm=batch_norm,
        )

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        return self.towers(self.mixture(self.embedding(codes, dense).flatten(start_dim=1)))
