"""Peak memory of training DeepFM on 1M and 10M synthetic rows, against what it must hold.

Each size runs in its own process. The process builds the raw DataFrame
(``make_ctr_classification``: 26 category columns with cardinalities up to 100,000,
13 float32 columns; 10M rows are the 1M rows repeated ten times, the generator's own
temporaries for 10M rows being larger than the machine), measures its RSS, resets the
peak (Linux ``VmHWM``) and fits ``DeepFMClassifier`` for one epoch with the defaults
(early stopping on a 10% validation split). The table compares the RSS the fit added
at its peak with the bound of the speed-and-scale issue, 1.5 × (encoded data + model +
optimizer state):

- encoded data: the int32 codes, float32 dense features and float32 targets the fit
  keeps for all rows;
- model: the module's parameters (float32);
- optimizer state: Adam's two moments per parameter.

Gradients (one more copy of the parameters), the early-stopping copy of the best
weights and the encoder's temporaries are not in the bound; they have to fit in its
half-again margin.

``--sparse-embeddings`` fits with ``sparse_embeddings=True`` (lazy Adam on the tables,
whose moments stay full-size, so the bound is the same) and records the section
``memory_sparse_embeddings`` instead of ``memory``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _memory import MIB, max_rss_mib, reset_peak_rss, status_mib  # noqa: E402

BASE_ROWS = 1_000_000
#: The fit each child process measures, as the notes of a results table name it.
FIT = "(embedding 32, MLP 400-400-400, batch 1024), one epoch, early stopping on a 10% validation split"


def child(n_rows: int, threads: int, sparse_embeddings: bool) -> dict:
    import numpy as np
    import pandas as pd
    import torch
    from skorch.callbacks import Callback

    from sklearn_pangu import DeepFMClassifier
    from sklearn_pangu.datasets import make_ctr_classification

    torch.set_num_threads(threads)
    X, y = make_ctr_classification(min(n_rows, BASE_ROWS), random_state=0)
    if n_rows > BASE_ROWS:
        repeats = -(-n_rows // BASE_ROWS)
        X = pd.concat([X] * repeats, ignore_index=True).iloc[:n_rows]
        y = np.tile(y, repeats)[:n_rows]
    # A small fit first: torch's and MKL's one-off allocations (kernels, thread pools,
    # workspaces) are not memory that training on n rows holds.
    options = {"max_epochs": 1, "random_state": 0, "sparse_embeddings": sparse_embeddings}
    DeepFMClassifier(**options).fit(X.iloc[:2000], y[:2000])
    gc.collect()
    marks = {}

    class TrainingPeak(Callback):
        """Splits the fit's peak into encoding (before the first epoch) and training."""

        def on_train_begin(self, net, **kwargs):
            marks["encoding_peak"] = status_mib("VmHWM")
            reset_peak_rss()

        def on_train_end(self, net, **kwargs):
            marks["training_peak"] = status_mib("VmHWM")

    reset = reset_peak_rss()
    before = status_mib("VmRSS")
    start = time.perf_counter()
    model = DeepFMClassifier(**options, callbacks=[TrainingPeak()]).fit(X, y)
    seconds = time.perf_counter() - start
    peak = max(marks["encoding_peak"], marks["training_peak"]) if reset else max_rss_mib()

    n_codes = len(model.encoder_.field_spec_.cardinalities)
    n_dense = model.encoder_.field_spec_.n_dense
    encoded = n_rows * (4 * n_codes + 4 * n_dense + 4)
    parameters = sum(p.numel() * p.element_size() for p in model.net_.module_.parameters())
    optimizer = sum(
        value.numel() * value.element_size()
        for state in model.net_.optimizer_.state_dict()["state"].values()
        for value in state.values()
        if torch.is_tensor(value) and value.dim() > 0
    )
    return {
        "rows": n_rows,
        "X_mib": X.memory_usage(deep=True).sum() / MIB,
        "before_mib": before,
        "peak_mib": peak,
        "peak_is_process_max": not reset,
        "encoding_peak_mib": marks["encoding_peak"],
        "training_peak_mib": marks["training_peak"],
        "encoded_mib": encoded / MIB,
        "model_mib": parameters / MIB,
        "optimizer_mib": optimizer / MIB,
        "seconds": seconds,
    }


def measure(n_rows: int, threads: int, sparse_embeddings: bool = False, env: dict | None = None) -> dict:
    """Run :func:`child` in a fresh process (with ``env`` added to its environment).

    Returns its measurements plus ``added_mib`` (the peak RSS the fit added) and
    ``bound_mib`` (1.5 × (encoded data + model + Adam state)).
    """
    completed = subprocess.run(
        [sys.executable, __file__, "--child", str(n_rows), "--threads", str(threads)]
        + (["--sparse-embeddings"] if sparse_embeddings else []),
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    r = json.loads(completed.stdout.strip().splitlines()[-1])
    r["added_mib"] = r["peak_mib"] - r["before_mib"]
    r["bound_mib"] = 1.5 * (r["encoded_mib"] + r["model_mib"] + r["optimizer_mib"])
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-record", action="store_true", help="print the table only")
    parser.add_argument("--sparse-embeddings", action="store_true", help="fit with sparse_embeddings=True")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.threads, args.sparse_embeddings)))
        return

    from _results import markdown_table, record

    rows = []
    for n_rows in args.rows:
        r = measure(n_rows, args.threads, args.sparse_embeddings)
        added, bound = r["added_mib"], r["bound_mib"]
        rows.append(
            [
                f"{n_rows:,}",
                round(r["X_mib"]),
                round(r["encoded_mib"]),
                round(r["model_mib"]),
                round(r["optimizer_mib"]),
                round(r["before_mib"]),
                f"{r['peak_mib']:.0f}" + (" (process max)" if r["peak_is_process_max"] else ""),
                round(r["encoding_peak_mib"] - r["before_mib"]),
                round(r["training_peak_mib"] - r["before_mib"]),
                round(added),
                round(bound),
                f"{added / bound:.2f}",
                round(r["seconds"]),
            ]
        )
        print(rows[-1], flush=True)
    header = [
        "rows",
        "raw X MiB",
        "encoded MiB",
        "model MiB",
        "Adam state MiB",
        "RSS before fit MiB",
        "peak RSS MiB",
        "encoding peak + MiB",
        "training peak + MiB",
        "added by fit MiB",
        "bound MiB",
        "added / bound",
        "fit seconds",
    ]
    table = markdown_table(header, rows)
    setting = (
        "with sparse_embeddings=True, otherwise its defaults"
        if args.sparse_embeddings
        else "with its defaults"
    )
    notes = (
        f"DeepFMClassifier {setting} {FIT}; each size in its own process. 'Added by fit' is the "
        "peak RSS during fit (Linux VmHWM, reset after building X) minus the RSS before it, the larger of "
        "the encoding peak (encoder fit, encoding, network built) and the training peak (the epoch and its "
        "validation pass); the bound is "
        "1.5 x (encoded data + model + Adam state). A fit on 2,000 rows runs first, so that torch's one-off "
        "allocations are in the RSS before. 10,000,000 rows are the 1,000,000 rows repeated ten "
        f"times; torch {args.threads} thread(s)."
    )
    if args.no_record:
        print(table)
    else:
        command = "python benchmarks/bench_memory.py " + " ".join(sys.argv[1:])
        if args.sparse_embeddings:
            record("memory_sparse_embeddings", "Memory with sparse_embeddings=True", command, table, notes)
        else:
            record("memory", "Memory: training on 1M and 10M rows", command, table, notes)


if __name__ == "__main__":
    main()
