"""Training speed on the CPU with gradients held between steps, against freed each step.

On the CPU sklearn_pangu keeps the embedding tables' gradients between training
steps, zeroed in place, and the tables' backward adds its rows into them
(``CTRNet._holds_gradients`` and ``nn._embedding.add_rows_into_held_gradients``).
Before, as in a plain PyTorch loop with ``optimizer.zero_grad()``, the gradients were
freed and each step built a new table-sized one. This script fits ``DeepFMClassifier``
(its defaults: MLP 400-400-400 with batch norm and dropout 0.2, batch 1024, fused
Adam) for one epoch without early stopping on ``make_ctr_classification`` rows (26
category columns with cardinalities up to 100,000, 13 float columns) both ways, for
several embedding sizes, and compares the training epoch's rows/s (history ``dur``).
Each setting runs ``--repeats`` times, interleaved, each first in every other round;
the table gives the median run and the range. Predictions of the two fits are
compared bit for bit.

Usage: ``python benchmarks/bench_held_gradients.py [--rows 1000000] [--embedding-dims 16 32 64]``
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np
import torch

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu._training import CTRNet
from sklearn_pangu.datasets import make_ctr_classification

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402

MIB = 2**20


@contextlib.contextmanager
def gradients_freed_each_step():
    """Fit as before the change: the gradients are set to None before every step."""
    holds = CTRNet._holds_gradients
    CTRNet._holds_gradients = lambda net: False
    try:
        yield
    finally:
        CTRNet._holds_gradients = holds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--embedding-dims", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--repeats", type=int, default=4, help="runs of each setting")
    parser.add_argument("--no-record", action="store_true", help="print the table only")
    args = parser.parse_args()

    X, y = make_ctr_classification(args.rows, random_state=0)
    X_check = X.iloc[:10_000]
    rows = []
    for dim in args.embedding_dims:
        seconds = {"held": [], "freed": []}
        predictions = {}
        for repeat in range(args.repeats):
            # Each setting goes first in every other round: the machine's drift hits both alike.
            for mode in ("held", "freed") if repeat % 2 == 0 else ("freed", "held"):
                model = DeepFMClassifier(
                    embedding_dim=dim, max_epochs=1, early_stopping=False, random_state=0
                )
                with gradients_freed_each_step() if mode == "freed" else contextlib.nullcontext():
                    model.fit(X, y)
                seconds[mode].append(float(model.history_[-1, "dur"]))
                predictions[mode] = model.predict_proba(X_check)[:, 1]
                print(dim, mode, f"{args.rows / seconds[mode][-1]:,.0f} rows/s", flush=True)
        table_mib = model.net_.module_.embedding.table.weight.nbytes / MIB
        rates = {mode: args.rows / np.array(runs) for mode, runs in seconds.items()}
        held, freed = float(np.median(rates["held"])), float(np.median(rates["freed"]))
        same = np.array_equal(predictions["held"], predictions["freed"])
        spread = " / ".join(
            f"{rates[mode].min():,.0f}–{rates[mode].max():,.0f}" for mode in ("freed", "held")
        )
        rows.append(
            [dim, round(table_mib), freed, held, f"{held / freed:.2f}", spread, "yes" if same else "no"]
        )

    header = [
        "embedding_dim",
        "table MiB",
        "freed each step, median rows/s",
        "held (default), median rows/s",
        "held / freed",
        "range freed / held",
        "same predictions",
    ]
    table = markdown_table(header, rows)
    notes = (
        f"DeepFMClassifier defaults otherwise, one epoch on make_ctr_classification({args.rows:,}), "
        f"no early stopping; training epoch rows/s (history dur), median of {args.repeats} runs, the two "
        "settings interleaved in one process, each first in every other round; "
        f"torch {torch.get_num_threads()} thread(s). "
        "'Table MiB' is the embedding table's weight "
        "(the first-order table is 1/embedding_dim of it); its gradient is as large. glibc's malloc serves "
        "blocks above 32 MiB (its largest dynamic mmap threshold) with mmap, so a table gradient that size "
        "built anew each step gets fresh pages from the system every time. 'Same predictions': "
        "predict_proba of the two fits on 10,000 rows, bit for bit."
    )
    if args.no_record:
        print(table)
    else:
        command = "python benchmarks/bench_held_gradients.py " + " ".join(sys.argv[1:])
        record("held_gradients", "Gradients held between training steps (CPU)", command, table, notes)


if __name__ == "__main__":
    main()
