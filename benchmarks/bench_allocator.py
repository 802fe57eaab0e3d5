"""Peak memory and fit time of DeepFM on 1M synthetic rows under different memory allocators.

The memory benchmark (``bench_memory.py``) measures what a fit adds to the process's
peak RSS, and part of it is not memory the fit uses but memory glibc's ``malloc`` keeps:
freed blocks below its mmap threshold (which it raises up to 32 MiB as large blocks are
freed) stay in the heap, resident, and the next allocations need not land on them.
This script runs the same measurement (``bench_memory.py``'s child process: the
defaults of ``DeepFMClassifier``, one epoch, early stopping on a 10% split) with
the allocator settings a user can choose when starting Python; sklearn_pangu sets none
of them itself, since each changes the whole process:

- glibc ``malloc`` with its defaults;
- glibc with ``MALLOC_MMAP_THRESHOLD_=1048576``: every block of 1 MiB or more gets its
  own mapping, given back when freed (this also turns off the dynamic threshold);
- jemalloc, preloaded (``LD_PRELOAD``), where the system has it (Debian: ``libjemalloc2``).

Each setting runs ``--repeats`` times, round-robin; the table keeps the fastest fit
and the largest peak.
"""

from __future__ import annotations

import argparse
import ctypes.util
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402
from bench_memory import FIT, measure  # noqa: E402


def settings() -> dict[str, dict[str, str]]:
    """Each allocator setting this machine can run: a label and the environment it adds."""
    found = {
        f"glibc {platform.libc_ver()[1]} malloc, defaults": {},
        "glibc malloc, MALLOC_MMAP_THRESHOLD_=1048576": {"MALLOC_MMAP_THRESHOLD_": "1048576"},
    }
    jemalloc = ctypes.util.find_library("jemalloc")
    if jemalloc:
        found[f"jemalloc ({jemalloc}, LD_PRELOAD)"] = {"LD_PRELOAD": jemalloc}
    else:
        print("jemalloc not found (Debian: apt install libjemalloc2): its row is left out", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-record", action="store_true", help="print the table only")
    args = parser.parse_args()

    chosen = settings()
    runs: dict[str, list[dict]] = {}
    for _ in range(args.repeats):
        for label, env in chosen.items():
            r = measure(args.rows, args.threads, env=env)
            print(
                f"{label}: fit {r['seconds']:.0f} s, added {r['added_mib']:.0f} MiB "
                f"({r['added_mib'] / r['bound_mib']:.2f} x the bound)",
                flush=True,
            )
            runs.setdefault(label, []).append(r)
    rows = []
    for label, results in runs.items():
        added = max(r["added_mib"] for r in results)
        bound = results[0]["bound_mib"]
        rows.append(
            [
                label,
                round(min(r["seconds"] for r in results)),
                round(max(r["encoding_peak_mib"] - r["before_mib"] for r in results)),
                round(max(r["training_peak_mib"] - r["before_mib"] for r in results)),
                round(added),
                round(bound),
                f"{added / bound:.2f}",
            ]
        )
    table = markdown_table(
        [
            "allocator",
            "fit seconds",
            "encoding peak + MiB",
            "training peak + MiB",
            "added by fit MiB",
            "bound MiB",
            "added / bound",
        ],
        rows,
    )
    notes = (
        f"DeepFMClassifier with its defaults {FIT}, on {args.rows:,} rows of "
        "make_ctr_classification; each run in its own process, measured as in "
        "benchmarks/bench_memory.py (peak RSS the fit added, against 1.5 x (encoded data + model + "
        f"Adam state)). Best fit seconds and largest peaks of {args.repeats} run(s) per setting, "
        f"round-robin; torch {args.threads} thread(s). The setting is the environment of the Python "
        "process; sklearn_pangu changes no allocator setting."
    )
    if args.no_record:
        print(table)
        return
    command = "python benchmarks/bench_allocator.py " + " ".join(sys.argv[1:])
    record(
        "memory_allocator",
        f"Memory and the allocator: training on {args.rows:,} rows",
        command.strip(),
        table,
        notes,
    )


if __name__ == "__main__":
    main()
