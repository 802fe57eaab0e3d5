"""AutoInt and AutoInt+ (Song et al., CIKM 2019)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._embedding import FieldEmbedding
from ...nn._mlp import MLP
from ...nn._self_attention import MultiHeadSelfAttention


class AutoIntModule(nn.Module):
    """Field embeddings, stacked interacting (self-attention) layers, output layer; optional DNN."""

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int] = (400, 400, 400),
        dropout: float = 0.0,
        batch_norm: bool = False,
        num_attention_layers: int = 3,
        num_heads: int = 2,
        attention_dim: int = 16,
        use_residual: bool = True,
        use_dnn: bool = False,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        layers = []
        width = embedding_dim
        for _ in range(num_attention_layers):
            layers.append(MultiHeadSelfAttention(width, attention_dim, num_heads, use_residual=use_residual))
            width = num_heads * attention_dim
        self.interacting = nn.Sequential(*layers)
        self.output = nn.Linear(field_spec.n_fields * width, 1)
        # AutoInt+ (Section 5.5): a feed-forward network on the same embeddings, trained jointly;
        # the two logits are summed, as in the authors' code.
        self.deep = (
            MLP(
                field_spec.n_fields * embedding_dim,
                hidden_units,
                dropout=dropout,
                batch_norm=batch_norm,
                output_dim=1,
            )
            if use_dnn
            else None
        )

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        embeddings = self.embedding(codes, dense)
        interactions = self.interacting(embeddings)
        logit = self.output(interactions.flatten(start_dim=1)).squeeze(-1)
        if self.deep is not None:
            logit = logit + self.deep(
                embeddings.flatten(start_dim=1), fields=(self.embedding, codes, dense)
            ).squeeze(-1)
        return logit
