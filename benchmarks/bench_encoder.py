"""Encoding speed: FeatureEncoder.fit_transform against ColumnTransformer(OrdinalEncoder).

``make_ctr_classification`` rows with 26 categorical columns (cardinalities up to
100,000) as pandas ``str`` columns, and no numeric ones, so both encoders do the same
work: map every string to an integer code. The table shows the seconds of
``fit_transform``, and of ``transform`` of the same rows by the fitted encoder (what
each prediction pays), best of ``--repeats``, and the rows/s. The codes are checked to
match: FeatureEncoder's are OrdinalEncoder's plus 2 (indices 0 and 1 are reserved for
unknown and missing values).

Usage: ``python benchmarks/bench_encoder.py [--n-samples 1000000] [--repeats 2]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OrdinalEncoder

from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.preprocessing import FeatureEncoder

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402


def best_seconds(function, X, repeats: int):
    """The fastest of ``repeats`` calls of ``function(X)``, in seconds, and its result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(X)
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    X, _ = make_ctr_classification(args.n_samples, n_sparse=26, n_dense=0, random_state=0)
    X = X.astype("str")
    ours = FeatureEncoder()
    plain = ColumnTransformer([("ordinal", OrdinalEncoder(), list(X.columns))])
    timings = {}
    for step in ("fit_transform", "transform"):
        timings[step] = [best_seconds(getattr(encoder, step), X, args.repeats) for encoder in (ours, plain)]
        (_, codes), (_, reference) = timings[step]
        np.testing.assert_array_equal(codes, reference.astype(np.int64) + 2)
    names = ("FeatureEncoder()", "ColumnTransformer(OrdinalEncoder())")
    rows = []
    for step, ((ours_seconds, _), (plain_seconds, _)) in timings.items():
        for name, seconds in zip(names, (ours_seconds, plain_seconds), strict=True):
            speed_up = f"{plain_seconds / seconds:.2f}"
            rows.append([step, name, seconds, f"{args.n_samples / seconds:,.0f}", speed_up])
    record(
        "encoder",
        f"Encoding speed: {args.n_samples:,} rows × 26 string columns",
        "python benchmarks/bench_encoder.py " + " ".join(sys.argv[1:]),
        markdown_table(["step", "encoder", "seconds", "rows/s", "speed-up"], rows),
        notes=f"Best of {args.repeats}; pandas {pd.__version__} (text columns as the `str` dtype); "
        "the same codes (FeatureEncoder's = OrdinalEncoder's + 2). transform encodes the same rows "
        "again with the encoder fit_transform fitted; the speed-up is over "
        "ColumnTransformer(OrdinalEncoder()) in the same step.",
    )


if __name__ == "__main__":
    main()
