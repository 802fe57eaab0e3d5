"""Cross layers: explicit, bounded-degree feature crossing of a flat input vector."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


class CrossLayer(nn.Module):
    """One cross layer of the Deep & Cross Network, ``x0 * (x @ w) + b + x``.

    Each layer raises the polynomial degree of the crossing by one with only two
    vectors of parameters, the weight ``w`` and the bias ``b`` (Wang et al., 2017).

    Parameters
    ----------
    input_dim : int
        Size ``d`` of ``x0`` and of every layer's input and output.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import CrossLayer
    >>> layer = CrossLayer(2)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([0.5, -1.0]))
    ...     _ = layer.bias.copy_(torch.tensor([0.1, 0.2]))
    >>> x0 = torch.tensor([[1.0, 2.0]])
    >>> layer(x0, x0)  # x . w = -1.5: x0 * -1.5 + b + x
    tensor([[-0.4000, -0.8000]], grad_fn=<AddBackward0>)
    """

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(int(input_dim)))
        self.bias = nn.Parameter(torch.zeros(int(input_dim)))
        # Glorot-normal for a d x 1 matrix, as the MLP's weights.
        nn.init.normal_(self.weight, std=(2.0 / (int(input_dim) + 1)) ** 0.5)

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Map ``x0`` and the previous layer's output ``x``, both ``(batch, d)``, to ``(batch, d)``."""
        return x0 * (x @ self.weight).unsqueeze(-1) + self.bias + x


class MatrixCrossLayer(nn.Module):
    """One full-matrix cross layer of DCN-V2, ``x0 * (W x + b) + x``.

    The weight is a ``d x d`` matrix, so each layer learns a weight for every pair
    of input coordinates (bit-wise crossing) instead of DCN's rank-one ``x0 x^T w``
    (Wang et al., 2021).

    Parameters
    ----------
    input_dim : int
        Size ``d`` of ``x0`` and of every layer's input and output.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import MatrixCrossLayer
    >>> layer = MatrixCrossLayer(2)
    >>> with torch.no_grad():
    ...     _ = layer.linear.weight.copy_(torch.tensor([[1.0, 0.0], [2.0, 1.0]]))
    ...     _ = layer.linear.bias.copy_(torch.tensor([0.5, -0.5]))
    >>> x0, x = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, -1.0]])
    >>> layer(x0, x)  # W x + b = (3.5, 4.5); x0 * (3.5, 4.5) + x
    tensor([[6.5000, 8.0000]], grad_fn=<AddBackward0>)
    """

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(int(input_dim), int(input_dim))
        nn.init.xavier_normal_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Map ``x0`` and the previous layer's output ``x``, both ``(batch, d)``, to ``(batch, d)``."""
        return x0 * self.linear(x) + x


class LowRankMixtureCrossLayer(nn.Module):
    """A DCN-V2 cross layer as a gated mixture of low-rank experts.

    ``x_{l+1} = sum_i G_i(x) E_i(x) + x`` with experts
    ``E_i(x) = x0 * (U_i g(C_i g(V_i^T x)) + b)``, where ``U_i, V_i`` are
    ``d x r`` and ``C_i`` is ``r x r``: each expert crosses the features in an
    ``r``-dimensional subspace, at ``O(d r)`` cost instead of the full matrix's
    ``O(d^2)``. The gates ``G(x) = softmax(x^T [w_1 ... w_K])`` weigh the experts
    per row; the bias ``b`` is shared by the experts (Wang et al., 2021).

    Parameters
    ----------
    input_dim : int
        Size ``d`` of ``x0`` and of every layer's input and output.
    rank : int
        Rank ``r`` of each expert.
    num_experts : int, default=4
        Number ``K`` of experts.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import LowRankMixtureCrossLayer
    >>> layer = LowRankMixtureCrossLayer(6, rank=2, num_experts=3)
    >>> layer(torch.randn(5, 6), torch.randn(5, 6)).shape
    torch.Size([5, 6])
    """

    def __init__(self, input_dim: int, rank: int, num_experts: int = 4) -> None:
        super().__init__()
        d, r, k = int(input_dim), int(rank), int(num_experts)
        self.num_experts, self.rank = k, r
        self.down = nn.Parameter(torch.empty(d, k, r))  # V_1 ... V_K
        self.middle = nn.Parameter(torch.empty(k, r, r))  # C_1 ... C_K
        self.up = nn.Parameter(torch.empty(k, r, d))  # U_1^T ... U_K^T
        self.gate = nn.Parameter(torch.empty(d, k))  # w_1 ... w_K
        self.bias = nn.Parameter(torch.zeros(d))
        with torch.no_grad():  # Glorot-normal per expert matrix
            for i in range(k):
                for weight in (self.down[:, i], self.middle[i], self.up[i]):
                    nn.init.xavier_normal_(weight)
        nn.init.xavier_normal_(self.gate)

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Map ``x0`` and the previous layer's output ``x``, both ``(batch, d)``, to ``(batch, d)``."""
        batch, (k, r) = x.shape[0], (self.num_experts, self.rank)
        # The paper leaves the nonlinearity g open; tanh keeps the projections bounded.
        projected = torch.tanh((x @ self.down.reshape(-1, k * r)).reshape(batch, k, r))
        projected = torch.tanh(torch.einsum("bks,krs->bkr", projected, self.middle))
        gates = torch.softmax(x @ self.gate, dim=-1)  # (batch, K)
        # The gates sum to one and b is shared, so sum_i G_i x0 * (U_i h_i + b) is
        # x0 * (sum_i G_i U_i h_i + b): one matmul with the experts' U side by side.
        mixed = (gates.unsqueeze(-1) * projected).reshape(batch, k * r) @ self.up.reshape(k * r, -1)
        return x0 * (mixed + self.bias) + x


class CrossNetwork(nn.Module):
    """A stack of cross layers that all cross with the same input ``x0``.

    ``x_1 = layer_1(x0, x0)``, ``x_{l+1} = layer_{l+1}(x0, x_l)``; the output has the
    size of the input. With ``L`` layers it holds feature crosses up to degree
    ``L + 1``.

    Parameters
    ----------
    layers : iterable of nn.Module
        The cross layers, each called as ``layer(x0, x)``:
        :class:`CrossLayer`, :class:`MatrixCrossLayer` or
        :class:`LowRankMixtureCrossLayer`.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import CrossLayer, CrossNetwork
    >>> network = CrossNetwork(CrossLayer(8) for _ in range(3))
    >>> network(torch.randn(4, 8)).shape
    torch.Size([4, 8])
    """

    def __init__(self, layers: Iterable[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        """Map ``x0`` of shape ``(batch, d)`` to the last layer's output, ``(batch, d)``."""
        x = x0
        for layer in self.layers:
            x = layer(x0, x)
        return x
