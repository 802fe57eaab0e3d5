"""Wide & Deep (Cheng et al., DLRS 2016)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import MLP, FieldEmbedding, LinearLogit


class WideDeepModule(nn.Module):
    """Wide linear logit + MLP over the concatenated categorical embeddings and dense features."""

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.wide = LinearLogit.from_spec(field_spec)
        self.embedding = FieldEmbedding.from_spec(
            dataclasses.replace(field_spec, dense_features=(), dense_fields=()),
            embedding_dim,
            l2=embedding_l2,
        )
        self.deep = MLP(
            field_spec.n_categorical * embedding_dim + field_spec.n_dense,
            hidden_units,
            dropout=dropout,
            batch_norm=batch_norm,
            output_dim=1,
        )

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        deep_input = torch.cat([self.embedding(codes, dense).flatten(start_dim=1), dense], dim=1)
        return self.wide(codes, dense) + self.deep(deep_input).squeeze(-1)
