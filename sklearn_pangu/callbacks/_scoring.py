"""Callbacks that record validation metrics and per-task losses in the history."""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from skorch.callbacks import Callback
from skorch.utils import to_tensor


class ValidationAUC(Callback):
    """Record ``valid_auc``, the ROC AUC on the validation set, after each epoch.

    It uses the logits the validation batches already produced. With several tasks
    (``task_names`` given, logits of shape ``(batch, n_tasks)``) it records each
    task's AUC as ``valid_auc_<task>`` and their mean as ``valid_auc``. A task whose
    validation labels hold a single class gets NaN and is left out of the mean.

    Parameters
    ----------
    task_names : sequence of str or None, default=None
        Names of the logits' columns; None for a single task.
    """

    def __init__(self, task_names=None) -> None:
        self.task_names = task_names

    def on_epoch_begin(self, net, **kwargs) -> None:
        self._logits, self._targets, self._weights = [], [], []

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs) -> None:
        if training or batch is None or batch[1] is None:
            return
        y = batch[1]
        self._logits.append(y_pred.detach().float().cpu())
        self._targets.append(y["target"].cpu())
        if "weight" in y:
            self._weights.append(y["weight"].cpu())

    def on_epoch_end(self, net, **kwargs) -> None:
        if not self._logits:
            return
        logits = torch.cat(self._logits).numpy()
        targets = torch.cat(self._targets).numpy()
        weights = torch.cat(self._weights).numpy() if self._weights else None
        if self.task_names is None:
            net.history.record("valid_auc", _roc_auc(targets, logits, weights))
        else:
            aucs = [_roc_auc(targets[:, t], logits[:, t], weights) for t in range(len(self.task_names))]
            for name, auc in zip(self.task_names, aucs, strict=True):
                net.history.record(f"valid_auc_{name}", auc)
            finite = [auc for auc in aucs if not math.isnan(auc)]
            net.history.record("valid_auc", float(np.mean(finite)) if finite else math.nan)
        self._logits, self._targets, self._weights = [], [], []


def _roc_auc(target: np.ndarray, logits: np.ndarray, weight) -> float:
    if np.unique(target).size != 2:
        return math.nan
    return float(roc_auc_score(target, logits, sample_weight=weight))


class TaskLosses(Callback):
    """Record each task's mean training and validation loss per epoch.

    Adds ``train_loss_<task>`` and ``valid_loss_<task>`` to the history (row-weighted
    cross-entropy, without task weights or penalties), averaged over the epoch's
    batches weighted by their sizes.

    Parameters
    ----------
    task_names : sequence of str
        Names of the logits' columns.
    """

    def __init__(self, task_names) -> None:
        self.task_names = task_names

    def on_epoch_begin(self, net, **kwargs) -> None:
        self._sums = {"train": 0.0, "valid": 0.0}
        self._rows = {"train": 0, "valid": 0}

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs) -> None:
        if batch is None or batch[1] is None:
            return
        y = to_tensor(batch[1], device=y_pred.device)
        with torch.no_grad():
            losses = net.criterion_.per_task(y_pred.detach(), y["target"], y.get("weight"))
        phase = "train" if training else "valid"
        n_rows = y["target"].shape[0]
        self._sums[phase] = self._sums[phase] + losses.cpu().double().numpy() * n_rows
        self._rows[phase] += n_rows

    def on_epoch_end(self, net, **kwargs) -> None:
        for phase in ("train", "valid"):
            if self._rows[phase]:
                mean = self._sums[phase] / self._rows[phase]
                for name, value in zip(self.task_names, mean, strict=True):
                    net.history.record(f"{phase}_loss_{name}", float(value))
