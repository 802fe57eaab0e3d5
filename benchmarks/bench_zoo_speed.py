"""Training rows/s of every ranking model with its defaults, beside DeepFM's, in one run.

Each estimator trains one epoch (no early stopping) on the same
``make_ctr_classification`` rows (26 sparse columns with cardinalities up to
100,000 and 13 dense ones) with its default hyper-parameters; the table shows the
rows/s of that epoch (``history_[-1, 'dur']``) and the time relative to DeepFM's.

``--bfloat16 MODEL ...`` also trains those models with ``mixed_precision='bfloat16'``, in
the same run, as extra rows.

Usage: ``python benchmarks/bench_zoo_speed.py [--n-samples 200000] [--models ...]
[--bfloat16 MODEL ...] [--device cpu]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sklearn_pangu
from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.utils import all_estimators

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402

RANKING_MODELS = [name for name, _ in all_estimators() if name.endswith("Classifier")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--models", nargs="+", default=RANKING_MODELS)
    parser.add_argument("--bfloat16", nargs="*", default=[], help="models to run in bfloat16 too")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    X, y = make_ctr_classification(args.n_samples, random_state=0)
    names = ["DeepFMClassifier", *(n for n in args.models if n != "DeepFMClassifier")]
    runs = [(name, {}) for name in names] + [
        (name, {"mixed_precision": "bfloat16"}) for name in args.bfloat16
    ]
    seconds = {}
    for name, options in runs:
        label = name + "".join(f", {key}={value!r}" for key, value in options.items())
        model = getattr(sklearn_pangu, name)(
            max_epochs=1, early_stopping=False, device=args.device, random_state=0, **options
        )
        model.fit(X, y)
        seconds[label] = model.history_[-1, "dur"]
        print(label, f"{args.n_samples / seconds[label]:,.0f} rows/s", flush=True)
    rows = [
        [label, f"{args.n_samples / value:,.0f}", f"{value / seconds['DeepFMClassifier']:.2f}"]
        for label, value in seconds.items()
    ]
    record(
        "zoo_speed",
        f"Training speed of every ranking model, {args.n_samples:,} synthetic rows",
        "python benchmarks/bench_zoo_speed.py " + " ".join(sys.argv[1:]),
        markdown_table(["model", "training rows/s", "epoch time × DeepFM"], rows),
        notes=f"make_ctr_classification({args.n_samples}, 26 sparse up to 100,000 ids, 13 dense); each "
        f"model with its defaults (batch 1024, Adam), one epoch, no early stopping, device={args.device!r}.",
    )


if __name__ == "__main__":
    main()
