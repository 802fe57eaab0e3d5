"""The pieces the estimators hand to skorch: data, batches, loss and callbacks.

Everything here is a top-level, picklable object: a fitted estimator pickles its
skorch net, and with it whatever the net refers to.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.utils import to_tensor


class EncodedDataset(torch.utils.data.Dataset):
    """Encoded rows held as whole tensors; a batch is a slice, not a collated list.

    Parameters
    ----------
    codes : Tensor of shape (n_samples, n_categorical), dtype int64
        Embedding indices.
    dense : Tensor of shape (n_samples, n_dense), dtype float32
        Dense features.
    target : Tensor of shape (n_samples,), dtype float32, default=None
        Labels in {0, 1}; None for prediction.
    weight : Tensor of shape (n_samples,), dtype float32, default=None
        Per-sample loss weights.
    """

    def __init__(self, codes, dense, target=None, weight=None) -> None:
        self.codes = codes
        self.dense = dense
        self.target = target
        self.weight = weight

    def __len__(self) -> int:
        return self.codes.shape[0]

    def __getitem__(self, index):
        return self.batch(slice(index, index + 1))

    def batch(self, index):
        """Return ``(X, y)`` for the rows selected by a slice or an index tensor."""
        X = {"codes": self.codes[index], "dense": self.dense[index]}
        if self.target is None:
            return X, None
        y = {"target": self.target[index]}
        if self.weight is not None:
            y["weight"] = self.weight[index]
        return X, y

    def subset(self, index) -> EncodedDataset:
        """Return the rows at ``index`` as a new dataset."""
        pick = torch.as_tensor(index, dtype=torch.long)

        def take(tensor):
            return None if tensor is None else tensor[pick]

        return EncodedDataset(take(self.codes), take(self.dense), take(self.target), take(self.weight))


class BatchIterator:
    """Yield batches of an :class:`EncodedDataset` by slicing its tensors.

    With ``shuffle=True`` rows are drawn in a new random order each epoch from
    torch's global generator, which the estimator seeds; a last batch of a single
    row joins the one before it, since batch normalization cannot train on it.
    """

    def __init__(self, dataset: EncodedDataset, batch_size: int, shuffle: bool = False) -> None:
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle

    def _bounds(self) -> list[tuple[int, int]]:
        n_rows = len(self.dataset)
        starts = list(range(0, n_rows, self.batch_size))
        bounds = [(start, min(start + self.batch_size, n_rows)) for start in starts]
        if self.shuffle and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
            bounds[-2:] = [(bounds[-2][0], n_rows)]
        return bounds

    def __len__(self) -> int:
        return len(self._bounds())

    def __iter__(self):
        if self.shuffle:
            order = torch.randperm(len(self.dataset))
            for start, stop in self._bounds():
                yield self.dataset.batch(order[start:stop])
        else:
            for start, stop in self._bounds():
                yield self.dataset.batch(slice(start, stop))


#: Prediction batches are padded with zero rows to a multiple of this size. A float32
#: matrix product gives a row the same bits whatever else is in its batch only when
#: the batch's row count is a multiple of the BLAS kernel's row block, so padding
#: makes a row's prediction independent of the rows predicted with it.
PREDICT_ROW_BLOCK = 64


def predict_outputs(net: NeuralNet, dataset: EncodedDataset, batch_size: int) -> torch.Tensor:
    """Run the trained module over ``dataset`` in eval mode; outputs on the CPU.

    Batches of ``batch_size`` rows keep memory flat for a large ``dataset``; an empty
    ``dataset`` gives an empty result of the module's output shape.
    """
    outputs = []
    for start in range(0, max(len(dataset), 1), batch_size):
        n_rows = min(batch_size, len(dataset) - start)
        X, _ = dataset.batch(slice(start, start + n_rows))
        n_padding = -n_rows % PREDICT_ROW_BLOCK if n_rows else PREDICT_ROW_BLOCK
        if n_padding:
            X = {name: torch.cat([t, t.new_zeros((n_padding, *t.shape[1:]))]) for name, t in X.items()}
        outputs.append(net.evaluation_step((X, None), training=False)[:n_rows].to("cpu"))
    return torch.cat(outputs)


class FixedValidationSplit:
    """A skorch ``train_split`` that returns a validation set chosen beforehand."""

    def __init__(self, valid_dataset: EncodedDataset) -> None:
        self.valid_dataset = valid_dataset

    def __call__(self, dataset, y=None, **fit_params):
        return dataset, self.valid_dataset


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


class NonFiniteLossError(FloatingPointError):
    """Raised inside the training loop when a batch loss is NaN or infinite."""


class CTRNet(NeuralNet):
    """skorch net for models that return logits, with weighted loss and layer penalties.

    The criterion is a :class:`TaskWeightedBCEWithLogitsLoss`; in training the batch
    loss adds the penalties that layers of the module computed in the same forward
    pass and hand over through ``pop_penalty()`` (the embedding L2 of
    :class:`~sklearn_pangu.nn.FieldEmbedding`, a model's calibration term). A NaN or
    infinite training loss stops training before the weights are updated with it.

    Tensors and modules are reachable only through ``module_``, ``criterion_`` and
    ``optimizer_``, which skorch pickles with a device map: a net trained on a GPU
    then unpickles on a machine without one.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        loss = self.criterion_(y_pred, y_true["target"], y_true.get("weight"))
        if training:
            for layer in self.module_.modules():
                pop_penalty = getattr(layer, "pop_penalty", None)
                if pop_penalty is not None:
                    penalty = pop_penalty()
                    if penalty is not None:
                        loss = loss + penalty
            if not torch.isfinite(loss):
                raise NonFiniteLossError(
                    f"The training loss became {loss.item()} in epoch {len(self.history)}."
                )
        return loss


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


class PlateauLearningRateDecay(Callback):
    """Multiply the learning rate by ``factor`` after each epoch that brings no new best ``valid_auc``.

    Idle in a fit without a validation set, or with ``factor=1``. Records the
    learning rate of each epoch as ``lr`` in the history.

    Parameters
    ----------
    factor : float
        Multiplier of the learning rate, in (0, 1].
    """

    def __init__(self, factor: float = 0.1) -> None:
        self.factor = factor

    def on_train_begin(self, net, **kwargs) -> None:
        self.active_ = net.train_split is not None and self.factor < 1
        self.best_ = -math.inf

    def on_epoch_end(self, net, **kwargs) -> None:
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])
        if not self.active_:
            return
        auc = net.history[-1].get("valid_auc", math.nan)
        if auc > self.best_:
            self.best_ = auc
            return
        for group in net.optimizer_.param_groups:
            group["lr"] *= self.factor


class ValidationEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping``, idle in a fit that has no validation set.

    The estimators decide per call to ``fit`` whether to hold out a validation
    set (``early_stopping='auto'``), while the net and its callbacks are built once.
    """

    def on_train_begin(self, net, **kwargs) -> None:
        self.active_ = net.train_split is not None
        super().on_train_begin(net, **kwargs)

    def on_epoch_end(self, net, **kwargs) -> None:
        if self.active_:
            super().on_epoch_end(net, **kwargs)

    def on_train_end(self, net, **kwargs) -> None:
        if self.active_:
            super().on_train_end(net, **kwargs)
