"""Test quality of every estimator with its defaults: ranking on Frappe and census, multi-task on census.

Ranking estimators: the test ROC AUC and log loss, the epochs (``n_iter_``: early stopping
on the estimator's own stratified 10% validation split) and the fit seconds, as mean ±
standard deviation over ``--seeds`` fits with ``random_state`` 0, 1, ... Frappe: train on
``valid.csv.gz``, test on ``test.csv.gz`` (research-only data read from
``../shared/data/frappe``, skipped with the reason when absent). Census income (bundled):
the ``income`` label, 80/20 split with ``random_state=0``, beside
HistGradientBoostingClassifier (its text columns ordinal-encoded) as the reference. The
behaviour-sequence models (DIN, DIEN, BST) need a history column: ``bench_sequences.py``.

Multi-task estimators, on census only (Frappe has one label): the same split with both
labels, ``income`` and ``never_married``, and each task's test ROC AUC, beside
DeepFMClassifier and HistGradientBoostingClassifier fitted once per task. ESMM and AITM
model a click -> conversion funnel, which census lacks: they train on click = income or
never_married, conversion = income, and are scored on income with their conversion
output (pCTCVR for ESMM).

``--options KEY=VALUE[,KEY=VALUE]`` fits every model with these parameters too, one set
per argument (what a speed option costs in quality). ``--jobs`` fits that many models at
once, in separate processes with ``--threads`` torch threads each (default: the cores
divided by the jobs).

Usage: ``python benchmarks/bench_quality.py [--quick | --record] [--models DeepFMClassifier ...]
[--datasets frappe census] [--seeds 3] [--rows N] [--jobs 1] [--threads N] [--device cpu]
[--options KEY=VALUE ...]``
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.metrics import log_loss, roc_auc_score

import sklearn_pangu
from sklearn_pangu.utils import all_estimators

sys.path.insert(0, str(Path(__file__).parent))
import _common  # noqa: E402

#: The behaviour models (DIN, DIEN, BST) need a history column, which Frappe and census lack:
#: ``bench_sequences.py`` measures them.
ESTIMATORS = [
    name
    for name, cls in all_estimators()
    if hasattr(cls, "_module_class") and "behavior_features" not in cls().get_params()
]
RANKING = [name for name in ESTIMATORS if name.endswith("Classifier")]
MULTITASK = [name for name in ESTIMATORS if name.endswith("MultiOutput")]
#: Census has no funnel: these train on one built from its two labels (see ``funnel``).
FUNNEL = ("ESMMMultiOutput", "AITMMultiOutput")
TASKS = ("income", "never_married")
REFERENCE = "HistGradientBoostingClassifier"
PER_TASK = "DeepFMClassifier, one model per task"
TITLES = {
    "frappe": "Quality on Frappe (train valid.csv.gz, test test.csv.gz)",
    "census": "Quality on census income (bundled, 80/20 split, random_state=0)",
    "multitask": "Multi-task quality on census: income and never_married (80/20 split, random_state=0)",
}


def funnel(Y):
    """Census as a two-step funnel: 'click' = income or never married, 'conversion' = income."""
    import pandas as pd

    return pd.DataFrame({"click": Y["income"] | Y["never_married"], "conversion": Y["income"]})


def estimator(name: str, setting: dict, seed: int, device: str, max_epochs: int | None):
    extra = {"max_epochs": max_epochs} if max_epochs else {}
    return getattr(sklearn_pangu, name)(device=device, random_state=seed, **setting, **extra)


def fit(model, X, y) -> float:
    (seconds,), _ = _common.clock(lambda: model.fit(X, y))
    return seconds


def score_ranking(name, setting, seed, data, threads, device, max_epochs):
    """Test ROC AUC, log loss, epochs and fit seconds of one fit on one label."""
    torch.set_num_threads(threads)
    X_train, X_test, y_train, y_test = data
    if name == REFERENCE:
        model = _common.gradient_boosting(X_train, random_state=seed)
        seconds = fit(model, X_train, y_train)
        epochs = model[-1].n_iter_
    else:
        model = estimator(name, setting, seed, device, max_epochs)
        seconds = fit(model, X_train, y_train)
        epochs = model.n_iter_
    proba = model.predict_proba(X_test)[:, 1]
    return roc_auc_score(y_test, proba), log_loss(y_test, proba), epochs, seconds


def score_multitask(name, setting, seed, data, threads, device, max_epochs):
    """Each task's test ROC AUC (NaN where a model has no such output), epochs and fit seconds."""
    torch.set_num_threads(threads)
    X_train, X_test, Y_train, Y_test = data
    if name in (PER_TASK, REFERENCE):
        aucs, epochs, seconds = [], [], 0.0
        for task in TASKS:
            if name == REFERENCE:
                model = _common.gradient_boosting(X_train, random_state=seed)
            else:
                model = estimator("DeepFMClassifier", setting, seed, device, max_epochs)
            seconds += fit(model, X_train, Y_train[task])
            epochs.append(model[-1].n_iter_ if name == REFERENCE else model.n_iter_)
            aucs.append(roc_auc_score(Y_test[task], model.predict_proba(X_test)[:, 1]))
        return aucs, float(np.mean(epochs)), seconds
    model = estimator(name, setting, seed, device, max_epochs)
    if name in FUNNEL:
        seconds = fit(model, X_train, funnel(Y_train))
        conversion = model.predict_proba(X_test)[1][:, 1]
        return [roc_auc_score(Y_test["income"], conversion), float("nan")], model.n_iter_, seconds
    seconds = fit(model, X_train, Y_train[list(TASKS)])
    proba = model.predict_proba(X_test)
    aucs = [roc_auc_score(Y_test[task], p[:, 1]) for task, p in zip(TASKS, proba, strict=True)]
    return aucs, model.n_iter_, seconds


