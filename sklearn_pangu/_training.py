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

from .nn import FieldEmbedding


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

    Batches of ``batch_size`` rows keep memory flat for a large ``dataset``.
    """
    outputs = []
    for start in range(0, len(dataset), batch_size):
        n_rows = min(batch_size, len(dataset) - start)
        X, _ = dataset.batch(slice(start, start + n_rows))
        n_padding = -n_rows % PREDICT_ROW_BLOCK
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


class NonFiniteLossError(FloatingPointError):
    """Raised inside the training loop when a batch loss is NaN or infinite."""


class CTRNet(NeuralNet):
    """skorch net for models that return logits, with weighted loss and embedding L2.

    The criterion must be unreduced (``reduction='none'``): the batch loss is the
    mean of the per-row losses times the row weights, plus the L2 penalties the
    model's :class:`~sklearn_pangu.nn.FieldEmbedding` layers computed in the same
    forward pass. A NaN or infinite training loss stops training before the
    weights are updated with it.

    Tensors and modules are reachable only through ``module_``, ``criterion_`` and
    ``optimizer_``, which skorch pickles with a device map: a net trained on a GPU
    then unpickles on a machine without one.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        losses = self.criterion_(y_pred, y_true["target"])
        weight = y_true.get("weight")
        loss = (losses * weight).mean() if weight is not None else losses.mean()
        if training:
            for layer in self.module_.modules():
                if isinstance(layer, FieldEmbedding):
                    penalty = layer.pop_penalty()
                    if penalty is not None:
                        loss = loss + penalty
            if not torch.isfinite(loss):
                raise NonFiniteLossError(
                    f"The training loss became {loss.item()} in epoch {len(self.history)}."
                )
        return loss


class ValidationAUC(Callback):
    """Record ``valid_auc``, the ROC AUC on the validation set, after each epoch.

    It uses the logits the validation batches already produced; it records NaN
    when the validation set holds a single class.
    """

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
        targets = torch.cat(self._targets).numpy()
        weights = torch.cat(self._weights).numpy() if self._weights else None
        auc = math.nan
        if np.unique(targets).size == 2:
            auc = float(roc_auc_score(targets, torch.cat(self._logits).numpy(), sample_weight=weights))
        net.history.record("valid_auc", auc)
        self._logits, self._targets, self._weights = [], [], []


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
