"""
Out-of-core training on a Parquet dataset
=========================================

A dataset larger than memory is read in chunks with pyarrow and fed to
``partial_fit``: only one chunk of rows is in memory at a time. The first chunk fits the
feature encoder, so it should be representative: here it is the first file of a shuffled
dataset. Categories that first appear in later chunks are encoded as unknown.

Without ``--path`` the example writes a synthetic dataset of ``--n-rows`` rows
(:func:`~sklearn_pangu.datasets.make_ctr_classification`) to a temporary folder first;
a file with ``validation`` in its name is held out for evaluation. It needs the
``parquet`` extra (``pip install "sklearn-pangu[parquet]"``).

Run it with ``python examples/plot_out_of_core_parquet.py [--path DIR] [--n-rows 200000]
[--chunk-rows 50000] [--passes 2]``. The run shown on this page is ``--quick``: 12,000
rows in chunks of 2,000 and a small network.
"""

# %%
import argparse
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pyarrow.dataset as ds
from sklearn.metrics import roc_auc_score

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import make_ctr_classification

parser = argparse.ArgumentParser(description="Out-of-core training on Parquet files.")
parser.add_argument(
    "--path", type=Path, help="a folder of Parquet files with a 'label' column"
)
parser.add_argument(
    "--n-rows", type=int, default=200_000, help="rows of the synthetic data"
)
parser.add_argument("--chunk-rows", type=int, default=50_000, help="rows per chunk")
parser.add_argument(
    "--passes", type=int, default=2, help="passes over the training files"
)
parser.add_argument("--quick", action="store_true", help="12,000 rows, a small network")
# Known arguments only, so that the cells also run in a notebook.
args = parser.parse_known_args()[0]
if args.quick:
    args.n_rows, args.chunk_rows = 12_000, 2_000

# %%
# A dataset of Parquet files
# --------------------------
# Five training files and one validation file of synthetic CTR rows.


def write_synthetic_dataset(folder: Path, n_rows: int, n_files: int = 5) -> None:
    """Write ``n_rows`` rows as ``n_files`` training files and a validation file."""
    X, y = make_ctr_classification(n_rows, random_state=0)
    X["label"] = y
    for i, part in enumerate(np.array_split(np.arange(n_rows), n_files + 1)):
        name = "validation.parquet" if i == n_files else f"train-{i:03d}.parquet"
        X.iloc[part].to_parquet(folder / name, index=False)


folder = args.path
if folder is None:
    folder = Path(tempfile.mkdtemp())
    write_synthetic_dataset(folder, args.n_rows)
files = sorted(folder.glob("*.parquet"))
train = [f for f in files if "validation" not in f.name]
validation = [f for f in files if "validation" in f.name]
print("\n".join(f.name for f in files))

# %%
# Reading in chunks
# -----------------
# A pyarrow dataset yields record batches of at most ``chunk_rows`` rows, whatever the
# sizes of the files.


def chunks(files: list[Path], chunk_rows: int):
    """Yield ``(X, y)`` chunks of at most ``chunk_rows`` rows from ``files``."""
    for batch in ds.dataset([str(f) for f in files], format="parquet").to_batches(
        batch_size=chunk_rows
    ):
        frame = batch.to_pandas()
        yield frame.drop(columns="label"), frame["label"].to_numpy()


def validation_auc(model) -> float:
    """ROC AUC on the validation files, read in chunks: only the labels and the
    probabilities are kept."""
    labels, probabilities = [], []
    for X, y in chunks(validation, args.chunk_rows):
        labels.append(y)
        probabilities.append(model.predict_proba(X)[:, 1])
    return roc_auc_score(np.concatenate(labels), np.concatenate(probabilities))


# %%
# Training with ``partial_fit``
# -----------------------------
# Each call trains one epoch on one chunk. ``classes`` is required in the first call,
# as in scikit-learn's incremental estimators.
model = DeepFMClassifier(
    random_state=0, **({"hidden_units": (64, 64)} if args.quick else {})
)
rows_seen, aucs = [], []
for epoch in range(args.passes):
    for X_chunk, y_chunk in chunks(train, args.chunk_rows):
        model.partial_fit(X_chunk, y_chunk, classes=[0, 1])
        rows_seen.append((rows_seen[-1] if rows_seen else 0) + len(X_chunk))
        aucs.append(validation_auc(model))
    print(
        f"pass {epoch + 1}: {len(model.history_)} chunks trained, "
        f"validation ROC AUC {aucs[-1]:.4f}"
    )
auc = aucs[-1]

# %%
# Validation ROC AUC as the chunks arrive
# ---------------------------------------
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(rows_seen, aucs, marker="o")
ax.set(
    xlabel="training rows seen",
    ylabel="validation ROC AUC",
    title="DeepFM trained chunk by chunk",
)
fig.tight_layout()
plt.show()

if args.path is None:
    shutil.rmtree(folder)  # the temporary synthetic dataset
