"""xDeepFM (Lian et al., KDD 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._cin import CompressedInteraction
from ...nn._embedding import FieldEmbedding, LinearLogit
from ...nn._mlp import MLP


class XDeepFMModule(nn.Module):
    """Linear part, Compressed Interaction Network and DNN over one field embedding, logits summed."""

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        cin_units: Sequence[int] = (16, 16, 16),
        cin_split_half: bool = True,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.linear = LinearLogit.from_spec(field_spec)
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.cin = CompressedInteraction(field_spec.n_fields, cin_units, split_half=cin_split_half)
        # w_cin of Eq. 9, without a bias: the linear part carries the output bias b.
        self.cin_output = nn.Linear(self.cin.output_dim, 1, bias=False)
        self.deep = MLP(
            field_spec.n_fields * embedding_dim,
            hidden_units,
            dropout=dropout,
            batch_norm=batch_norm,
            output_dim=1,
        )

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        embeddings = self.embedding(codes, dense)
        cin_logit = self.cin_output(self.cin(embeddings)).squeeze(-1)
        deep_logit = self.deep(
            embeddings.flatten(start_dim=1), fields=(self.embedding, codes, dense)
        ).squeeze(-1)
        return self.linear(codes, dense) + cin_logit + deep_logit
