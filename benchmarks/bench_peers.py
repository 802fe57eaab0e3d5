"""DeepFM, DCN, xDeepFM, MMoE side by side: sklearn_pangu, a hand-written loop, DeepCTR-Torch, torch-rechub.

Each framework trains the same network (see ``_speed_runner.py`` for the networks and
training settings; torch-rechub has no xDeepFM) on the same rows in its own process, on
two data sets: ``make_ctr_classification`` (1,000,000 training rows, 26 sparse columns
with cardinalities up to 100,000, 13 dense; it predicts 10% more rows) and Frappe
(train on ``valid.csv.gz``, 57,722 rows, predict ``test.csv.gz``, 28,860 rows; 10
categorical columns), with one epoch on the synthetic rows (``--epochs``) and five on
Frappe (``--frappe-epochs``: one epoch of 57,722 rows would mostly time the setup). The
tables show training, epochs-only and prediction rows/s, sklearn_pangu's speed over each
framework's, resident memory and the test ROC AUC, and are recorded in ``RESULTS.md``
(sections ``peers`` and ``peers_frappe``; a run of some of the models, ``--models
deepfm``, records ``peers_deepfm`` and ``peers_frappe_deepfm`` and leaves those of all four).

Every (model, framework) runs ``--repeats`` times, round-robin over the frameworks
(sklearn_pangu, hand-written, DeepCTR-Torch, torch-rechub, sklearn_pangu, ...), so that the
machine's drift hits all of them alike; the tables keep each one's best rows/s and its
largest peak RSS over the repeats, and a third table compares the runs of each round,
adjacent in time, with the median and range of sklearn_pangu's speed-up over the rounds.

Every framework starts from the same DataFrame, of category and float columns (Frappe's
strings become categories of the training set's values before any clock starts):
sklearn_pangu's times include its feature encoding, the others are fed label-encoded
arrays of the category codes, as their users must prepare them. On Frappe sklearn_pangu
also runs from the strings as read from the CSV ("from the CSV's strings"), which only it
takes.
DeepCTR-Torch and torch-rechub run in the benchmark environment that ``make bench-peers``
builds (``.bench-venv``, torch pinned as here); they are skipped with a message when it
is absent. Frappe is research-only data read from ``../shared/data/frappe`` (or
``$SKLEARN_PANGU_SHARED_DATA/frappe``), never part of the repository; it is skipped with
a message when absent.

MMoE has two tasks: the data set's label and a derived "conversion" label (a click that
converts with a probability that is a fixed function of the row, see
``_speed_runner.conversion_label``); its AUC column shows both tasks.

Differences that cannot be removed: DeepCTR-Torch and torch-rechub feed the dense
features to the MLP (MMoE: the experts and gates) as raw values, sklearn_pangu and the
hand-written loop as embedded vectors (``x * v``), so their first layer is wider;
torch-rechub has no dense features in its linear part. MMoE: DeepCTR-Torch's gates have
no bias; torch-rechub's gates batch-normalize before the softmax (its MLP always has
batch norm), it averages the task losses where the others sum them,
and its trainer needs a validation loader that it scores after each epoch (given one
batch of training rows) and saves the model at the end of ``fit``. DeepCTR-Torch sums the
losses over a batch where the others average them (Adam is almost insensitive to the
scale).

Usage: ``python benchmarks/bench_peers.py [--models deepfm dcn xdeepfm mmoe]
[--datasets synthetic frappe] [--n-samples 1000000] [--frappe-rows N] [--epochs 1]
[--frappe-epochs 5] [--repeats 3] [--threads N] [--no-record]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402
from _speed_runner import FROM_STRINGS, PREDICT_PASSES  # noqa: E402
from bench_quality import FRAPPE  # noqa: E402

from sklearn_pangu._base import auto_predict_batch_size  # noqa: E402

HERE = Path(__file__).parent
PEER_PYTHON = HERE.parent / ".bench-venv" / "bin" / "python"
FRAMEWORKS = {
    "sklearn_pangu": Path(sys.executable),
    "hand_written": Path(sys.executable),
    "deepctr_torch": PEER_PYTHON,
    "torch_rechub": PEER_PYTHON,
}
NAMES = {
    "sklearn_pangu": "sklearn_pangu",
    "hand_written": "hand-written loop",
    "deepctr_torch": "DeepCTR-Torch",
    "torch_rechub": "torch-rechub",
    FROM_STRINGS: "sklearn_pangu, from the CSV's strings",
}
MODEL_NAMES = {"deepfm": "DeepFM", "dcn": "DCN", "xdeepfm": "xDeepFM", "mmoe": "MMoE"}
#: Models a peer library does not have.
MISSING = {("torch_rechub", "xdeepfm")}


def run(framework: str, model: str, dataset: str, args) -> dict | None:
    """One training and prediction in a fresh process; its JSON result, or None on failure."""
    epochs = args.frappe_epochs if dataset == "frappe" else args.epochs
    python = FRAMEWORKS.get(framework, Path(sys.executable))
    command = [str(python), str(HERE / "_speed_runner.py"), framework, "--model", model]
    command += ["--dataset", dataset, "--n-samples", str(args.n_samples), "--epochs", str(epochs)]
    command += ["--frappe-rows", str(args.frappe_rows)] if args.frappe_rows else []
    command += ["--threads", str(args.threads)] if args.threads else []
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        print(f"{framework} {model} on {dataset} failed:\n{completed.stderr[-3000:]}", flush=True)
        return None
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    print(
        f"{dataset} {model} {framework}: training {result['train_rows_per_s']:,.0f} rows/s, "
        f"prediction {result['predict_rows_per_s']:,.0f} rows/s, peak RSS {result['peak_rss_mib']:,.0f} MiB, "
        f"AUC {' / '.join(f'{a:.4f}' for a in result['task_aucs'])}",
        flush=True,
    )
    return result


def best(results: list[dict]) -> dict:
    """The best of the repeats: largest rows/s and largest memory; the first repeat's AUC."""

    def largest(key):
        values = [r[key] for r in results if r[key] is not None]
        return max(values) if values else None

    keys = [
        "train_rows_per_s",
        "epoch_rows_per_s",
        "predict_rows_per_s",
        "peak_rss_mib",
        "rss_after_data_mib",
    ]
    return {**results[0], **{key: largest(key) for key in keys}, "repeats": len(results)}


