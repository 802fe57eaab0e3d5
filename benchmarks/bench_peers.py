"""DeepFM, DCN and xDeepFM side by side: sklearn_pangu, a hand-written loop, DeepCTR-Torch, torch-rechub.

Each framework trains the same network (see ``_speed_runner.py`` for the networks and
training settings; torch-rechub has no xDeepFM) on the same ``make_ctr_classification``
rows (26 sparse columns with cardinalities up to 100,000, 13 dense) in its own process, and predicts 10% more
rows. The table shows training and prediction rows/s, peak resident memory and the
test ROC AUC, and records them in ``RESULTS.md``.

sklearn_pangu starts from the raw DataFrame (its times include the feature
encoding); the others are fed label-encoded arrays, as their users must prepare them.
DeepCTR-Torch and torch-rechub run in the benchmark environment that
``make bench-peers`` builds (``.bench-venv``, torch pinned as here); they are skipped
with a message when it is absent. Differences that cannot be removed: DeepCTR-Torch
and torch-rechub feed the dense features to the MLP only (sklearn_pangu and the
hand-written loop also give them FM vectors), and torch-rechub has no dense features
in its linear part.

Usage: ``python benchmarks/bench_peers.py [--models deepfm dcn xdeepfm] [--n-samples 1000000]
[--epochs 1] [--threads N]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402

HERE = Path(__file__).parent
PEER_PYTHON = HERE.parent / ".bench-venv" / "bin" / "python"
FRAMEWORKS = {
    "sklearn_pangu": Path(sys.executable),
    "hand_written": Path(sys.executable),
    "deepctr_torch": PEER_PYTHON,
    "torch_rechub": PEER_PYTHON,
}
#: Models a peer library does not have.
MISSING = {("torch_rechub", "xdeepfm")}


def run(framework: str, python: Path, model: str, args) -> dict | None:
    if not python.exists():
        print(f"{framework} skipped: {python} does not exist; build it with `make bench-peers`.")
        return None
    if (framework, model) in MISSING:
        print(f"{framework} skipped for {model}: the library has no such model.")
        return None
    command = [str(python), str(HERE / "_speed_runner.py"), framework, "--model", model]
    command += ["--n-samples", str(args.n_samples)]
    command += ["--epochs", str(args.epochs)] + (["--threads", str(args.threads)] if args.threads else [])
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        print(f"{framework} failed:\n{completed.stderr[-3000:]}")
        return None
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    print(result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["deepfm", "dcn", "xdeepfm"])
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    rows = []
    for model in args.models:
        results = {name: run(name, python, model, args) for name, python in FRAMEWORKS.items()}
        ours = results["sklearn_pangu"]
        for name, result in results.items():
            if result is None:
                continue
            rows.append(
                [
                    model,
                    name,
                    f"{result['train_rows_per_s']:,.0f}",
                    f"{ours['train_rows_per_s'] / result['train_rows_per_s']:.2f}" if ours else "",
                    "" if result["epoch_rows_per_s"] is None else f"{result['epoch_rows_per_s']:,.0f}",
                    f"{result['predict_rows_per_s']:,.0f}",
                    f"{ours['predict_rows_per_s'] / result['predict_rows_per_s']:.2f}" if ours else "",
                    f"{result['rss_after_data_mib']:,.0f}",
                    f"{result['peak_rss_mib']:,.0f}",
                    f"{result['test_auc']:.4f}",
                ]
            )
    record(
        "peers",
        f"Side by side with the peers, {args.n_samples:,} synthetic rows, {args.epochs} epoch(s)",
        "python benchmarks/bench_peers.py " + " ".join(sys.argv[1:]),
        markdown_table(
            [
                "model",
                "framework",
                "training rows/s",
                "sklearn_pangu × (training)",
                "epochs only rows/s",
                "prediction rows/s",
                "sklearn_pangu × (prediction)",
                "RSS with the data MiB",
                "peak RSS in fit and predict MiB",
                "test ROC AUC",
            ],
            rows,
        ),
        notes="Embedding 16, MLP 256-128 with batch norm and ReLU, no dropout, no L2, Adam 1e-3, "
        "DCN with 3 cross layers, xDeepFM with CIN 64-64 (split half), "
        "batch 4096, prediction batches of 16,384; one process per framework; "
        "RSS with the data is the process after generating the 1.1 × n rows; the peak is counted "
        "from then on (Linux clear_refs), through training and prediction. sklearn_pangu's times "
        "include encoding the raw DataFrame, the others start from label-encoded arrays; the "
        "hand-written loop's include building its tensors. "
        "DeepCTR-Torch and torch-rechub feed dense features to the MLP only. Epochs only: the "
        "seconds of the training epochs alone (sklearn_pangu: history_ 'dur'; hand-written: its "
        "loop), without encoding, tensor building or setup.",
    )


if __name__ == "__main__":
    main()
