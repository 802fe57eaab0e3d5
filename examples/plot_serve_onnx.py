"""
Serving a model with ONNX Runtime
=================================

:func:`sklearn_pangu.export.to_onnx` writes a fitted estimator as one ONNX model: its
inputs are the raw columns (a string tensor per categorical column, a float64 tensor per
numeric one) and its output is ``predict_proba``'s probabilities. The feature encoding
runs inside the graph, so a service in any language with an ONNX runtime can score
requests without re-implementing it.

The example trains DeepFM on the bundled census data, exports it, scores a batch of
candidate rows with onnxruntime, and compares the probabilities with ``predict_proba``,
on rows that include an unseen category and missing values. It needs the ``onnx`` extra
(``pip install 'sklearn-pangu[onnx]'``).

Run it with ``python examples/plot_serve_onnx.py [--output-dir DIR]``; without
``--output-dir`` the model file goes to a temporary folder, removed at the end. The run
shown on this page is ``--quick``: 5,000 rows, 2 epochs, a small network.
"""

# %%
import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from sklearn.model_selection import train_test_split

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.export import onnx_inputs, to_onnx

parser = argparse.ArgumentParser(description="Serving a model with ONNX Runtime.")
parser.add_argument("--quick", action="store_true", help="5,000 rows, 2 epochs")
parser.add_argument("--output-dir", type=Path, help="where the ONNX file goes")
# Known arguments only, so that the cells also run in a notebook.
args = parser.parse_known_args()[0]
output_dir = args.output_dir or Path(tempfile.mkdtemp())
output_dir.mkdir(parents=True, exist_ok=True)

# %%
# A model to serve
# ----------------
X, Y = load_census_income(return_X_y=True)
y = Y["income"]
if args.quick:
    X, y = X.iloc[:5000], y.iloc[:5000]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, stratify=y, random_state=0
)
if args.quick:
    model = DeepFMClassifier(
        hidden_units=(32,), batch_size=256, max_epochs=2, random_state=0
    )
else:
    model = DeepFMClassifier(random_state=0)
model.fit(X_train, y_train)

# %%
# Export
# ------
# One file holds the encoding, the network and the probabilities.
path = output_dir / "deepfm.onnx"
to_onnx(model, path)
session = ort.InferenceSession(str(path))
inputs = session.get_inputs()
print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB, {len(inputs)} inputs")
for graph_input in inputs[:3]:
    print(f"  {graph_input.name!r}: {graph_input.type} {graph_input.shape}")
print("  outputs:", [output.name for output in session.get_outputs()])

# %%
# A request: candidates in one batch
# ----------------------------------
# A request scores several rows at once. Here 300 test rows stand for one request's
# candidates; three of them are made awkward: an education never seen in training, a
# missing class of worker and a missing age. ``onnx_inputs`` turns the DataFrame into
# the arrays the graph takes; a service in another language builds them itself (see
# the Serving guide).
request = X_test.head(300).copy()
request.loc[request.index[0], "education"] = "PhD in Astrology"
request.loc[request.index[1], "class_worker"] = None
request.loc[request.index[2], "age"] = np.nan
(served,) = session.run(None, onnx_inputs(model, request))
expected = model.predict_proba(request)
print(f"largest difference from predict_proba: {np.abs(served - expected).max():.1e}")
ranked = np.argsort(-served[:, 1])[:5]
print("top 5 rows of the request:", request.index[ranked].tolist())

# %%
# One row at a time
# -----------------
# The time of a call of one row, median of 200, in this process (one measurement on
# the machine that built this page, not a benchmark; ``benchmarks/bench_latency.py``
# measures it properly).


def median_ms(call, repeats: int = 200) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


row = request.iloc[:1]
row_inputs = onnx_inputs(model, row)
print(
    f"onnxruntime, one row:   {median_ms(lambda: session.run(None, row_inputs)):.2f} ms"
)
print(f"predict_proba, one row: {median_ms(lambda: model.predict_proba(row)):.2f} ms")

# %%
if args.output_dir is None:
    shutil.rmtree(output_dir)
