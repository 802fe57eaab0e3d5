"""On a CUDA GPU: census quality, the CPU reload, and DeepFM's speed and memory beside the hand-written loop.

Census: ``DeepFMClassifier(device='cuda')`` with its defaults on census income (80/20 split,
``random_state=0``): test ROC AUC, epochs and fit seconds; the model is saved with joblib
and reloaded in a process with CUDA hidden, whose predictions must match the card's.

Speed: the DeepFM network of ``_reference.NETWORKS`` (embeddings of 16, MLP 256-128 with
batch norm, Adam 1e-3, batch 4,096), one epoch on ``--rows`` rows of
``make_ctr_classification``, predicting a tenth as many other rows (the fastest of three
passes): sklearn_pangu in float32 and bfloat16, with and without ``sparse_embeddings``,
beside :class:`_reference.ReferenceLoop` on the same card in each dtype. ``--repeats``
interleaved runs of every setting, after one warm-up run of each on 20,000 rows; the table
keeps the best rows/s and the largest peak of the memory torch allocated on the card.
Training rows/s include encoding the DataFrame on the CPU and, for the loop, building
its tensors and moving them to the card; the loop builds its module before its clock.

Without a CUDA GPU the script says so and stops; ``--quick`` then runs its small version
on the CPU instead, as a check of the script.

Usage: ``python benchmarks/bench_gpu.py [--quick | --record] [--rows 1000000] [--repeats 3]
[--device cuda]``; ``bash benchmarks/gpu_checks.sh`` runs the GPU tests first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from sklearn_pangu import DeepFMClassifier

sys.path.insert(0, str(Path(__file__).parent))
import _common  # noqa: E402
import _reference  # noqa: E402

RELOAD_ON_CPU = """
import sys, joblib, numpy as np
model = joblib.load(sys.argv[1]); X = joblib.load(sys.argv[2])
np.save(sys.argv[3], model.predict_proba(X))
"""
#: (label, sklearn_pangu's options, or None for the hand-written loop, and the autocast dtype)
SETTINGS = [
    ("sklearn_pangu, float32", {}, None),
    ("sklearn_pangu, float32, sparse_embeddings=True", {"sparse_embeddings": True}, None),
    ("sklearn_pangu, mixed_precision='bfloat16'", {"mixed_precision": "bfloat16"}, "bfloat16"),
    (
        "sklearn_pangu, mixed_precision='bfloat16', sparse_embeddings=True",
        {"mixed_precision": "bfloat16", "sparse_embeddings": True},
        "bfloat16",
    ),
    ("hand-written loop, float32", None, None),
    ("hand-written loop, bfloat16", None, "bfloat16"),
]
SPEEDS = ("train", "epoch", "predict")
PREDICT_PASSES = 3


def census(device: str, rows: int | None) -> list[list]:
    """Census quality with the defaults on ``device``, and the CPU reload's largest difference."""
    X_train, X_test, Y_train, Y_test = _common.load_census(rows)
    model = DeepFMClassifier(device=device, random_state=0, **({"max_epochs": 2} if rows else {}))
    (seconds,), _ = _common.clock(lambda: model.fit(X_train, Y_train["income"]))
    proba = model.predict_proba(X_test)
    auc = roc_auc_score(Y_test["income"], proba[:, 1])
    with tempfile.TemporaryDirectory() as folder:
        joblib.dump(model, f"{folder}/model.joblib")
        joblib.dump(X_test, f"{folder}/X.joblib")
        subprocess.run(
            [
                sys.executable,
                "-c",
                RELOAD_ON_CPU,
                f"{folder}/model.joblib",
                f"{folder}/X.joblib",
                f"{folder}/p.npy",
            ],
            check=True,
            env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        )
        difference = float(np.abs(np.load(f"{folder}/p.npy") - proba).max())
    return [
        ["census income, defaults: test ROC AUC", f"{auc:.4f}", model.n_iter_, f"{seconds:.1f}"],
        ["reloaded with CUDA hidden: max |p_cpu - p_gpu|", f"{difference:.2e}", "", ""],
    ]


