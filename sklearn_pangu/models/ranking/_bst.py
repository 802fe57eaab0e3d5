"""BST: Behavior Sequence Transformer (Chen et al., DLP-KDD 2019)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import MLP, BehaviorTransformer, FieldEmbedding
from ._din import behavior_pairs

#: What of the transformer's outputs the MLP reads: see ``BSTModule``.
TRANSFORMER_OUTPUTS = ("target", "mean", "concat")


class BSTModule(nn.Module):
    """Field embeddings; each history with its target through a transformer; outputs and other fields -> MLP.

    For each pair of ``behavior_features`` (history -> target), a
    :class:`~sklearn_pangu.nn.BehaviorTransformer` encodes ``[target, newest
    behaviour, ..., oldest]`` with learned positions by recency. In place of the
    history field goes, by ``transformer_output``: the output at the target item
    (``"target"``), the mean of the outputs at the target and the behaviours
    (``"mean"``), or all ``L + 1`` outputs flattened in that order (``"concat"``).
    The other fields' vectors (the target's included) and the dense feature vectors
    join them, and an MLP maps the whole to the logit.
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        behavior_features: Mapping[str, str],
        embedding_dim: int,
        hidden_units: Sequence[int],
        num_transformer_layers: int = 1,
        num_heads: int = 2,
        transformer_output: str = "target",
        dropout: float = 0.0,
        batch_norm: bool = False,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        if transformer_output not in TRANSFORMER_OUTPUTS:
            raise ValueError(
                f"transformer_output must be one of {TRANSFORMER_OUTPUTS}, got {transformer_output!r}."
            )
        self.transformer_output = transformer_output
        self.pairs = behavior_pairs(field_spec, behavior_features)
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        lengths = [field_spec.sequence_lengths[h] for h, _ in self.pairs]
        self.transformers = nn.ModuleList(
            BehaviorTransformer(
                embedding_dim,
                length,
                num_layers=num_transformer_layers,
                num_heads=num_heads,
                dropout=dropout,
            )
            for length in lengths
        )
        histories = {h for h, _ in self.pairs}
        kept = [j for j in range(field_spec.n_fields) if j not in histories]
        self.register_buffer("kept_fields", torch.tensor(kept, dtype=torch.long), persistent=False)
        widths = [length + 1 if transformer_output == "concat" else 1 for length in lengths]
        self.deep = MLP(
            (len(kept) + sum(widths)) * embedding_dim,
            hidden_units,
            dropout=dropout,
            batch_norm=batch_norm,
            output_dim=1,
        )

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        sequences, placeholders = [], {}
        for (h, t), transformer in zip(self.pairs, self.transformers, strict=True):
            rows, mask = self.embedding.lookup_sequence(codes, h)
            target = self.embedding.lookup_field(codes, t)
            sequences.append(self._read(transformer(target, rows, mask), mask))
            placeholders[h] = target  # not read: the history's field vector is dropped below
        fields = self.embedding(codes, dense, pooled=placeholders).index_select(1, self.kept_fields)
        return self.deep(torch.cat([fields.flatten(start_dim=1), *sequences], dim=1)).squeeze(-1)

    def _read(self, outputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The MLP's input from the transformer's ``(batch, L + 1, D)`` outputs, zero at the pads."""
        if self.transformer_output == "target":
            return outputs[:, 0]
        if self.transformer_output == "mean":
            return outputs.sum(dim=1) / (mask.sum(dim=1, keepdim=True) + 1).to(outputs.dtype)
        return outputs.flatten(start_dim=1)
