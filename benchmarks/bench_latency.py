"""Latency of predict_proba on 1 and 256 census rows (p50, p90), beside HistGradientBoosting and the network.

Each model (``--models``) is fitted with its defaults for one epoch on census income
(bundled; 80/20 split with ``random_state=0``; the multi-task estimators on both labels,
``income`` and ``never_married``), with one torch thread unless ``--threads`` says
otherwise. Then, for each size of ``--sizes``, ``--repeats`` calls (after 10 warm-up
calls) each predict the next rows of the test set:

- ``predict_proba``: the estimator, from the raw DataFrame rows (checking and encoding them
  included);
- ``hand-written forward``: the same network's torch module (:class:`_reference.ReferenceLoop`,
  trained one epoch) on label-encoded tensors built before the clock: what the network
  alone costs;
- ``onnxruntime``: the model exported by :func:`sklearn_pangu.export.to_onnx` (encoding
  included), run by ONNX Runtime with one intra-op thread on the arrays of
  :func:`~sklearn_pangu.export.onnx_inputs`, built before the clock (what a service
  parses from its request); only with the ``onnx`` extra installed;
- HistGradientBoostingClassifier on ``income`` (its text columns ordinal-encoded in its
  pipeline), ``predict_proba`` from the same DataFrame rows.

The table gives the median (p50) and 90th percentile (p90) of the calls, in milliseconds.

Usage: ``python benchmarks/bench_latency.py [--quick | --record] [--models DeepFMClassifier ...]
[--sizes 1 256] [--repeats 500] [--threads 1]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

import sklearn_pangu
from sklearn_pangu.export import onnx_inputs

sys.path.insert(0, str(Path(__file__).parent))
import _common  # noqa: E402
import _reference  # noqa: E402

WARM_UP = 10
TASKS = ["income", "never_married"]


def percentiles(predict, batches: list, repeats: int) -> tuple[float, float]:
    """p50 and p90 in milliseconds of ``repeats`` calls of ``predict`` on the batches in turn."""
    for batch in batches[:WARM_UP]:
        predict(batch)
    seconds = []
    for call in range(repeats):
        batch = batches[call % len(batches)]
        seconds += _common.clock(lambda batch=batch: predict(batch))[0]
    p50, p90 = np.percentile(seconds, [50, 90]) * 1000
    return p50, p90


def onnx_session(model):
    """An ONNX Runtime session of ``model`` exported with its encoding, one thread; None without the extra."""
    try:
        import onnxruntime

        from sklearn_pangu.export import to_onnx

        proto = to_onnx(model)
    except ImportError as exc:
        print(f"no onnxruntime row: {exc}")
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(proto.SerializeToString(), options)


def main() -> None:
    parser = _common.parser(
        __doc__.splitlines()[0], models=["DeepFMClassifier"], rows=None, repeats=500, threads=1
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 256], help="rows per call")
    args = _common.parse(parser, quick={"rows": 2_000, "repeats": 20})
    X_train, X_test, Y_train, Y_test = _common.load_census(args.rows)
    X_train_codes, X_test_codes = _common.as_categories(X_train, X_test)
    entries = []  # (model, call, predict, the batches of one size it takes)

    def frames(size: int) -> list:
        count = max(1, min(len(X_test) // size, args.repeats))
        return [X_test.iloc[i * size : (i + 1) * size] for i in range(count)]

    for name in args.models:
        multitask = name.endswith("MultiOutput")
        y = Y_train[TASKS] if multitask else Y_train["income"]
        model = getattr(sklearn_pangu, name)(max_epochs=1, random_state=0).fit(X_train, y)
        loop = _reference.ReferenceLoop(
            getattr(sklearn_pangu, name)(), X_train_codes, n_tasks=2 if multitask else 1
        )
        loop.fit(X_train_codes, np.asarray(y), epochs=1)

        def encoded(size: int, loop=loop) -> list:
            return [loop.tensors(X_test_codes.loc[frame.index]) for frame in frames(size)]

        entries.append((name, "predict_proba", model.predict_proba, frames))
        session = onnx_session(model)
        if session is not None:

            def feeds(size: int, model=model) -> list:
                return [onnx_inputs(model, frame) for frame in frames(size)]

            entries.append(
                (name, "onnxruntime", lambda inputs, session=session: session.run(None, inputs), feeds)
            )
        entries.append(
            (name, "hand-written forward", lambda tensors, loop=loop: loop.forward(*tensors), encoded)
        )
    reference = _common.gradient_boosting(X_train).fit(X_train, Y_train["income"])
    entries.append(("HistGradientBoostingClassifier", "predict_proba", reference.predict_proba, frames))
    rows = []
    for size in args.sizes:
        for name, call, predict, batches in entries:
            p50, p90 = percentiles(predict, batches(size), args.repeats)
            rows.append([name, call, size, f"{p50:.2f}", f"{p90:.2f}"])
            print(rows[-1], flush=True)
    table = _common.markdown_table(["model", "call", "rows", "p50 ms", "p90 ms"], rows)
    notes = (
        f"Each model with its defaults, fitted for one epoch on census income; {args.repeats} calls for "
        f"each row of the table after {WARM_UP} warm-up calls, each on the next rows of the test set; torch "
        f"{torch.get_num_threads()} thread(s). predict_proba takes the raw DataFrame rows; the hand-written "
        "forward runs the same network's module on tensors built before the clock; onnxruntime runs the "
        "exported model (encoding included, one thread) on the arrays of onnx_inputs, built before the "
        "clock; HistGradientBoosting "
        "(text columns ordinal-encoded in its pipeline) takes the DataFrame rows."
    )
    parts = [] if args.models == ["DeepFMClassifier"] else _common.short_names(args.models)
    parts += [f"{args.threads} threads"] if args.threads != 1 else []
    title = "Latency of predict_proba on census rows, one call at a time"
    _common.publish(args, _common.section_name("latency", *parts), title, table, notes)


if __name__ == "__main__":
    main()
