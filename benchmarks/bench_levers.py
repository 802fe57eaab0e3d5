"""The speed options, lever by lever: rows/s on 1M synthetic rows beside the peers, and Frappe quality.

Speed (section ``levers_speed``): the DeepFM network of ``bench_peers.py`` (embedding 16,
MLP 256-128 with batch norm, Adam 1e-3, batch 4096, one epoch) on
``make_ctr_classification`` with ``--n-samples`` rows, trained by sklearn_pangu with its
defaults, with ``sparse_embeddings=True``, with ``mixed_precision='bfloat16'`` and with
both, and, in the same run, by the hand-written loop, DeepCTR-Torch and torch-rechub
(skipped when ``make bench-peers`` has not built ``.bench-venv``). Every run is its own
process, round-robin over the frameworks, ``--repeats`` times; the table keeps the best
rows/s. The ratios are each sklearn_pangu variant's rows/s over the framework's.

Quality (section ``levers_frappe``): ``DeepFMClassifier`` with its defaults (early
stopping) and each option, on Frappe (train ``valid.csv.gz``, test ``test.csv.gz``),
``--seeds`` seeds: what the option costs in test ROC AUC and log loss. Frappe is
research-only data read from ``../shared/data/frappe``; skipped with a message when absent.

Usage: ``python benchmarks/bench_levers.py [--parts speed frappe] [--n-samples 1000000]
[--repeats 2] [--seeds 3] [--jobs 1] [--threads N] [--no-record]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
from joblib import Parallel, delayed
from sklearn.metrics import log_loss, roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402
from _speed_runner import LEVERS  # noqa: E402
from bench_peers import FRAMEWORKS, NAMES, best, ratio, run  # noqa: E402
from bench_quality import load_frappe, mean_std  # noqa: E402

import sklearn_pangu  # noqa: E402

VARIANTS = {"sklearn_pangu": {}, **LEVERS}
PEERS = ["hand_written", "deepctr_torch", "torch_rechub"]
SPEEDS = ("train_rows_per_s", "epoch_rows_per_s", "predict_rows_per_s")


def describe(options: dict) -> str:
    def shown(value) -> str:
        # A class by its public path: torch.optim.adam.Adam is shown as torch.optim.Adam.
        if isinstance(value, type):
            return f"{value.__module__.rsplit('.', 1)[0]}.{value.__name__}"
        return repr(value)

    return ", ".join(f"{key}={shown(value)}" for key, value in options.items()) or "defaults"


def speed(args) -> None:
    frameworks = [*VARIANTS, *(p for p in PEERS if FRAMEWORKS[p].exists())]
    runs: dict[str, list[dict]] = {}
    for _ in range(args.repeats):
        for framework in frameworks:
            result = run(framework, "deepfm", "synthetic", args)
            if result is not None:
                runs.setdefault(framework, []).append(result)
    measured = {framework: best(results) for framework, results in runs.items()}
    rows = []
    for framework, result in measured.items():
        label = (
            f"sklearn_pangu, {describe(VARIANTS[framework])}" if framework in VARIANTS else NAMES[framework]
        )
        speeds = ["" if result[key] is None else f"{result[key]:,.0f}" for key in SPEEDS]
        rows.append([label, *speeds, f"{result['peak_rss_mib']:,.0f}", f"{result['test_auc']:.4f}"])
    full = markdown_table(
        [
            "framework",
            "training rows/s",
            "epochs only rows/s",
            "prediction rows/s",
            "peak RSS MiB",
            "test ROC AUC",
        ],
        rows,
    )
    peers = [p for p in PEERS if p in measured]
    ratios = [
        [describe(VARIANTS[variant])]
        + [ratio(measured[variant], measured[peer], key) for peer in peers for key in SPEEDS]
        for variant in VARIANTS
        if variant in measured
    ]
    short = markdown_table(
        ["sklearn_pangu ×"]
        + [f"{NAMES[p]} ({what})" for p in peers for what in ("training", "epochs", "prediction")],
        ratios,
    )
    title = f"Speed options, DeepFM on {args.n_samples:,} synthetic rows, 1 epoch, best of {args.repeats}"
    notes = (
        "The network and training settings of the peers table (benchmarks/bench_peers.py); "
        "sklearn_pangu's training rows/s include encoding the DataFrame and building the network, "
        "which the others build before their clock starts; every process imports torch's optimizer "
        "code (torch._dynamo) before any clock starts. sparse_embeddings=True "
        "makes 'adam' lazy Adam on the embedding tables; mixed_precision='bfloat16' runs the "
        "forward passes under torch.autocast on the CPU; 'adam' is torch's fused Adam, and "
        "optimizer=torch.optim.Adam (the class) its default foreach implementation, which the "
        "peers use, with dense gradients and float32."
    )
    publish("levers_speed", title, full + "\n\n" + short, notes, args)


def fit_frappe(options: dict, seed: int, data, threads: int) -> tuple[float, float, int, float]:
    torch.set_num_threads(threads)
    X_train, X_test, y_train, y_test = data
    model = sklearn_pangu.DeepFMClassifier(random_state=seed, **options)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)[:, 1]
    return roc_auc_score(y_test, proba), log_loss(y_test, proba), model.n_iter_, seconds


def frappe(args) -> None:
    data = load_frappe()
    if data is None:
        return
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    tasks = [(variant, seed) for variant in VARIANTS for seed in range(args.seeds)]
    results = Parallel(n_jobs=args.jobs)(
        delayed(fit_frappe)(VARIANTS[variant], seed, data, threads) for variant, seed in tasks
    )
    rows = []
    for variant in VARIANTS:
        runs = [r for (v, _), r in zip(tasks, results, strict=True) if v == variant]
        auc, loss, epochs, seconds = (list(column) for column in zip(*runs, strict=True))
        rows.append(
            [
                describe(VARIANTS[variant]),
                mean_std(auc),
                mean_std(loss),
                mean_std(epochs, 1),
                mean_std(seconds, 0),
            ]
        )
        print(rows[-1], flush=True)
    table = markdown_table(
        ["DeepFMClassifier", "test ROC AUC", "test log loss", "epochs", "fit seconds"], rows
    )
    notes = (
        f"Defaults otherwise (early stopping on a stratified 10% split). Mean ± standard deviation "
        f"over random_state 0..{args.seeds - 1}; {threads} torch thread(s) per fit, {args.jobs} fit(s) "
        "at a time."
    )
    publish("levers_frappe", "Speed options, DeepFM quality on Frappe", table, notes, args)


def publish(section: str, title: str, table: str, notes: str, args) -> None:
    command = "python benchmarks/bench_levers.py " + " ".join(sys.argv[1:])
    if args.no_record:
        print(f"\n## {title}\n\n{table}\n\n{notes}\n")
    else:
        record(section, title, command.strip(), table, notes=notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=["speed", "frappe"], default=["speed", "frappe"])
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="Frappe fits at a time")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-record", action="store_true", help="print the tables, leave RESULTS.md")
    args = parser.parse_args()
    # What bench_peers.run reads besides the model and data set.
    args.epochs, args.frappe_epochs, args.frappe_rows = 1, 1, None
    started = time.perf_counter()
    if "speed" in args.parts:
        speed(args)
    if "frappe" in args.parts:
        frappe(args)
    print(f"bench_levers took {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    main()
