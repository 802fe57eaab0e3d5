"""The skorch net every estimator trains: logits, weighted loss, layer penalties, fault handling.

The net, and everything it holds, is top-level and picklable: a fitted estimator
pickles its skorch net.
"""

from __future__ import annotations

import contextlib
import copy
import warnings

import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping
from skorch.utils import to_tensor

from .callbacks import SkipNonFiniteLoss
from .exceptions import NonFiniteLossError
from .nn._embedding import add_rows_into_held_gradients
from .nn._projection import projecting


def _all_finite(tensors) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors if torch.is_tensor(t) and t.is_floating_point())


class CTRNet(NeuralNet):
    """skorch net for models that return logits, with weighted loss and layer penalties.

    The criterion is a :class:`~sklearn_pangu._loss.TaskWeightedBCEWithLogitsLoss`;
    in training the batch loss adds the penalties that layers of the module computed
    in the same forward pass and hand over through ``pop_penalty()`` (the embedding L2
    of :class:`~sklearn_pangu.nn.FieldEmbedding`, a model's calibration term).

    Faults during training:

    - A NaN or infinite training loss raises
      :class:`~sklearn_pangu.exceptions.NonFiniteLossError` naming the epoch and
      batch, before the weights are updated with it (or, with a
      :class:`~sklearn_pangu.callbacks.SkipNonFiniteLoss` callback, skips the
      batch). When the weights themselves are no longer finite, the net goes back to
      the weights it started the epoch with.
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
        # The weights stay as they are through a validation pass: its first layers over
        # field vectors may run from projected table rows (nn.projecting).
        with contextlib.nullcontext() if training else projecting(self.module_):
            try:
                super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
            finally:
                if training:
                    # A fused optimizer updates the weights without counting it in their
                    # version counters, which say when a projected table is stale.
                    torch.autograd.graph.increment_version(list(self.module_.parameters()))
        if training:
            # The training pass is over: the copy to roll back to serves only within it,
            # and no one reads the last batch's gradients. Both are the size of the
            # model; freeing them leaves the validation pass and early stopping's copy
            # of the best weights their memory.
            self._epoch_start_state = None
            self.module_.zero_grad(set_to_none=True)

    def _set_training(self, training=True):
        # Overrides a private skorch method: skorch 1.4 has no public hook that sets the
        # modules' mode, and its train_step_single, validation_step and evaluation_step
        # each call this before every batch. Reading every submodule's mode costs a
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
        each step: the training step then runs within
        :func:`~sklearn_pangu.nn._embedding.add_rows_into_held_gradients`. Sparse
        gradients and other devices gain nothing from it.
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
        with add_rows_into_held_gradients(self.module_):
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
