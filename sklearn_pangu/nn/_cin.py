"""Compressed Interaction Network (xDeepFM)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class CompressedInteraction(nn.Module):
    """Compressed Interaction Network: explicit vector-wise interactions of bounded degree.

    With ``X^0`` the ``(m, D)`` matrix of field vectors, layer ``k`` computes ``H_k``
    feature maps ``X^k_h = sum_{i,j} W^{k,h}_{ij} (X^{k-1}_i * X^0_j)`` (element-wise
    products of a previous map and a field vector, Lian et al., 2018, Eq. 6). Each
    layer is an outer product over the field axis followed by a ``1 x 1`` convolution
    (a matrix product over the ``H_{k-1} * m`` products), with no loop over fields.
    Every map is sum-pooled over the embedding axis and the pooled maps of all layers
    are concatenated.

    Parameters
    ----------
    n_fields : int
        Number of field vectors ``m``.
    layer_units : sequence of int
        Number of feature maps ``H_k`` of each layer.
    split_half : bool, default=True
        Whether every layer but the last sends half of its maps to the next layer and
        the other half to the output (the reference implementation's default, which
        halves the cost of the next layer). Those layers need an even number of maps.

    Attributes
    ----------
    output_dim : int
        Number of pooled features returned.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import CompressedInteraction
    >>> cin = CompressedInteraction(n_fields=5, layer_units=(8, 6))
    >>> cin.output_dim  # 8 / 2 + 6
    10
    >>> cin(torch.randn(3, 5, 4)).shape
    torch.Size([3, 10])
    """

    def __init__(self, n_fields: int, layer_units: Sequence[int], *, split_half: bool = True) -> None:
        super().__init__()
        layer_units = [int(u) for u in layer_units]
        self.n_fields = int(n_fields)
        self.split_half = bool(split_half)
        self.weights = nn.ParameterList()
        self.next_units: list[int] = []
        output_dim = 0
        previous = self.n_fields
        for index, units in enumerate(layer_units):
            split = self.split_half and index < len(layer_units) - 1
            if split and units % 2:
                raise ValueError(
                    f"With split_half every layer but the last needs an even number of maps, got {units}."
                )
            weight = nn.Parameter(torch.empty(units, previous * self.n_fields))
            nn.init.xavier_normal_(weight)
            self.weights.append(weight)
            previous = units // 2 if split else units
            self.next_units.append(previous)
            output_dim += units - previous if split else units
        self.output_dim = output_dim

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to the pooled maps, shape ``(batch, output_dim)``."""
        # Work in (batch, dim, maps) layout so that each layer is one large matrix product.
        x0 = embeddings.transpose(1, 2)
        hidden = x0
        pooled = []
        for index, weight in enumerate(self.weights):
            maps = self._layer(hidden, x0, weight)  # (batch, dim, H_k); identity activation as in Eq. 6
            if self.split_half and index < len(self.weights) - 1:
                hidden, kept = maps.split([self.next_units[index], maps.shape[2] - self.next_units[index]], 2)
            else:
                hidden, kept = maps, maps
            pooled.append(kept.sum(dim=1))
        return torch.cat(pooled, dim=1)

    def _layer(self, hidden: torch.Tensor, x0: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """``out[b, d, k] = sum_{h, j} W[k, h * m + j] hidden[b, d, h] x0[b, d, j]``, cheaper way round."""
        batch, dim, n_hidden = hidden.shape
        units = weight.shape[0]
        if 2 * units <= self.n_fields:
            # Few maps: contract the fields first, u[b, d, k, h] = sum_j W[k, h, j] x0[b, d, j]
            # (an intermediate of H_k * H_{k-1} values per position instead of H_{k-1} * m).
            per_field = (
                weight.view(units, n_hidden, self.n_fields).permute(2, 0, 1).reshape(self.n_fields, -1)
            )
            u = x0.matmul(per_field).view(batch, dim, units, n_hidden)
            return (u * hidden.unsqueeze(2)).sum(dim=3)
        # products[b, d, h * m + j] = hidden[b, d, h] * x0[b, d, j], as a batched outer product
        # (faster than a broadcast multiply, mostly in the backward pass).
        products = torch.matmul(hidden.unsqueeze(3), x0.unsqueeze(2)).reshape(batch, dim, -1)
        return products.matmul(weight.t())
