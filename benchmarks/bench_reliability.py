"""Memory under load: predicting 1M and 5M rows, and fitting 1M rows with a 1M-id column.

Prediction: a ``DeepFMClassifier`` fitted on 20,000 ``make_ctr_classification`` rows
(8 categorical fields up to 100,000 ids, 4 dense) predicts ``--predict-rows`` rows
of the same kind. Each size runs in a fresh subprocess, so the peaks do not mix. The
table shows the resident memory (RSS) before ``predict_proba`` (model and X), the
peak during it (Linux ``VmHWM``, reset just before the call), their difference, the
size of the result (an (n, 2) float64 array, which must grow with n) and the seconds.
Flat memory means the difference beyond the result stays the same from 1M to 5M
rows: rows are encoded and predicted a chunk at a time.

Fit: ``--fit-rows`` rows with a ``user_id`` column of ``--fit-cardinality`` distinct
ids (a ``category`` column, every id present) plus 4 categorical and 2 dense
columns; ``DeepFMClassifier(embedding_dim=8, hidden_units=(64,), batch_size=4096,
max_epochs=1, early_stopping=False)``. The table shows the seconds of ``fit`` and the
process's peak RSS (``ru_maxrss``), data included.

Usage: ``python benchmarks/bench_reliability.py [--predict-rows 1000000 5000000]
[--fit-rows 1000000] [--fit-cardinality 1000000] [--threads N] [--skip-fit]``
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _memory import MIB, max_rss_mib, reset_peak_rss, status_mib  # noqa: E402


def child_predict(n_rows: int, threads: int) -> dict:
    import numpy as np
    import torch

    from sklearn_pangu import DeepFMClassifier
    from sklearn_pangu.datasets import make_ctr_classification

    torch.set_num_threads(threads)
    shape = {"n_sparse": 8, "n_dense": 4, "max_cardinality": 100_000}
    X_train, y_train = make_ctr_classification(20_000, **shape, random_state=0)
    model = DeepFMClassifier(
        embedding_dim=8, hidden_units=(64, 32), max_epochs=1, early_stopping=False, random_state=0
    ).fit(X_train, y_train)
    X, _ = make_ctr_classification(n_rows, **shape, random_state=1)
    del X_train, y_train
    gc.collect()
    reset = reset_peak_rss()
    before = status_mib("VmRSS")
    start = time.perf_counter()
    proba = model.predict_proba(X)
    seconds = time.perf_counter() - start
    peak = status_mib("VmHWM") if reset else None
    assert proba.shape == (n_rows, 2) and np.isfinite(proba).all()
    return {
        "rows": n_rows,
        "X_mib": X.memory_usage(deep=True).sum() / MIB,
        "before_mib": before if before else float("nan"),
        "peak_mib": peak if peak else max_rss_mib(),
        "peak_is_process_max": not reset,
        "result_mib": proba.nbytes / MIB,
        "seconds": seconds,
    }


def child_fit(n_rows: int, cardinality: int, threads: int) -> dict:
    import numpy as np
    import pandas as pd
    import torch

    from sklearn_pangu import DeepFMClassifier
    from sklearn_pangu.datasets import make_ctr_classification

    torch.set_num_threads(threads)
    X, y = make_ctr_classification(n_rows, n_sparse=4, n_dense=2, max_cardinality=10_000, random_state=0)
    rng = np.random.RandomState(0)
    ids = np.concatenate(
        [rng.permutation(cardinality), rng.randint(0, cardinality, max(n_rows - cardinality, 0))]
    )
    X.insert(0, "user_id", pd.Categorical(ids[:n_rows]))
    gc.collect()
    start = time.perf_counter()
    model = DeepFMClassifier(
        embedding_dim=8,
        hidden_units=(64,),
        batch_size=4096,
        max_epochs=1,
        early_stopping=False,
        random_state=0,
    ).fit(X, y)
    seconds = time.perf_counter() - start
    table = model.net_.module_.embedding.table.weight
    assert np.isfinite(model.predict_proba(X.iloc[:1000])).all()
    return {
        "rows": n_rows,
        "ids": int(X["user_id"].nunique()),
        "embedding_rows": int(table.shape[0]),
        "seconds": seconds,
        "peak_mib": max_rss_mib(),
    }


def _run_child(*args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predict-rows", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--fit-rows", type=int, default=1_000_000)
    parser.add_argument("--fit-cardinality", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--skip-fit", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import torch

    threads = args.threads or torch.get_num_threads()
    if args.child:
        kind, *numbers = args.child
        if kind == "predict":
            result = child_predict(int(numbers[0]), threads)
        else:
            result = child_fit(int(numbers[0]), int(numbers[1]), threads)
        print(json.dumps(result))
        return

    from _results import markdown_table, record

    rows = []
    for n_rows in args.predict_rows:
        r = _run_child("predict", str(n_rows), *(["--threads", str(threads)] if args.threads else []))
        extra = r["peak_mib"] - r["before_mib"]
        rows.append(
            [
                f"predict_proba, {n_rows:,} rows",
                f"{r['X_mib']:,.0f}",
                f"{r['before_mib']:,.0f}",
                f"{r['peak_mib']:,.0f}" + (" (process max)" if r["peak_is_process_max"] else ""),
                f"{extra:,.0f}",
                f"{r['result_mib']:,.0f}",
                f"{extra - r['result_mib']:,.0f}",
                f"{r['seconds']:.1f}",
            ]
        )
        print(rows[-1], flush=True)
    if not args.skip_fit:
        r = _run_child(
            "fit",
            str(args.fit_rows),
            str(args.fit_cardinality),
            *(["--threads", str(threads)] if args.threads else []),
        )
        rows.append(
            [
                f"fit, {args.fit_rows:,} rows, user_id with {r['ids']:,} ids "
                f"({r['embedding_rows']:,} embedding rows)",
                "",
                "",
                f"{r['peak_mib']:,.0f} (process max)",
                "",
                "",
                "",
                f"{r['seconds']:.1f}",
            ]
        )
        print(rows[-1], flush=True)
    record(
        "reliability",
        "Memory under load: predicting millions of rows, fitting a million ids",
        "python benchmarks/bench_reliability.py " + " ".join(sys.argv[1:]),
        markdown_table(
            [
                "run",
                "X MiB",
                "RSS before MiB",
                "peak RSS MiB",
                "peak - before MiB",
                "result MiB",
                "beyond result MiB",
                "seconds",
            ],
            rows,
        ),
        notes="Each row runs in its own process. Prediction: DeepFM (embedding 8, MLP 64-32) fitted on "
        "20,000 rows, predicting rows with 8 categorical fields (up to 100,000 ids) and 4 dense; the "
        "peak is Linux VmHWM reset just before predict_proba. 'Beyond result' is the memory predict_proba "
        "needs besides X and its (n, 2) float64 answer: flat means it does not grow with n. Fit: one "
        f"epoch with torch {threads} thread(s), peak RSS of the whole process (data included).",
    )


if __name__ == "__main__":
    main()
