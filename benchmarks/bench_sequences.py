"""Quality with list fields and behaviour sequences: MovieLens and the synthetic behaviour data.

Each row of the table is a model and the columns it sees, fitted with its defaults on the
same rows, test ROC AUC and log loss as mean ± standard deviation over ``--seeds`` fits
(``random_state`` 0, 1, ...). Early stopping uses the estimator's own stratified 10%
validation split of the training rows; test rows never enter a fit.

Data sets:

- ``movielens``: MovieLens ml-latest-small (research-only, read from
  ``../shared/data/movielens_latest_small``, skipped with the reason when absent), a
  rating >= 4 is a click, the last 20% of each user's ratings by time are the test rows
  (see ``_movielens.py``);
- ``movielens_time``: the same rows, with one time cut for every user: the ratings after
  the 80% quantile of all the timestamps are the test rows;
- ``behavior``: ``make_behavior_classification(60_000, random_state=0)``, the first 50,000
  rows to train, where a click's log-odds rise with the number of history items in the
  target item's group.

The models (``--models``, short names): ``lr`` (LRClassifier on the ids), ``hgb``
(HistGradientBoostingClassifier, which cannot read lists: the ids, the first genre and
the lists' lengths), ``deepfm`` (the ids), ``deepfm_genres`` (the ids and ``genres``),
``deepfm_history`` (every column, the history mean-pooled in the movie vocabulary),
``din``, ``dien`` and ``bst`` (every column, ``behavior_features={"history": <item>}``),
``bst_mean`` and ``bst_concat`` (BST reading the mean of its outputs or all of them; by
default on ``behavior`` only).

Usage: ``python benchmarks/bench_sequences.py [--quick | --record] [--datasets movielens
movielens_time behavior] [--models din ...] [--seeds 3] [--jobs 1] [--threads N]``
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch
from joblib import Parallel, delayed
from sklearn.metrics import log_loss, roc_auc_score

import sklearn_pangu

sys.path.insert(0, str(Path(__file__).parent))
import _common  # noqa: E402
import _movielens  # noqa: E402

TITLES = {
    "movielens": "Behaviour sequences on MovieLens, per-user time split (last 20% of each user's ratings)",
    "movielens_time": "Behaviour sequences on MovieLens, one time cut for all users (last 20% of ratings)",
    "behavior": "Behaviour sequences on make_behavior_classification (planted target-dependent interest)",
}

#: name -> (estimator, columns it sees, extra parameters); None columns: every column.
#: ``{target}`` and ``{item}`` are filled in per data set.
MODELS = {
    "lr": ("LRClassifier", ["user_id", "{item}"], {}),
    "hgb": ("HistGradientBoostingClassifier", None, {}),
    "deepfm": ("DeepFMClassifier", ["user_id", "{item}"], {}),
    "deepfm_genres": ("DeepFMClassifier", ["user_id", "{item}", "genres"], {}),
    "deepfm_history": ("DeepFMClassifier", None, {"shared_vocabulary": {"history": "{item}"}}),
    "din": ("DINClassifier", None, {"behavior_features": {"history": "{item}"}}),
    "dien": ("DIENClassifier", None, {"behavior_features": {"history": "{item}"}}),
    "bst": ("BSTClassifier", None, {"behavior_features": {"history": "{item}"}}),
    "bst_mean": (
        "BSTClassifier",
        None,
        {"behavior_features": {"history": "{item}"}, "transformer_output": "mean"},
    ),
    "bst_concat": (
        "BSTClassifier",
        None,
        {"behavior_features": {"history": "{item}"}, "transformer_output": "concat"},
    ),
}
#: Run by default on ``behavior`` only; name them in ``--models`` to run them on MovieLens.
BEHAVIOR_ONLY = ("bst_mean", "bst_concat")
LABELS = {
    "lr": "LRClassifier, ids only",
    "hgb": "HistGradientBoostingClassifier (reference), ids, first genre and list lengths",
    "deepfm": "DeepFMClassifier, ids only",
    "deepfm_genres": "DeepFMClassifier, ids and genres (list)",
    "deepfm_history": "DeepFMClassifier, every column, history mean-pooled",
    "din": "DINClassifier, every column",
    "dien": "DIENClassifier, every column",
    "bst": "BSTClassifier, every column",
    "bst_mean": "BSTClassifier, every column, transformer_output='mean'",
    "bst_concat": "BSTClassifier, every column, transformer_output='concat'",
}


def load(name: str, quick: bool):
    """``(X_train, X_test, y_train, y_test, item column)`` of a data set; None when absent."""
    if name == "behavior":
        from sklearn_pangu.datasets import make_behavior_classification

        n_train = 4_000 if quick else 50_000
        X, y = make_behavior_classification(n_train + n_train // 5, random_state=0)
        return X[:n_train], X[n_train:].reset_index(drop=True), y[:n_train], y[n_train:], "item_id"
    data = _movielens.load("per_user" if name == "movielens" else "time", rows=5_000 if quick else None)
    return None if data is None else (*data, "movie_id")


def fill(value, item: str):
    if isinstance(value, str):
        return value.replace("{item}", item)
    if isinstance(value, dict):
        return {fill(k, item): fill(v, item) for k, v in value.items()}
    return value


def score(model_name: str, seed: int, data, threads: int, device: str, max_epochs: int | None):
    """Test ROC AUC, log loss, epochs and fit seconds of one fit."""
    torch.set_num_threads(threads)
    X_train, X_test, y_train, y_test, item = data
    estimator, columns, params = MODELS[model_name]
    if estimator == "HistGradientBoostingClassifier":
        X_train, X_test = _movielens.scalar_view(X_train, item), _movielens.scalar_view(X_test, item)
        model = _common.gradient_boosting(X_train, random_state=seed)
    else:
        if columns is not None:
            columns = [c for c in fill(columns, item) if c in X_train.columns]
            X_train, X_test = X_train[columns], X_test[columns]
        extra = {"max_epochs": max_epochs} if max_epochs else {}
        model = getattr(sklearn_pangu, estimator)(
            random_state=seed, device=device, **fill(params, item), **extra
        )
    (seconds,), _ = _common.clock(lambda: model.fit(X_train, y_train))
    epochs = model[-1].n_iter_ if estimator == "HistGradientBoostingClassifier" else model.n_iter_
    proba = model.predict_proba(X_test)[:, 1]
    return roc_auc_score(y_test, proba), log_loss(y_test, proba), epochs, seconds


def main() -> None:
    parser = _common.parser(__doc__.splitlines()[0], models=None, seeds=3, device="cpu", threads=None)
    parser.add_argument("--datasets", nargs="+", choices=list(TITLES), default=list(TITLES))
    parser.add_argument("--jobs", type=int, default=1, help="fits at a time, each in its own process")
    args = _common.parse(parser, quick={"seeds": 1})
    models = args.models or list(MODELS)
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose among {list(MODELS)}")
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    started = time.perf_counter()
    for name in args.datasets:
        data = load(name, args.quick)
        if data is None:
            continue
        chosen = [m for m in models if not (m == "deepfm_genres" and "genres" not in data[0].columns)]
        if not args.models and name != "behavior":
            chosen = [m for m in chosen if m not in BEHAVIOR_ONLY]
        tasks = [(m, seed) for m in chosen for seed in range(args.seeds)]
        results = Parallel(n_jobs=args.jobs)(
            delayed(score)(m, seed, data, threads, args.device, 2 if args.quick else None)
            for m, seed in tasks
        )
        rows = {}
        for (m, _), result in zip(tasks, results, strict=True):
            rows.setdefault(m, []).append(result)
        table = [
            [LABELS[m], *(_common.mean_std([r[i] for r in runs], d) for i, d in enumerate((4, 4, 1, 0)))]
            for m, runs in rows.items()
        ]
        header = ["model and columns", "test ROC AUC", "test log loss", "epochs", "fit seconds"]
        X_train, X_test, y_train, y_test, _ = data
        unseen = (~X_test["user_id"].isin(set(X_train["user_id"]))).mean()
        notes = (
            f"{len(X_train):,} training and {len(X_test):,} test rows, {y_train.mean():.1%} and "
            f"{y_test.mean():.1%} positive; {unseen:.0%} of the test rows are of users without a training "
            f"row. Defaults, device={args.device!r}; mean ± standard deviation over random_state "
            f"0..{args.seeds - 1}; epochs is n_iter_ (early stopping on a stratified 10% validation split "
            "of the training rows; boosting iterations for HistGradientBoosting, which cannot read lists: "
            "it takes the ids, the first genre where there are genres, and the lengths of the lists). Fit "
            f"seconds with {threads} torch thread(s) per fit and {args.jobs} fit(s) at a time."
        )
        # quality_*: benchmarks/update_docs.py copies each model's rows into its page.
        subset = [] if models == list(MODELS) else models
        device = [args.device] if args.device != "cpu" else []
        section = _common.section_name(f"quality_{name}", *subset, *device)
        title = f"{TITLES[name]}: default hyper-parameters, {args.seeds} seed(s)"
        _common.publish(args, section, title, _common.markdown_table(header, table), notes, args.device)
    print(f"bench_sequences took {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    main()