#: The speeds the ratio tables compare, and their names in the headers.
SPEEDS = {"train_rows_per_s": "training", "epoch_rows_per_s": "epochs", "predict_rows_per_s": "prediction"}


def peer_speed_columns() -> list[tuple[str, str, str]]:
    """The ratio tables' columns: (framework, speed key, header), one per other framework and speed."""
    return [
        (framework, key, f"{NAMES[framework]} ({what})")
        for framework in list(FRAMEWORKS)[1:]
        for key, what in SPEEDS.items()
    ]


def paired_ratios(ours: list[dict], theirs: list[dict], key: str) -> list[float]:
    """sklearn_pangu's rows/s over the framework's, round by round (a round's runs are adjacent)."""
    by_round = {r["round"]: r[key] for r in theirs if r[key]}
    return [r[key] / by_round[r["round"]] for r in ours if r[key] and r["round"] in by_round]


def paired_table(runs: dict, models: list[str]) -> str:
    """Median and range over the rounds of sklearn_pangu's speed over each framework's in the same round."""
    rows = []
    for model in models:
        ours = runs.get((model, "sklearn_pangu"))
        if not ours:
            continue
        cells = []
        for framework, key, _ in peer_speed_columns():
            values = paired_ratios(ours, runs.get((model, framework), []), key)
            if values:
                cells.append(f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})")
            else:
                cells.append("")
        rows.append([MODEL_NAMES[model], *cells])
    headers = [header for _, _, header in peer_speed_columns()]
    return markdown_table(["sklearn_pangu ×, round by round: median (range)", *headers], rows)


def ratio(ours: dict | None, theirs: dict | None, key: str) -> str:
    if not ours or not theirs or not ours[key] or not theirs[key]:
        return ""
    return f"{ours[key] / theirs[key]:.2f}"


