"""Feature gating: scale the elements of an input by gates computed from a context."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._mlp import MLP


class FeatureGate(nn.Module):
    """Scale every input element by a gate in ``(0, 2)`` computed from a context vector.

    ``FeatureGate(x, c) = x * 2 sigmoid(MLP(c))``: the gate MLP maps the context ``c``
    to one gate per element of ``x``. Gates start near 1 and can mute (towards 0) or
    amplify (towards 2) each element. This is the stream-specific feature selection
    of FinalMLP (Mao et al., 2023), where ``x`` is the flattened field embedding and
    ``c`` the embedding of conditional features or, without them, a learnable vector.

    Parameters
    ----------
    input_dim : int
        Size of the gated vector ``x``.
    context_dim : int
        Size of the context vector ``c``.
    hidden_units : sequence of int, default=()
        Hidden layers of the gate MLP (ReLU); empty for a single linear layer.

    Attributes
    ----------
    context : torch.nn.Parameter of shape (context_dim,)
        The learnable context used when ``forward`` gets none. It starts standard
        normal (a zero vector would leave the gate's hidden ReLUs without gradient).

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import FeatureGate
    >>> gate = FeatureGate(6, context_dim=4, hidden_units=(8,))
    >>> gate(torch.ones(3, 6)).shape
    torch.Size([3, 6])
    >>> gate(torch.ones(3, 6), context=torch.zeros(3, 4)).shape  # one context per row
    torch.Size([3, 6])
    """

    def __init__(self, input_dim: int, context_dim: int, hidden_units: Sequence[int] = ()) -> None:
        super().__init__()
        self.context = nn.Parameter(torch.randn(int(context_dim)))
        self.mlp = MLP(context_dim, hidden_units, output_dim=input_dim)

    def gates(self, context: torch.Tensor | None = None) -> torch.Tensor:
        """Return ``2 sigmoid(MLP(c))``, shape ``(1, input_dim)`` or ``(batch, input_dim)``."""
        if context is None:
            context = self.context.unsqueeze(0)
        return 2.0 * torch.sigmoid(self.mlp(context))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """Gate ``x`` of shape ``(batch, input_dim)``; ``context`` is ``(batch, context_dim)`` or None."""
        return x * self.gates(context)
