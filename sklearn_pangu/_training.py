"""The pieces the estimators hand to skorch: data, batches, loss and callbacks.

Everything here is a top-level, picklable object: a fitted estimator pickles its
skorch net, and with it whatever the net refers to.
"""

from __future__ import annotations

import contextlib
import copy
import math
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.utils import to_tensor

from .nn._embedding import add_rows_into_held_gradients


class EncodedDataset(torch.utils.data.Dataset):
    """Encoded rows held as whole tensors; a batch is a slice, not a collated list.

    Parameters
    ----------
    codes : Tensor of shape (n_samples, n_categorical), dtype int32 or int64
        Embedding indices within each field.
    dense : Tensor of shape (n_samples, n_dense), dtype float32
        Dense features.
    target : Tensor of shape (n_samples,), dtype float32, default=None
        Labels in {0, 1}; None for prediction.
    weight : Tensor of shape (n_samples,), dtype float32, default=None
        Per-sample loss weights.
    rows : Tensor of shape (n_rows,), dtype int64, default=None
        The rows of the tensors this dataset holds, in order; None for all of them.
        :meth:`subset` sets it, so that the training and validation sets of a fit
        share the encoded tensors instead of copying them.
    """

    def __init__(self, codes, dense, target=None, weight=None, rows=None) -> None:
        self.codes = codes
        self.dense = dense
        self.target = target
        self.weight = weight
        self.rows = rows

    def __len__(self) -> int:
        return self.codes.shape[0] if self.rows is None else self.rows.shape[0]

    def __getitem__(self, index):
        return self.batch(slice(index, index + 1))

    def batch(self, index):
        """Return ``(X, y)`` for the rows selected by a slice or an index tensor."""
        if self.rows is not None:
            index = self.rows[index]
        X = {"codes": self.codes[index], "dense": self.dense[index]}
        if self.target is None:
            return X, None
        y = {"target": self.target[index]}
        if self.weight is not None:
            y["weight"] = self.weight[index]
        return X, y

    def subset(self, index) -> EncodedDataset:
        """Return the rows at ``index`` as a dataset that shares this one's tensors."""
        pick = torch.as_tensor(index, dtype=torch.long)
        rows = pick if self.rows is None else self.rows[pick]
        return EncodedDataset(self.codes, self.dense, self.target, self.weight, rows=rows)


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


#: CPU prediction runs batches of at most this many rows two at a time (see
#: :func:`cpu_prediction_threads`); larger batches keep torch's threads busy alone.
TWO_THREAD_BATCH_ROWS = 1024


def cpu_prediction_threads(device, batch_size: int) -> int:
    """How many Python threads :func:`predict_outputs` spreads batches over on ``device``.

    Two on the CPU for batches of at most :data:`TWO_THREAD_BATCH_ROWS` rows when torch
    has two or more threads (each thread then runs its batches with half of them, one
    of them with the extra thread of an odd count), else one. A forward pass over a
    batch that small is too short to keep two torch threads busy through every
    operation, so two batches at a time, one per core, finish sooner than one batch on
    both cores. The price is the memory of a second batch in flight.
    """
    two = torch.device(device).type == "cpu" and batch_size <= TWO_THREAD_BATCH_ROWS
    return 2 if two and torch.get_num_threads() >= 2 else 1


