"""FiBiNET (Huang et al., RecSys 2019)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._bilinear import BilinearInteraction
from ...nn._embedding import FieldEmbedding, LinearLogit
from ...nn._mlp import MLP
from ...nn._senet import SqueezeExcitation


class FiBiNetModule(nn.Module):
    """Bilinear interactions of the field vectors and of their SENET re-weighting, into an MLP.

    The output adds the linear part, as the paper's output layer does:
    ``sigmoid(w_0 + sum_i w_i x_i + y_d)``. With a single field there is no pair
    to cross, so there is no deep part and the output is the linear part alone.
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        reduction_ratio: float = 3,
        bilinear_type: str = "field_all",
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        n_fields = field_spec.n_fields
        self.linear = LinearLogit.from_spec(field_spec)
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        # The paper does not name the excitation activations: ReLU for both, as in the authors' code.
        self.senet = SqueezeExcitation(n_fields, reduction_ratio, excitation_activation="relu")
        # Separate bilinear layers for the original and the SENET-like embeddings.
        self.bilinear = BilinearInteraction(n_fields, embedding_dim, bilinear_type)
        self.bilinear_senet = BilinearInteraction(n_fields, embedding_dim, bilinear_type)
        self.deep = (
            MLP(
                2 * self.bilinear.n_pairs * embedding_dim,
                hidden_units,
                dropout=dropout,
                batch_norm=batch_norm,
                output_dim=1,
            )
            if self.bilinear.n_pairs
            else None
        )

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        if self.deep is None:
            return self.linear(codes, dense)
        embeddings = self.embedding(codes, dense)
        p = self.bilinear(embeddings)
        q = self.bilinear_senet(self.senet(embeddings))
        combined = torch.cat([p, q], dim=1).flatten(start_dim=1)
        return self.linear(codes, dense) + self.deep(combined).squeeze(-1)
