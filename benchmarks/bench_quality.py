"""Test ROC AUC and log loss of the ranking estimators with their defaults, over seeds.

Frappe: train on ``valid.csv.gz`` (the estimator holds out its own early-stopping
split), evaluate once on ``test.csv.gz``. Census (bundled): income task, 80/20
split with ``random_state=0``. Each model is fitted with ``random_state`` 0, 1, ...
and the table shows mean ± standard deviation. Frappe is research-only data read
from ``../shared/data/frappe`` (or ``$SKLEARN_PANGU_SHARED_DATA/frappe``); it is
skipped with a message when absent.

Usage: ``python benchmarks/bench_quality.py [--models DeepFMClassifier ...]
[--datasets frappe census] [--seeds 3] [--jobs 1] [--threads N] [--device cpu]``

``--jobs`` fits that many models at once in separate processes, each with
``--threads`` torch threads (default: all cores divided by the jobs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

import sklearn_pangu
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.utils import all_estimators

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, merged_rows, record  # noqa: E402

SHARED_DATA = Path(
    os.environ.get("SKLEARN_PANGU_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
FRAPPE = SHARED_DATA / "frappe"
DESCRIPTIONS = {
    "frappe": "Frappe (train valid.csv.gz, test test.csv.gz)",
    "census": "census income (bundled, 80/20 split, random_state=0)",
}
RANKING_MODELS = [
    name for name, cls in all_estimators() if name.endswith("Classifier") and hasattr(cls, "_module_class")
]


def load_frappe():
    if not (FRAPPE / "valid.csv.gz").exists():
        print(f"Frappe skipped: {FRAPPE} is not available (research-only data, not in the repo).")
        return None
    train = pd.read_csv(FRAPPE / "valid.csv.gz", dtype=str)
    test = pd.read_csv(FRAPPE / "test.csv.gz", dtype=str)
    y_train = train.pop("label").astype(int).to_numpy()
    y_test = test.pop("label").astype(int).to_numpy()
    return train, test, y_train, y_test


def load_census():
    X, Y = load_census_income(return_X_y=True)
    return train_test_split(X, Y["income"].to_numpy(), test_size=0.2, random_state=0)


def fit_and_score(name: str, seed: int, data, threads: int, device: str) -> tuple[float, float, int, float]:
    """Fit ``name`` with its defaults and ``random_state=seed``; test AUC, log loss, epochs, seconds."""
    torch.set_num_threads(threads)
    X_train, X_test, y_train, y_test = data
    if name == "HistGradientBoostingClassifier":
        model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
        text = X_train.select_dtypes("str").columns
        X_train = X_train.astype({c: "category" for c in text})
        X_test = X_test.astype({c: "category" for c in text})
    else:
        model = getattr(sklearn_pangu, name)(device=device, random_state=seed)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)[:, 1]
    return roc_auc_score(y_test, proba), log_loss(y_test, proba), getattr(model, "n_iter_", 0), seconds


def mean_std(values: list[float], digits: int = 4) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=RANKING_MODELS)
    parser.add_argument("--datasets", nargs="+", default=["frappe", "census"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the recorded rows of the models not measured now (their numbers come from the "
        "earlier run, whose command is kept in the notes)",
    )
    args = parser.parse_args()
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    loaders = {"frappe": load_frappe, "census": load_census}
    for dataset in args.datasets:
        data = loaders[dataset]()
        if data is None:
            continue
        names = list(args.models)
        if dataset == "census":
            names.append("HistGradientBoostingClassifier")
        tasks = [(name, seed) for name in names for seed in range(args.seeds)]
        results = Parallel(n_jobs=args.jobs)(
            delayed(fit_and_score)(name, seed, data, threads, args.device) for name, seed in tasks
        )
        rows = []
        for name in names:
            runs = [r for (n, _), r in zip(tasks, results, strict=True) if n == name]
            auc, loss, epochs, seconds = (list(column) for column in zip(*runs, strict=True))
            label = f"{name} (reference)" if name == "HistGradientBoostingClassifier" else name
            rows.append([label, mean_std(auc), mean_std(loss), mean_std(epochs, 1), mean_std(seconds, 0)])
            print(dataset, rows[-1], flush=True)
        earlier = ""
        if args.update:
            rows, earlier = merged_rows(f"quality_{dataset}", rows)
        record(
            f"quality_{dataset}",
            f"Quality on {DESCRIPTIONS[dataset]}: default hyper-parameters, {args.seeds} seeds",
            "python benchmarks/bench_quality.py " + " ".join(sys.argv[1:]),
            markdown_table(["model", "test ROC AUC", "test log loss", "epochs", "fit seconds"], rows),
            notes=earlier + f"device={args.device!r}. Mean ± standard deviation over random_state "
            f"0..{args.seeds - 1}; epochs is n_iter_ (early stopping on a stratified 10% validation "
            "split of the training rows; boosting iterations for HistGradientBoosting); fit seconds "
            f"with {threads} torch thread(s) per fit and {args.jobs} fit(s) at a time.",
        )


if __name__ == "__main__":
    main()
