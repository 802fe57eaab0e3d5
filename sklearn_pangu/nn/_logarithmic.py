"""Logarithmic transformation layer: learned-order products of field vectors."""

from __future__ import annotations

import torch
from torch import nn


class LogarithmicTransformation(nn.Module):
    """Learn cross features of arbitrary, learned order as ``exp(sum_i w_ji ln |e_i|)``.

    Neuron ``j`` outputs the element-wise product ``prod_i |e_i| ** w_ji`` of the
    field vectors raised to learned powers, computed in log space: take
    ``ln |e_i|`` (absolute values, clamped below at ``eps``, since the logarithm
    needs positive inputs), combine the fields linearly with the weights ``w_ji``,
    and exponentiate. This is the core of AFN (Cheng et al., 2020); as there, the
    log-space inputs (one channel per field) and the exponentiated outputs (one
    channel per neuron) are batch-normalized.

    Parameters
    ----------
    n_fields : int
        Number of field vectors ``e_i``.
    n_neurons : int
        Number of logarithmic neurons, each a learned cross feature.
    batch_norm : bool, default=True
        Whether to batch-normalize the log-space inputs and the outputs.
    eps : float, default=1e-7
        Lower bound of ``|e_i|`` before the logarithm.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import LogarithmicTransformation
    >>> layer = LogarithmicTransformation(3, n_neurons=5, batch_norm=False)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[1.0, 1.0, 0.0]] * 5))  # e_1 * e_2
    >>> e = torch.tensor([[[2.0, 3.0], [4.0, -5.0], [7.0, 7.0]]])
    >>> layer(e)[0, 0].detach().round()  # |2 * 4|, |3 * -5|
    tensor([ 8., 15.])
    """

    def __init__(self, n_fields: int, n_neurons: int, *, batch_norm: bool = True, eps: float = 1e-7) -> None:
        super().__init__()
        self.eps = float(eps)
        # No bias: each neuron is a pure product of powers, as in the paper.
        self.weight = nn.Parameter(torch.empty(int(n_neurons), int(n_fields)))
        bound = 1.0 / max(int(n_fields), 1) ** 0.5
        nn.init.uniform_(self.weight, -bound, bound)
        self.input_norm = nn.BatchNorm1d(n_fields) if batch_norm else nn.Identity()
        self.output_norm = nn.BatchNorm1d(n_neurons) if batch_norm else nn.Identity()

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_fields, dim)`` to ``(batch, n_neurons, dim)``."""
        log_embeddings = self.input_norm(embeddings.abs().clamp_min(self.eps).log())
        return self.output_norm(torch.exp(torch.matmul(self.weight, log_embeddings)))
