"""MaskNet (Wang et al., DLP-KDD 2021)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._embedding import FieldEmbedding
from ...nn._mask_block import MaskBlock
from ...nn._mlp import MLP

MASKNET_STRUCTURES = ("serial", "parallel")


class MaskNetModule(nn.Module):
    """MaskBlocks over layer-normalized field embeddings, masks guided by the raw embeddings.

    Serial (SerMaskNet): block 1 masks the embeddings, block ``i + 1`` masks block
    ``i``'s output, the last output feeds the output layer. Parallel (ParaMaskNet):
    every block masks the embeddings, the outputs are concatenated and go through
    an MLP to the output layer.
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        structure: str = "parallel",
        num_blocks: int = 3,
        block_dim: int = 50,
        reduction_ratio: float = 2.0,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        if structure not in MASKNET_STRUCTURES:
            raise ValueError(f"structure must be one of {MASKNET_STRUCTURES}, got {structure!r}.")
        self.structure = structure
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        # LN_EMB: each field vector is layer-normalized (one LayerNorm shared by the fields).
        self.embedding_norm = nn.LayerNorm(embedding_dim)
        input_dim = field_spec.n_fields * embedding_dim
        block = {"mask_input_dim": input_dim, "reduction_ratio": reduction_ratio, "dropout": dropout}
        if structure == "serial":
            widths = [input_dim] + [block_dim] * num_blocks
            self.blocks = nn.ModuleList(
                MaskBlock(widths[i], output_dim=block_dim, **block) for i in range(num_blocks)
            )
            self.deep = None
            self.output = MLP(block_dim, (), output_dim=1)  # linear output layer
        else:
            self.blocks = nn.ModuleList(
                MaskBlock(input_dim, output_dim=block_dim, **block) for _ in range(num_blocks)
            )
            self.deep = MLP(num_blocks * block_dim, hidden_units, dropout=dropout, batch_norm=batch_norm)
            self.output = MLP(self.deep.output_dim, (), output_dim=1)  # linear output layer

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        embeddings = self.embedding(codes, dense)
        v_emb = embeddings.flatten(start_dim=1)  # guides every instance-guided mask
        normalized = self.embedding_norm(embeddings).flatten(start_dim=1)
        if self.structure == "serial":
            hidden = normalized
            for block in self.blocks:
                hidden = block(hidden, v_emb)
            top = hidden
        else:
            top = self.deep(torch.cat([block(normalized, v_emb) for block in self.blocks], dim=1))
        return self.output(top).squeeze(-1)