def tables(measured: dict, models: list[str]) -> str:
    """The full table (one row per model and framework) and the table of speed ratios."""
    rows, ratios = [], []
    for model in models:
        ours = measured.get((model, "sklearn_pangu"))
        for framework in ["sklearn_pangu", FROM_STRINGS, *list(FRAMEWORKS)[1:]]:
            result = measured.get((model, framework))
            if result is None:
                continue
            # sklearn_pangu's speed over its own run from the strings is not a comparison.
            compared = None if framework == FROM_STRINGS else ours
            rows.append(
                [
                    MODEL_NAMES[model],
                    NAMES[framework],
                    f"{result['train_rows_per_s']:,.0f}",
                    ratio(compared, result, "train_rows_per_s"),
                    "" if result["epoch_rows_per_s"] is None else f"{result['epoch_rows_per_s']:,.0f}",
                    ratio(compared, result, "epoch_rows_per_s"),
                    f"{result['predict_rows_per_s']:,.0f}",
                    ratio(compared, result, "predict_rows_per_s"),
                    f"{result['rss_after_data_mib']:,.0f}",
                    f"{result['peak_rss_mib']:,.0f}",
                    " / ".join(f"{auc:.4f}" for auc in result["task_aucs"]),
                    str(result["repeats"]),
                ]
            )
        if ours:
            ratios.append(
                [MODEL_NAMES[model]]
                + [ratio(ours, measured.get((model, f)), key) for f, key, _ in peer_speed_columns()]
            )
    full = markdown_table(
        [
            "model",
            "framework",
            "training rows/s",
            "sklearn_pangu × (training)",
            "epochs only rows/s",
            "sklearn_pangu × (epochs only)",
            "prediction rows/s",
            "sklearn_pangu × (prediction)",
            "RSS with the data MiB",
            "peak RSS in fit and predict MiB",
            "test ROC AUC",
            "repeats",
        ],
        rows,
    )
    short = markdown_table(["sklearn_pangu ×", *[header for _, _, header in peer_speed_columns()]], ratios)
    return full + "\n\n" + short