def predict_outputs(
    net: NeuralNet, dataset: EncodedDataset, batch_size: int, n_threads: int = 1
) -> torch.Tensor:
    """Run the trained module over ``dataset`` in eval mode, without autograd; outputs on the CPU.

    Batches of ``batch_size`` rows keep memory flat for a large ``dataset``; an empty
    ``dataset`` gives an empty result of the module's output shape. With ``n_threads``
    above one, that many Python threads take the batches in turn, sharing torch's
    threads out between them; every batch gives the same bits either way. Running out
    of device memory raises ``torch.OutOfMemoryError`` again with advice on the batch size.
    """
    starts = range(0, max(len(dataset), 1), batch_size)

    @torch.inference_mode()
    def predict_batch(start: int) -> torch.Tensor:
        n_rows = min(batch_size, len(dataset) - start)
        X, _ = dataset.batch(slice(start, start + n_rows))
        n_padding = -n_rows % PREDICT_ROW_BLOCK if n_rows else PREDICT_ROW_BLOCK
        if n_padding:
            X = {name: torch.cat([t, t.new_zeros((n_padding, *t.shape[1:]))]) for name, t in X.items()}
        return net.evaluation_step((X, None), training=False)[:n_rows].to("cpu")

    try:
        if n_threads > 1 and len(starts) > 1:
            outputs = _map_in_threads(predict_batch, starts, n_threads)
        else:
            outputs = [predict_batch(start) for start in starts]
    except torch.OutOfMemoryError as exc:
        raise type(exc)(
            f"The device ran out of memory while predicting in batches of {batch_size} rows. Splitting "
            "X does not help, since the rows already go through in batches of that size: set a "
            "smaller predict_batch_size on the estimator or free device memory held elsewhere. "
            f"({exc})"
        ) from exc
    return torch.cat(outputs)


