"""AFN and AFN+ (Cheng et al., AAAI 2020)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._embedding import FieldEmbedding
from ...nn._logarithmic import LogarithmicTransformation
from ...nn._mlp import MLP


class AFNModule(nn.Module):
    """Logarithmic neurons over the field embeddings, an MLP on their outputs, optionally a DNN beside.

    AFN: ``logit = MLP(flatten(LogarithmicTransformation(e)))``. AFN+ (``use_dnn``):
    ``logit = w_AFN * AFN(e) + w_DNN * DNN(flatten(e)) + b``.
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        num_logarithmic_neurons: int = 400,
        use_dnn: bool = True,
        dnn_units: Sequence[int] = (400, 400, 400),
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        n_fields = field_spec.n_fields
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.logarithmic = LogarithmicTransformation(n_fields, num_logarithmic_neurons)
        self.afn = MLP(
            num_logarithmic_neurons * embedding_dim,
            hidden_units,
            dropout=dropout,
            batch_norm=batch_norm,
            output_dim=1,
        )
        self.dnn = None
        self.ensemble = None
        if use_dnn:
            # Public reference code gives the DNN its own embedding table; here both parts
            # read the one field embedding, like every model of this package.
            self.dnn = MLP(
                n_fields * embedding_dim,
                dnn_units,
                dropout=dropout,
                batch_norm=batch_norm,
                output_dim=1,
            )
            # The paper's learned weighted sum of the two logits; it starts as their plain sum.
            self.ensemble = nn.Linear(2, 1)
            nn.init.ones_(self.ensemble.weight)
            nn.init.zeros_(self.ensemble.bias)

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        embeddings = self.embedding(codes, dense)
        afn_logit = self.afn(self.logarithmic(embeddings).flatten(start_dim=1))
        if self.dnn is None:
            return afn_logit.squeeze(-1)
        dnn_logit = self.dnn(embeddings.flatten(start_dim=1), fields=(self.embedding, codes, dense))
        return self.ensemble(torch.cat([afn_logit, dnn_logit], dim=1)).squeeze(-1)
