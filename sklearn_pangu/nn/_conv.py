"""Convolution and k-max pooling along the field axis of an embedding x field matrix (CCPM)."""

from __future__ import annotations

import torch
from torch import nn


class RowWiseConvolution(nn.Module):
    """Wide one-dimensional convolution along the field axis, one filter per embedding row.

    The input holds, for each of ``dim`` embedding rows (coordinates), ``in_maps``
    feature maps of ``length`` positions (fields): the ``dim x length`` matrices of
    CCPM (Liu et al., 2015), row-major. Output map ``j`` is ``sum_k w_{jk} * F_k`` (plus
    a bias), where ``*`` convolves each row of ``F_k`` along the field axis with that
    row's own width-``kernel_width`` filter, as in CCPM and the DCNN it follows. The
    convolution is wide: the input is zero-padded by ``kernel_width - 1`` on both sides,
    so the output has ``length + kernel_width - 1`` positions. The weights are those of
    a grouped ``conv1d`` with a group per embedding row (attribute ``conv``). For up to
    ``max_toeplitz_length`` positions the convolution runs as one batched matrix
    product per embedding row with the banded (Toeplitz) matrix of its filters, which
    on CPU is several times faster than the grouped ``conv1d`` and gives the same
    values; longer inputs use the grouped ``conv1d``.

    Parameters
    ----------
    dim : int
        Number of embedding rows.
    in_maps : int
        Number of input feature maps.
    out_maps : int
        Number of output feature maps.
    kernel_width : int
        Number of consecutive fields each filter spans.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import RowWiseConvolution
    >>> conv = RowWiseConvolution(dim=4, in_maps=1, out_maps=3, kernel_width=2)
    >>> conv(torch.randn(8, 4, 1, 5)).shape  # 5 + 2 - 1 positions
    torch.Size([8, 4, 3, 6])
    """

    def __init__(self, dim: int, in_maps: int, out_maps: int, kernel_width: int) -> None:
        super().__init__()
        self.dim = int(dim)
        self.in_maps = int(in_maps)
        self.out_maps = int(out_maps)
        self.kernel_width = int(kernel_width)
        self.conv = nn.Conv1d(
            self.dim * self.in_maps,
            self.dim * self.out_maps,
            self.kernel_width,
            padding=self.kernel_width - 1,
            groups=self.dim,
        )

    #: Longest input (in positions) convolved as a matrix product; the banded matrix has
    #: ``length / kernel_width`` times more entries than the filters, so very long inputs
    #: go through the grouped ``conv1d`` instead.
    max_toeplitz_length = 64

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, dim, in_maps, length)`` to ``(batch, dim, out_maps, length + kernel_width - 1)``."""
        batch, _, _, length = maps.shape
        if length > self.max_toeplitz_length:
            # Channel d * in_maps + k is row d of map k: group d of the conv is embedding row d.
            out = self.conv(maps.reshape(batch, self.dim * self.in_maps, length))
            return out.view(batch, self.dim, self.out_maps, -1)
        out_length = length + self.kernel_width - 1
        # Output position t of the wide convolution reads input position l with filter tap
        # l - t + kernel_width - 1 (the taps of conv1d's cross-correlation over the padded input).
        # toeplitz[d, (k, l), (j, t)] is that tap of the filter of row d from map k to map j, or 0.
        positions = torch.arange(length, device=maps.device)
        taps = positions[:, None] - torch.arange(out_length, device=maps.device) + self.kernel_width - 1
        taps = taps.masked_fill((taps < 0) | (taps >= self.kernel_width), self.kernel_width)
        weight = self.conv.weight.view(self.dim, self.out_maps, self.in_maps, self.kernel_width)
        weight = nn.functional.pad(weight, (0, 1))  # tap kernel_width is the zero outside the band
        toeplitz = weight[..., taps].permute(0, 2, 3, 1, 4)  # (dim, in_maps, length, out_maps, out_length)
        toeplitz = toeplitz.reshape(self.dim, self.in_maps * length, self.out_maps * out_length)
        rows = maps.reshape(batch, self.dim, self.in_maps * length).transpose(0, 1)
        out = torch.bmm(rows, toeplitz).transpose(0, 1).reshape(batch, self.dim, self.out_maps, out_length)
        return out + self.conv.bias.view(self.dim, self.out_maps, 1)


class KMaxPooling(nn.Module):
    """Keep the ``k`` largest values along one axis, in their original order.

    Parameters
    ----------
    k : int
        Number of values kept.
    dim : int, default=-1
        Axis to pool over.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import KMaxPooling
    >>> KMaxPooling(k=3)(torch.tensor([[1.0, 5.0, 2.0, 4.0, 3.0]]))
    tensor([[5., 4., 3.]])
    >>> KMaxPooling(k=2)(torch.tensor([[4.0, 1.0, 5.0]]))
    tensor([[4., 5.]])
    """

    def __init__(self, k: int, dim: int = -1) -> None:
        super().__init__()
        self.k = int(k)
        self.dim = int(dim)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Return ``inputs`` with ``k`` positions along ``dim``."""
        length = inputs.shape[self.dim]
        # The mask path's shapes depend on the data, which torch.export cannot trace.
        if 2 * self.k <= length or torch.compiler.is_exporting():
            positions = inputs.topk(self.k, dim=self.dim, sorted=False).indices.sort(dim=self.dim).values
            return inputs.gather(self.dim, positions)
        # Keeping most positions: selecting the length - k smallest is cheaper, and the
        # kept positions come out in their order from a mask, without a sort.
        with torch.no_grad():
            dropped = inputs.topk(length - self.k, dim=self.dim, largest=False, sorted=False).indices
            kept = torch.ones_like(inputs, dtype=torch.bool).scatter_(self.dim, dropped, False)
            kept = kept.movedim(self.dim, -1)
            positions = kept.reshape(-1, length).nonzero()[:, 1].view(*kept.shape[:-1], self.k)
        return inputs.gather(self.dim, positions.movedim(-1, self.dim))