def label(name: str, setting: dict) -> str:
    shown = {REFERENCE: f"{REFERENCE} (reference)"}.get(name, name)
    if name in FUNNEL:
        shown += " (funnel: income as the conversion step)"
    return shown + (f", {_common.describe(setting)}" if setting else "")


def run(args, kind: str, names: list[str], data, threads: int) -> str:
    """Fit every (model, setting, seed) and return the table of one data set."""
    settings = [{}, *(_common.options(text) for text in args.options)]
    tasks = [
        (name, setting, seed)
        for setting in settings
        for name in names
        if not (setting and name == REFERENCE)
        for seed in range(args.seeds)
    ]
    score = score_multitask if kind == "multitask" else score_ranking
    max_epochs = 2 if args.quick else None
    results = Parallel(n_jobs=args.jobs)(
        delayed(score)(name, setting, seed, data, threads, args.device, max_epochs)
        for name, setting, seed in tasks
    )
    rows = {}
    for (name, setting, _), result in zip(tasks, results, strict=True):
        rows.setdefault(label(name, setting), []).append(result)
    table = []
    for shown, runs in rows.items():
        if kind == "multitask":
            aucs = np.array([r[0] for r in runs])
            cells = [_common.mean_std(aucs[:, 0]), _common.mean_std(aucs[:, 1])]
            cells += [_common.mean_std([r[1] for r in runs], 1), _common.mean_std([r[2] for r in runs], 0)]
        else:
            cells = [_common.mean_std([r[i] for r in runs], digits) for i, digits in enumerate((4, 4, 1, 0))]
        table.append([shown, *cells])
        print(kind, table[-1], flush=True)
    if kind == "multitask":
        header = ["model", "income ROC AUC", "never_married ROC AUC", "epochs", "fit seconds"]
    else:
        header = ["model", "test ROC AUC", "test log loss", "epochs", "fit seconds"]
    return _common.markdown_table(header, table)


def notes(args, kind: str, threads: int) -> str:
    text = (
        f"Defaults{' and the options named' if args.options else ''}, device={args.device!r}; mean ± "
        f"standard deviation over random_state 0..{args.seeds - 1}. Epochs is n_iter_: early stopping on "
        "a stratified 10% validation split of the training rows (boosting iterations for "
        f"HistGradientBoosting). Fit seconds with {threads} torch thread(s) per fit and {args.jobs} fit(s) "
        "at a time."
    )
    if args.rows:
        text += f" At most {args.rows:,} training and test rows."
    if kind == "multitask":
        text += (
            " DeepFM and HistGradientBoosting: one model per task, epochs the mean and fit seconds the "
            "sum of the two. ESMM and AITM train on click = income or never_married, conversion = income, "
            "and their income AUC is that of the conversion output (pCTCVR for ESMM)."
        )
    return text


def main() -> None:
    parser = _common.parser(
        __doc__.splitlines()[0], models=None, seeds=3, rows=None, device="cpu", threads=None
    )
    parser.add_argument("--datasets", nargs="+", choices=["frappe", "census"], default=["frappe", "census"])
    parser.add_argument("--jobs", type=int, default=1, help="fits at a time, each in its own process")
    parser.add_argument(
        "--options",
        nargs="+",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE]",
        help="also every model with these parameters, one set per argument",
    )
    args = _common.parse(parser, quick={"seeds": 1, "rows": 2_000})
    models = args.models or (
        ["DeepFMClassifier", "MMOEMultiOutput", "ESMMMultiOutput"] if args.quick else ESTIMATORS
    )
    unknown = sorted(set(models) - set(ESTIMATORS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose among {ESTIMATORS}")
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    parts = [_common.describe(_common.options(text)) for text in args.options]
    parts += [args.device] if args.device != "cpu" else []
    parts += [f"{args.rows} rows"] if args.rows else []
    ranking = [m for m in models if m in RANKING]
    multitask = [m for m in models if m in MULTITASK]
    runs = []
    if "frappe" in args.datasets and ranking:
        runs.append(("frappe", "quality_frappe", ranking, RANKING))
    if "census" in args.datasets and ranking:
        runs.append(("census", "quality_census", ranking, RANKING))
    if "census" in args.datasets and multitask:
        runs.append(("multitask", "quality_census_multitask", multitask, MULTITASK))
    started = time.perf_counter()
    for kind, base, chosen, every in runs:
        if kind == "frappe":
            data = _common.load_frappe(args.rows)
            if data is None:
                continue
        else:
            X_train, X_test, Y_train, Y_test = _common.load_census(args.rows)
            if kind == "census":
                Y_train, Y_test = Y_train["income"], Y_test["income"]
            data = X_train, X_test, Y_train, Y_test
        references = {"frappe": [], "census": [REFERENCE], "multitask": [PER_TASK, REFERENCE]}[kind]
        table = run(args, kind, [*chosen, *references], data, threads)
        subset = [] if chosen == every else _common.short_names(chosen)
        title = f"{TITLES[kind]}: default hyper-parameters, {args.seeds} seed(s)"
        section = _common.section_name(base, *subset, *parts)
        _common.publish(args, section, title, table, notes(args, kind, threads), args.device)
    print(f"bench_quality took {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    main()
