"""DIN: Deep Interest Network (Zhou et al., KDD 2018)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import MLP, ActivationUnitAttention, FieldEmbedding


def behavior_pairs(field_spec: FieldSpec, behavior_features: Mapping[str, str]) -> list[tuple[int, int]]:
    """The ``(history, target)`` field indices of ``behavior_features``; a ``ValueError`` naming a bad one.

    A history must be a list field, its target a single-value field, and both must
    use the same embedding table (one shared vocabulary).
    """
    if not behavior_features:
        raise ValueError("behavior_features must name at least one history column and its target column.")
    pairs = []
    for history, target in behavior_features.items():
        h, t = field_spec.field_index(history), field_spec.field_index(target)
        if not field_spec.sequence_lengths[h]:
            raise ValueError(f"behavior_features: the history column {history!r} is not a list column.")
        if field_spec.sequence_lengths[t]:
            raise ValueError(f"behavior_features: the target column {target!r} is a list column.")
        if field_spec.shared_tables[h] != field_spec.shared_tables[t]:
            raise ValueError(
                f"behavior_features: {history!r} and {target!r} do not share a vocabulary "
                f"(shared_vocabulary={{{history!r}: {target!r}}})."
            )
        pairs.append((h, t))
    return pairs


def trimmed(rows: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the trailing slots that hold no item in any row of the batch (at least one slot stays).

    A speed-up only, skipped while ``torch.export`` traces the module (the length would
    depend on the data): the dropped slots are masked, and no row's output changes.
    """
    if torch.compiler.is_exporting():
        return rows, mask
    length = max(int(mask.sum(dim=1).max()), 1) if mask.numel() else 1
    return rows[:, :length], mask[:, :length]


class DINModule(nn.Module):
    """Field embeddings, each history pooled by attention to its target item, then an MLP.

    For each pair of ``behavior_features`` (history list field -> target field), an
    :class:`~sklearn_pangu.nn.ActivationUnitAttention` weighs the history's item
    vectors against the target item's vector; their weighted sum replaces the
    history's pooled vector. Every field vector (and dense feature vector) is
    concatenated and an MLP maps it to the logit. Other list fields are pooled
    (``field_spec.sequence_pooling``).
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        behavior_features: Mapping[str, str],
        embedding_dim: int,
        hidden_units: Sequence[int],
        attention_units: Sequence[int] = (64, 16),
        activation: str = "dice",
        attention_softmax: bool = False,
        dropout: float = 0.0,
        batch_norm: bool = False,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.pairs = behavior_pairs(field_spec, behavior_features)
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        self.attentions = nn.ModuleList(
            ActivationUnitAttention(
                embedding_dim, attention_units, activation=activation, softmax=attention_softmax
            )
            for _ in self.pairs
        )
        self.deep = MLP(
            field_spec.n_fields * embedding_dim,
            hidden_units,
            dropout=dropout,
            batch_norm=batch_norm,
            output_dim=1,
        )

    def interests(self, codes: torch.Tensor) -> dict[int, torch.Tensor]:
        """The interest vector of each history field, ``{field index: (batch, embedding_dim)}``."""
        pooled = {}
        for (h, t), attention in zip(self.pairs, self.attentions, strict=True):
            rows, mask = trimmed(*self.embedding.lookup_sequence(codes, h))
            pooled[h] = attention(self.embedding.lookup_field(codes, t), rows, mask)
        return pooled

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        fields = self.embedding(codes, dense, pooled=self.interests(codes))
        return self.deep(fields.flatten(start_dim=1)).squeeze(-1)
