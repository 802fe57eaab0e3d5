"""FinalMLP (Mao et al., AAAI 2023)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._embedding import FieldEmbedding
from ...nn._fusion import MultiHeadBilinearFusion
from ...nn._gating import FeatureGate
from ...nn._mlp import MLP


class FinalMLPModule(nn.Module):
    """Two MLP streams over gated copies of one field embedding, fused by a multi-head bilinear layer."""

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        stream2_units: Sequence[int] = (1000,),
        gate_units: Sequence[int] = (800,),
        use_feature_gating: bool = True,
        num_heads: int = 2,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        flat_dim = field_spec.n_fields * embedding_dim
        # Stream-specific feature selection. The paper conditions each gate on chosen
        # (user / item) features or, without them, on a learnable vector; a model that
        # does not know which fields are which takes the learnable vector, one field
        # embedding in size as in the reference implementation.
        self.gate1 = FeatureGate(flat_dim, embedding_dim, gate_units) if use_feature_gating else None
        self.gate2 = FeatureGate(flat_dim, embedding_dim, gate_units) if use_feature_gating else None
        # Both streams share `dropout` and `batch_norm` (the paper tunes them per stream).
        self.stream1 = MLP(flat_dim, hidden_units, dropout=dropout, batch_norm=batch_norm)
        self.stream2 = MLP(flat_dim, stream2_units, dropout=dropout, batch_norm=batch_norm)
        self.fusion = MultiHeadBilinearFusion(self.stream1.output_dim, self.stream2.output_dim, num_heads)

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        embeddings = self.embedding(codes, dense).flatten(start_dim=1)
        fields = (self.embedding, codes, dense)
        h1 = self.stream1(embeddings, fields) if self.gate1 is None else self.stream1(self.gate1(embeddings))
        h2 = self.stream2(embeddings, fields) if self.gate2 is None else self.stream2(self.gate2(embeddings))
        return self.fusion(h1, h2)
