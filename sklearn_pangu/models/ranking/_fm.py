"""Factorization machine (Rendle, ICDM 2010)."""

from __future__ import annotations

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import FactorizationMachine, FieldEmbedding, LinearLogit


class FMModule(nn.Module):
    """Bias + first-order weights + pairwise factorized interactions of all fields."""

    def __init__(self, field_spec: FieldSpec, *, embedding_dim: int, embedding_l2: float = 0.0) -> None:
        super().__init__()
        self.linear = LinearLogit.from_spec(field_spec)
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.interaction = FactorizationMachine()

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        return self.linear(codes, dense) + self.interaction(self.embedding(codes, dense))
