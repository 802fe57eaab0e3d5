"""Encoding speed: FeatureEncoder against ColumnTransformer(OrdinalEncoder), and list columns.

Two tables. **String columns**: ``make_ctr_classification`` rows with 26 categorical
columns (up to 100,000 ids) as pandas ``str`` columns and no numeric ones, so that both
encoders do the same work: map every string to an integer code. The table shows the
seconds of ``fit_transform``, and of ``transform`` of the same rows by the fitted encoder
(what each prediction pays), the best of ``--repeats``, the rows/s and the speed-up over
ColumnTransformer(OrdinalEncoder()) in the same step. The codes are checked to match:
FeatureEncoder's are OrdinalEncoder's plus 2 (indices 0 and 1 are kept for unknown and
missing values).

**List columns**: the same number of rows with one list column ``history`` of integer
item ids (lengths Poisson with mean 20, ids Zipf-like over 100,000 items) beside three
string columns and a numeric one. The list column comes as Python lists in an object
column (what a user builds with pandas), as an Arrow ``large_list`` column (Parquet read
with ``dtype_backend="pyarrow"``, polars) and as ``|``-delimited text. The table shows
the seconds of ``fit_encode`` and ``encode`` (what the estimators call at fit and at
predict), the rows/s and the list items/s (all items of the list column, each row's
items counted before truncation to ``max_sequence_length=50``). The three forms are
checked to give the same codes.

**Numeric columns**: the same number of rows of 13 numeric columns (``make_ctr_classification``'s
dense features, half of each column's values set to 0 as in wages or capital gains, 1% missing),
encoded by each ``numeric_encoding``: the seconds of ``fit_encode`` and ``encode``, the
rows/s and the time against ``'scale'`` in the same step.

Usage: ``python benchmarks/bench_encoder.py [--quick | --record] [--rows 1000000] [--repeats 2]
[--part {strings,lists,numbers,all}]``
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

#: Mean number of items of a row's list, and the number of distinct items.
MEAN_LENGTH, N_ITEMS = 20, 100_000


def string_columns(args) -> None:
    """The table of 26 string columns, against ColumnTransformer(OrdinalEncoder())."""
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


def list_frames(rows: int) -> tuple[dict[str, pd.DataFrame], int]:
    """The rows with the list column in each of its forms, and the number of list items."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(0)
    lengths = rng.poisson(MEAN_LENGTH, rows)
    items = np.minimum(rng.zipf(1.3, int(lengths.sum())), N_ITEMS)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    arrow = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(items))
    scalars, _ = make_ctr_classification(rows, n_sparse=3, n_dense=1, random_state=0)
    flat = items.tolist()
    python_lists = pd.Series(
        [flat[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)], dtype=object
    )
    text = pd.Series(pc.binary_join(arrow.cast(pa.list_(pa.string())), "|"), dtype=object)
    frames = {
        "Python lists (object column)": scalars.assign(history=python_lists),
        "Arrow large_list<int64>": scalars.assign(history=pd.Series(arrow, dtype=pd.ArrowDtype(arrow.type))),
        "text joined by '|'": scalars.assign(history=text),
    }
    return frames, int(lengths.sum())


def list_columns(args) -> None:
    """The table of one list column (in three forms) beside scalar columns."""
    frames, n_items = list_frames(args.rows)
    rows, reference = [], None
    for form, X in frames.items():
        declared = {"history": "|"} if form.startswith("text") else None
        encoder = FeatureEncoder(multi_value_features=declared)
        times, (codes, _) = _common.clock(lambda X=X, encoder=encoder: encoder.fit_encode(X), args.repeats)
        encode_times, (encoded, _) = _common.clock(
            lambda X=X, encoder=encoder: encoder.encode(X), args.repeats
        )
        np.testing.assert_array_equal(codes, encoded)
        if reference is None:
            reference = codes
        np.testing.assert_array_equal(codes, reference)
        for step, seconds in (("fit_encode", min(times)), ("encode", min(encode_times))):
            rows.append([form, step, seconds, f"{args.rows / seconds:,.0f}", f"{n_items / seconds:,.0f}"])
    table = _common.markdown_table(["list column", "step", "seconds", "rows/s", "list items/s"], rows)
    slots = encoder.field_spec_.sequence_lengths[-1]
    notes = (
        f"Best of {args.repeats}; pandas {pd.__version__}. {n_items:,} list items (mean {MEAN_LENGTH} a row, "
        f"{slots} slots), beside 3 string columns and 1 numeric one; the three forms give the same codes. "
        "encode encodes the same rows again with the encoder fit_encode fitted."
    )
    title = f"Encoding speed: {args.rows:,} rows with a list column"
    section = _common.section_name("encoder_lists", f"{args.rows} rows" if args.rows != 1_000_000 else "")
    _common.publish(args, section, title, table, notes)


def numeric_columns(args) -> None:
    """The table of 13 numeric columns, by numeric_encoding."""
    X, _ = make_ctr_classification(args.rows, n_sparse=0, n_dense=13, random_state=0)
    rng = np.random.default_rng(0)
    values = X.to_numpy(dtype=np.float64, copy=True)
    values[rng.random(values.shape) < 0.5] = 0.0
    values[rng.random(values.shape) < 0.01] = np.nan
    X = pd.DataFrame(values, columns=X.columns)
    rows, seconds = [], {}
    for encoding in ("scale", "bucket", "scale_and_bucket", "piecewise_linear"):
        encoder = FeatureEncoder(numeric_encoding=encoding)
        fit_times, _ = _common.clock(lambda encoder=encoder: encoder.fit_encode(X), args.repeats)
        encode_times, _ = _common.clock(lambda encoder=encoder: encoder.encode(X), args.repeats)
        for step, times in (("fit_encode", fit_times), ("encode", encode_times)):
            seconds[encoding, step] = min(times)
            relative = seconds[encoding, step] / seconds["scale", step]
            rows.append(
                [
                    repr(encoding),
                    step,
                    seconds[encoding, step],
                    f"{args.rows / min(times):,.0f}",
                    f"{relative:.2f}",
                ]
            )
    table = _common.markdown_table(
        ["numeric_encoding", "step", "seconds", "rows/s", "time against 'scale'"], rows
    )
    notes = (
        f"Best of {args.repeats}; 13 float columns, half of each column's values 0 and 1% missing. "
        "encode encodes the same rows again with the encoder fit_encode fitted."
    )
    title = f"Encoding speed: {args.rows:,} rows × 13 numeric columns, by numeric_encoding"
    section = _common.section_name("encoder_numbers", f"{args.rows} rows" if args.rows != 1_000_000 else "")
    _common.publish(args, section, title, table, notes)


def main() -> None:
    parser = _common.parser(__doc__.splitlines()[0], rows=1_000_000, repeats=2)
    parser.add_argument(
        "--part", choices=("strings", "lists", "numbers", "all"), default="all", help="which tables"
    )
    args = _common.parse(parser, quick={"rows": 20_000, "repeats": 1})
    if args.part in ("strings", "all"):
        string_columns(args)
    if args.part in ("lists", "all"):
        list_columns(args)
    if args.part in ("numbers", "all"):
        numeric_columns(args)


if __name__ == "__main__":
    main()
