"""DCN-V2 (Wang et al., WWW 2021)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._cross import CrossNetwork, LowRankMixtureCrossLayer, MatrixCrossLayer
from ...nn._embedding import FieldEmbedding
from ...nn._mlp import MLP

STRUCTURES = ("stacked", "parallel", "cross_only")


class DCNV2Module(nn.Module):
    """Full-matrix (or low-rank mixture) cross network, stacked on or beside a deep network."""

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        num_cross_layers: int = 4,
        structure: str = "parallel",
        low_rank: int | None = None,
        num_experts: int = 4,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        if structure not in STRUCTURES:
            raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}.")
        self.structure = structure
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        input_dim = field_spec.n_fields * embedding_dim
        self.cross = CrossNetwork(
            MatrixCrossLayer(input_dim)
            if low_rank is None
            else LowRankMixtureCrossLayer(input_dim, low_rank, num_experts)
            for _ in range(num_cross_layers)
        )
        self.deep = None
        output_dim = input_dim
        if structure != "cross_only":
            self.deep = MLP(input_dim, hidden_units, dropout=dropout, batch_norm=batch_norm)
            # parallel: the output layer reads [x_L ; MLP(x0)]; stacked: MLP(x_L) alone.
            output_dim = self.deep.output_dim + (input_dim if structure == "parallel" else 0)
        self.output = MLP(output_dim, (), output_dim=1)  # linear output layer

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        x0 = self.embedding(codes, dense).flatten(start_dim=1)
        crossed = self.cross(x0)
        if self.structure == "stacked":
            top = self.deep(crossed)
        elif self.structure == "parallel":
            top = torch.cat([crossed, self.deep(x0, fields=(self.embedding, codes, dense))], dim=1)
        else:
            top = crossed
        return self.output(top).squeeze(-1)
