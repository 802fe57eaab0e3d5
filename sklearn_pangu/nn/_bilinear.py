"""Bilinear interaction of all field pairs."""

from __future__ import annotations

import torch
from torch import nn

from ._pairs import pair_products, pairs_per_first_field

BILINEAR_TYPES = ("field_all", "field_each", "field_interaction")


class BilinearInteraction(nn.Module):
    """Bilinear products of all field pairs, ``p_ij = (e_i W) * e_j`` for ``i < j``.

    The bilinear-interaction layer of FiBiNET (Huang et al., 2019): a learned
    ``dim x dim`` matrix between the inner and the element-wise product. Its
    ``bilinear_type`` decides which pairs share a matrix:

    - ``'field_all'``: one ``W`` for all pairs;
    - ``'field_each'``: one ``W_i`` per field ``i``, the first field of the pair.
      The paper counts ``n_fields`` of them; the last field is never first in a pair
      ``i < j``, so only ``n_fields - 1`` exist here;
    - ``'field_interaction'``: one ``W_ij`` per pair.

    Parameters
    ----------
    n_fields : int
        Number of fields of the input.
    embedding_dim : int
        Size of each field vector.
    bilinear_type : {'field_all', 'field_each', 'field_interaction'}, default='field_all'
        Which pairs share a matrix.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import BilinearInteraction
    >>> layer = BilinearInteraction(n_fields=4, embedding_dim=3, bilinear_type="field_each")
    >>> layer(torch.randn(2, 4, 3)).shape  # 4 * 3 / 2 = 6 pairs
    torch.Size([2, 6, 3])
    """

    def __init__(self, n_fields: int, embedding_dim: int, bilinear_type: str = "field_all") -> None:
        super().__init__()
        if bilinear_type not in BILINEAR_TYPES:
            raise ValueError(f"bilinear_type must be one of {BILINEAR_TYPES}, got {bilinear_type!r}.")
        self.bilinear_type = bilinear_type
        self.n_fields = int(n_fields)
        n_matrices = {
            "field_all": 1,
            "field_each": max(self.n_fields - 1, 0),
            "field_interaction": self.n_pairs,
        }
        self.weight = nn.Parameter(torch.empty(n_matrices[bilinear_type], embedding_dim, embedding_dim))
        for matrix in self.weight:
            nn.init.xavier_normal_(matrix)

    @property
    def n_pairs(self) -> int:
        """Number of field pairs, the second dimension of the output."""
        return self.n_fields * (self.n_fields - 1) // 2

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to ``(batch, n_pairs, dim)``."""
        if self.bilinear_type == "field_all":
            left = embeddings[:, :-1] @ self.weight[0]
        elif self.bilinear_type == "field_each":
            left = torch.einsum("bfd,fde->bfe", embeddings[:, :-1], self.weight)
        else:
            # e_i W_ij for every pair: each first field's vector through the matrices of its pairs.
            # split, not slices, for the same reason as in pair_products.
            matrices = self.weight.split(pairs_per_first_field(self.n_fields))
            left = [
                torch.einsum("bd,pde->bpe", first, own)
                for first, own in zip(embeddings.unbind(1), matrices, strict=False)
            ]
        return pair_products(left, embeddings)
