"""CCPM, the Convolutional Click Prediction Model (Liu et al., CIKM 2015)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn._conv import KMaxPooling, RowWiseConvolution
from ...nn._embedding import FieldEmbedding


def flexible_pooling_sizes(n_fields: int, n_layers: int) -> list[int]:
    """The ``p_i`` of CCPM's flexible p-max pooling for layers ``i = 1..l``.

    ``p_i = (1 - (i / l) ** (l - i)) * n`` rounded down (at least 1) for ``i < l``, and
    ``p_l = 3``, capped by the number of fields ``n``.

    Examples
    --------
    >>> from sklearn_pangu.models.ranking._ccpm import flexible_pooling_sizes
    >>> flexible_pooling_sizes(n_fields=39, n_layers=3)
    [34, 13, 3]
    """
    sizes = [
        max(1, math.floor((1 - (i / n_layers) ** (n_layers - i)) * n_fields)) for i in range(1, n_layers)
    ]
    return [*sizes, min(3, n_fields)]


class CCPMModule(nn.Module):
    """Field embedding matrix, convolution + flexible p-max pooling + tanh layers, output layer."""

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        embedding_dim: int,
        conv_kernel_widths: Sequence[int] = (6, 5, 3),
        conv_filters: Sequence[int] = (4, 4, 4),
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        if len(conv_kernel_widths) != len(conv_filters):
            raise ValueError(
                "conv_kernel_widths and conv_filters need one entry per layer, got "
                f"{len(conv_kernel_widths)} and {len(conv_filters)}."
            )
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        layers: list[nn.Module] = []
        length, maps = field_spec.n_fields, 1
        pooling_sizes = flexible_pooling_sizes(field_spec.n_fields, len(conv_filters))
        for width, filters, p in zip(conv_kernel_widths, conv_filters, pooling_sizes):
            length = min(p, length + width - 1)  # a wide convolution adds width - 1 positions
            layers += [
                RowWiseConvolution(embedding_dim, maps, filters, width),
                KMaxPooling(length),
                nn.Tanh(),
            ]
            maps = filters
        self.convolutions = nn.Sequential(*layers)
        self.output = nn.Linear(maps * length * embedding_dim, 1)

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        # The paper's dim x n_fields matrix, as one input map: (batch, dim, 1, n_fields).
        matrix = self.embedding(codes, dense).transpose(1, 2).unsqueeze(2)
        return self.output(self.convolutions(matrix).flatten(start_dim=1)).squeeze(-1)
