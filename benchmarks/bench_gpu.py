"""DeepFMClassifier on a CUDA GPU: census quality, CPU reload, rows/s beside a hand-written loop.

Trains on the bundled census data (income task, 80/20 split, random_state=0) with
``device='cuda'``, saves the model with joblib and reloads it with CUDA hidden to check
that the CPU predictions match. Then times the DeepFM network of the peers table
(``_speed_runner.py``) on ``make_ctr_classification`` rows: sklearn_pangu in float32 and
bfloat16, with and without sparse embedding gradients, beside a hand-written PyTorch loop
of the same module on the same card. Skips with a message when no GPU is present.

Usage: ``python benchmarks/bench_gpu.py [--n-samples 1000000] [--repeats 2]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import load_census_income

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402
from _speed_runner import PREDICT_PASSES, load_data, run_hand_written, run_sklearn_pangu  # noqa: E402

RELOAD_ON_CPU = """
import sys, joblib, numpy as np
model = joblib.load(sys.argv[1]); X = joblib.load(sys.argv[2])
np.save(sys.argv[3], model.predict_proba(X))
"""


#: (label, sklearn_pangu's options or None for the hand-written loop, autocast dtype)
SETTINGS = [
    ("sklearn_pangu, float32", {}, None),
    ("sklearn_pangu, float32, sparse_embeddings", {"sparse_embeddings": True}, None),
    ("sklearn_pangu, bfloat16", {"mixed_precision": "bfloat16"}, "bfloat16"),
    (
        "sklearn_pangu, bfloat16, sparse_embeddings",
        {"mixed_precision": "bfloat16", "sparse_embeddings": True},
        "bfloat16",
    ),
    ("hand-written loop, float32", None, None),
    ("hand-written loop, bfloat16", None, "bfloat16"),
]
SPEEDS = ("train", "epoch", "predict")

NOTES = """\
The census run uses the estimator's defaults. The speed table trains the DeepFM network of the
peers table (`benchmarks/_speed_runner.py`: embeddings of 16, MLP (256, 128) with batch norm, Adam
1e-3, batch 4096) for one epoch on {n:,} rows of `make_ctr_classification` and predicts 10% more
rows (the fastest of {passes} passes); best of {repeats} interleaved repeats, after one warm-up run
of each setting on 20,000 rows.
Training rows/s include encoding the DataFrame on the CPU (for the hand-written loop, label-encoding
the category columns and moving the tensors to the card); "epoch" times the training epoch alone.
The hand-written loop builds its module before its clock starts, moves all its data to the card
once and never waits for the card. sklearn_pangu's fit builds and initialises the network inside
its clock, keeps the encoded data on the host and copies each batch to the card, and reads each
batch's loss on the host (skorch records it, and a NaN loss stops training), so the host waits for
the card once per batch.
"""


def census_rows(device: str) -> list[list]:
    """Census income quality with the defaults on ``device``, and the CPU reload's largest difference."""
    X, Y = load_census_income(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, Y["income"].to_numpy(), test_size=0.2, random_state=0
    )
    model = DeepFMClassifier(device=device, random_state=0)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)
    auc = roc_auc_score(y_test, proba[:, 1])
    with tempfile.TemporaryDirectory() as tmp:
        joblib.dump(model, f"{tmp}/model.joblib")
        joblib.dump(X_test, f"{tmp}/X.joblib")
        subprocess.run(
            [sys.executable, "-c", RELOAD_ON_CPU, f"{tmp}/model.joblib", f"{tmp}/X.joblib", f"{tmp}/p.npy"],
            check=True,
            env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        )
        cpu_proba = np.load(f"{tmp}/p.npy")
    max_diff = float(np.abs(cpu_proba - proba).max())
    return [
        ["census income, defaults", f"{auc:.4f}", model.n_iter_, round(fit_seconds, 1)],
        ["reloaded with CUDA hidden: max |p_cpu - p_gpu|", f"{max_diff:.2e}", "", ""],
    ]


def run_setting(options, dtype, data, device: str) -> dict:
    """One fit and prediction of a setting: its rows/s and test AUC."""
    X, X_test, y, y_test = data
    if options is None:
        timings = run_hand_written("deepfm", X, y, X_test, 1, device=device, mixed_precision=dtype)
    else:
        timings = run_sklearn_pangu("deepfm", X, y, X_test, 1, device=device, **options)
    fit_seconds, predict_seconds, proba, epoch_seconds = timings
    return {
        "train": len(X) / fit_seconds,
        "epoch": len(X) / epoch_seconds,
        "predict": len(X_test) / predict_seconds,
        "auc": roc_auc_score(y_test, proba),
    }


def speed_table(n_samples: int, repeats: int, device: str) -> str:
    """Rows/s of each setting (best of ``repeats``) and their ratio to the loop's in the same dtype."""
    warm_up = load_data(argparse.Namespace(dataset="synthetic", model="deepfm", n_samples=20_000))
    for _, options, dtype in SETTINGS:
        run_setting(options, dtype, warm_up, device)
    data = load_data(argparse.Namespace(dataset="synthetic", model="deepfm", n_samples=n_samples))
    runs = {label: [] for label, *_ in SETTINGS}
    for repeat in range(repeats):
        for label, options, dtype in SETTINGS:
            result = run_setting(options, dtype, data, device)
            runs[label].append(result)
            print(f"{label}, repeat {repeat + 1}: {result}", flush=True)
    best = {label: {k: max(r[k] for r in results) for k in SPEEDS} for label, results in runs.items()}
    rows = []
    for label, _, dtype in SETTINGS:
        loop = best[f"hand-written loop, {dtype or 'float32'}"]
        rows.append(
            [
                label,
                *(f"{best[label][k]:,.0f}" for k in SPEEDS),
                " / ".join(f"{best[label][k] / loop[k]:.2f}" for k in SPEEDS),
                f"{runs[label][0]['auc']:.4f}",
            ]
        )
    header = [
        "setting",
        "training rows/s",
        "epoch rows/s",
        "prediction rows/s",
        "× the hand-written loop in its dtype (training / epoch / prediction)",
        "test AUC (first repeat)",
    ]
    return markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1_000_000, help="synthetic training rows")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved runs of each setting")
    parser.add_argument(
        "--device", default="cuda", help="the CUDA device, or 'cpu' for a smoke test that records nothing"
    )
    parser.add_argument("--no-record", action="store_true", help="print the tables, leave RESULTS.md")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("bench_gpu skipped: no CUDA GPU on this machine.")
        return
    census = markdown_table(
        ["run", "test ROC AUC / value", "epochs", "fit seconds"], census_rows(args.device)
    )
    print(census, flush=True)
    speed = speed_table(args.n_samples, args.repeats, args.device)
    if args.no_record or not args.device.startswith("cuda"):
        print(speed)
        return
    record(
        "gpu",
        "GPU: DeepFMClassifier(device='cuda') beside a hand-written loop on the same card",
        "python benchmarks/bench_gpu.py " + " ".join(sys.argv[1:]),
        census + "\n\n" + speed,
        notes=NOTES.format(n=args.n_samples, repeats=args.repeats, passes=PREDICT_PASSES),
    )


if __name__ == "__main__":
    main()
