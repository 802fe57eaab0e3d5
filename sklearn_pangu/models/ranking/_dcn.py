"""Deep & Cross Network (Wang et al., ADKDD 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._cross import CrossLayer, CrossNetwork
from ...nn._embedding import FieldEmbedding
from ...nn._mlp import MLP


class DCNModule(nn.Module):
    """Cross network and deep network side by side on ``x0``, outputs concatenated into one logit."""

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        num_cross_layers: int = 3,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        input_dim = field_spec.n_fields * embedding_dim
        self.cross = CrossNetwork(CrossLayer(input_dim) for _ in range(num_cross_layers))
        self.deep = MLP(input_dim, hidden_units, dropout=dropout, batch_norm=batch_norm)
        self.output = MLP(input_dim + self.deep.output_dim, (), output_dim=1)  # linear output layer

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        x0 = self.embedding(codes, dense).flatten(start_dim=1)  # embedding and stacking layer
        deep = self.deep(x0, fields=(self.embedding, codes, dense))
        combined = torch.cat([self.cross(x0), deep], dim=1)
        return self.output(combined).squeeze(-1)
