"""Data-parallel training through skorch's Hugging Face accelerate integration."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch.hf import AccelerateMixin
from skorch.net import NeuralNet
from skorch.utils import noop

from .._base import training_backend
from .._dataset import EncodedDataset
from .._net import CTRNet


class ShardedBatchIterator:
    """Yield this process's share of each global batch of an :class:`EncodedDataset`.

    Every process draws the same permutation (the estimator seeds torch alike in
    each), cuts it into global batches of ``batch_size`` rows and takes its own
    contiguous part of each, so the processes see disjoint rows, take the same
    number of optimizer steps, and the averaged gradient is the gradient of the
    global batch. Batches are moved to ``device``, since accelerate only moves the
    batches of a ``DataLoader``.
    """

    def __init__(
        self,
        dataset: EncodedDataset,
        batch_size: int,
        shuffle: bool = False,
        *,
        num_processes: int = 1,
        process_index: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.num_processes = int(num_processes)
        self.process_index = int(process_index)
        self.device = device

    def _bounds(self) -> list[tuple[int, int]]:
        n_rows = len(self.dataset)
        starts = range(0, n_rows, self.batch_size)
        bounds = [(start, min(start + self.batch_size, n_rows)) for start in starts]
        # Each process needs at least two rows of the last batch (batch normalization).
        if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < 2 * self.num_processes:
            bounds[-2:] = [(bounds[-2][0], n_rows)]
        return bounds

    def __len__(self) -> int:
        return len(self._bounds())

    def __iter__(self):
        order = torch.randperm(len(self.dataset)) if self.shuffle else torch.arange(len(self.dataset))
        for start, stop in self._bounds():
            shard = np.array_split(np.arange(start, stop), self.num_processes)[self.process_index]
            X, y = self.dataset.batch(order[torch.from_numpy(shard)])
            yield _to(X, self.device), _to(y, self.device)


def _to(tensors: dict | None, device) -> dict | None:
    if tensors is None:
        return None
    return {name: tensor.to(device, non_blocking=True) for name, tensor in tensors.items()}


class AcceleratedCTRNet(AccelerateMixin, CTRNet):
    """:class:`CTRNet` whose training steps run under an ``accelerate.Accelerator``.

    Training batches are sharded across the processes; validation runs on the
    whole validation set in every process, so every process takes the same
    early-stopping decisions without gathering predictions.
    """

    def _initialize_accelerator(self):
        # Only modules with parameters go through accelerate: DistributedDataParallel
        # refuses the parameter-free criterion.
        if self._wrapped_with_accelerator:
            return self
        for kind, names in (("module", self._modules + self._criteria), ("optimizer", self._optimizers)):
            with self._current_init_context(kind if kind == "optimizer" else "module"):
                for name in names:
                    component = getattr(self, name + "_")
                    trainable = isinstance(component, torch.optim.Optimizer) or (
                        isinstance(component, torch.nn.Module)
                        and any(p.requires_grad for p in component.parameters())
                    )
                    if trainable:
                        setattr(self, name + "_", self.accelerator.prepare(component))
        self._wrapped_with_accelerator = True
        return self

    def get_iterator(self, dataset, training=False):
        if not training:
            return ShardedBatchIterator(
                dataset, self.iterator_valid__batch_size, device=self.accelerator.device
            )
        return ShardedBatchIterator(
            dataset,
            self.batch_size,
            shuffle=True,
            num_processes=self.accelerator.num_processes,
            process_index=self.accelerator.process_index,
            device=self.accelerator.device,
        )

    def evaluation_step(self, batch, training=False):
        return NeuralNet.evaluation_step(self, batch, training=training)

    def _holds_gradients(self) -> bool:
        # AccelerateMixin's train_step_single runs the backward pass outside CTRNet's.
        return False

    def to_plain_net(self) -> CTRNet:
        """Unwrap the module and optimizer and turn this net into a picklable :class:`CTRNet`."""
        if self.accelerator.num_processes > 1:
            # The last training forward left each process its own batch-norm statistics.
            for buffer in self.module_.buffers():
                torch.distributed.broadcast(buffer, src=0)
        self._unwrap_accelerator()
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            setattr(self, name + "_", getattr(optimizer, "optimizer", optimizer))
        device = next(self.module_.parameters()).device
        for attribute in ("accelerator", "unwrap_after_train", "_wrapped_with_accelerator"):
            vars(self).pop(attribute, None)
        self.__class__ = CTRNet
        self.device = str(device)
        self.callbacks__print_log__sink = print
        dict(self.callbacks_)["print_log"].sink = print
        return self


def accelerated_net_options(accelerator) -> tuple[type[CTRNet], dict]:
    """The net class and the arguments that make a fit run under ``accelerator``."""
    # accelerate places the module; skorch must not move it (device=None). Only the
    # main process prints the epoch log, and only when the estimator is verbose.
    return AcceleratedCTRNet, {
        "accelerator": accelerator,
        "unwrap_after_train": False,
        "device": None,
        "callbacks__print_log__sink": print if accelerator.is_main_process else noop,
    }


def fit_with_accelerator(estimator, X, y, *, accelerator=None, **fit_params):
    """Fit ``estimator`` data-parallel across the processes of an ``accelerate`` launch.

    Run the same script in every process (``accelerate launch --multi_gpu
    --num_processes 4 train.py``, or ``torchrun``): each process encodes the whole
    of ``X``, trains on its share of every batch, and the gradients are averaged
    across processes by ``DistributedDataParallel``. Afterwards ``estimator`` is a
    plain fitted estimator in every process, with its module on that process's
    device: predict with it, or save it with joblib from the main process only
    (``accelerator.is_main_process``).

    Parameters
    ----------
    estimator : estimator or Pipeline
        A sklearn_pangu estimator, or a :class:`~sklearn.pipeline.Pipeline` ending in one.
    X : DataFrame or array-like of shape (n_samples, n_features)
        Training data, the same in every process.
    y : array-like
        Labels, as for the estimator's ``fit``.
    accelerator : accelerate.Accelerator, default=None
        Its settings (mixed precision, gradient accumulation, CPU) apply to the
        training steps; by default a new ``Accelerator()`` for the launched processes.
    **fit_params : dict
        Passed to ``fit``, such as ``sample_weight``.

    Returns
    -------
    estimator : estimator or Pipeline
        The fitted ``estimator``.

    Notes
    -----
    ``batch_size`` stays the global batch: each of ``n`` processes runs
    ``batch_size / n`` rows per step, so the learning rate needs no change. Every
    process validates on the whole validation split, so early stopping agrees
    across processes. Without an integer ``random_state`` the main process draws
    the seed and sends it to the others, so all of them shuffle alike.

    Examples
    --------
    >>> from accelerate import Accelerator
    >>> from sklearn_pangu import DeepFMClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu.distributed import fit_with_accelerator
    >>> X, y = make_ctr_classification(n_samples=500, random_state=0)
    >>> model = DeepFMClassifier(max_epochs=2, random_state=0)
    >>> model = fit_with_accelerator(model, X, y, accelerator=Accelerator(cpu=True))
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    """
    from accelerate import Accelerator
    from accelerate.utils import broadcast_object_list

    accelerator = Accelerator() if accelerator is None else accelerator
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    random_state = final.random_state
    seed = random_state
    if not isinstance(random_state, Integral):
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        seed = broadcast_object_list([seed], from_process=0)[0]
    net_class, net_options = accelerated_net_options(accelerator)
    with training_backend(final, net_class, net_options, random_state=seed):
        try:
            estimator.fit(X, y, **fit_params)
        finally:
            if isinstance(getattr(final, "net_", None), AcceleratedCTRNet):
                final.net_.to_plain_net()
    return estimator
