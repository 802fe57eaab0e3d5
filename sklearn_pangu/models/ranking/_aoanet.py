"""AOANet (Lang et al., KDD 2021)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._embedding import FieldEmbedding
from ...nn._generalized_interaction import GeneralizedInteractionNet
from ...nn._mlp import MLP, xavier_linear


class AOANetModule(nn.Module):
    """A generalized interaction network and a DNN over one field embedding, concatenated into a logit."""

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        num_interaction_layers: int = 3,
        num_subspaces: int = 4,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        n_fields = field_spec.n_fields
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.dnn = MLP(n_fields * embedding_dim, hidden_units, dropout=dropout, batch_norm=batch_norm)
        # The pair weights alpha are trained jointly with everything else and kept dense, as in
        # public reference code (the paper's separate architecture-adaptation step is left out);
        # the logit reads the last GIN layer's subspaces next to the DNN's last hidden layer.
        self.gin = GeneralizedInteractionNet(n_fields, embedding_dim, num_interaction_layers, num_subspaces)
        self.output = xavier_linear(self.dnn.output_dim + num_subspaces * embedding_dim, 1)

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        embeddings = self.embedding(codes, dense)
        dnn_out = self.dnn(embeddings.flatten(start_dim=1), fields=(self.embedding, codes, dense))
        gin_out = self.gin(embeddings).flatten(start_dim=1)
        return self.output(torch.cat([dnn_out, gin_out], dim=1)).squeeze(-1)
