"""Layers of the behaviour-sequence models: DIN's activation unit, DIEN's GRUs, BST's transformer."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ._dice import Dice
from ._mlp import xavier_linear

ACTIVATIONS = ("dice", "prelu", "relu")


class _PReLU(nn.Module):
    """PReLU with one slope per feature of the last dimension (``nn.PReLU`` reads dimension 1)."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.slope = nn.Parameter(torch.full((int(num_features),), 0.25))

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return torch.where(inputs > 0, inputs, self.slope * inputs)


class _ReLU(nn.Module):
    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return F.relu(inputs)


def _activation(name: str, num_features: int) -> nn.Module:
    if name == "dice":
        return Dice(num_features)
    if name == "prelu":
        return _PReLU(num_features)
    if name == "relu":
        return _ReLU()
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}.")


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax of ``scores`` ``(batch, L)`` over the True slots of ``mask``; 0 elsewhere (all 0 if none).

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn._behavior import masked_softmax
    >>> masked_softmax(torch.zeros(2, 3), torch.tensor([[True, True, False], [False] * 3]))
    tensor([[0.5000, 0.5000, 0.0000],
            [0.0000, 0.0000, 0.0000]])
    """
    scores = scores.masked_fill(~mask, float("-inf"))
    # A row without valid slots: -inf everywhere would give NaN; any finite value does, then zeroed.
    scores = scores.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return torch.softmax(scores, dim=-1) * mask


class ActivationUnitAttention(nn.Module):
    """DIN's local activation unit: weight each behaviour by its relevance to the target, then sum.

    The weight of behaviour ``e_j`` against target ``v_A`` is an MLP of
    ``[e_j, v_A, e_j - v_A, e_j * v_A]`` to one score (hidden layers of
    ``attention_units`` with ``activation``), and the interest vector is
    ``sum_j a(e_j, v_A) * e_j``. As in the paper the weights are not normalised
    (``softmax=False``), so the sum keeps the intensity of the interest; padded
    slots get a weight of exactly 0. With ``softmax=True`` the weights are a softmax
    over the valid slots, as in the authors' published code.

    Parameters
    ----------
    embedding_dim : int
        Size of the behaviour and target vectors.
    attention_units : sequence of int, default=(64, 16)
        Hidden layer widths of the activation unit.
    activation : {'dice', 'prelu', 'relu'}, default='dice'
        Activation of its hidden layers. Dice's moments are taken over the valid
        slots only.
    softmax : bool, default=False
        Whether to normalise the weights with a softmax over the valid slots.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import ActivationUnitAttention
    >>> attention = ActivationUnitAttention(4, attention_units=(8,))
    >>> rows, mask = torch.randn(2, 3, 4), torch.tensor([[True, True, False], [True, False, False]])
    >>> attention(torch.randn(2, 4), rows, mask).shape
    torch.Size([2, 4])
    """

    def __init__(
        self,
        embedding_dim: int,
        attention_units: Sequence[int] = (64, 16),
        *,
        activation: str = "dice",
        softmax: bool = False,
    ) -> None:
        super().__init__()
        self.softmax = bool(softmax)
        width = 4 * int(embedding_dim)
        self.linears = nn.ModuleList()
        self.activations = nn.ModuleList()
        for units in attention_units:
            self.linears.append(xavier_linear(width, int(units)))
            self.activations.append(_activation(activation, int(units)))
            width = int(units)
        self.output = xavier_linear(width, 1)

    def weights(self, target: torch.Tensor, rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The weight of each slot, ``(batch, L)``: 0 at the slots where ``mask`` is False."""
        layers = [*self.linears, self.output]
        # W [e, v, e - v, e * v] = [W_1 + W_3, W_4] [e, e * v] + (W_2 - W_3) v: the target's part
        # once per row, and one (batch, L, 2 D) product instead of a (batch, L, 4 D) one.
        w_e, w_v, w_d, w_p = layers[0].weight.chunk(4, dim=1)
        behaviours = torch.cat([rows, rows * target.unsqueeze(1)], dim=-1)
        hidden = F.linear(behaviours, torch.cat([w_e + w_d, w_p], dim=1))
        # In place: a linear layer's gradient does not need its output.
        hidden.add_(F.linear(target, w_v - w_d, layers[0].bias).unsqueeze(1))
        for activation, linear in zip(self.activations, layers[1:], strict=True):
            hidden = linear(activation(hidden, mask))
        scores = hidden.squeeze(-1)
        if self.softmax:
            return masked_softmax(scores, mask)
        return scores * mask

    def forward(self, target: torch.Tensor, rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pool ``rows`` ``(batch, L, D)`` with ``mask`` ``(batch, L)`` against ``target`` ``(batch, D)``."""
        # Not einsum: torch runs "bl,bld->bd" as a bmm of batch many tiny products, far slower on CPU.
        return (self.weights(target, rows, mask).unsqueeze(-1) * rows).sum(dim=1)


class AUGRU(nn.Module):
    """GRU with attentional update gate (DIEN's interest evolving layer).

    At step ``t``, with input ``x_t``, attention ``a_t`` and state ``h``::

        r = sigmoid(W_r x_t + U_r h + b_r)     u = sigmoid(W_u x_t + U_u h + b_u)
        h~ = tanh(W_h x_t + r * (U_h h + b_hh) + b_ih)
        u' = a_t * u                           h = (1 - u') * h + u' * h~

    as in the paper (Eq. 15-17). A step with ``a_t = 0`` leaves the state unchanged,
    so padded slots given zero attention are identities and the layer needs no
    packing; a row whose attention is all zero ends at ``h_0 = 0``. The input
    projections of all steps are one matrix product; only the recurrence loops.

    Parameters
    ----------
    input_dim : int
        Size of the inputs ``x_t``.
    hidden_dim : int
        Size of the state.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import AUGRU
    >>> AUGRU(4, 3)(torch.randn(2, 5, 4), torch.rand(2, 5)).shape
    torch.Size([2, 3])
    """

    def __init__(self, input_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.hidden_dim = int(hidden_dim)
        self.input_projection = nn.Linear(int(input_dim), 3 * self.hidden_dim)
        self.hidden_projection = nn.Linear(self.hidden_dim, 3 * self.hidden_dim)
        bound = 1.0 / math.sqrt(self.hidden_dim)  # nn.GRU's initialisation
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def forward(self, inputs: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """The last state, ``(batch, hidden_dim)``, from ``inputs`` ``(batch, L, in)`` and ``attention``."""
        state = inputs.new_zeros(inputs.shape[0], self.hidden_dim)
        # Steps unbound once: indexing step t would make its gradient a zero-filled copy of the
        # whole sequence, L of them summed, where unbind's gradient is one stack.
        steps = self.input_projection(inputs).unbind(1)
        gates = [2 * self.hidden_dim, self.hidden_dim]
        for projected, weight in zip(steps, attention.unsqueeze(-1).unbind(1), strict=True):
            x_ru, x_h = projected.split(gates, dim=-1)
            h_ru, h_h = self.hidden_projection(state).split(gates, dim=-1)
            reset, update = torch.sigmoid(x_ru + h_ru).chunk(2, dim=-1)
            candidate = torch.tanh(torch.addcmul(x_h, reset, h_h))
            state = torch.addcmul(state, update * weight, candidate - state)
        return state


def sample_negative_codes(
    positives: torch.Tensor, cardinality: int, *, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw one code per slot uniformly among the known items (``2 .. cardinality - 1``) but the slot's own.

    Returns ``(codes, drawn)``: ``drawn`` is False where no other known item exists.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn._behavior import sample_negative_codes
    >>> generator = torch.Generator().manual_seed(0)
    >>> codes, drawn = sample_negative_codes(torch.tensor([[2, 3]]), 4, generator=generator)
    >>> codes.tolist(), drawn.tolist()
    ([[3, 2]], [[True, True]])
    """
    known = positives >= 2
    choices = (cardinality - 2) - known.long()
    uniform = torch.rand(positives.shape, generator=generator, device=positives.device)
    codes = 2 + (uniform * choices.clamp(min=1)).long()
    codes = codes + (known & (codes >= positives)).long()
    # Where no other item exists the code is unused, but it must still index the table.
    return codes.clamp(max=cardinality - 1), choices > 0


def interest_auxiliary_loss(
    states: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """DIEN's auxiliary loss: state ``h_t`` should score the next behaviour above a sampled negative.

    ``-mean over valid pairs (t, t + 1) of [log sigmoid(<h_t, e_{t+1}>) + log(1 - sigmoid(<h_t, n_{t+1}>))]``,
    with ``states``, ``positives`` and ``negatives`` of shape ``(batch, L, D)`` and
    ``mask`` ``(batch, L)`` True where both the next item and its negative exist; a
    pair counts when ``mask`` holds at ``t`` and ``t + 1``. Zero when no pair does.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn._behavior import interest_auxiliary_loss
    >>> h = torch.zeros(1, 2, 3)
    >>> round(float(interest_auxiliary_loss(h, h, h, torch.tensor([[True, True]]))), 4)  # 2 log 2
    1.3863
    """
    pairs = mask[:, :-1] & mask[:, 1:]
    if not bool(pairs.any()):
        return states.sum() * 0.0
    current = states[:, :-1]
    positive = (current * positives[:, 1:]).sum(-1)
    negative = (current * negatives[:, 1:]).sum(-1)
    losses = F.softplus(-positive) + F.softplus(negative)
    return losses[pairs].mean()


class BehaviorTransformer(nn.Module):
    """BST's transformer over the target item and the behaviours, with learned positions by recency.

    The sequence is ``[target, newest behaviour, ..., oldest behaviour, pads]``;
    position ``p`` (0 for the target, ``k`` for the ``k``-th newest behaviour) adds a
    learned vector, drawn from N(0, 1) at the start (``torch.nn.Embedding``'s default).
    Each of ``num_layers`` blocks is multi-head self-attention with pads masked as
    keys (the target is never masked, so no row is empty), then a feed-forward
    network ``D -> 4 D -> D`` with LeakyReLU; both with dropout, a residual connection
    and layer normalisation, as in the paper. The output is the ``(batch, L + 1, D)``
    sequence in that order, zero at the pads.

    Parameters
    ----------
    embedding_dim : int
        Size ``D`` of the item vectors; divisible by ``num_heads``.
    max_length : int
        Number of behaviour slots ``L``.
    num_layers : int, default=1
        Number of transformer blocks.
    num_heads : int, default=2
        Number of attention heads.
    dropout : float, default=0.0
        Dropout after the attention and the feed-forward network.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import BehaviorTransformer
    >>> block = BehaviorTransformer(4, max_length=3)
    >>> block(torch.randn(2, 4), torch.randn(2, 3, 4), torch.tensor([[True, True, False], [False] * 3])).shape
    torch.Size([2, 4, 4])
    """

    def __init__(
        self,
        embedding_dim: int,
        max_length: int,
        *,
        num_layers: int = 1,
        num_heads: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        dim = int(embedding_dim)
        if dim % int(num_heads):
            raise ValueError(f"num_heads={num_heads} must divide the embedding size {dim} (embedding_dim).")
        self.num_heads = int(num_heads)
        self.positions = nn.Embedding(int(max_length) + 1, dim)
        nn.init.normal_(self.positions.weight, std=1.0)
        self.blocks = nn.ModuleList(
            _TransformerBlock(dim, self.num_heads, float(dropout)) for _ in range(num_layers)
        )

    def forward(self, target: torch.Tensor, rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Encode ``target`` ``(batch, D)`` and ``rows`` ``(batch, L, D)``, oldest first, with ``mask``."""
        batch, length, _ = rows.shape
        lengths = mask.sum(dim=1, keepdim=True)
        recency = torch.arange(1, length + 1, device=rows.device)
        # Slot of the k-th newest item: lengths - k (right padding, oldest first); pads beyond.
        slots = lengths - recency
        valid = slots >= 0
        ordered = rows.gather(1, slots.clamp(min=0).unsqueeze(-1).expand_as(rows)) * valid.unsqueeze(-1)
        sequence = torch.cat([target.unsqueeze(1), ordered], dim=1) + self.positions.weight[: length + 1]
        keys = torch.cat([valid.new_ones(batch, 1), valid], dim=1)
        for block in self.blocks:
            sequence = block(sequence, keys)
        return sequence * keys.unsqueeze(-1)


class _TransformerBlock(nn.Module):
    def __init__(self, dim: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.feedforward = nn.Sequential(nn.Linear(dim, 4 * dim), nn.LeakyReLU(), nn.Linear(4 * dim, dim))
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, sequence: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        batch, length, dim = sequence.shape
        query, key, value = (
            t.unflatten(-1, (self.num_heads, dim // self.num_heads)).transpose(1, 2)
            for t in self.qkv(sequence).chunk(3, dim=-1)
        )
        attended = F.scaled_dot_product_attention(query, key, value, attn_mask=keys[:, None, None, :])
        attended = self.out(attended.transpose(1, 2).reshape(batch, length, dim))
        sequence = self.norm1(sequence + self.dropout(attended))
        return self.norm2(sequence + self.dropout(self.feedforward(sequence)))
