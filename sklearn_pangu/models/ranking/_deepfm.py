"""DeepFM (Guo et al., IJCAI 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import MLP, FactorizationMachine, FieldEmbedding, LinearLogit


class DeepFMModule(nn.Module):
    """FM component and deep component over one shared field embedding, logits summed."""

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
        self.interaction = FactorizationMachine()
        self.deep = MLP(
            field_spec.n_fields * embedding_dim,
            hidden_units,
            dropout=dropout,
            batch_norm=batch_norm,
            output_dim=1,
        )

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        embeddings = self.embedding(codes, dense)
        fm_logit = self.linear(codes, dense) + self.interaction(embeddings)
        return fm_logit + self.deep(
            embeddings.flatten(start_dim=1), fields=(self.embedding, codes, dense)
        ).squeeze(-1)
