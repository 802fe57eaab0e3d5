"""Encoding speed: FeatureEncoder.fit_transform against ColumnTransformer(OrdinalEncoder).

``make_ctr_classification`` rows with 26 categorical columns (cardinalities up to
100,000) as pandas ``str`` columns, and no numeric ones, so both encoders do the same
work: map every string to an integer code. The table shows the seconds of
``fit_transform`` (best of ``--repeats``) and the rows/s. The codes are checked to
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


def best_seconds(function, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    X, _ = make_ctr_classification(args.n_samples, n_sparse=26, n_dense=0, random_state=0)
    X = X.astype("str")
    ours, codes = best_seconds(lambda: FeatureEncoder().fit_transform(X), args.repeats)
    plain = ColumnTransformer([("ordinal", OrdinalEncoder(), list(X.columns))])
    theirs, reference = best_seconds(lambda: plain.fit_transform(X), args.repeats)
    np.testing.assert_array_equal(codes, reference.astype(np.int64) + 2)
    rows = [
        ["FeatureEncoder().fit_transform", ours, f"{args.n_samples / ours:,.0f}", f"{theirs / ours:.2f}"],
        [
            "ColumnTransformer(OrdinalEncoder()).fit_transform",
            theirs,
            f"{args.n_samples / theirs:,.0f}",
            "1.00",
        ],
    ]
    record(
        "encoder",
        f"Encoding speed: {args.n_samples:,} rows × 26 string columns",
        "python benchmarks/bench_encoder.py " + " ".join(sys.argv[1:]),
        markdown_table(["encoder", "seconds", "rows/s", "speed-up"], rows),
        notes=f"Best of {args.repeats}; pandas {pd.__version__} (text columns as the `str` dtype); "
        "the same codes (FeatureEncoder's = OrdinalEncoder's + 2).",
    )


if __name__ == "__main__":
    main()
