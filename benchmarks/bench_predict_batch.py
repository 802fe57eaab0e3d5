"""Prediction rows/s and memory on the CPU by ``predict_batch_size``, for six models.

Each (model, batch size) runs in its own process: it fits the model with its defaults
(one epoch, no early stopping) on ``--fit-rows`` rows of ``make_ctr_classification``
(26 category columns with cardinalities up to 100,000, 13 float columns), then times
``predict_proba`` on ``--predict-rows`` other rows, best of ``--repeats``. The memory
column is the peak RSS during those calls (Linux VmHWM, reset after freeing the heap)
minus the RSS before them: what predicting costs beyond the model and X. This is the
measurement behind ``predict_batch_size='auto'`` on the CPU (section ``predict_batch``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _memory import reset_peak_rss, status_mib  # noqa: E402

MODELS = [
    "DeepFMClassifier",
    "DCNClassifier",
    "XDeepFMClassifier",
    "AutoIntClassifier",
    "FiBiNetClassifier",
    "MMOEMultiOutput",
]
BATCH_SIZES = [1024, 4096, 16384]


def child(model_name: str, batch_size: int, args) -> dict:
    import numpy as np
    import torch

    import sklearn_pangu
    from sklearn_pangu.datasets import make_ctr_classification

    torch.set_num_threads(args.threads)
    X, y = make_ctr_classification(args.fit_rows + args.predict_rows, random_state=0)
    target = np.column_stack([y, y[::-1]]) if "MultiOutput" in model_name else y
    estimator = getattr(sklearn_pangu, model_name)(
        max_epochs=1, early_stopping=False, random_state=0, predict_batch_size=batch_size
    )
    estimator.fit(X.iloc[: args.fit_rows], target[: args.fit_rows])
    X_test = X.iloc[args.fit_rows :]
    reset_peak_rss()
    before = status_mib("VmRSS")
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        estimator.predict_proba(X_test)
        seconds.append(time.perf_counter() - start)
    return {"rows_per_s": len(X_test) / min(seconds), "added_mib": status_mib("VmHWM") - before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=MODELS, choices=MODELS)
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=BATCH_SIZES)
    parser.add_argument("--fit-rows", type=int, default=20_000)
    parser.add_argument("--predict-rows", type=int, default=32_768)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--no-record", action="store_true", help="print the table only")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args)))
        return

    from _results import markdown_table, record

    options = [
        f"--fit-rows={args.fit_rows}",
        f"--predict-rows={args.predict_rows}",
        f"--repeats={args.repeats}",
        f"--threads={args.threads}",
    ]
    rows = []
    for model_name in args.models:
        measured = {}
        for batch_size in args.batch_sizes:
            completed = subprocess.run(
                [sys.executable, __file__, "--child", model_name, str(batch_size), *options],
                check=True,
                capture_output=True,
                text=True,
            )
            measured[batch_size] = json.loads(completed.stdout.strip().splitlines()[-1])
        speeds = [f"{measured[b]['rows_per_s']:,.0f}" for b in args.batch_sizes]
        memory = [f"{measured[b]['added_mib']:,.0f}" for b in args.batch_sizes]
        rows.append([model_name, *speeds, *memory])
        print(rows[-1], flush=True)
    header = [
        "model",
        *(f"rows/s at {b:,}" for b in args.batch_sizes),
        *(f"MiB added at {b:,}" for b in args.batch_sizes),
    ]
    table = markdown_table(header, rows)
    notes = (
        f"Each model with its defaults, fitted for one epoch on {args.fit_rows:,} synthetic rows; "
        f"predict_proba on {args.predict_rows:,} other rows (encoding included), best of "
        f"{args.repeats}; each cell its own process, torch {args.threads} thread(s). 'MiB added' is the "
        "peak RSS during predict_proba minus the RSS before it (Linux VmHWM, reset after malloc_trim)."
    )
    if args.no_record:
        print(table)
    else:
        command = "python benchmarks/bench_predict_batch.py " + " ".join(sys.argv[1:])
        record("predict_batch", "Prediction batch size on the CPU", command, table, notes)


if __name__ == "__main__":
    main()
