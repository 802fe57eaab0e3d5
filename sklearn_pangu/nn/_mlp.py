"""Multi-layer perceptron."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._embedding import FieldEmbedding
from ._projection import projected_linear


def xavier_linear(in_features: int, out_features: int, *, bias: bool = True) -> nn.Linear:
    """A linear layer with Glorot-normal weights and a zero bias, as in the CTR literature."""
    layer = nn.Linear(in_features, out_features, bias=bias)
    nn.init.xavier_normal_(layer.weight)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


class MLP(nn.Sequential):
    """Fully connected layers: Linear, optional BatchNorm, ReLU, optional Dropout.

    Linear weights start Glorot-normal and biases at zero, as in the CTR literature.

    Parameters
    ----------
    input_dim : int
        Size of the input vector.
    hidden_units : sequence of int
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    batch_norm : bool, default=False
        Whether to batch-normalize each hidden layer before its activation.
    output_dim : int or None, default=None
        When given, a final linear layer to this size (no activation).

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import MLP
    >>> MLP(8, (16, 4), output_dim=1)(torch.zeros(2, 8)).shape
    torch.Size([2, 1])
    """

    def __init__(
        self,
        input_dim: int,
        hidden_units: Sequence[int],
        *,
        dropout: float = 0.0,
        batch_norm: bool = False,
        output_dim: int | None = None,
    ) -> None:
        layers: list[nn.Module] = []
        width = int(input_dim)
        for units in hidden_units:
            layers.append(xavier_linear(width, int(units)))
            if batch_norm:
                layers.append(nn.BatchNorm1d(int(units)))
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = int(units)
        if output_dim is not None:
            layers.append(xavier_linear(width, int(output_dim)))
            width = int(output_dim)
        super().__init__(*layers)
        self.output_dim = width

    def forward(
        self, input: torch.Tensor, fields: tuple[FieldEmbedding, torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Run the layers on ``input``, the first from projected rows where ``fields`` allows it.

        Parameters
        ----------
        input : Tensor of shape (batch, input_dim)
            The input vectors.
        fields : (FieldEmbedding, Tensor, Tensor), default=None
            ``(embedding, codes, dense)`` when ``input`` is
            ``embedding(codes, dense).flatten(1)``: in inference the first layer
            then comes from :func:`projected_linear` where that applies (a lookup of
            projected table rows instead of a matrix product over every field's
            vector), equal to it up to the order of float additions.

        Returns
        -------
        output : Tensor of shape (batch, output_dim)

        Examples
        --------
        >>> import torch
        >>> from sklearn_pangu.nn import MLP, FieldEmbedding
        >>> embedding, mlp = FieldEmbedding([5, 3], 1, 4), MLP(12, (8,), output_dim=1)
        >>> codes, dense = torch.tensor([[4, 2]]), torch.tensor([[0.5]])
        >>> mlp(embedding(codes, dense).flatten(1), fields=(embedding, codes, dense)).shape
        torch.Size([1, 1])
        """
        layers = iter(self)
        first = next(layers, None)
        output = None
        if fields is not None and isinstance(first, nn.Linear):
            embedding, codes, dense = fields
            output = projected_linear(embedding, first, codes, dense, input)
        if output is None:
            return super().forward(input)
        for layer in layers:
            output = layer(output)
        return output
