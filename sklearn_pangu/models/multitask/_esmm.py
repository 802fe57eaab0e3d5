"""ESMM: the entire space multi-task model (Ma et al., SIGIR 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ..._fields import FieldSpec
from ...nn import MLP, FieldEmbedding


def product_logit(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Logit of ``sigmoid(first) * sigmoid(second)``, computed in log space.

    With ``p = sigmoid(a) sigmoid(b)``, ``log p = logsigmoid(a) + logsigmoid(b)`` and
    ``1 - p = sigmoid(-a) + sigmoid(a) sigmoid(-b)``, so

    ``logit(p) = log p - logaddexp(logsigmoid(-a), logsigmoid(a) + logsigmoid(-b))``.

    Every term is a log-sigmoid or a log-sum-exp, so the result and its gradients stay
    finite and accurate for any finite logits: no ``log(1 - p)`` of a ``p`` rounded to
    1 (large ``a`` and ``b``), no underflow of ``p`` to 0 (very negative ones).

    Parameters
    ----------
    first, second : Tensor
        Logits ``a`` and ``b`` of the same shape.

    Returns
    -------
    logit : Tensor
        ``log(p / (1 - p))``, of the same shape.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.models.multitask._esmm import product_logit
    >>> round(float(product_logit(torch.tensor(0.0), torch.tensor(0.0))), 4)  # logit(0.25)
    -1.0986
    """
    log_first = F.logsigmoid(first)
    log_p = log_first + F.logsigmoid(second)
    log_one_minus_p = torch.logaddexp(F.logsigmoid(-first), log_first + F.logsigmoid(-second))
    return log_p - log_one_minus_p


class ESMMModule(nn.Module):
    """Shared field embedding -> a CTR network and a CVR network -> pCTR and pCTCVR logits.

    Both networks read the same flattened field embeddings (categorical and dense
    fields). ``forward`` returns the CTR logit ``a`` and the logit of
    ``pCTCVR = sigmoid(a) sigmoid(b)``, with ``b`` the CVR logit, so the training loss
    is the cross-entropy of pCTR against the click label and of pCTCVR against the
    click-and-conversion label, both over every impression; the CVR network learns only
    through pCTCVR. :meth:`tower_logits` returns ``(a, b)``.
    """

    def __init__(
        self,
        field_spec: FieldSpec,
        *,
        n_tasks: int,
        embedding_dim: int,
        tower_units: Sequence[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        embedding_l2: float = 0.0,
    ) -> None:
        super().__init__()
        if n_tasks != 2:
            raise ValueError(f"ESMM has exactly 2 tasks (click, conversion), got n_tasks={n_tasks}.")
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        input_dim = field_spec.n_fields * embedding_dim
        self.ctr_tower = MLP(input_dim, tower_units, dropout=dropout, batch_norm=batch_norm, output_dim=1)
        self.cvr_tower = MLP(input_dim, tower_units, dropout=dropout, batch_norm=batch_norm, output_dim=1)
        self.n_tasks = 2

    def tower_logits(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """CTR logit and CVR logit (post-click conversion), shape ``(batch, 2)``."""
        embedded = self.embedding(codes, dense).flatten(start_dim=1)
        fields = (self.embedding, codes, dense)
        return torch.cat([self.ctr_tower(embedded, fields), self.cvr_tower(embedded, fields)], dim=-1)

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """pCTR logit and pCTCVR logit, shape ``(batch, 2)``."""
        ctr, cvr = self.tower_logits(codes, dense).unbind(dim=-1)
        return torch.stack([ctr, product_logit(ctr, cvr)], dim=-1)
