"""Neural factorization machine (He & Chua, SIGIR 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._embedding import FieldEmbedding, LinearLogit
from ...nn._interaction import BiInteractionPooling
from ...nn._mlp import MLP


class NFMModule(nn.Module):
    """Linear part plus an MLP over the bi-interaction pooling of the field vectors."""

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
        self.linear = LinearLogit.from_spec(field_spec)
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        # The paper batch-normalizes and drops out the Bi-Interaction layer like a hidden layer.
        self.bi_interaction = nn.Sequential(
            BiInteractionPooling(),
            nn.BatchNorm1d(embedding_dim) if batch_norm else nn.Identity(),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
        )
        self.deep = MLP(embedding_dim, hidden_units, dropout=dropout, batch_norm=batch_norm, output_dim=1)

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        embeddings = self.embedding(codes, dense)
        pooled = self.bi_interaction(embeddings)
        return self.linear(codes, dense) + self.deep(pooled).squeeze(-1)
