"""The hand-written PyTorch loop that every comparison runs beside sklearn_pangu, and the networks it trains.

:class:`ReferenceLoop` trains an estimator's own torch module the way a user would without
the estimator: label-encoded tensors built once (the category codes of ``category``
columns), ``torch.randperm`` batches, the mean binary cross-entropy of each task summed
over the tasks plus the module's embedding penalties, ``torch.optim.Adam`` with its
default implementation, ``optimizer.zero_grad()`` (gradients freed each step), and
prediction in batches under ``torch.inference_mode``. On a GPU its tensors move to the
card once; with ``mixed_precision`` its forward passes run under ``torch.autocast``.

:data:`NETWORKS` are the networks of the side-by-side tables: embeddings of
``EMBEDDING_DIM``, each number one scaled field, an MLP ``HIDDEN_UNITS`` with batch norm and
ReLU, no dropout, no L2, Adam with ``LEARNING_RATE``, ``BATCH_SIZE`` rows per step;
:func:`estimator` gives the sklearn_pangu estimator of one of them. :data:`SEQUENCE_NETWORKS`
are the behaviour-sequence networks (DIN, DIEN, BST) with the same settings, for frames
with a history column.

Behaviour sequences: :class:`SequenceCodes` is the label encoding a user of a plain PyTorch
library prepares for a frame with list columns (right-padded code matrices, code 0 the pad,
the most recent items kept), :class:`HandWrittenDIN` a DIN written directly in PyTorch on
those codes, and :class:`DINReferenceLoop` trains it in the same loop as :class:`ReferenceLoop`.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

import sklearn_pangu
from sklearn_pangu._base import auto_predict_batch_size
from sklearn_pangu._fields import FieldSpec

EMBEDDING_DIM = 16
HIDDEN_UNITS = (256, 128)
BATCH_SIZE = 4096
LEARNING_RATE = 1e-3
#: Each network's estimator and its own settings, beside the shared ones above (the settings
#: of an MLP-free network skip ``HIDDEN_UNITS``). Multi-task networks have two tasks: MMoE
#: 8 experts, each an MLP ``HIDDEN_UNITS``, one softmax gate and a tower 64 per task; PLE
#: two levels of one shared and one task expert per task; ESMM's two towers and AITM's task
#: towers ``HIDDEN_UNITS``.
NETWORKS = {
    "deepfm": ("DeepFMClassifier", {}),
    "dcn": ("DCNClassifier", {"num_cross_layers": 3}),
    "xdeepfm": ("XDeepFMClassifier", {"cin_units": (64, 64), "cin_split_half": True}),
    "mmoe": ("MMOEMultiOutput", {"num_experts": 8, "expert_units": HIDDEN_UNITS, "tower_units": (64,)}),
    "widedeep": ("WideDeepClassifier", {}),
    "nfm": ("NFMClassifier", {}),
    "afm": ("AFMClassifier", {"attention_dim": 16}),
    "afn": ("AFNClassifier", {"num_logarithmic_neurons": 256, "use_dnn": False}),
    # Two heads of 8: each layer outputs the embedding size, as DeepCTR-Torch's and torch-rechub's.
    "autoint": (
        "AutoIntClassifier",
        {"num_attention_layers": 3, "num_heads": 2, "attention_dim": 8, "use_residual": True},
    ),
    "ccpm": ("CCPMClassifier", {"conv_filters": (4, 4), "conv_kernel_widths": (6, 5)}),
    "fibinet": ("FiBiNetClassifier", {"bilinear_type": "field_interaction", "reduction_ratio": 3}),
    "dcnv2": (
        "DCNV2Classifier",
        {"num_cross_layers": 2, "structure": "parallel", "low_rank": 32, "num_experts": 4},
    ),
    "sharebottom": ("ShareBottomMultiOutput", {"bottom_units": HIDDEN_UNITS, "tower_units": (64,)}),
    "esmm": ("ESMMMultiOutput", {"tower_units": HIDDEN_UNITS}),
    "ple": (
        "PLEMultiOutput",
        {
            "num_levels": 2,
            "num_shared_experts": 1,
            "num_specific_experts": 1,
            "expert_units": HIDDEN_UNITS,
            "tower_units": (64,),
        },
    ),
    "aitm": ("AITMMultiOutput", {"tower_units": HIDDEN_UNITS}),
}
#: The behaviour-sequence networks: DIN's activation unit 64-16 with Dice and no softmax;
#: DIEN's GRU and AUGRU of the embedding size with its auxiliary loss at weight 1; BST's one
#: transformer block with 2 heads. Each needs ``behavior_features`` (history -> target column).
SEQUENCE_NETWORKS = {
    "din": ("DINClassifier", {"attention_units": (64, 16), "activation": "dice", "attention_softmax": False}),
    "dien": ("DIENClassifier", {"auxiliary_loss_weight": 1.0}),
    "bst": ("BSTClassifier", {"num_transformer_layers": 1, "num_heads": 2}),
}
#: The longest history kept, in every framework (sklearn_pangu's ``max_sequence_length``).
MAX_SEQUENCE_LENGTH = 50
NAMES = {
    "deepfm": "DeepFM",
    "dcn": "DCN",
    "xdeepfm": "xDeepFM",
    "mmoe": "MMoE",
    "widedeep": "Wide & Deep",
    "nfm": "NFM",
    "afm": "AFM",
    "afn": "AFN",
    "autoint": "AutoInt+",
    "ccpm": "CCPM",
    "fibinet": "FiBiNET",
    "dcnv2": "DCN-V2",
    "sharebottom": "Shared-Bottom",
    "esmm": "ESMM",
    "ple": "PLE",
    "aitm": "AITM",
    "din": "DIN",
    "dien": "DIEN",
    "bst": "BST",
}
MULTITASK = {"mmoe", "sharebottom", "esmm", "ple", "aitm"}


def is_multitask(estimator) -> bool:
    return type(estimator).__name__.endswith("MultiOutput")


def estimator(
    network: str,
    epochs: int,
    device: str = "cpu",
    behavior_features: Mapping[str, str] | None = None,
    **options,
):
    """sklearn_pangu's estimator of ``network``: the shared settings, ``epochs`` epochs, no early stopping.

    ``behavior_features``: the history -> target columns of a network of :data:`SEQUENCE_NETWORKS`.
    """
    if network in SEQUENCE_NETWORKS:
        name, own = SEQUENCE_NETWORKS[network]
        own = {**own, "behavior_features": dict(behavior_features or {})}
        own["max_sequence_length"] = MAX_SEQUENCE_LENGTH
    else:
        name, own = NETWORKS[network]
    estimator_class = getattr(sklearn_pangu, name)
    shared = {
        "hidden_units": HIDDEN_UNITS,
        "embedding_dim": EMBEDDING_DIM,
        "dropout": 0.0,
        "batch_norm": True,
        "embedding_l2": 0.0,
        # Each number as one scaled field, the network the hand-written loop and the peers train.
        "numeric_encoding": "scale",
        "learning_rate": LEARNING_RATE,
        "batch_size": BATCH_SIZE,
        "max_epochs": epochs,
        "early_stopping": False,
        "device": device,
        "random_state": 0,
    }
    parameters = estimator_class().get_params()
    shared = {key: value for key, value in shared.items() if key in parameters}
    return estimator_class(**{**shared, **own, **options})


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
        self._settings(template, device, mixed_precision)
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

    def _settings(self, template, device, mixed_precision) -> None:
        """The device, the autocast dtype, the batch size and the learning rate (``template``'s)."""
        self.device = torch.device(device)
        self.dtype = None if mixed_precision is None else getattr(torch, mixed_precision)
        self.batch_size = template.batch_size
        self.learning_rate = template.learning_rate

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

    def fit(self, X, y, epochs: int) -> float:
        """Train ``epochs`` epochs on ``X`` (what :meth:`tensors` takes; tensors built here).

        Returns the seconds of the epochs alone.
        """
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

    def predict(self, X) -> np.ndarray:
        """Probabilities of ``X`` (what :meth:`tensors` takes), its tensors built inside."""
        return self.forward(*self.tensors(X))


# Behaviour sequences -----------------------------------------------------------------------


def is_list_column(values: pd.Series) -> bool:
    """Whether a column holds lists: its first non-missing cell is a list, a tuple or an array."""
    if values.dtype != object:
        return False
    for cell in values:
        if isinstance(cell, list | tuple | np.ndarray):
            return True
        if cell is not None and not (isinstance(cell, float) and np.isnan(cell)):
            return False
    return False


def _cells(values: pd.Series) -> list:
    """Each cell as a sequence of items; a missing cell (None, NaN) as no items."""
    return [cell if isinstance(cell, list | tuple | np.ndarray) else () for cell in values]


class SequenceCodes:
    """The label encoding a user of a plain PyTorch library prepares for a frame with list columns.

    Learned from the training frame ``X``: one vocabulary per group of columns that share
    one (``shared``, e.g. ``{"history": "movie_id"}``; a group is named after its first
    column), made of all the group's values. Codes: 0 is a list's pad, 1 a value not in the
    vocabulary (unknown or missing), 2, 3, ... the known values. A list column becomes an
    ``(n, L)`` matrix, oldest item first, right-padded with 0, where ``L`` is the longest list
    of ``X`` up to ``max_length``; a longer list keeps its last ``L`` items (the most recent),
    as sklearn_pangu's encoder does. Numeric columns are dense values.
    """

    def __init__(self, X: pd.DataFrame, shared: Mapping[str, str] | None = None, max_length: int = 50):
        self.dense = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
        self.lists = [c for c in X.columns if c not in self.dense and is_list_column(X[c])]
        self.scalars = [c for c in X.columns if c not in self.dense and c not in self.lists]
        self.owner = {c: c for c in [*self.scalars, *self.lists]}
        for column, other in (shared or {}).items():
            first, second = sorted((self.group(column), self.group(other)), key=list(X.columns).index)
            self.owner = {c: first if owner == second else owner for c, owner in self.owner.items()}
        self.lengths = {
            c: max(1, min(int(max_length), max((len(cell) for cell in _cells(X[c])), default=0)))
            for c in self.lists
        }
        self.vocabularies = {}
        for owner in set(self.owner.values()):
            members = [c for c, o in self.owner.items() if o == owner]
            values = itertools.chain.from_iterable(
                itertools.chain.from_iterable(_cells(X[c])) if c in self.lists else X[c] for c in members
            )
            self.vocabularies[owner] = pd.Index(pd.unique(pd.Series(list(values), dtype=object))).dropna()

    def group(self, column: str) -> str:
        """The column whose vocabulary (and embedding table) ``column`` uses."""
        return self.owner[column]

    def vocabulary_size(self, column: str) -> int:
        """The number of codes of ``column``'s vocabulary: its values, the pad and the unknown code."""
        return len(self.vocabularies[self.group(column)]) + 2

    def transform(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """Each column's codes (int64; ``(n, L)`` for a list column) and each dense column (float32)."""
        arrays = {}
        for column in self.scalars:
            arrays[column] = self.vocabularies[self.group(column)].get_indexer(X[column]).astype(np.int64) + 2
        for column in self.lists:
            cells = _cells(X[column])
            flat = pd.Series(list(itertools.chain.from_iterable(cells)), dtype=object)
            codes = self.vocabularies[self.group(column)].get_indexer(flat).astype(np.int64) + 2
            lengths = np.fromiter((len(cell) for cell in cells), np.int64, len(cells))
            kept = np.minimum(lengths, self.lengths[column])
            first = np.cumsum(lengths) - kept  # where each row's kept items start in ``flat``
            rows = np.repeat(np.arange(len(cells)), kept)
            slots = np.arange(kept.sum()) - np.repeat(np.cumsum(kept) - kept, kept)
            matrix = np.zeros((len(cells), self.lengths[column]), np.int64)
            matrix[rows, slots] = codes[np.repeat(first, kept) + slots]
            arrays[column] = matrix
        for column in self.dense:
            arrays[column] = X[column].to_numpy(dtype=np.float32)
        return arrays


def sequence_lengths(codes: np.ndarray) -> np.ndarray:
    """The number of items in each row of a list column's code matrix (its codes other than the pad 0)."""
    return (codes > 0).sum(axis=1)


def _glorot(linear: nn.Linear) -> nn.Linear:
    nn.init.xavier_normal_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


class MaskedDice(nn.Module):
    """Dice, ``p * s + (1 - p) * alpha * s`` with ``p = sigmoid((s - E s) / sqrt(Var s + 1e-8))``.

    The moments are the batch's over the valid slots in training and moving averages at
    inference; ``alpha`` starts at 0. ``PReLU`` when ``prelu``: ``s`` or ``alpha * s``.
    """

    def __init__(self, units: int, prelu: bool = False, momentum: float = 0.1):
        super().__init__()
        self.prelu, self.momentum = prelu, momentum
        self.alpha = nn.Parameter(torch.full((units,), 0.25 if prelu else 0.0))
        self.register_buffer("running_mean", torch.zeros(units))
        self.register_buffer("running_var", torch.ones(units))

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.prelu:
            return torch.where(inputs > 0, inputs, self.alpha * inputs)
        mean, var = self.running_mean, self.running_var
        valid = inputs[mask]
        if self.training and len(valid) > 1:
            mean, var = valid.mean(dim=0), valid.var(dim=0, unbiased=False)
            with torch.no_grad():
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * len(valid) / (len(valid) - 1), self.momentum)
        p = torch.sigmoid((inputs - mean) / torch.sqrt(var + 1e-8))
        return inputs * (p + (1 - p) * self.alpha)


class ActivationUnit(nn.Module):
    """DIN's local activation unit: an MLP of ``[t, h, t - h, t * h]`` weighs each behaviour ``h``.

    The interest is the weighted sum of the behaviours, without softmax; pads weigh 0.
    """

    def __init__(self, embedding_dim: int, units: Sequence[int], prelu: bool = False):
        super().__init__()
        widths = [4 * embedding_dim, *units]
        self.linears = nn.ModuleList(_glorot(nn.Linear(a, b)) for a, b in itertools.pairwise(widths))
        self.activations = nn.ModuleList(MaskedDice(b, prelu) for b in units)
        self.output = _glorot(nn.Linear(widths[-1], 1))

    def forward(self, target: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        query = target.unsqueeze(1).expand_as(keys)
        hidden = torch.cat([query, keys, query - keys, query * keys], dim=-1)
        for linear, activation in zip(self.linears, self.activations, strict=True):
            hidden = activation(linear(hidden), mask)
        weights = self.output(hidden).squeeze(-1) * mask
        return (weights.unsqueeze(-1) * keys).sum(dim=1)


class HandWrittenDIN(nn.Module):
    """DIN written directly in PyTorch, on the codes of :class:`SequenceCodes`.

    One ``nn.Embedding`` per vocabulary (row 0, the pad, zero and frozen), a vector per
    field: a single-value column's row, a history's interest from :class:`ActivationUnit`
    against its target, another list column's masked mean, a dense value times its own
    vector; their concatenation goes through an MLP (Linear, batch norm, ReLU) to the logit.
    ``forward(codes, dense)`` reads ``codes``, the columns' code blocks side by side in the
    order of ``columns``.
    """

    def __init__(
        self,
        codes: SequenceCodes,
        behavior_features: Mapping[str, str],
        *,
        embedding_dim: int,
        hidden_units: Sequence[int],
        attention_units: Sequence[int],
        activation: str = "dice",
        batch_norm: bool = True,
    ):
        super().__init__()
        if activation not in ("dice", "prelu"):
            raise ValueError(f"the hand-written DIN has Dice and PReLU, not {activation!r}")
        self.columns = [*codes.scalars, *codes.lists]
        widths = [codes.lengths.get(c, 1) for c in self.columns]
        ends = np.cumsum(widths)
        self.layout = {
            c: slice(int(e - w), int(e)) for c, w, e in zip(self.columns, widths, ends, strict=True)
        }
        self.lists, self.owner = set(codes.lists), {c: codes.group(c) for c in self.columns}
        self.targets = dict(behavior_features)
        self.tables = nn.ModuleDict()
        for owner in dict.fromkeys(self.owner.values()):
            self.tables[owner] = nn.Embedding(codes.vocabulary_size(owner), embedding_dim, padding_idx=0)
            nn.init.normal_(self.tables[owner].weight, std=1e-4)
            with torch.no_grad():
                self.tables[owner].weight[0] = 0.0
        self.dense_vectors = nn.Parameter(torch.randn(len(codes.dense), embedding_dim) * 1e-4)
        self.attentions = nn.ModuleDict(
            {h: ActivationUnit(embedding_dim, attention_units, activation == "prelu") for h in self.targets}
        )
        layers, width = [], (len(self.columns) + len(codes.dense)) * embedding_dim
        for units in hidden_units:
            layers += [_glorot(nn.Linear(width, units)), *([nn.BatchNorm1d(units)] if batch_norm else [])]
            layers.append(nn.ReLU())
            width = units
        self.mlp = nn.Sequential(*layers, _glorot(nn.Linear(width, 1)))

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        fields = []
        for column in self.columns:
            ids = codes[:, self.layout[column]]
            rows = self.tables[self.owner[column]](ids)
            if column in self.targets:
                target = codes[:, self.layout[self.targets[column]]].squeeze(1)
                target = self.tables[self.owner[self.targets[column]]](target)
                fields.append(self.attentions[column](target, rows, ids > 0))
            elif column in self.lists:
                mask = (ids > 0).unsqueeze(-1)
                fields.append((rows * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1))
            else:
                fields.append(rows.squeeze(1))
        fields.append((dense.unsqueeze(-1) * self.dense_vectors).flatten(start_dim=1))
        return self.mlp(torch.cat(fields, dim=1)).squeeze(-1)


class DINReferenceLoop(ReferenceLoop):
    """:class:`HandWrittenDIN` in the loop of :class:`ReferenceLoop`, with ``template``'s network settings.

    ``template``: an unfitted ``DINClassifier``; ``X``: the training frame, from which the
    codes (:class:`SequenceCodes`) are learned here, before any clock. :meth:`fit` and
    :meth:`predict` take what :meth:`encode` makes of a frame.
    """

    def __init__(self, template, X: pd.DataFrame, device="cpu", mixed_precision=None):
        self._settings(template, device, mixed_precision)
        self.codes = SequenceCodes(X, template.behavior_features, template.max_sequence_length)
        torch.manual_seed(0)
        self.module = HandWrittenDIN(
            self.codes,
            template.behavior_features,
            embedding_dim=template.embedding_dim,
            hidden_units=template.hidden_units,
            attention_units=template.attention_units,
            activation=template.activation,
            batch_norm=template.batch_norm,
        ).to(self.device)

    def encode(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """The arrays of ``X``: :meth:`SequenceCodes.transform`."""
        return self.codes.transform(X)

    def tensors(self, arrays: dict[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(codes, dense)`` of encoded rows on the device, the code blocks in the module's order."""
        n = len(arrays[self.module.columns[0]])
        codes = np.concatenate([arrays[c].reshape(n, -1) for c in self.module.columns], axis=1)
        dense = [arrays[c] for c in self.codes.dense]
        dense = np.column_stack(dense) if dense else np.zeros((n, 0), np.float32)
        return torch.from_numpy(codes).to(self.device), torch.from_numpy(dense).to(self.device)
