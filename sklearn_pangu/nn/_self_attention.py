"""Multi-head self-attention over a set of field vectors."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention of every field vector to every other, with a residual path.

    For each head ``h`` and field ``m``, ``out_m^(h) = sum_k a_mk^(h) W_V^(h) e_k`` where
    ``a_m^(h) = softmax_k(<W_Q^(h) e_m, W_K^(h) e_k>)``; the heads are concatenated and
    the output is ``ReLU(concat_h out_m^(h) + W_Res e_m)`` (AutoInt's interacting layer,
    Song et al., 2019). All heads are computed together by batched matrix products, and
    the query, key, value and residual projections are one matrix product.

    Parameters
    ----------
    input_dim : int
        Size of each input vector.
    attention_dim : int
        Size of each head's query, key and value vectors; the output has
        ``num_heads * attention_dim`` features per field.
    num_heads : int, default=1
        Number of attention heads.
    use_residual : bool, default=True
        Whether to add the projected input ``W_Res e_m`` before the ReLU.
    scaled : bool, default=False
        Whether to divide the attention scores by ``sqrt(attention_dim)`` (the
        Transformer's scaled dot product). AutoInt uses the plain inner product.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import MultiHeadSelfAttention
    >>> layer = MultiHeadSelfAttention(input_dim=4, attention_dim=8, num_heads=2)
    >>> layer(torch.randn(3, 5, 4)).shape
    torch.Size([3, 5, 16])
    """

    def __init__(
        self,
        input_dim: int,
        attention_dim: int,
        num_heads: int = 1,
        *,
        use_residual: bool = True,
        scaled: bool = False,
    ) -> None:
        super().__init__()
        self.attention_dim = int(attention_dim)
        self.num_heads = int(num_heads)
        self.use_residual = bool(use_residual)
        self.scaled = bool(scaled)
        self.output_dim = self.num_heads * self.attention_dim
        n_projections = 4 if self.use_residual else 3
        # Rows [0, H d') are W_Q, then W_K, W_V and, with the residual, W_Res; no biases, as in the paper.
        self.projection = nn.Linear(int(input_dim), n_projections * self.output_dim, bias=False)
        for block in self.projection.weight.split(self.output_dim):  # Glorot init of each matrix
            nn.init.xavier_normal_(block)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, input_dim)`` to ``(batch, n_fields, num_heads * attention_dim)``."""
        batch, n_fields, _ = inputs.shape
        # Split (not index) the fused projection: its backward is one concatenation.
        query, key, value, *residual = self.projection(inputs).split(self.output_dim, dim=-1)
        # (batch, n_fields, heads * d') -> (batch, heads, n_fields, d'): all heads in one batched product
        query, key, value = (
            t.unflatten(-1, (self.num_heads, self.attention_dim)).transpose(1, 2) for t in (query, key, value)
        )
        attended = F.scaled_dot_product_attention(query, key, value, scale=None if self.scaled else 1.0)
        output = attended.transpose(1, 2).reshape(batch, n_fields, self.output_dim)
        if residual:
            output = output + residual[0]
        return F.relu(output)
