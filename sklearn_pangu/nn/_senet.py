"""Squeeze-and-excitation re-weighting of field vectors."""

from __future__ import annotations

import torch
from torch import nn

_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}


class SqueezeExcitation(nn.Module):
    """Scale each field vector by a weight learned from all fields (SENET).

    Squeeze: each field vector ``e_i`` is summarized by its mean ``z_i``.
    Excitation: two fully connected layers without bias,
    ``a = act(W_2 ReLU(W_1 z))``, with ``W_1`` of shape
    ``(max(1, n_fields // reduction_ratio), n_fields)`` and ``W_2`` its way back.
    Re-weight: the output is ``[a_1 e_1, ..., a_n e_n]``. This is the SENET layer of
    FiBiNET (Huang et al., 2019), after Hu et al.'s squeeze-and-excitation networks.

    Parameters
    ----------
    n_fields : int
        Number of fields of the input.
    reduction_ratio : float, default=3
        Ratio ``r`` between the number of fields and the bottleneck size.
    excitation_activation : {'relu', 'sigmoid'}, default='relu'
        Activation giving the field weights ``a``: ``'relu'`` lets a weight exceed 1
        or reach 0, ``'sigmoid'`` keeps it in ``(0, 1)`` as in the original SENet.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import SqueezeExcitation
    >>> SqueezeExcitation(n_fields=6, reduction_ratio=3)(torch.randn(2, 6, 4)).shape
    torch.Size([2, 6, 4])
    """

    def __init__(
        self, n_fields: int, reduction_ratio: float = 3, excitation_activation: str = "relu"
    ) -> None:
        super().__init__()
        if excitation_activation not in _ACTIVATIONS:
            raise ValueError(
                f"excitation_activation must be one of {sorted(_ACTIVATIONS)}, got {excitation_activation!r}."
            )
        n_fields = int(n_fields)
        reduced = max(1, int(n_fields // reduction_ratio))
        self.excitation = nn.Sequential(
            nn.Linear(n_fields, reduced, bias=False),
            nn.ReLU(),
            nn.Linear(reduced, n_fields, bias=False),
            _ACTIVATIONS[excitation_activation](),
        )

    def field_weights(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to the field weights ``a``, shape ``(batch, n_fields)``."""
        return self.excitation(embeddings.mean(dim=2))

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to the re-weighted vectors, same shape."""
        return embeddings * self.field_weights(embeddings).unsqueeze(-1)
