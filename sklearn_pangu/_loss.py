"""The training loss of every estimator: binary cross-entropy on logits, weighted per row and task."""

from __future__ import annotations

import torch


class TaskWeightedBCEWithLogitsLoss(torch.nn.Module):
    """Binary cross-entropy on logits, weighted per row and, for several tasks, per task.

    The loss is ``sum_t task_weight_t * mean_i(row_weight_i * bce_it)``; with one task
    (logits of shape ``(batch,)``) it is the row-weighted mean.

    Parameters
    ----------
    task_weights : sequence of float or None, default=None
        Loss weight of each task (column of the logits); None weighs every task 1.
    """

    def __init__(self, task_weights=None) -> None:
        super().__init__()
        weights = None if task_weights is None else torch.as_tensor(task_weights, dtype=torch.float32)
        self.register_buffer("task_weights", weights)

    def per_task(self, logits: torch.Tensor, target: torch.Tensor, weight=None) -> torch.Tensor:
        """Row-weighted mean loss of each task: shape ``()`` for one task, ``(n_tasks,)`` for several."""
        losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        if weight is not None:
            losses = losses * (weight if losses.dim() == 1 else weight.unsqueeze(-1))
        return losses.mean(dim=0)

    def forward(self, logits: torch.Tensor, target: torch.Tensor, weight=None) -> torch.Tensor:
        losses = self.per_task(logits, target, weight)
        if losses.dim() == 0:
            return losses
        if self.task_weights is None:
            return losses.sum()
        return losses @ self.task_weights
