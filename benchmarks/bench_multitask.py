"""Census income and never-married: every multi-task model beside single-task DeepFM and HGB.

Census (bundled) is split 80/10/10 with ``random_state=0``: each estimator trains on
the first 90% and holds out 1/9 of it (10% of all rows, stratified) for its own
early stopping; the last 10% is the test set. Each model is fitted with
``random_state`` 0, 1, ... and the table shows mean ± standard deviation of each
task's test ROC AUC and the training rows/s (rows × epochs / seconds in epochs).

Usage: ``python benchmarks/bench_multitask.py [--models MMOEMultiOutput ...] [--seeds 3]
[--jobs 1] [--threads N] [--device cpu]``
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import sklearn_pangu
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.utils import all_estimators

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, merged_rows, record  # noqa: E402

MULTITASK_MODELS = [name for name, _ in all_estimators() if name.endswith("MultiOutput")]
TASKS = ["income", "never_married"]
#: Models of a click -> conversion funnel: census has no funnel, so they train on one
#: built from it (see ``funnel``) and are scored on the income column only.
FUNNEL_MODELS = ("ESMMMultiOutput", "AITMMultiOutput")


def load_split():
    X, Y = load_census_income(return_X_y=True)
    return train_test_split(X, Y, test_size=0.1, random_state=0)


def fit_and_score(name: str, seed: int, data, threads: int, device: str) -> tuple[list[float], float]:
    """Each task's test ROC AUC and the training rows/s of one fit."""
    torch.set_num_threads(threads)
    X_train, X_test, Y_train, Y_test = data
    if name in ("DeepFMClassifier", "HistGradientBoostingClassifier"):
        aucs, speeds = [], []
        for task in TASKS:
            if name == "DeepFMClassifier":
                model = sklearn_pangu.DeepFMClassifier(
                    validation_fraction=1 / 9, device=device, random_state=seed
                )
                model.fit(X_train, Y_train[task])
                speeds.append(_rows_per_second(model, len(X_train)))
                proba = model.predict_proba(X_test)[:, 1]
            else:
                text = X_train.select_dtypes("str").columns
                model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
                model.fit(X_train.astype({c: "category" for c in text}), Y_train[task])
                proba = model.predict_proba(X_test.astype({c: "category" for c in text}))[:, 1]
            aucs.append(roc_auc_score(Y_test[task], proba))
        return aucs, float(np.mean(speeds)) if speeds else float("nan")
    model = getattr(sklearn_pangu, name)(validation_fraction=1 / 9, device=device, random_state=seed)
    if name in FUNNEL_MODELS:
        model.fit(X_train, funnel(Y_train))
        conversion = model.predict_proba(X_test)[1][:, 1]
        return [roc_auc_score(Y_test["income"], conversion), float("nan")], _rows_per_second(
            model, len(X_train)
        )
    model.fit(X_train, Y_train)
    proba = model.predict_proba(X_test)
    aucs = [roc_auc_score(Y_test[task], p[:, 1]) for task, p in zip(TASKS, proba, strict=True)]
    return aucs, _rows_per_second(model, len(X_train))


def funnel(Y: pd.DataFrame) -> pd.DataFrame:
    """Census as a two-step funnel: 'click' = income or never married, 'conversion' = income."""
    return pd.DataFrame({"click": Y["income"] | Y["never_married"], "conversion": Y["income"]})


def _rows_per_second(model, n_rows: int) -> float:
    history = model.history_
    seconds = sum(history[:, "dur"])
    return n_rows * (1 - model.validation_fraction) * len(history) / seconds


def mean_std(values, digits: int = 4) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MULTITASK_MODELS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--baselines",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also fit single-task DeepFM and HistGradientBoosting per task",
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the recorded rows of the models not measured now (their numbers come from the "
        "earlier run, whose command is kept in the notes)",
    )
    args = parser.parse_args()
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    data = load_split()
    baselines = ["DeepFMClassifier", "HistGradientBoostingClassifier"] if args.baselines else []
    names = [*args.models, *baselines]
    tasks = [(name, seed) for name in names for seed in range(args.seeds)]
    results = Parallel(n_jobs=args.jobs, verbose=5)(
        delayed(fit_and_score)(name, seed, data, threads, args.device) for name, seed in tasks
    )
    rows = []
    for name in names:
        runs = [r for (n, _), r in zip(tasks, results, strict=True) if n == name]
        aucs = np.array([auc for auc, _ in runs])
        speed = np.mean([s for _, s in runs])
        label = {
            "DeepFMClassifier": "DeepFMClassifier, one model per task",
            "HistGradientBoostingClassifier": "HistGradientBoostingClassifier per task (reference)",
        }.get(name, name)
        if name in FUNNEL_MODELS:
            label = f"{name} (funnel: income as the conversion step)"
        never_married = "" if np.isnan(aucs[:, 1]).all() else mean_std(aucs[:, 1])
        rows.append([label, mean_std(aucs[:, 0]), never_married, "" if np.isnan(speed) else f"{speed:,.0f}"])
        print(rows[-1], flush=True)
    earlier = ""
    if args.update:
        rows, earlier = merged_rows("multitask", rows)
    table = markdown_table(["model", "income ROC AUC", "never_married ROC AUC", "training rows/s"], rows)
    record(
        "multitask",
        f"Multi-task: census income and never_married, {args.seeds} seed(s)",
        "python benchmarks/bench_multitask.py " + " ".join(sys.argv[1:]),
        table,
        notes=earlier + f"80/10/10 split (random_state=0); defaults, device={args.device!r}; mean ± standard "
        f"deviation over random_state 0..{args.seeds - 1}; training rows/s counts training rows × "
        "epochs over the seconds spent in epochs (DeepFM: mean of its two single-task fits); "
        f"{threads} torch thread(s) per fit, {args.jobs} fit(s) at a time. ESMM and AITM model a "
        "click -> conversion funnel, which census lacks: they train on click = income or never_married, "
        "conversion = income, and their income AUC is that of the conversion output (pCTCVR for ESMM).",
    )


if __name__ == "__main__":
    main()
