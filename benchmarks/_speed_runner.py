"""Train and predict one model (DeepFM, DCN, xDeepFM, MMoE) with one framework; print its timings as JSON.

Run by ``bench_peers.py``, one process per framework, so that the peak resident
memory is that framework's alone. The frameworks other than ``sklearn_pangu`` and
``hand_written`` need the benchmark environment that ``make bench-peers`` builds.

The network is the same everywhere: embeddings of ``EMBEDDING_DIM`` for the sparse
fields, the model's interaction part (``MODELS``), and an MLP ``HIDDEN_UNITS`` with batch
norm and ReLU (torch-rechub's MLP always has batch norm), no dropout, no L2; Adam with
``LEARNING_RATE``, ``BATCH_SIZE`` rows per step, the given number of epochs. MMoE has
``MMOE_EXPERTS`` experts, each an MLP ``HIDDEN_UNITS``, one softmax gate per task (a linear
layer of the flattened embeddings) and a tower ``TOWER_UNITS`` per task, for two tasks:
the data set's label and ``conversion_label``.

Data (``--dataset``): ``synthetic``, ``make_ctr_classification`` with ``--n-samples`` training
rows and 10% more to predict; ``frappe``, train on ``valid.csv.gz`` and predict
``test.csv.gz`` (research-only data, loaded by ``bench_quality.load_frappe``; exit status 3
when it is absent). Every framework starts from the same DataFrames: category and float
columns (Frappe's strings become categories of the training set's values, before any clock);
sklearn_pangu encodes them in its ``fit`` and ``predict_proba``, the others take label-encoded
arrays of the category codes. ``sklearn_pangu_strings`` is sklearn_pangu given Frappe's strings
as read from the CSV, which the others cannot take.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import time

import numpy as np
import pandas as pd
import torch
from _memory import reset_peak_rss, status_mib
from scipy.special import expit
from sklearn.metrics import roc_auc_score

from sklearn_pangu._base import auto_predict_batch_size
from sklearn_pangu.datasets import make_ctr_classification

EMBEDDING_DIM = 16
HIDDEN_UNITS = (256, 128)
BATCH_SIZE = 4096
LEARNING_RATE = 1e-3
MMOE_EXPERTS = 8
#: Rows per prediction batch for every framework: sklearn_pangu's predict_batch_size='auto' on the CPU.
PREDICT_BATCH_SIZE = auto_predict_batch_size("cpu")
TOWER_UNITS = (64,)
#: Each model's own settings, beside the shared ones above.
MODELS = {
    "deepfm": {"estimator": "DeepFMClassifier", "params": {}},
    "dcn": {"estimator": "DCNClassifier", "params": {"num_cross_layers": 3}},
    "xdeepfm": {
        "estimator": "XDeepFMClassifier",
        "params": {"cin_units": (64, 64), "cin_split_half": True},
    },
    "mmoe": {
        "estimator": "MMOEMultiOutput",
        "params": {"num_experts": MMOE_EXPERTS, "expert_units": HIDDEN_UNITS, "tower_units": TOWER_UNITS},
    },
}
#: sklearn_pangu fed Frappe's raw strings instead of the category columns all frameworks get.
FROM_STRINGS = "sklearn_pangu_strings"
#: Models with two tasks: the label and ``conversion_label``.
MULTITASK = {"mmoe"}
#: Passes over the test rows per process, the fastest kept: one pass takes well under a
#: second, short enough for the machine's drift to swing it by a quarter.
PREDICT_PASSES = 3


def timed_prediction(predict):
    """Seconds of the fastest of ``PREDICT_PASSES`` calls of ``predict()``, and its result."""
    best = float("inf")
    for _ in range(PREDICT_PASSES):
        start = time.perf_counter()
        proba = predict()
        best = min(best, time.perf_counter() - start)
    return best, proba


def encoded(X):
    """The label-encoded arrays the peers are fed: category codes and float32 dense values.

    Code 0 is a value not among the column's categories (a Frappe test id never seen in
    training); the categories take codes 1, 2, ...
    """
    sparse = [c for c in X.columns if str(X[c].dtype) == "category"]
    dense = [c for c in X.columns if c not in sparse]
    codes = {c: X[c].cat.codes.to_numpy().astype(np.int64) + 1 for c in sparse}
    values = {c: X[c].to_numpy(dtype=np.float32) for c in dense}
    cardinalities = {c: len(X[c].cat.categories) + 1 for c in sparse}
    return codes, values, cardinalities


def as_categories(X_train, X_test):
    """String columns as ``category`` with the training set's categories, for label-encoding."""
    text = [c for c in X_train.columns if not pd.api.types.is_numeric_dtype(X_train[c])]
    X_train = X_train.astype({c: "category" for c in text})
    X_test = X_test.astype({c: pd.CategoricalDtype(X_train[c].cat.categories) for c in text})
    return X_train, X_test


