"""AITM: adaptive information transfer multi-task network (Xi et al., KDD 2021)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import MLP, FieldEmbedding
from ...nn._information_transfer import AdaptiveInformationTransfer, BehavioralExpectationCalibrator


class AITMModule(nn.Module):
    """Shared field embedding -> one tower per task -> AIT chain along the tasks -> logits.

    Task ``t``'s tower maps the flattened field embeddings (categorical and dense
    fields) to ``q_t``. The first task uses ``z_0 = q_0``; each later task ``t`` fuses
    the information transferred from ``z_{t-1}`` with ``q_t`` through an
    :class:`~sklearn_pangu.nn.AdaptiveInformationTransfer` into ``z_t``, and a linear
    output layer maps ``z_t`` to the task's logit. The
    :class:`~sklearn_pangu.nn.BehavioralExpectationCalibrator` stores, in training, the
    penalty on ``p_t > p_{t-1}``. Tasks follow the funnel order of the columns of ``y``.
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
        calibrator_weight: float = 0.6,
    ) -> None:
        super().__init__()
        if not tower_units:
            raise ValueError("AITM's towers need at least one hidden layer: tower_units is empty.")
        self.embedding = FieldEmbedding.from_spec(field_spec, embedding_dim, l2=embedding_l2)
        input_dim = field_spec.n_fields * embedding_dim
        dim = int(tower_units[-1])
        self.towers = nn.ModuleList(
            MLP(input_dim, tower_units, dropout=dropout, batch_norm=batch_norm) for _ in range(n_tasks)
        )
        self.transfers = nn.ModuleList(
            AdaptiveInformationTransfer(dim, dropout=dropout) for _ in range(n_tasks - 1)
        )
        self.outputs = nn.ModuleList(MLP(dim, (), output_dim=1) for _ in range(n_tasks))
        self.calibrator = BehavioralExpectationCalibrator(calibrator_weight)
        self.n_tasks = n_tasks

    def representations(self, codes: torch.Tensor, dense: torch.Tensor) -> list[torch.Tensor]:
        """The vectors ``z_t`` the output layers read, one ``(batch, tower_units[-1])`` per task."""
        embedded = self.embedding(codes, dense).flatten(start_dim=1)
        towers = [tower(embedded, fields=(self.embedding, codes, dense)) for tower in self.towers]
        fused = [towers[0]]
        for transfer, current in zip(self.transfers, towers[1:], strict=True):
            fused.append(transfer(fused[-1], current))
        return fused

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """One logit per task, shape ``(batch, n_tasks)``."""
        representations = self.representations(codes, dense)
        logits = torch.cat(
            [output(z) for output, z in zip(self.outputs, representations, strict=True)], dim=-1
        )
        return self.calibrator(logits)
