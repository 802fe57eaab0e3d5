"""DeepFMClassifier on a CUDA GPU: census quality, training and prediction rows/s, CPU reload.

Trains on the bundled census data (income task, 80/20 split, random_state=0) and on
``make_ctr_classification`` rows with ``device='cuda'``, then saves the census model
with joblib and reloads it with CUDA hidden to check that the CPU predictions match.
Skips with a message when no GPU is present.

Usage: ``python benchmarks/bench_gpu.py [--n-samples 1000000]``
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
from sklearn_pangu.datasets import load_census_income, make_ctr_classification

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402

RELOAD_ON_CPU = """
import sys, joblib, numpy as np
model = joblib.load(sys.argv[1]); X = joblib.load(sys.argv[2])
np.save(sys.argv[3], model.predict_proba(X))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_gpu skipped: no CUDA GPU on this machine.")
        return
    rows = []
    X, Y = load_census_income(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, Y["income"].to_numpy(), test_size=0.2, random_state=0
    )
    model = DeepFMClassifier(device="cuda", random_state=0)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)
    auc = roc_auc_score(y_test, proba[:, 1])
    rows.append(["census income, defaults", f"{auc:.4f}", model.n_iter_, round(fit_seconds, 1), ""])

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
    rows.append(["reloaded with CUDA hidden: max |p_cpu - p_gpu|", f"{max_diff:.2e}", "", "", ""])

    Xs, ys = make_ctr_classification(args.n_samples, random_state=0)
    synthetic = DeepFMClassifier(
        device="cuda", batch_size=4096, max_epochs=1, early_stopping=False, random_state=0
    )
    start = time.perf_counter()
    synthetic.fit(Xs, ys)
    fit_seconds = time.perf_counter() - start
    epoch_seconds = synthetic.history_[-1, "dur"]
    start = time.perf_counter()
    synthetic.predict_proba(Xs)
    predict_seconds = time.perf_counter() - start
    rows.append(
        [
            f"synthetic {args.n_samples:,} rows, 1 epoch, batch 4096",
            "",
            1,
            round(fit_seconds, 1),
            f"fit {args.n_samples / fit_seconds:,.0f}; epoch only {args.n_samples / epoch_seconds:,.0f}; "
            f"predict_proba {args.n_samples / predict_seconds:,.0f}",
        ]
    )
    record(
        "gpu",
        "GPU: DeepFMClassifier(device='cuda')",
        "python benchmarks/bench_gpu.py " + " ".join(sys.argv[1:]),
        markdown_table(["run", "test ROC AUC / value", "epochs", "fit seconds", "rows/s"], rows),
        notes="Encoding runs on the CPU; batches move to the GPU as they are used (no pinned memory yet).",
    )


if __name__ == "__main__":
    main()
