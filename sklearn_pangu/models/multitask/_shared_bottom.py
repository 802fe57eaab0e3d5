"""Shared-Bottom multi-task network (Caruana, Machine Learning 1997)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import MLP, FieldEmbedding, TaskTowers


class ShareBottomModule(nn.Module):
    """Field embedding -> one shared bottom MLP -> one tower per task."""

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        n_tasks: int,
        embedding_dim: int,
        bottom_units: Sequence[int],
        tower_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.bottom = MLP(
            field_spec.n_fields * embedding_dim, bottom_units, dropout=dropout, batch_norm=batch_norm
        )
        self.towers = TaskTowers(
            bottom_units[-1], n_tasks=n_tasks, tower_units=tower_units, dropout=dropout, batch_norm=batch_norm
        )
        self.n_tasks = n_tasks

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding(codes, dense).flatten(start_dim=1)
        shared = self.bottom(embedded, fields=(self.embedding, codes, dense))
        return self.towers([shared] * self.n_tasks)
