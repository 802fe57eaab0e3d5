"""Train and predict one model (DeepFM, DCN, xDeepFM) with one framework; print its timings as JSON.

Run by ``bench_peers.py``, one process per framework, so that the peak resident
memory is that framework's alone. The frameworks other than ``sklearn_pangu`` and
``hand_written`` need the benchmark environment that ``make bench-peers`` builds.

The network is the same everywhere: embeddings of ``EMBEDDING_DIM`` for the sparse
fields, the model's interaction part (``MODELS``), and an MLP ``HIDDEN_UNITS`` with batch
norm and ReLU (torch-rechub's MLP always has batch norm), no dropout, no L2; Adam with
``LEARNING_RATE``, ``BATCH_SIZE`` rows per step, the given number of epochs.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from _memory import reset_peak_rss, status_mib
from sklearn.metrics import roc_auc_score

from sklearn_pangu.datasets import make_ctr_classification

EMBEDDING_DIM = 16
HIDDEN_UNITS = (256, 128)
BATCH_SIZE = 4096
LEARNING_RATE = 1e-3
PREDICT_BATCH_SIZE = 16_384
#: Each model's own settings, beside the shared ones above.
MODELS = {
    "deepfm": {"estimator": "DeepFMClassifier", "params": {}},
    "dcn": {"estimator": "DCNClassifier", "params": {"num_cross_layers": 3}},
    "xdeepfm": {
        "estimator": "XDeepFMClassifier",
        "params": {"cin_layer_units": (64, 64), "cin_split_half": True},
    },
}


def encoded(X):
    """The label-encoded arrays the peers are fed: category codes and float32 dense values."""
    sparse = [c for c in X.columns if str(X[c].dtype) == "category"]
    dense = [c for c in X.columns if c not in sparse]
    codes = {c: X[c].cat.codes.to_numpy().astype(np.int64) for c in sparse}
    values = {c: X[c].to_numpy(dtype=np.float32) for c in dense}
    cardinalities = {c: len(X[c].cat.categories) for c in sparse}
    return codes, values, cardinalities


def our_estimator(model_name: str, epochs: int):
    import sklearn_pangu

    config = MODELS[model_name]
    return getattr(sklearn_pangu, config["estimator"])(
        **config["params"],
        embedding_dim=EMBEDDING_DIM,
        hidden_units=HIDDEN_UNITS,
        dropout=0.0,
        batch_norm=True,
        embedding_l2=0.0,
        learning_rate=LEARNING_RATE,
        batch_size=BATCH_SIZE,
        max_epochs=epochs,
        early_stopping=False,
        random_state=0,
    )


def run_sklearn_pangu(model_name, X, y, X_test, epochs):
    model = our_estimator(model_name, epochs)
    start = time.perf_counter()
    model.fit(X, y)
    fit_seconds = time.perf_counter() - start
    epoch_seconds = float(sum(model.history_[:, "dur"]))
    start = time.perf_counter()
    proba = model.predict_proba(X_test)[:, 1]
    return fit_seconds, time.perf_counter() - start, proba, epoch_seconds


def run_hand_written(model_name, X, y, X_test, epochs):
    """Our torch module of the model under a plain PyTorch loop, fed pre-encoded tensors."""
    from sklearn_pangu._fields import FieldSpec

    def tensors(frame):
        codes, values, _ = encoded(frame)
        return (
            torch.from_numpy(np.column_stack(list(codes.values())) + 2),
            torch.from_numpy(np.column_stack(list(values.values()))),
        )

    _, _, cardinalities = encoded(X)
    spec = FieldSpec(
        categorical_fields=tuple(cardinalities),
        cardinalities=tuple(c + 2 for c in cardinalities.values()),
        dense_features=tuple(c for c in X.columns if c not in cardinalities),
    )
    torch.manual_seed(0)
    estimator = our_estimator(model_name, epochs)
    module = estimator._module_class(spec, **estimator._module_params())
    start = time.perf_counter()
    codes, dense = tensors(X)
    target = torch.from_numpy(np.asarray(y, dtype=np.float32))
    optimizer = torch.optim.Adam(module.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    module.train()
    loop_start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(target))
        for s in range(0, len(target), BATCH_SIZE):
            index = order[s : s + BATCH_SIZE]
            loss = loss_fn(module(codes[index], dense[index]), target[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    fit_seconds = time.perf_counter() - start
    epoch_seconds = time.perf_counter() - loop_start
    start = time.perf_counter()
    codes, dense = tensors(X_test)
    module.eval()
    with torch.inference_mode():
        proba = torch.cat(
            [
                torch.sigmoid(module(codes[s : s + PREDICT_BATCH_SIZE], dense[s : s + PREDICT_BATCH_SIZE]))
                for s in range(0, len(codes), PREDICT_BATCH_SIZE)
            ]
        ).numpy()
    return fit_seconds, time.perf_counter() - start, proba, epoch_seconds


def run_deepctr_torch(model_name, X, y, X_test, epochs):
    from deepctr_torch.inputs import DenseFeat, SparseFeat
    from deepctr_torch.models import DCN, DeepFM, xDeepFM

    codes, values, cardinalities = encoded(X)
    columns = [
        SparseFeat(c, vocabulary_size=n, embedding_dim=EMBEDDING_DIM) for c, n in cardinalities.items()
    ]
    columns += [DenseFeat(c, 1) for c in values]
    shared = {
        "dnn_hidden_units": HIDDEN_UNITS,
        "l2_reg_linear": 0.0,
        "l2_reg_embedding": 0.0,
        "dnn_dropout": 0.0,
        "dnn_use_bn": True,
        "task": "binary",
        "device": "cpu",
        "seed": 0,
    }
    own = MODELS[model_name]["params"]
    if model_name == "deepfm":
        model = DeepFM(columns, columns, **shared)
    elif model_name == "dcn":
        model = DCN(columns, columns, cross_num=own["num_cross_layers"], l2_reg_cross=0.0, **shared)
    else:
        model = xDeepFM(
            columns,
            columns,
            cin_layer_size=own["cin_layer_units"],
            cin_split_half=own["cin_split_half"],
            **shared,
        )
    model.compile(torch.optim.Adam(model.parameters(), lr=LEARNING_RATE), "binary_crossentropy")
    start = time.perf_counter()
    model.fit({**codes, **values}, np.asarray(y), batch_size=BATCH_SIZE, epochs=epochs, verbose=0)
    fit_seconds = time.perf_counter() - start
    codes, values, _ = encoded(X_test)
    start = time.perf_counter()
    proba = model.predict({**codes, **values}, batch_size=PREDICT_BATCH_SIZE).ravel()
    return fit_seconds, time.perf_counter() - start, proba, None


def run_torch_rechub(model_name, X, y, X_test, epochs):
    from torch.utils.data import DataLoader
    from torch_rechub.basic.features import DenseFeature, SparseFeature
    from torch_rechub.models.ranking import DCN, DeepFM
    from torch_rechub.trainers import CTRTrainer
    from torch_rechub.utils.data import TorchDataset

    codes, values, cardinalities = encoded(X)
    sparse = [SparseFeature(c, vocab_size=n, embed_dim=EMBEDDING_DIM) for c, n in cardinalities.items()]
    dense = [DenseFeature(c) for c in values]
    torch.manual_seed(0)
    mlp_params = {"dims": list(HIDDEN_UNITS), "dropout": 0.0, "activation": "relu"}
    if model_name == "deepfm":
        model = DeepFM(deep_features=sparse + dense, fm_features=sparse, mlp_params=mlp_params)
    elif model_name == "dcn":
        model = DCN(
            sparse + dense, n_cross_layers=MODELS["dcn"]["params"]["num_cross_layers"], mlp_params=mlp_params
        )
    else:
        raise SystemExit("torch-rechub has no xDeepFM")
    trainer = CTRTrainer(
        model,
        optimizer_params={"lr": LEARNING_RATE, "weight_decay": 0.0},
        n_epoch=epochs,
        device="cpu",
        model_path="/tmp",
    )
    start = time.perf_counter()
    # What torch-rechub's DataGenerator.generate_dataloader builds for a training set.
    loader = DataLoader(
        TorchDataset({**codes, **values}, np.asarray(y, dtype=np.float32)),
        batch_size=BATCH_SIZE,
        shuffle=True,
    )
    trainer.fit(loader)
    fit_seconds = time.perf_counter() - start
    codes, values, _ = encoded(X_test)
    start = time.perf_counter()
    test_loader = DataLoader(
        TorchDataset({**codes, **values}, np.zeros(len(X_test), dtype=np.float32)),
        batch_size=PREDICT_BATCH_SIZE,
    )
    proba = np.asarray(trainer.predict(model, test_loader))
    return fit_seconds, time.perf_counter() - start, proba, None


RUNNERS = {
    "sklearn_pangu": run_sklearn_pangu,
    "hand_written": run_hand_written,
    "deepctr_torch": run_deepctr_torch,
    "torch_rechub": run_torch_rechub,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=list(RUNNERS))
    parser.add_argument("--model", choices=list(MODELS), default="deepfm")
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    X, y = make_ctr_classification(args.n_samples + args.n_samples // 10, random_state=0)
    X_train, y_train = X.iloc[: args.n_samples], y[: args.n_samples]
    X_test, y_test = X.iloc[args.n_samples :], y[args.n_samples :]
    rss_data = status_mib("VmRSS")
    reset_peak_rss()
    fit_seconds, predict_seconds, proba, epoch_seconds = RUNNERS[args.framework](
        args.model, X_train, y_train, X_test, args.epochs
    )
    print(
        json.dumps(
            {
                "framework": args.framework,
                "model": args.model,
                "train_rows_per_s": args.n_samples * args.epochs / fit_seconds,
                "epoch_rows_per_s": None
                if epoch_seconds is None
                else args.n_samples * args.epochs / epoch_seconds,
                "predict_rows_per_s": len(X_test) / predict_seconds,
                "peak_rss_mib": status_mib("VmHWM"),
                "rss_after_data_mib": rss_data,
                "test_auc": roc_auc_score(y_test, proba),
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
