"""Encoding speed: FeatureEncoder against ColumnTransformer(OrdinalEncoder), fit_transform and transform.

``make_ctr_classification`` rows with 26 categorical columns (up to 100,000 ids) as pandas
``str`` columns and no numeric ones, so that both encoders do the same work: map every
string to an integer code. The table shows the seconds of ``fit_transform``, and of
``transform`` of the same rows by the fitted encoder (what each prediction pays), the
best of ``--repeats``, the rows/s and the speed-up over ColumnTransformer(OrdinalEncoder())
in the same step. The codes are checked to match: FeatureEncoder's are OrdinalEncoder's
plus 2 (indices 0 and 1 are kept for unknown and missing values).

Usage: ``python benchmarks/bench_encoder.py [--quick | --record] [--rows 1000000] [--repeats 2]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OrdinalEncoder

from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.preprocessing import FeatureEncoder

sys.path.insert(0, str(Path(__file__).parent))
import _common  # noqa: E402


def main() -> None:
    parser = _common.parser(__doc__.splitlines()[0], rows=1_000_000, repeats=2)
    args = _common.parse(parser, quick={"rows": 20_000, "repeats": 1})
    X, _ = make_ctr_classification(args.rows, n_sparse=26, n_dense=0, random_state=0)
    X = X.astype("str")
    encoders = {
        "FeatureEncoder()": FeatureEncoder(),
        "ColumnTransformer(OrdinalEncoder())": ColumnTransformer(
            [("ordinal", OrdinalEncoder(), list(X.columns))]
        ),
    }
    rows = []
    for step in ("fit_transform", "transform"):
        seconds, codes = {}, {}
        for name, encoder in encoders.items():
            method = getattr(encoder, step)
            times, codes[name] = _common.clock(lambda method=method: method(X), args.repeats)
            seconds[name] = min(times)
        ours, baseline = encoders
        np.testing.assert_array_equal(codes[ours], codes[baseline].astype(np.int64) + 2)
        for name in encoders:
            speed_up = f"{seconds[baseline] / seconds[name]:.2f}"
            rows.append([step, name, seconds[name], f"{args.rows / seconds[name]:,.0f}", speed_up])
    table = _common.markdown_table(["step", "encoder", "seconds", "rows/s", "speed-up"], rows)
    notes = (
        f"Best of {args.repeats}; pandas {pd.__version__} (text columns as the `str` dtype); the same codes "
        "(FeatureEncoder's = OrdinalEncoder's + 2). transform encodes the same rows again with the encoder "
        "fit_transform fitted; the speed-up is over ColumnTransformer(OrdinalEncoder()) in the same step."
    )
    title = f"Encoding speed: {args.rows:,} rows × 26 string columns"
    section = _common.section_name("encoder", f"{args.rows} rows" if args.rows != 1_000_000 else "")
    _common.publish(args, section, title, table, notes)


if __name__ == "__main__":
    main()
