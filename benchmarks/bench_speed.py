"""Training and prediction rows/s of DeepFMClassifier against a hand-written PyTorch loop.

Both train the same network (the same DeepFM module, embedding size, hidden
units, batch size, Adam and learning rate, embedding L2 included) for the same
number of epochs on ``make_ctr_classification`` data (26 sparse columns with
cardinalities up to 100,000 and 13 dense ones). The hand-written loop starts from
tensors it builds from the category codes; ``fit`` and ``predict_proba`` start
from the raw DataFrame, so their numbers include the feature encoding.

Usage: ``python benchmarks/bench_speed.py [--n-samples 200000] [--epochs 2]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu._base import auto_predict_batch_size
from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.models.ranking import DeepFMModule
from sklearn_pangu.nn import FieldEmbedding

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402


def hand_written_tensors(X, sparse, dense_columns):
    codes = np.column_stack([X[c].cat.codes.to_numpy().astype(np.int64) + 2 for c in sparse])
    dense = X[dense_columns].to_numpy(dtype=np.float32)
    return torch.from_numpy(codes), torch.from_numpy(dense)


def hand_written_fit(module, codes, dense, y, *, batch_size, learning_rate, epochs) -> None:
    optimizer = torch.optim.Adam(module.parameters(), lr=learning_rate)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    regularized = [m for m in module.modules() if isinstance(m, FieldEmbedding) and m.l2 > 0]
    module.train()
    for _ in range(epochs):
        order = torch.randperm(len(y))
        for start in range(0, len(y), batch_size):
            index = order[start : start + batch_size]
            loss = loss_fn(module(codes[index], dense[index]), y[index])
            for embedding in regularized:
                loss = loss + embedding.pop_penalty()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


@torch.inference_mode()
def hand_written_predict(module, codes, dense) -> np.ndarray:
    batch_size = auto_predict_batch_size("cpu")  # as DeepFMClassifier predicts on the CPU
    module.eval()
    parts = [
        torch.sigmoid(module(codes[s : s + batch_size], dense[s : s + batch_size]))
        for s in range(0, len(codes), batch_size)
    ]
    return torch.cat(parts).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    args = parser.parse_args()

    X, y = make_ctr_classification(args.n_samples, n_sparse=26, n_dense=13, random_state=0)
    n = len(y)
    params = dict(
        embedding_dim=10,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        embedding_l2=0.01,
        learning_rate=1e-3,
        batch_size=4096,
    )
    sparse = [c for c in X.columns if c.startswith("C")]
    dense_columns = [c for c in X.columns if c.startswith("I")]

    timings = {"ours_fit": [], "ours_epochs": [], "hand_fit": [], "ours_predict": [], "hand_predict": []}
    for repeat in range(args.repeats):
        model = DeepFMClassifier(**params, max_epochs=args.epochs, early_stopping=False, random_state=repeat)
        start = time.perf_counter()
        model.fit(X, y)
        timings["ours_fit"].append(time.perf_counter() - start)
        timings["ours_epochs"].append(sum(model.history_[:, "dur"]))
        start = time.perf_counter()
        model.predict_proba(X)
        timings["ours_predict"].append(time.perf_counter() - start)

        torch.manual_seed(repeat)
        start = time.perf_counter()
        codes, dense = hand_written_tensors(X, sparse, dense_columns)
        spec = FieldSpec(
            tuple(sparse), tuple(X[c].cat.categories.size + 2 for c in sparse), tuple(dense_columns)
        )
        module = DeepFMModule(
            spec,
            **{
                k: params[k]
                for k in ("embedding_dim", "hidden_units", "dropout", "batch_norm", "embedding_l2")
            },
        )
        hand_written_fit(
            module,
            codes,
            dense,
            torch.as_tensor(y, dtype=torch.float32),
            batch_size=4096,
            learning_rate=1e-3,
            epochs=args.epochs,
        )
        timings["hand_fit"].append(time.perf_counter() - start)
        start = time.perf_counter()
        codes, dense = hand_written_tensors(X, sparse, dense_columns)
        hand_written_predict(module, codes, dense)
        timings["hand_predict"].append(time.perf_counter() - start)

    best = {k: min(v) for k, v in timings.items()}
    fit_rows = n * args.epochs
    rows = [
        [
            "DeepFMClassifier.fit (raw DataFrame, encoding included)",
            fit_rows / best["ours_fit"],
            best["hand_fit"] / best["ours_fit"],
        ],
        [
            "DeepFMClassifier training epochs only (sum of history dur)",
            fit_rows / best["ours_epochs"],
            best["hand_fit"] / best["ours_epochs"],
        ],
        ["hand-written PyTorch loop", fit_rows / best["hand_fit"], 1.0],
        [
            "DeepFMClassifier.predict_proba (raw DataFrame)",
            n / best["ours_predict"],
            best["hand_predict"] / best["ours_predict"],
        ],
        ["hand-written inference loop", n / best["hand_predict"], 1.0],
    ]
    table = markdown_table(["what", "rows/s", "× hand-written"], rows)
    record(
        "speed",
        f"Speed: DeepFM, {n:,} synthetic rows, {args.epochs} epochs",
        "python benchmarks/bench_speed.py " + " ".join(sys.argv[1:]),
        table,
        notes=f"make_ctr_classification({n}, 26 sparse up to 100,000 ids, 13 dense); DeepFM with "
        "embedding 10, MLP 400-400-400 with batch norm and dropout 0.2, embedding L2 0.01, Adam 1e-3, "
        "batch 4096, no early "
        f"stopping; best of {args.repeats} runs. Training rows/s count rows × epochs.",
    )


if __name__ == "__main__":
    main()
