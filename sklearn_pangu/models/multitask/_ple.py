"""PLE: progressive layered extraction (Tang et al., RecSys 2020)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._embedding import FieldEmbedding
from ...nn._experts import TaskTowers
from ...nn._extraction import CustomizedGateControl


class PLEModule(nn.Module):
    """Field embedding -> ``num_levels`` CGC extraction levels -> one tower per task.

    The first level's experts and gates all read the flattened field embeddings;
    level ``j > 1``'s task-``k`` experts and gate read task ``k``'s mixture of level
    ``j - 1``, its shared experts read the shared mixture of level ``j - 1``. Every
    level but the last has a shared gate over all its experts; with
    ``num_levels=1`` the network is CGC.
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        n_tasks: int,
        embedding_dim: int,
        num_levels: int,
        num_specific_experts: int,
        num_shared_experts: int,
        expert_units: Sequence[int],
        tower_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.levels = nn.Sequential(
            *(
                CustomizedGateControl(
                    field_spec.n_fields * embedding_dim if level == 0 else int(expert_units[-1]),
                    n_tasks=n_tasks,
                    num_specific_experts=num_specific_experts,
                    num_shared_experts=num_shared_experts,
                    expert_units=expert_units,
                    shared_gate=level < num_levels - 1,
                    dropout=dropout,
                    batch_norm=batch_norm,
                )
                for level in range(num_levels)
            )
        )
        self.towers = TaskTowers(
            int(expert_units[-1]),
            n_tasks=n_tasks,
            tower_units=tower_units,
            dropout=dropout,
            batch_norm=batch_norm,
        )

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        return self.towers(self.levels(self.embedding(codes, dense).flatten(start_dim=1)))