def conversion_label(X, y, seed: int) -> np.ndarray:
    """MMoE's second label: a click (``y == 1``) that converts with probability ``sigmoid(2 z)``.

    ``z`` is a fixed function of the row, of about unit variance: the sum, over the columns, of a
    hashed uniform weight of each categorical value (the same for a value wherever it
    occurs) and of each dense value times a fixed normal weight, divided by the square
    root of the number of columns. ``seed`` draws the conversions.
    """
    weights = np.random.default_rng(0).normal(size=X.shape[1])
    z = np.zeros(len(X))
    for weight, column in zip(weights, X.columns, strict=True):
        values = X[column]
        if pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
            z += weight * values.to_numpy(dtype=np.float64)
            continue
        values = values.astype("category")
        hashes = pd.util.hash_array(
            values.cat.categories.astype(str).to_numpy(dtype=object), hash_key=f"{column:_<16}"[:16]
        )
        uniform = (hashes / 2.0**64 - 0.5) * np.sqrt(12.0)
        codes = values.cat.codes.to_numpy()
        z += np.where(codes >= 0, uniform[codes], 0.0)
    z /= np.sqrt(X.shape[1])
    converts = np.random.default_rng(seed).random(len(X)) < expit(2.0 * z)
    return ((np.asarray(y) == 1) & converts).astype(np.int64)