def run_setting(options, dtype, data, device: str) -> dict:
    """One fit and prediction of a setting: rows/s, the peak memory on the card and the test AUC."""
    X, X_test, y, y_test = data
    with _common.PeakMemory(device) as memory:
        if options is None:
            loop = _reference.ReferenceLoop(
                _reference.estimator("deepfm", 1), X, device=device, mixed_precision=dtype
            )
            (fit_seconds,), epoch_seconds = _common.clock(lambda: loop.fit(X, y, 1))
            predict = loop.predict
        else:
            model = _reference.estimator("deepfm", 1, device=device, **options)
            (fit_seconds,), _ = _common.clock(lambda: model.fit(X, y))
            epoch_seconds = float(sum(model.history_[:, "dur"]))

            def predict(X):
                return model.predict_proba(X)[:, 1]

        seconds, proba = _common.clock(lambda: predict(X_test), PREDICT_PASSES)
    return {
        "train": len(X) / fit_seconds,
        "epoch": len(X) / epoch_seconds,
        "predict": len(X_test) / min(seconds),
        "memory": memory.gpu_mib,
        "auc": roc_auc_score(y_test, proba),
    }


def speed_table(rows: int, repeats: int, device: str, warm_up: bool) -> str:
    """Rows/s of each setting (best of ``repeats``), its ratio to the loop's in its dtype, its memory."""
    if warm_up:
        small = _common.synthetic(20_000)
        for _, options, dtype in SETTINGS:
            run_setting(options, dtype, small, device)
    data = _common.synthetic(rows)
    runs = {label: [] for label, *_ in SETTINGS}
    for repeat in range(repeats):
        for label, options, dtype in SETTINGS:
            runs[label].append(run_setting(options, dtype, data, device))
            print(f"{label}, repeat {repeat + 1}: {runs[label][-1]}", flush=True)
    best = {label: {k: max(r[k] for r in results) for k in SPEEDS} for label, results in runs.items()}
    table = []
    for label, _, dtype in SETTINGS:
        loop = best[f"hand-written loop, {dtype or 'float32'}"]
        memory = [r["memory"] for r in runs[label] if r["memory"] is not None]
        table.append(
            [
                label,
                *(f"{best[label][k]:,.0f}" for k in SPEEDS),
                " / ".join(f"{best[label][k] / loop[k]:.2f}" for k in SPEEDS),
                f"{max(memory):,.0f}" if memory else "",
                f"{runs[label][0]['auc']:.4f}",
            ]
        )
    header = [
        "setting",
        "training rows/s",
        "epoch rows/s",
        "prediction rows/s",
        "× the hand-written loop in its dtype (training / epoch / prediction)",
        "peak GPU memory MiB",
        "test ROC AUC (first repeat)",
    ]
    return _common.markdown_table(header, table)


def main() -> None:
    parser = _common.parser(__doc__.splitlines()[0], rows=1_000_000, repeats=3, device="cuda")
    args = _common.parse(parser, quick={"rows": 20_000, "repeats": 1})
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        if not args.quick:
            print(
                "bench_gpu skipped: no CUDA GPU on this machine (--quick runs its small version on the CPU)."
            )
            return
        print("No CUDA GPU: the quick run goes on the CPU.")
        args.device = "cpu"
    quality = _common.markdown_table(
        ["run", "value", "epochs", "fit seconds"], census(args.device, 2_000 if args.quick else None)
    )
    print(quality, flush=True)
    speed = speed_table(args.rows, args.repeats, args.device, warm_up=not args.quick)
    notes = (
        "Census: the estimator's defaults. Speed: the DeepFM network of benchmarks/_reference.py, one "
        f"epoch on {args.rows:,} synthetic rows, predicting {args.rows // 10:,} others (the fastest of "
        f"{PREDICT_PASSES} passes); best of {args.repeats} interleaved repeats after a warm-up run of each "
        "setting on 20,000 rows. Training rows/s include encoding the DataFrame on the CPU (for the loop, "
        "building its tensors and moving them to the card); epoch rows/s time the training epoch alone. "
        "The loop holds its data on the card and never waits for it; sklearn_pangu copies each batch to "
        "the card and reads each batch's loss on the host. Peak GPU memory: "
        "torch.cuda.max_memory_allocated over the fit and the prediction."
    )
    title = f"GPU: DeepFMClassifier(device={args.device!r}) beside a hand-written loop on the same card"
    section = _common.section_name("gpu", f"{args.rows} rows" if args.rows != 1_000_000 else "")
    _common.publish(args, section, title, quality + "\n\n" + speed, notes, args.device)


if __name__ == "__main__":
    main()