def _map_in_threads(function, items, n_threads: int) -> list:
    """``[function(item) for item in items]`` in ``n_threads`` threads that share torch's threads.

    ``torch.set_num_threads`` sets the torch thread count of the thread that calls it,
    and also the count that threads started afterwards begin with. Each worker sets its
    share while they all wait at a barrier (which makes the pool start every worker),
    and the caller then sets its own count again, so that later threads begin with it.
    """
    torch_threads = torch.get_num_threads()
    shares = iter(
        [max(torch_threads // n_threads + (i < torch_threads % n_threads), 1) for i in range(n_threads)]
    )
    everyone_started = threading.Barrier(n_threads)

    def take_share() -> None:
        torch.get_num_threads()  # torch gives a thread its starting count on first use: before ours
        torch.set_num_threads(next(shares))
        everyone_started.wait()

    pool = ThreadPoolExecutor(n_threads)
    try:
        try:
            for started in [pool.submit(take_share) for _ in range(n_threads)]:
                started.result()
        finally:
            everyone_started.abort()  # frees a worker left waiting if a thread failed to start
            torch.set_num_threads(torch_threads)
        return list(pool.map(function, items))
    finally:
        pool.shutdown(cancel_futures=True)


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
    """Raised when a training batch's loss is NaN or infinite: the fit stops and fails.

    Like any failed fit, it leaves the estimator as it was before the call; what the
    fit trained until then is not lost but comes with the error.

    Attributes
    ----------
    epoch : int
        The epoch (from 1) whose batch gave the loss.
    batch : int
        The training batch (from 1) within that epoch.
    kept : str
        Which weights the trained network holds, in words: those of the best
        validation epoch, from before the failing batch, or from the start of the
        epoch when the weights themselves had become non-finite.
    trained_estimator : estimator or None
        A fitted copy of the estimator holding the network as ``kept`` describes it,
        set when the error leaves ``fit`` or ``partial_fit``.
    """

    trained_estimator = None

    def __init__(self, message: str, epoch: int, batch: int, kept: str = "from before the failing batch"):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.kept = kept


class SkipNonFiniteLoss(Callback):
    """Skip a training batch whose loss is NaN or infinite instead of stopping training.

    Pass it in an estimator's ``callbacks``. A batch whose loss is not finite makes no
    update; training stops with the usual error only when the weights themselves are
    no longer finite, since no later batch could then give a finite loss. The number
    of batches skipped in each epoch is recorded as ``skipped_batches`` in the
    history, and a warning at the end of training gives the total.

    Examples
    --------
    >>> from sklearn_pangu import DeepFMClassifier
    >>> from sklearn_pangu.callbacks import SkipNonFiniteLoss
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=500, random_state=0)
    >>> model = DeepFMClassifier(max_epochs=2, callbacks=[SkipNonFiniteLoss()], random_state=0)
    >>> model.fit(X, y).history_[:, "skipped_batches"]
    [0, 0]
    """

    def on_train_begin(self, net, **kwargs) -> None:
        self.skipped_ = 0

    def on_epoch_end(self, net, **kwargs) -> None:
        skipped = sum(1 for batch in net.history[-1]["batches"] if batch.get("skipped"))
        net.history.record("skipped_batches", skipped)
        self.skipped_ += skipped

    def on_train_end(self, net, **kwargs) -> None:
        if self.skipped_:
            warnings.warn(
                f"Skipped {self.skipped_} training batch(es) whose loss was NaN or infinite; "
                "see 'skipped_batches' in history_.",
                UserWarning,
                stacklevel=2,
            )


def _all_finite(tensors) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors if torch.is_tensor(t) and t.is_floating_point())


class CTRNet(NeuralNet):
    """skorch net for models that return logits, with weighted loss and layer penalties.

    The criterion is a :class:`TaskWeightedBCEWithLogitsLoss`; in training the batch
    loss adds the penalties that layers of the module computed in the same forward
    pass and hand over through ``pop_penalty()`` (the embedding L2 of
    :class:`~sklearn_pangu.nn.FieldEmbedding`, a model's calibration term).

    Faults during training:

    - A NaN or infinite training loss raises :class:`NonFiniteLossError` naming the
      epoch and batch, before the weights are updated with it (or, with a
      :class:`SkipNonFiniteLoss` callback, skips the batch). When the weights
      themselves are no longer finite, the net goes back to the weights it started
      the epoch with.
    - A ``KeyboardInterrupt`` ends training (skorch swallows it) with the weights of
      the last epoch whose training pass ended; ``interrupted_`` then says where it
      came, and is None after an uninterrupted fit.

    Tensors and modules are reachable only through ``module_``, ``criterion_`` and
    ``optimizer_``, which skorch pickles with a device map: a net trained on a GPU
    then unpickles on a machine without one.

    Parameters
    ----------
    *args, **kwargs
        Arguments of :class:`skorch.NeuralNet`.
    sparse_embeddings : bool, default=False
        Whether every ``nn.Embedding`` of the module gives sparse gradients; the
        optimizer must accept them.
    mixed_precision : {'bfloat16'} or None, default=None
        Run the module's forward passes under :func:`torch.autocast` in this dtype;
        its outputs, and so the loss, are float32.
    """

    interrupted_ = None
    sparse_embeddings = False
    mixed_precision = None
    _epoch_start_state = None
    _fit_start_state = None
    _batch_start_buffers = ()
    _epochs_before = 0

    def __init__(self, *args, sparse_embeddings: bool = False, mixed_precision: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sparse_embeddings = sparse_embeddings
        self.mixed_precision = mixed_precision

    def initialize_module(self):
        super().initialize_module()
        if self.sparse_embeddings:
            for layer in self.module_.modules():
                if isinstance(layer, torch.nn.Embedding):
                    layer.sparse = True
        return self

    def infer(self, x, **fit_params):
        with self.forward_precision(), _running_statistics_for_a_single_row(self.module_, x):
            return super().infer(x, **fit_params).float()

    def forward_precision(self):
        """The context of a forward pass: :func:`torch.autocast` with ``mixed_precision``, else none."""
        if self.mixed_precision is None:
            return contextlib.nullcontext()
        return torch.autocast(self._module_device_type(), dtype=getattr(torch, self.mixed_precision))

    def _module_device_type(self) -> str:
        """Where the module's weights are (``device`` is None when accelerate places them)."""
        return next(self.module_.parameters()).device.type

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.interrupted_ = None
        self._epochs_before = len(self.history)
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            if not self._stopped_early():
                self.interrupted_ = self._rewind_after_interrupt()
            raise
        except torch.OutOfMemoryError as exc:
            raise self._out_of_memory(exc) from exc
        finally:
            self._epoch_start_state = None
            self._fit_start_state = None
            self._batch_start_buffers = ()

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs)
        # The weights to go back to if the epoch ends in a fault; not needed while
        # early stopping holds the weights of a better epoch. The first epoch of a fit
        # that kept a training state starts from that state's weights: no second copy.
        if _best_weights(self) is not None:
            self._epoch_start_state = None
        elif self._fit_start_state is not None and len(self.history) == self._epochs_before + 1:
            self._epoch_start_state = self._fit_start_state["module_"]
        else:
            self._epoch_start_state = _cloned_state(self.module_)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        if training:
            # The training pass is over: the copy to roll back to serves only within it,
            # and no one reads the last batch's gradients. Both are the size of the
            # model; freeing them leaves the validation pass and early stopping's copy
            # of the best weights their memory.
            self._epoch_start_state = None
            self.module_.zero_grad(set_to_none=True)

    def _set_training(self, training=True):
        # skorch calls this before every batch; reading every submodule's mode costs a
        # fraction of setting it again, so a module already in the mode is left as it is.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and any(
                layer.training != training for layer in module.modules()
            ):
                module.train(training)

    def _holds_gradients(self) -> bool:
        """Whether training steps keep the tables' gradients, zeroed, and add rows into them.

        On the CPU with dense tables this spares building a new table-sized gradient
        each step (see :func:`~sklearn_pangu.nn._embedding.add_rows_into_held_gradients`);
        sparse gradients and other devices gain nothing from it.
        """
        return not self.sparse_embeddings and self._module_device_type() == "cpu"

    def _zero_grad_optimizer(self, set_to_none=None):
        if set_to_none is not None or not self._holds_gradients():
            return super()._zero_grad_optimizer(set_to_none=set_to_none)
        tables = [
            (layer.weight, layer.weight.grad)
            for layer in self.module_.modules()
            if isinstance(layer, torch.nn.Embedding) and layer.weight.grad is not None
        ]
        super()._zero_grad_optimizer(set_to_none=True)
        for weight, gradient in tables:
            weight.grad = gradient.zero_()

    def train_step_single(self, batch, **fit_params):
        if not self._holds_gradients():
            return super().train_step_single(batch, **fit_params)
        with add_rows_into_held_gradients():
            return super().train_step_single(batch, **fit_params)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        if training:
            # Buffers a training forward pass updates (batch-norm statistics): small, and
            # put back when the batch's loss turns out non-finite.
            self._batch_start_buffers = [
                (buffer, buffer.detach().clone()) for buffer in self.module_.buffers()
            ]

    def training_state(self) -> dict:
        """A copy of everything training changes, for :meth:`restore_training_state`.

        The weights and buffers of the modules and criteria, the optimizers' states,
        the length of the history and the net's own attributes (learning rate,
        callbacks, batch sizes, precision). The first epoch of the next fit reuses the
        copy of the module's weights as the state to roll a faulty epoch back to.
        The copy costs the memory of the weights and of the optimizer's state.
        """
        state = {
            "attributes": dict(vars(self)),
            "history": len(self.history),
            **{
                f"{name}_": _cloned_state(getattr(self, f"{name}_"))
                for name in [*self._modules, *self._criteria]
            },
            **{
                f"{name}_": copy.deepcopy(getattr(self, f"{name}_").state_dict()) for name in self._optimizers
            },
        }
        self._fit_start_state = state
        return state

    def restore_training_state(self, state: dict) -> None:
        """Put back what :meth:`training_state` copied: the net trains and predicts as it did then."""
        vars(self).clear()
        vars(self).update(state["attributes"])
        del self.history[state["history"] :]
        for name in self._modules + self._criteria:
            module = getattr(self, f"{name}_")
            module.load_state_dict(state[f"{name}_"])
            module.zero_grad(set_to_none=True)
        for name in self._optimizers:
            getattr(self, f"{name}_").load_state_dict(state[f"{name}_"])

    def _out_of_memory(self, exc: torch.OutOfMemoryError) -> torch.OutOfMemoryError:
        """``exc`` again, with advice on the batch size to lower."""
        in_validation = len(self.history) > self._epochs_before and "train_batch_count" in self.history[-1]
        if in_validation:
            rows = getattr(self, "iterator_valid__batch_size", self.batch_size)
            advice = (
                f"It happened in the validation pass, which runs batches of {rows} rows "
                "(predict_batch_size): pass a smaller predict_batch_size, or early_stopping=False."
            )
        else:
            advice = (
                f"It happened in training with batch_size={self.batch_size}: pass a smaller batch_size "
                "(and maybe a smaller embedding_dim or hidden_units)."
            )
        return type(exc)(f"The device ran out of memory while training on {self.device}. {advice} ({exc})")

    def _stopped_early(self) -> bool:
        """Whether an early-stopping callback raised the KeyboardInterrupt, as skorch's do to stop."""
        return any(
            isinstance(callback, EarlyStopping) and getattr(callback, "misses_", 0) >= callback.patience
            for _, callback in self.callbacks_
        )

    def _rewind_after_interrupt(self) -> dict:
        """Keep the weights of the last epoch whose training pass ended.

        Returns ``{"epoch": e, "kept_epoch": k, "epochs_done": n}``: the interrupt came
        in epoch ``e`` (None before the first epoch of this fit began), the module
        holds the weights at the end of epoch ``k`` (``e - 1`` when ``e`` was cut short;
        epochs count across warm starts, as in the history), and ``n`` epochs of this
        fit ended their training pass.
        """
        epoch = len(self.history)
        if epoch == self._epochs_before:
            return {"epoch": None, "kept_epoch": epoch, "epochs_done": 0}
        if "train_batch_count" in self.history[-1]:
            return {"epoch": epoch, "kept_epoch": epoch, "epochs_done": epoch - self._epochs_before}
        if _best_weights(self) is None and self._epoch_start_state is not None:
            self.module_.load_state_dict(self._epoch_start_state)
        return {"epoch": epoch, "kept_epoch": epoch - 1, "epochs_done": epoch - 1 - self._epochs_before}

    def warn_if_interrupted(self, stacklevel: int = 2) -> int | None:
        """After a fit cut short by ``KeyboardInterrupt``, warn which weights the net holds.

        Call it before the early-stopping callback forgets its best weights. Returns
        the number of epochs of the fit that ended their training pass, or None after
        an uninterrupted fit.
        """
        info = self.interrupted_
        if info is None:
            return None
        where = "before its first epoch" if info["epoch"] is None else f"in epoch {info['epoch']}"
        best_epoch = _best_epoch(self)
        if best_epoch is not None:
            kept = f"the weights of its best validation epoch ({best_epoch})"
        elif info["kept_epoch"] > self._epochs_before:
            kept = f"the weights at the end of epoch {info['kept_epoch']}"
        elif self._epochs_before:
            kept = "the weights it had before this fit"
        else:
            kept = "its initial weights, since no epoch ended"
        warnings.warn(
            f"Training was interrupted (KeyboardInterrupt) {where}; the estimator is fitted and "
            f"holds {kept}.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
        return info["epochs_done"]

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
                return self._non_finite_loss(loss)
        return loss

    def _non_finite_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """Skip the batch (with :class:`SkipNonFiniteLoss`) or raise :class:`NonFiniteLossError`.

        The loss is checked before ``backward``, so the optimizer has not stepped with it.
        """
        epoch, batch = len(self.history), len(self.history[-1]["batches"])
        with torch.no_grad():
            for buffer, before in self._batch_start_buffers:
                buffer.copy_(before)
        weights_finite = _all_finite(self.module_.state_dict().values())
        skip = any(isinstance(callback, SkipNonFiniteLoss) for _, callback in self.callbacks_)
        if skip and weights_finite:
            self.history.record_batch("skipped", True)
            # The optimizer skips parameters without gradients; held zero gradients
            # would still move the weights with Adam's moments.
            self._zero_grad_optimizer(set_to_none=True)
            # A leaf with the loss's value: backward reaches no weight, so no update.
            return loss.detach().requires_grad_()
        kept = "from before the failing batch"
        if not weights_finite and self._epoch_start_state is not None:
            self.module_.load_state_dict(self._epoch_start_state)
            kept = f"from the start of epoch {epoch} (the weights had become non-finite)"
        if not _all_finite(
            value for state in self.optimizer_.state_dict()["state"].values() for value in state.values()
        ):
            # Moments computed from non-finite gradients would derail a warm start.
            self.initialize_optimizer()
        raise NonFiniteLossError(
            f"The training loss became {loss.item()} in batch {batch} of epoch {epoch}.",
            epoch=epoch,
            batch=batch,
            kept=kept,
        )


def _cloned_state(module: torch.nn.Module) -> dict:
    """A copy of ``module``'s state dict: its weights and buffers."""
    return {name: tensor.detach().clone() for name, tensor in module.state_dict().items()}


@contextlib.contextmanager
def _running_statistics_for_a_single_row(module: torch.nn.Module, X: dict):
    """Batch normalization from the running statistics for a training batch of one row.

    Batch statistics of a single row are undefined (torch raises); the row still
    trains every weight, normalised as in prediction. Any other batch is untouched.
    """
    single_row = module.training and next(iter(X.values())).shape[0] == 1
    layers = [
        layer
        for layer in (module.modules() if single_row else ())
        if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm) and layer.training
    ]
    for layer in layers:
        layer.eval()
    try:
        yield
    finally:
        for layer in layers:
            layer.train()


