"""The hand-written PyTorch loop that every comparison runs beside sklearn_pangu, and the networks it trains.

:class:`ReferenceLoop` trains an estimator's own torch module the way a user would without
the estimator: label-encoded tensors built once (the category codes of ``category``
columns), ``torch.randperm`` batches, the mean binary cross-entropy of each task summed
over the tasks plus the module's embedding penalties, ``torch.optim.Adam`` with its
default implementation, ``optimizer.zero_grad()`` (gradients freed each step), and
prediction in batches under ``torch.inference_mode``. On a GPU its tensors move to the
card once; with ``mixed_precision`` its forward passes run under ``torch.autocast``.

:data:`NETWORKS` are the networks of the side-by-side tables: embeddings of
``EMBEDDING_DIM``, an MLP ``HIDDEN_UNITS`` with batch norm and ReLU, no dropout, no L2,
Adam with ``LEARNING_RATE``, ``BATCH_SIZE`` rows per step; :func:`estimator` gives the
sklearn_pangu estimator of one of them.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pandas as pd
import torch

import sklearn_pangu
from sklearn_pangu._base import auto_predict_batch_size
from sklearn_pangu._fields import FieldSpec

EMBEDDING_DIM = 16
HIDDEN_UNITS = (256, 128)
BATCH_SIZE = 4096
LEARNING_RATE = 1e-3
#: Each network's estimator and its own settings, beside the shared ones above. MMoE has two
#: tasks: 8 experts, each an MLP ``HIDDEN_UNITS``, one softmax gate per task and a tower 64 per task.
NETWORKS = {
    "deepfm": ("DeepFMClassifier", {}),
    "dcn": ("DCNClassifier", {"num_cross_layers": 3}),
    "xdeepfm": ("XDeepFMClassifier", {"cin_units": (64, 64), "cin_split_half": True}),
    "mmoe": ("MMOEMultiOutput", {"num_experts": 8, "expert_units": HIDDEN_UNITS, "tower_units": (64,)}),
}
NAMES = {"deepfm": "DeepFM", "dcn": "DCN", "xdeepfm": "xDeepFM", "mmoe": "MMoE"}
MULTITASK = {"mmoe"}


def is_multitask(estimator) -> bool:
    return type(estimator).__name__.endswith("MultiOutput")


def estimator(network: str, epochs: int, device: str = "cpu", **options):
    """sklearn_pangu's estimator of ``network``: the shared settings, ``epochs`` epochs, no early stopping."""
    name, own = NETWORKS[network]
    shared = {} if name.endswith("MultiOutput") else {"hidden_units": HIDDEN_UNITS}
    return getattr(sklearn_pangu, name)(
        **own,
        **shared,
        embedding_dim=EMBEDDING_DIM,
        dropout=0.0,
        batch_norm=True,
        embedding_l2=0.0,
        learning_rate=LEARNING_RATE,
        batch_size=BATCH_SIZE,
        max_epochs=epochs,
        early_stopping=False,
        device=device,
        random_state=0,
        **options,
    )


def label_encoded(X: pd.DataFrame):
    """The arrays a user of a plain PyTorch library prepares: category codes and float32 dense values.

    Code 0 is a value not among the column's categories (missing, or a test value never
    seen in training); the categories take codes 1, 2, ... Returns the codes and the dense
    values by column, and each categorical column's number of codes.
    """
    sparse = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    dense = [c for c in X.columns if c not in sparse]
    codes = {c: X[c].cat.codes.to_numpy().astype(np.int64) + 1 for c in sparse}
    values = {c: X[c].to_numpy(dtype=np.float32) for c in dense}
    cardinalities = {c: len(X[c].cat.categories) + 1 for c in sparse}
    return codes, values, cardinalities


def predict_batch_size(device) -> int:
    """Rows per prediction batch: sklearn_pangu's ``predict_batch_size='auto'`` on ``device``."""
    return auto_predict_batch_size(device)


class ReferenceLoop:
    """A plain PyTorch loop around ``template``'s torch module (an unfitted estimator: its network only).

    ``X``: the training frame, its text as ``category`` columns (:func:`_common.as_categories`);
    the module is built here, before any clock starts. ``n_tasks``: label columns.
    """

    def __init__(self, template, X: pd.DataFrame, n_tasks: int = 1, device="cpu", mixed_precision=None):
        self.device = torch.device(device)
        self.dtype = None if mixed_precision is None else getattr(torch, mixed_precision)
        self.batch_size = template.batch_size
        self.learning_rate = template.learning_rate
        _, _, cardinalities = label_encoded(X)
        # One more index: sklearn_pangu's encoders keep 0 and 1 for unknown and missing values.
        spec = FieldSpec(
            categorical_fields=tuple(cardinalities),
            cardinalities=tuple(n + 1 for n in cardinalities.values()),
            dense_features=tuple(c for c in X.columns if c not in cardinalities),
        )
        extra = {"n_tasks": n_tasks} if is_multitask(template) else {}
        torch.manual_seed(0)
        self.module = template._module_class(field_spec=spec, **template._module_params(), **extra)
        self.module.to(self.device)

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def tensors(self, X: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
        """``(codes, dense)`` of ``X`` on the device."""
        codes, values, _ = label_encoded(X)
        codes = np.column_stack(list(codes.values())) + 1 if codes else np.zeros((len(X), 0), np.int64)
        dense = np.column_stack(list(values.values())) if values else np.zeros((len(X), 0), np.float32)
        return torch.from_numpy(codes).to(self.device), torch.from_numpy(dense).to(self.device)

    def fit(self, X: pd.DataFrame, y, epochs: int) -> float:
        """Train ``epochs`` epochs on ``X`` (tensors built here); the seconds of the epochs alone."""
        codes, dense = self.tensors(X)
        target = torch.from_numpy(np.asarray(y, dtype=np.float32)).to(self.device)
        optimizer = torch.optim.Adam(self.module.parameters(), lr=self.learning_rate)
        penalties = [m for m in self.module.modules() if hasattr(m, "pop_penalty")]
        self.module.train()
        start = time.perf_counter()
        for _ in range(epochs):
            order = torch.randperm(len(target), device=self.device)
            for first in range(0, len(target), self.batch_size):
                index = order[first : first + self.batch_size]
                with self.autocast():
                    logits = self.module(codes[index], dense[index])
                losses = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits.float(), target[index], reduction="none"
                )
                loss = losses.mean(dim=0).sum()
                for module in penalties:
                    penalty = module.pop_penalty()
                    if penalty is not None:
                        loss = loss + penalty
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter() - start

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> np.ndarray:
        """Probabilities of encoded rows, in batches of ``predict_batch_size``: (n,) or (n, n_tasks)."""
        self.module.eval()
        rows = predict_batch_size(self.device)
        with torch.inference_mode(), self.autocast():
            logits = [
                self.module(codes[s : s + rows], dense[s : s + rows]) for s in range(0, len(codes), rows)
            ]
        return torch.sigmoid(torch.cat(logits).float()).cpu().numpy()

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of ``X``, its tensors built inside."""
        return self.forward(*self.tensors(X))
