"""Fusion of two representations into one logit."""

from __future__ import annotations

import torch
from torch import nn

from ._mlp import xavier_linear


class MultiHeadBilinearFusion(nn.Module):
    """Fuse two vectors into one logit with first-order terms and head-wise bilinear terms.

    Both inputs are split into ``num_heads`` equal chunks ``x_j``, ``y_j`` and
    (FinalMLP, Mao et al., 2023)::

        fusion(x, y) = sum_j (b_j + w_{1,j}^T x_j + w_{2,j}^T y_j + x_j^T W_{3,j} y_j)
                     = b + w_1^T x + w_2^T y + sum_j x_j^T W_{3,j} y_j

    One head is a full bilinear form; more heads cut its ``dx * dy`` weights to
    ``dx * dy / num_heads``. The head biases add up to the single bias ``b``.

    Parameters
    ----------
    x_dim : int
        Size of the first input; divisible by ``num_heads``.
    y_dim : int
        Size of the second input; divisible by ``num_heads``.
    num_heads : int, default=1
        Number of heads.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import MultiHeadBilinearFusion
    >>> fusion = MultiHeadBilinearFusion(8, 4, num_heads=2)
    >>> fusion(torch.ones(3, 8), torch.ones(3, 4)).shape
    torch.Size([3])
    """

    def __init__(self, x_dim: int, y_dim: int, num_heads: int = 1) -> None:
        super().__init__()
        x_dim, y_dim, num_heads = int(x_dim), int(y_dim), int(num_heads)
        if num_heads < 1 or x_dim % num_heads or y_dim % num_heads:
            raise ValueError(
                f"num_heads={num_heads} must be >= 1 and divide both input sizes, got {x_dim} and {y_dim}."
            )
        self.num_heads = num_heads
        self.x_linear = xavier_linear(x_dim, 1)
        self.y_linear = nn.Linear(y_dim, 1, bias=False)
        nn.init.xavier_normal_(self.y_linear.weight)
        head_x, head_y = x_dim // num_heads, y_dim // num_heads
        self.bilinear = nn.Parameter(torch.empty(num_heads, head_x, head_y))
        # Variance 1 / (num_heads * head_x * head_y): the sum of all bilinear terms starts
        # with about unit variance for unit-variance inputs, whatever the number of heads.
        nn.init.normal_(self.bilinear, std=(num_heads * head_x * head_y) ** -0.5)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Map ``x`` of shape ``(batch, x_dim)`` and ``y`` of shape ``(batch, y_dim)`` to ``(batch,)``."""
        heads_x = x.reshape(x.shape[0], self.num_heads, -1)
        heads_y = y.reshape(y.shape[0], self.num_heads, -1)
        bilinear = torch.einsum("bhx,hxy,bhy->b", heads_x, self.bilinear, heads_y)
        return self.x_linear(x).squeeze(-1) + self.y_linear(y).squeeze(-1) + bilinear
