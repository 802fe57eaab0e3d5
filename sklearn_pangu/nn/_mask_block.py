"""Instance-guided mask and MaskBlock: feature-wise multiplication guided by the input row."""

from __future__ import annotations

import torch
from torch import nn

from ._mlp import xavier_linear


class InstanceGuidedMask(nn.Module):
    """A mask computed from the input row: ``W_2 ReLU(W_1 v + b_1) + b_2``.

    A wide aggregation layer gathers global information from ``v`` (in MaskNet,
    the flattened field embeddings of the row); a projection layer maps it to
    the size of the vector the mask multiplies element-wise (Wang et al., 2021).

    Parameters
    ----------
    input_dim : int
        Size of ``v``.
    output_dim : int
        Size of the mask, that of the vector it multiplies.
    reduction_ratio : float, default=2.0
        Width of the aggregation layer over that of the projection layer: the
        aggregation layer has ``max(1, round(reduction_ratio * output_dim))`` units.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import InstanceGuidedMask
    >>> mask = InstanceGuidedMask(12, 5, reduction_ratio=2.0)
    >>> mask.aggregation.out_features
    10
    >>> mask(torch.randn(3, 12)).shape
    torch.Size([3, 5])
    """

    def __init__(self, input_dim: int, output_dim: int, reduction_ratio: float = 2.0) -> None:
        super().__init__()
        aggregation_dim = max(1, round(float(reduction_ratio) * int(output_dim)))
        self.aggregation = xavier_linear(int(input_dim), aggregation_dim)
        self.projection = xavier_linear(aggregation_dim, int(output_dim))

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, input_dim)`` to the mask, ``(batch, output_dim)``."""
        return self.projection(torch.relu(self.aggregation(v)))


class MaskBlock(nn.Module):
    """Mask a vector by an instance-guided mask, then a layer-normalized hidden layer.

    ``output = ReLU(LayerNorm(W (mask(v) * x)))``: ``x`` is the vector to mask (in
    MaskNet, the layer-normalized field embeddings or the previous block's output),
    ``v`` the input of the :class:`InstanceGuidedMask`. The hidden layer has no
    bias; the layer norm's shift takes its place (Wang et al., 2021).

    Parameters
    ----------
    input_dim : int
        Size of ``x``.
    mask_input_dim : int
        Size of ``v``.
    output_dim : int
        Number of units of the hidden layer.
    reduction_ratio : float, default=2.0
        Aggregation-to-projection width ratio of the mask.
    dropout : float, default=0.0
        Dropout probability on the output.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import MaskBlock
    >>> block = MaskBlock(input_dim=8, mask_input_dim=8, output_dim=4)
    >>> v = torch.randn(3, 8)
    >>> out = block(v, v)
    >>> out.shape, bool((out >= 0).all())
    (torch.Size([3, 4]), True)
    """

    def __init__(
        self,
        input_dim: int,
        mask_input_dim: int,
        output_dim: int,
        *,
        reduction_ratio: float = 2.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.mask = InstanceGuidedMask(mask_input_dim, input_dim, reduction_ratio)
        self.hidden = xavier_linear(int(input_dim), int(output_dim), bias=False)
        self.norm = nn.LayerNorm(int(output_dim))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.output_dim = int(output_dim)

    def forward(self, x: torch.Tensor, mask_input: torch.Tensor) -> torch.Tensor:
        """Map ``x`` of shape ``(batch, input_dim)`` and ``v`` to ``(batch, output_dim)``."""
        return self.dropout(torch.relu(self.norm(self.hidden(self.mask(mask_input) * x))))
