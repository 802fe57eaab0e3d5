"""Test ROC AUC and log loss of the ranking estimators with their defaults.

Frappe: train on ``valid.csv.gz`` (the estimator holds out its own early-stopping
split), evaluate once on ``test.csv.gz``. Census (bundled): income task, 80/20
split with ``random_state=0``. Frappe is research-only data read from
``../shared/data/frappe``; it is skipped with a message when absent.

Usage: ``python benchmarks/bench_quality.py [--models DeepFMClassifier ...] [--datasets frappe census]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

import sklearn_pangu
from sklearn_pangu.datasets import load_census_income

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402

FRAPPE = Path(__file__).resolve().parents[2] / "shared" / "data" / "frappe"
MODELS = ["LRClassifier", "FMClassifier", "WideDeepClassifier", "DeepFMClassifier"]


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


def evaluate(model, data) -> list:
    X_train, X_test, y_train, y_test = data
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)[:, 1]
    epochs = getattr(model, "n_iter_", "")
    return [roc_auc_score(y_test, proba), log_loss(y_test, proba), epochs, round(seconds, 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--datasets", nargs="+", default=["frappe", "census"])
    args = parser.parse_args()
    loaders = {"frappe": load_frappe, "census": load_census}
    rows = []
    for dataset in args.datasets:
        data = loaders[dataset]()
        if data is None:
            continue
        for name in args.models:
            result = evaluate(getattr(sklearn_pangu, name)(random_state=0), data)
            rows.append([dataset, name, *result])
            print(rows[-1], flush=True)
        if dataset == "census":
            hgb = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
            X_train, X_test, *_ = data
            text = X_train.select_dtypes("str").columns
            data = (
                X_train.astype({c: "category" for c in text}),
                X_test.astype({c: "category" for c in text}),
                *data[2:],
            )
            rows.append([dataset, "HistGradientBoostingClassifier (reference)", *evaluate(hgb, data)])
    table = markdown_table(["data", "model", "test ROC AUC", "test log loss", "epochs", "fit seconds"], rows)
    record(
        "quality",
        "Quality: default hyper-parameters",
        "python benchmarks/bench_quality.py " + " ".join(sys.argv[1:]),
        table,
        notes="Each model is fitted once with its defaults and random_state=0; epochs is n_iter_ "
        "(early stopping on a stratified 10% validation split of the training rows).",
    )


if __name__ == "__main__":
    main()
