"""Bilinear interaction of all field pairs."""

from __future__ import annotations

import torch
from torch import nn

from ._pairs import field_major, field_pairs

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
        rows, cols = field_pairs(n_fields)
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        n_matrices = {"field_all": 1, "field_each": max(int(n_fields) - 1, 0), "field_interaction": len(rows)}
        self.weight = nn.Parameter(torch.empty(n_matrices[bilinear_type], embedding_dim, embedding_dim))
        for matrix in self.weight:
            nn.init.xavier_normal_(matrix)

    @property
    def n_pairs(self) -> int:
        """Number of field pairs, the second dimension of the output."""
        return int(self.rows.numel())

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to ``(batch, n_pairs, dim)``.

        Computed field-major, ``(n_pairs, batch, dim)``, and returned as a transposed
        view: whole ``(batch, dim)`` blocks are gathered per pair and the per-pair
        matrices apply as one batched matrix product.
        """
        by_field = field_major(embeddings)
        if self.bilinear_type == "field_all":
            left = (by_field @ self.weight[0]).index_select(0, self.rows)
        elif self.bilinear_type == "field_each":
            # e_i W_i for every field that is first in some pair, then one row per pair.
            left = torch.bmm(by_field[:-1], self.weight).index_select(0, self.rows)
        else:
            left = torch.bmm(by_field.index_select(0, self.rows), self.weight)
        return (left * by_field.index_select(0, self.cols)).transpose(0, 1)
