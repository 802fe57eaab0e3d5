"""Generalized interaction layers (GIN) of AOANet."""

from __future__ import annotations

import torch
from torch import nn


class GeneralizedInteraction(nn.Module):
    """One generalized interaction layer: subspace vectors from weighted, projected outer products.

    Given the field vectors ``x_1 .. x_m`` and the ``p`` vectors ``b_1 .. b_p`` of
    the previous layer, output subspace ``k`` of ``q`` is (Lang et al., 2021)::

        b'_k = h_k^T ( W_k * sum_{i, j} alpha_{ijk} (x_i outer b_j) )

    with ``*`` the element-wise product, ``W_k`` a ``dim x dim`` matrix, ``h_k`` a
    ``dim`` vector and ``alpha`` the weight of each pair ``(x_i, b_j)``. With
    ``W_k = I`` and ``h_k = 1`` (the initialization) the operation is the
    element-wise product ``x_i * b_j`` of CIN; learning ``W`` and ``h`` moves it
    towards other operations (inner product, weighted products, ...). The outer
    products are never built: ``h_k`` and ``W_k`` are folded into ``x_i`` first,
    which costs ``m q dim^2 + m p q dim`` per row instead of ``m p q dim^2``.

    Parameters
    ----------
    n_fields : int
        Number of field vectors ``m``.
    input_subspaces : int
        Number of vectors ``p`` of the previous layer (``m`` for the first layer).
    output_subspaces : int
        Number of output vectors ``q``.
    embedding_dim : int
        Size ``dim`` of every vector.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import GeneralizedInteraction
    >>> layer = GeneralizedInteraction(3, input_subspaces=3, output_subspaces=2, embedding_dim=4)
    >>> x = torch.randn(5, 3, 4)
    >>> layer(x, x).shape
    torch.Size([5, 2, 4])
    """

    def __init__(
        self, n_fields: int, input_subspaces: int, output_subspaces: int, embedding_dim: int
    ) -> None:
        super().__init__()
        dim = int(embedding_dim)
        self.W = nn.Parameter(torch.eye(dim).repeat(int(output_subspaces), 1, 1))
        self.h = nn.Parameter(torch.ones(int(output_subspaces), dim))
        self.alpha = nn.Parameter(torch.ones(int(n_fields), int(input_subspaces), int(output_subspaces)))

    def forward(self, x0: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Map fields ``(batch, m, dim)`` and previous ``(batch, p, dim)`` to ``(batch, q, dim)``."""
        # (h_k^T (W_k * (x outer y)))_e = sum_r h_kr W_kre x_r y_e: fold h_k and W_k into x.
        projector = self.h.unsqueeze(-1) * self.W  # (q, dim, dim): h_kr W_kre
        projected = torch.einsum("bir,kre->bike", x0, projector)  # (batch, m, q, dim)
        mixed = torch.einsum("ijk,bje->bike", self.alpha, b)  # sum_j alpha_ijk b_j
        return (projected * mixed).sum(dim=1)


class GeneralizedInteractionNet(nn.Module):
    """Stack of :class:`GeneralizedInteraction` layers, each reading the fields and its predecessor.

    The first layer pairs the ``m`` field vectors with themselves; every later
    layer pairs them with the ``num_subspaces`` vectors of the layer before. The
    output is the last layer's ``num_subspaces`` vectors.

    Parameters
    ----------
    n_fields : int
        Number of field vectors.
    embedding_dim : int
        Size of every vector.
    num_layers : int, default=3
        Number of interaction layers.
    num_subspaces : int, default=4
        Number of vectors each layer outputs.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import GeneralizedInteractionNet
    >>> gin = GeneralizedInteractionNet(5, embedding_dim=4, num_layers=2, num_subspaces=3)
    >>> gin(torch.randn(2, 5, 4)).shape
    torch.Size([2, 3, 4])
    """

    def __init__(
        self, n_fields: int, embedding_dim: int, num_layers: int = 3, num_subspaces: int = 4
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            GeneralizedInteraction(
                n_fields, n_fields if i == 0 else num_subspaces, num_subspaces, embedding_dim
            )
            for i in range(int(num_layers))
        )

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to ``(batch, num_subspaces, dim)``."""
        b = x0
        for layer in self.layers:
            b = layer(x0, b)
        return b