#: The sentence on the round-by-round table, which runs of two or more repeats add.
PAIRED_NOTE = (
    "; round by round, each of sklearn_pangu's runs is compared with the "
    "framework's run of the same round, next to it in time, so that the machine's drift "
    "from one round to the next cancels out"
)
NOTES = (
    "Embedding 16, MLP 256-128 with batch norm and ReLU, no dropout, no L2, Adam 1e-3, "
    "DCN with 3 cross layers, xDeepFM with CIN 64-64 (split half), MMoE with 8 experts of "
    "MLP 256-128, one softmax gate per task and a tower 64 per task, two tasks; "
    "batch 4096, prediction batches of {predict_batch} rows (sklearn_pangu's predict_batch_size='auto' "
    "on the CPU; its predict_proba spreads them over two threads, each with half of torch's threads, "
    "where the others run them one after another); sklearn_pangu's 'adam' is torch's fused Adam, "
    "the others use torch.optim.Adam's default; one process per run, which predicts the test "
    "rows {passes} times and keeps the fastest pass. Each framework ran "
    "{repeats} time(s) per model, round-robin over the frameworks; the table keeps the best "
    "rows/s of each column and the largest RSS over the repeats, and the AUC of the first "
    "repeat (MMoE: task 1, the label / task 2, the derived conversion label). RSS with the "
    "data is the process after loading the rows; the peak is counted from then on (Linux "
    "clear_refs), through training and prediction. Every framework gets the same DataFrame "
    "({raw}); sklearn_pangu's times include encoding it, the others start from label-encoded "
    "arrays of its category codes; the hand-written loop's include building its tensors.{strings} "
    "The others build their network before their clock "
    "starts; sklearn_pangu's fit builds it inside. Every process imports torch's optimizer code "
    "(torch._dynamo, about a second) before any clock starts. Epochs only: the seconds of the "
    "training epochs alone (sklearn_pangu: history_ 'dur'; hand-written: its loop; DeepCTR-Torch: between "
    "its on_epoch_begin and on_epoch_end callbacks; torch-rechub: its train_one_epoch), "
    "without encoding, tensor building or setup. sklearn_pangu × is its rows/s over the "
    "framework's{paired}. DeepCTR-Torch and torch-rechub feed dense "
    "features to the MLP as raw values, so their FM and CIN see the sparse fields only; "
    "in MMoE, torch-rechub's gates have batch norm and its trainer scores one validation "
    "batch per epoch; see the docstring of benchmarks/bench_peers.py."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODEL_NAMES), default=list(MODEL_NAMES))
    parser.add_argument(
        "--datasets", nargs="+", choices=["synthetic", "frappe"], default=["synthetic", "frappe"]
    )
    parser.add_argument("--n-samples", type=int, default=1_000_000, help="synthetic training rows")
    parser.add_argument("--frappe-rows", type=int, default=None, help="cap on Frappe rows (smoke tests)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs on the synthetic data")
    parser.add_argument("--frappe-epochs", type=int, default=5, help="epochs on Frappe")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each model and framework")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-record", action="store_true", help="print the tables, leave RESULTS.md")
    args = parser.parse_args()
    if not PEER_PYTHON.exists():
        print(
            f"DeepCTR-Torch and torch-rechub skipped: {PEER_PYTHON} does not exist; "
            "build it with `make bench-peers`."
        )
    for model in args.models:
        for framework in FRAMEWORKS:
            if (framework, model) in MISSING:
                print(f"{NAMES[framework]} skipped for {MODEL_NAMES[model]}: the library has no such model.")
    started = time.perf_counter()
    for dataset in args.datasets:
        if dataset == "frappe" and not (FRAPPE / "valid.csv.gz").exists():
            print(f"Frappe skipped: {FRAPPE} is not available (research-only data, not in the repo).")
            continue
        runs: dict[tuple[str, str], list[dict]] = {}
        for model in args.models:
            runnable = [
                f for f, python in FRAMEWORKS.items() if python.exists() and (f, model) not in MISSING
            ]
            if dataset == "frappe":
                runnable.insert(1, FROM_STRINGS)
            for round_ in range(args.repeats):
                for framework in runnable:
                    result = run(framework, model, dataset, args)
                    if result is not None:
                        runs.setdefault((model, framework), []).append({**result, "round": round_})
        measured = {key: best(results) for key, results in runs.items()}
        if not measured:
            continue
        # A run of some of the models has its own section; the tables of all four stay.
        subset = "" if args.models == list(MODEL_NAMES) else "_" + "_".join(args.models)
        only = "" if not subset else ", " + ", ".join(MODEL_NAMES[m] for m in args.models) + " only"
        if dataset == "synthetic":
            section = "peers" + subset
            title = (
                f"Side by side with the peers, {args.n_samples:,} synthetic rows, {args.epochs} epoch(s), "
                f"best of {args.repeats}{only}"
            )
            raw = "category and float columns"
            strings = ""
        else:
            section = "peers_frappe" + subset
            sample = next(iter(measured.values()))
            title = (
                f"Side by side with the peers on Frappe (train {sample['train_rows']:,} rows of "
                f"valid.csv.gz, predict {sample['test_rows']:,} of test.csv.gz), "
                f"{args.frappe_epochs} epoch(s), best of {args.repeats}{only}"
            )
            raw = "Frappe's strings as categories of the training set's values, made before any clock"
            strings = (
                " 'sklearn_pangu, from the CSV's strings' is given the string columns as read "
                "instead, and its times include encoding those."
            )
        table = tables(measured, args.models)
        if args.repeats > 1:
            table += "\n\n" + paired_table(runs, args.models)
        predict_batch = f"{auto_predict_batch_size('cpu'):,}"
        notes = NOTES.format(
            repeats=args.repeats,
            raw=raw,
            strings=strings,
            predict_batch=predict_batch,
            passes=PREDICT_PASSES,
            paired=PAIRED_NOTE if args.repeats > 1 else "",
        )
        command = "python benchmarks/bench_peers.py " + " ".join(sys.argv[1:])
        if args.no_record:
            print(f"\n## {title}\n\n{table}\n\n{notes}\n")
        else:
            record(section, title, command.strip(), table, notes=notes)
    print(f"bench_peers took {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    main()
