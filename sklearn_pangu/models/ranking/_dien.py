"""DIEN: Deep Interest Evolution Network (Zhou et al., AAAI 2019)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import AUGRU, MLP, FieldEmbedding
from ...nn._behavior import interest_auxiliary_loss, masked_softmax, sample_negative_codes
from ._din import behavior_pairs, trimmed


class DIENModule(nn.Module):
    """Field embeddings, each history turned into an evolved interest toward its target, then an MLP.

    For each pair of ``behavior_features`` (history -> target): a GRU (the interest
    extractor) reads the history's item vectors, oldest first, into states ``h_t``;
    attention ``a_t = softmax_t(h_t W e_target)`` over the items; an
    :class:`~sklearn_pangu.nn.AUGRU` (the interest evolving layer) reads the states
    with that attention, and its last state replaces the history's pooled vector.
    The MLP reads every field vector, as in DIN. In training, the auxiliary loss
    (next behaviour against a negative drawn uniformly from the known items) is
    stored, times ``auxiliary_loss_weight``, for :meth:`pop_penalty`: the net adds it
    to the training loss only.
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        behavior_features: Mapping[str, str],
        embedding_dim: int,
        hidden_units: Sequence[int],
        auxiliary_loss_weight: float = 1.0,
        dropout: float = 0.0,
        batch_norm: bool = False,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.pairs = behavior_pairs(field_spec, behavior_features)
        self.cardinalities = [field_spec.cardinalities[h] for h, _ in self.pairs]
        self.code_columns = [field_spec.code_columns(h) for h, _ in self.pairs]
        self.auxiliary_loss_weight = float(auxiliary_loss_weight)
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.extractors = nn.ModuleList(
            nn.GRU(embedding_dim, embedding_dim, batch_first=True) for _ in self.pairs
        )
        self.attentions = nn.ModuleList(
            nn.Linear(embedding_dim, embedding_dim, bias=False) for _ in self.pairs
        )
        self.evolutions = nn.ModuleList(AUGRU(embedding_dim, embedding_dim) for _ in self.pairs)
        self.deep = MLP(
            field_spec.n_fields * embedding_dim,
            hidden_units,
            dropout=dropout,
            batch_norm=batch_norm,
            output_dim=1,
        )
        self._penalty: torch.Tensor | None = None

    def _negatives(self, codes: torch.Tensor, pair: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Item vectors of a negative per history slot, and where one was drawn."""
        columns = self.code_columns[pair]
        history = codes[:, columns]
        negatives, drawn = sample_negative_codes(history, self.cardinalities[pair])
        # Look the negatives up through the history field itself: same table, same pads.
        swapped = codes.clone()
        swapped[:, columns] = torch.where(history >= 0, negatives.to(codes.dtype), history)
        rows, _ = self.embedding.lookup_sequence(swapped, self.pairs[pair][0])
        return rows, drawn

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        pooled, auxiliary = {}, []
        for i, (h, t) in enumerate(self.pairs):
            rows, mask = self.embedding.lookup_sequence(codes, h)
            length = trimmed(rows, mask)[1].shape[1]
            rows, mask = rows[:, :length], mask[:, :length]
            states, _ = self.extractors[i](rows)
            target = self.embedding.lookup_field(codes, t)
            attention = masked_softmax((self.attentions[i](states) * target.unsqueeze(1)).sum(-1), mask)
            pooled[h] = self.evolutions[i](states, attention)
            if self.training and self.auxiliary_loss_weight > 0 and length > 1:
                negatives, drawn = self._negatives(codes, i)
                auxiliary.append(
                    interest_auxiliary_loss(states, rows, negatives[:, :length], mask & drawn[:, :length])
                )
        if self.training:
            self._penalty = self.auxiliary_loss_weight * torch.stack(auxiliary).sum() if auxiliary else None
        fields = self.embedding(codes, dense, pooled=pooled)
        return self.deep(fields.flatten(start_dim=1)).squeeze(-1)

    def pop_penalty(self) -> torch.Tensor | None:
        """Return the weighted auxiliary loss of the last training forward pass, and forget it."""
        penalty, self._penalty = self._penalty, None
        return penalty