def load_data(args):
    """Training and test rows of ``args.dataset``; two label columns for the multi-task models."""
    if args.dataset == "synthetic":
        X, y = make_ctr_classification(args.n_samples + args.n_samples // 10, random_state=0)
        if args.model in MULTITASK:
            y = np.column_stack([y, conversion_label(X, y, seed=1)])
        n = args.n_samples
        return X.iloc[:n], X.iloc[n:], y[:n], y[n:]
    from bench_quality import load_frappe

    data = load_frappe()
    if data is None:
        raise SystemExit(3)  # bench_peers.py checks for the files before it starts a run
    X_train, X_test, y_train, y_test = data
    if args.frappe_rows:
        X_train, y_train = X_train.iloc[: args.frappe_rows], y_train[: args.frappe_rows]
        X_test, y_test = X_test.iloc[: args.frappe_rows], y_test[: args.frappe_rows]
    if args.model in MULTITASK:
        y_train = np.column_stack([y_train, conversion_label(X_train, y_train, seed=1)])
        y_test = np.column_stack([y_test, conversion_label(X_test, y_test, seed=2)])
    if args.framework != FROM_STRINGS:
        X_train, X_test = as_categories(X_train, X_test)
    return X_train, X_test, y_train, y_test


#: sklearn_pangu with its speed options: ``bench_levers.py`` runs these beside the defaults.
LEVERS = {
    # torch.optim.Adam as a class: its default (foreach) implementation, where 'adam' is fused.
    "sklearn_pangu_foreach_adam": {"optimizer": torch.optim.Adam},
    "sklearn_pangu_sparse": {"sparse_embeddings": True},
    "sklearn_pangu_bf16": {"mixed_precision": "bfloat16"},
    "sklearn_pangu_sparse_bf16": {"sparse_embeddings": True, "mixed_precision": "bfloat16"},
}


def our_estimator(model_name: str, epochs: int, **options):
    import sklearn_pangu

    config = MODELS[model_name]
    shared = {} if model_name in MULTITASK else {"hidden_units": HIDDEN_UNITS}
    return getattr(sklearn_pangu, config["estimator"])(
        **config["params"],
        **shared,
        embedding_dim=EMBEDDING_DIM,
        dropout=0.0,
        batch_norm=True,
        embedding_l2=0.0,
        learning_rate=LEARNING_RATE,
        batch_size=BATCH_SIZE,
        max_epochs=epochs,
        early_stopping=False,
        random_state=0,
        **options,
    )


def run_sklearn_pangu(model_name, X, y, X_test, epochs, **options):
    model = our_estimator(model_name, epochs, **options)
    start = time.perf_counter()
    model.fit(X, y)
    fit_seconds = time.perf_counter() - start
    epoch_seconds = float(sum(model.history_[:, "dur"]))

    def predict():
        proba = model.predict_proba(X_test)
        return np.column_stack([p[:, 1] for p in proba]) if model_name in MULTITASK else proba[:, 1]

    predict_seconds, proba = timed_prediction(predict)
    return fit_seconds, predict_seconds, proba, epoch_seconds


def run_hand_written(model_name, X, y, X_test, epochs, device="cpu", mixed_precision=None):
    """Our torch module of the model under a plain PyTorch loop, fed pre-encoded tensors.

    On a GPU the tensors are moved there once and each epoch's order is drawn there; with
    ``mixed_precision`` (a torch dtype name) the forward passes run under ``torch.autocast``.
    """
    from sklearn_pangu._fields import FieldSpec

    device = torch.device(device)

    def autocast():
        if mixed_precision is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=getattr(torch, mixed_precision))

    def tensors(frame):
        codes, values, _ = encoded(frame)
        # One more shift: sklearn_pangu's encoders keep indices 0 and 1 for missing and unknown.
        dense = np.column_stack(list(values.values())) if values else np.zeros((len(frame), 0), np.float32)
        return torch.from_numpy(np.column_stack(list(codes.values())) + 1), torch.from_numpy(dense)

    _, _, cardinalities = encoded(X)
    spec = FieldSpec(
        categorical_fields=tuple(cardinalities),
        cardinalities=tuple(c + 1 for c in cardinalities.values()),
        dense_features=tuple(c for c in X.columns if c not in cardinalities),
    )
    torch.manual_seed(0)
    estimator = our_estimator(model_name, epochs)
    extra = {"n_tasks": y.shape[1]} if model_name in MULTITASK else {}
    module = estimator._module_class(spec, **estimator._module_params(), **extra).to(device)
    start = time.perf_counter()
    codes, dense = (t.to(device) for t in tensors(X))
    target = torch.from_numpy(np.asarray(y, dtype=np.float32)).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=LEARNING_RATE)

    def loss_fn(logits, target):
        # The sum over the tasks of each task's mean cross-entropy (one task: its mean).
        losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return losses.mean(dim=0).sum()

    module.train()
    loop_start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(target), device=device)
        for s in range(0, len(target), BATCH_SIZE):
            index = order[s : s + BATCH_SIZE]
            with autocast():
                logits = module(codes[index], dense[index])
            loss = loss_fn(logits.float(), target[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    fit_seconds = time.perf_counter() - start
    epoch_seconds = time.perf_counter() - loop_start
    module.eval()
    rows = auto_predict_batch_size(device)

    def predict():
        codes, dense = (t.to(device) for t in tensors(X_test))
        with torch.inference_mode(), autocast():
            logits = [module(codes[s : s + rows], dense[s : s + rows]) for s in range(0, len(codes), rows)]
        return torch.sigmoid(torch.cat(logits).float()).cpu().numpy()

    predict_seconds, proba = timed_prediction(predict)
    return fit_seconds, predict_seconds, proba, epoch_seconds


def run_deepctr_torch(model_name, X, y, X_test, epochs):
    from deepctr_torch.callbacks import Callback
    from deepctr_torch.inputs import DenseFeat, SparseFeat
    from deepctr_torch.models import DCN, MMOE, DeepFM, xDeepFM

    codes, values, cardinalities = encoded(X)
    columns = [
        SparseFeat(c, vocabulary_size=n, embedding_dim=EMBEDDING_DIM) for c, n in cardinalities.items()
    ]
    columns += [DenseFeat(c, 1) for c in values]
    shared = {
        "l2_reg_linear": 0.0,
        "l2_reg_embedding": 0.0,
        "dnn_dropout": 0.0,
        "dnn_use_bn": True,
        "device": "cpu",
        "seed": 0,
    }
    own = MODELS[model_name]["params"]
    loss = "binary_crossentropy"
    if model_name == "mmoe":
        model = MMOE(
            columns,
            num_experts=own["num_experts"],
            expert_dnn_hidden_units=own["expert_units"],
            gate_dnn_hidden_units=(),
            tower_dnn_hidden_units=own["tower_units"],
            l2_reg_dnn=0.0,
            task_types=("binary",) * y.shape[1],
            task_names=tuple(f"task_{t}" for t in range(y.shape[1])),
            **shared,
        )
        loss = [loss] * y.shape[1]
    else:
        shared = {**shared, "dnn_units": HIDDEN_UNITS, "task": "binary"}
    if model_name == "deepfm":
        model = DeepFM(columns, columns, **shared)
    elif model_name == "dcn":
        model = DCN(columns, columns, cross_num=own["num_cross_layers"], l2_reg_cross=0.0, **shared)
    elif model_name == "xdeepfm":
        model = xDeepFM(
            columns,
            columns,
            cin_layer_size=own["cin_units"],
            cin_split_half=own["cin_split_half"],
            **shared,
        )
    model.compile(torch.optim.Adam(model.parameters(), lr=LEARNING_RATE), loss)
    epoch_seconds = []

    class EpochTimer(Callback):
        """The seconds between DeepCTR-Torch's on_epoch_begin and on_epoch_end: its batch loop."""

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)

    start = time.perf_counter()
    model.fit(
        {**codes, **values},
        np.asarray(y),
        batch_size=BATCH_SIZE,
        epochs=epochs,
        verbose=0,
        callbacks=[EpochTimer()],
    )
    fit_seconds = time.perf_counter() - start
    codes, values, _ = encoded(X_test)

    def predict():
        proba = model.predict({**codes, **values}, batch_size=PREDICT_BATCH_SIZE)
        return proba if model_name in MULTITASK else proba.ravel()

    predict_seconds, proba = timed_prediction(predict)
    return fit_seconds, predict_seconds, proba, sum(epoch_seconds)


def run_torch_rechub(model_name, X, y, X_test, epochs):
    from torch.utils.data import DataLoader
    from torch_rechub.basic.features import DenseFeature, SparseFeature
    from torch_rechub.models.multi_task import MMOE
    from torch_rechub.models.ranking import DCN, DeepFM
    from torch_rechub.trainers import CTRTrainer, MTLTrainer
    from torch_rechub.utils.data import PredictDataset, TorchDataset

    codes, values, cardinalities = encoded(X)
    sparse = [SparseFeature(c, vocab_size=n, embed_dim=EMBEDDING_DIM) for c, n in cardinalities.items()]
    dense = [DenseFeature(c) for c in values]
    torch.manual_seed(0)
    mlp_params = {"dims": list(HIDDEN_UNITS), "dropout": 0.0, "activation": "relu"}
    optimizer_params = {"lr": LEARNING_RATE, "weight_decay": 0.0}
    if model_name == "mmoe":
        own = MODELS["mmoe"]["params"]
        tasks = ["classification"] * y.shape[1]
        tower = {"dims": list(own["tower_units"]), "dropout": 0.0, "activation": "relu"}
        model = MMOE(sparse + dense, tasks, own["num_experts"], mlp_params, [tower] * len(tasks))
        trainer = MTLTrainer(
            model, tasks, optimizer_params=optimizer_params, n_epoch=epochs, device="cpu", model_path="/tmp"
        )
    else:
        if model_name == "deepfm":
            model = DeepFM(deep_features=sparse + dense, fm_features=sparse, mlp_params=mlp_params)
        elif model_name == "dcn":
            model = DCN(
                sparse + dense,
                n_cross_layers=MODELS["dcn"]["params"]["num_cross_layers"],
                mlp_params=mlp_params,
            )
        else:
            raise SystemExit(f"torch-rechub has no {model_name}")
        trainer = CTRTrainer(
            model, optimizer_params=optimizer_params, n_epoch=epochs, device="cpu", model_path="/tmp"
        )
    epoch_seconds = []
    train_one_epoch = trainer.train_one_epoch

    def timed_epoch(*args, **kwargs):
        epoch_start = time.perf_counter()
        try:
            return train_one_epoch(*args, **kwargs)
        finally:
            epoch_seconds.append(time.perf_counter() - epoch_start)

    trainer.train_one_epoch = timed_epoch
    start = time.perf_counter()
    # What torch-rechub's DataGenerator.generate_dataloader builds for a training set.
    labels = np.asarray(y, dtype=np.float32)
    loader = DataLoader(TorchDataset({**codes, **values}, labels), batch_size=BATCH_SIZE, shuffle=True)
    if model_name in MULTITASK:
        # MTLTrainer.fit requires a validation loader and scores it after every epoch:
        # one batch of training rows keeps that cost out of the comparison.
        head = {k: v[:BATCH_SIZE] for k, v in {**codes, **values}.items()}
        trainer.fit(loader, DataLoader(TorchDataset(head, labels[:BATCH_SIZE]), batch_size=BATCH_SIZE))
    else:
        trainer.fit(loader)
    fit_seconds = time.perf_counter() - start
    codes, values, _ = encoded(X_test)

    def predict():
        if model_name in MULTITASK:
            test_loader = DataLoader(PredictDataset({**codes, **values}), batch_size=PREDICT_BATCH_SIZE)
        else:
            test_loader = DataLoader(
                TorchDataset({**codes, **values}, np.zeros(len(X_test), dtype=np.float32)),
                batch_size=PREDICT_BATCH_SIZE,
            )
        return np.asarray(trainer.predict(model, test_loader))

    predict_seconds, proba = timed_prediction(predict)
    return fit_seconds, predict_seconds, proba, sum(epoch_seconds)


RUNNERS = {
    "sklearn_pangu": run_sklearn_pangu,
    FROM_STRINGS: run_sklearn_pangu,
    "hand_written": run_hand_written,
    "deepctr_torch": run_deepctr_torch,
    "torch_rechub": run_torch_rechub,
    **{name: functools.partial(run_sklearn_pangu, **options) for name, options in LEVERS.items()},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=list(RUNNERS))
    parser.add_argument("--model", choices=list(MODELS), default="deepfm")
    parser.add_argument("--dataset", choices=["synthetic", "frappe"], default="synthetic")
    parser.add_argument("--n-samples", type=int, default=1_000_000, help="synthetic training rows")
    parser.add_argument("--frappe-rows", type=int, default=None, help="at most this many Frappe rows")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    X_train, X_test, y_train, y_test = load_data(args)
    # torch's first optimizer imports torch._dynamo, about a second once per process. The
    # peers build theirs before their clock starts; this pays it before every framework's.
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    rss_data = status_mib("VmRSS")
    reset_peak_rss()
    fit_seconds, predict_seconds, proba, epoch_seconds = RUNNERS[args.framework](
        args.model, X_train, y_train, X_test, args.epochs
    )
    n_rows = len(X_train)
    if args.model in MULTITASK:
        task_aucs = [roc_auc_score(y_test[:, t], proba[:, t]) for t in range(y_test.shape[1])]
    else:
        task_aucs = [roc_auc_score(y_test, proba)]
    print(
        json.dumps(
            {
                "framework": args.framework,
                "model": args.model,
                "dataset": args.dataset,
                "train_rows": n_rows,
                "test_rows": len(X_test),
                "train_rows_per_s": n_rows * args.epochs / fit_seconds,
                "epoch_rows_per_s": None if epoch_seconds is None else n_rows * args.epochs / epoch_seconds,
                "predict_rows_per_s": len(X_test) / predict_seconds,
                "peak_rss_mib": status_mib("VmHWM"),
                "rss_after_data_mib": rss_data,
                "test_auc": float(np.mean(task_aucs)),
                "task_aucs": task_aucs,
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