def _best_callback(net: NeuralNet):
    """The early-stopping callback of ``net`` that holds best-epoch weights, or None."""
    for _, callback in getattr(net, "callbacks_", ()):
        if isinstance(callback, EarlyStopping) and getattr(callback, "best_model_weights_", None) is not None:
            return callback
    return None


def _best_weights(net: NeuralNet):
    """The best-epoch weights an early-stopping callback of ``net`` holds, or None."""
    callback = _best_callback(net)
    return None if callback is None else callback.best_model_weights_


def _best_epoch(net: NeuralNet):
    """The epoch whose weights an early-stopping callback of ``net`` holds, or None."""
    callback = _best_callback(net)
    return None if callback is None else callback.best_epoch_


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


#: An epoch shows its progress line once it has run this many seconds ...
PROGRESS_DELAY_SECONDS = 2.0
#: ... and rewrites it at most this often.
PROGRESS_INTERVAL_SECONDS = 0.5


def _stderr_is_interactive() -> bool:
    """A terminal or a notebook, where a carriage return rewrites the line; not a log file."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


class EpochProgress(Callback):
    """With ``verbose``, show how far a long epoch has got: batches done, elapsed, remaining.

    The line goes to ``sys.stderr`` when it is a terminal's or a notebook's (not a log
    file) once an epoch has run ``PROGRESS_DELAY_SECONDS``, is rewritten in place (a
    carriage return) at most every ``PROGRESS_INTERVAL_SECONDS``, and is erased before
    the epoch's line of the log table, so short epochs print nothing extra.
    """

    def on_epoch_begin(self, net, dataset_train=None, **kwargs) -> None:
        self.total_ = None if dataset_train is None else len(net.get_iterator(dataset_train, training=True))
        self.done_ = 0
        self.started_ = self.written_ = time.monotonic()
        self.width_ = 0
        self.active_ = bool(net.verbose) and _stderr_is_interactive()

    def on_batch_end(self, net, training=None, **kwargs) -> None:
        if not training or not self.active_:
            return
        self.done_ += 1
        now = time.monotonic()
        elapsed = now - self.started_
        if elapsed < PROGRESS_DELAY_SECONDS or now - self.written_ < PROGRESS_INTERVAL_SECONDS:
            return
        self.written_ = now
        line = f"epoch {len(net.history)}: {self.done_}"
        if self.total_:
            remaining = elapsed / self.done_ * (self.total_ - self.done_)
            percent = 100 * self.done_ // self.total_
            line += f"/{self.total_} batches ({percent}%), {elapsed:.0f}s, ~{remaining:.0f}s left"
        else:
            line += f" batches, {elapsed:.0f}s"
        sys.stderr.write("\r" + line.ljust(self.width_))
        sys.stderr.flush()
        self.width_ = len(line)

    def on_epoch_end(self, net, **kwargs) -> None:
        if self.width_:
            sys.stderr.write("\r" + " " * self.width_ + "\r")
            sys.stderr.flush()
            self.width_ = 0


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
