"""Out-of-core training: a Parquet dataset read in chunks with pyarrow, fed to ``partial_fit``.

Only one chunk of rows is in memory at a time. The first chunk fits the feature
encoder, so it should be representative: here it is the first file of a shuffled
dataset. Categories that first appear in later chunks are encoded as unknown.

Without ``--path`` the script writes a synthetic dataset of ``--n-rows`` rows
(``make_ctr_classification``) to a temporary folder first; a file with
``validation`` in its name is held out for evaluation.

Needs the ``parquet`` extra (``pip install "sklearn-pangu[parquet]"``).

Usage: ``python examples/out_of_core_parquet.py [--path DIR] [--n-rows 200000]
[--chunk-rows 50000] [--passes 2]``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
from sklearn.metrics import roc_auc_score

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import make_ctr_classification


def write_synthetic_dataset(folder: Path, n_rows: int, n_files: int = 5) -> None:
    """Write ``n_rows`` synthetic CTR rows as ``n_files`` training files and one validation file."""
    X, y = make_ctr_classification(n_rows, random_state=0)
    X["label"] = y
    for i, part in enumerate(np.array_split(np.arange(n_rows), n_files + 1)):
        name = "validation.parquet" if i == n_files else f"train-{i:03d}.parquet"
        X.iloc[part].to_parquet(folder / name, index=False)


def chunks(files: list[Path], chunk_rows: int):
    """Yield ``(X, y)`` DataFrame chunks of at most ``chunk_rows`` rows from ``files``."""
    for batch in ds.dataset([str(f) for f in files], format="parquet").to_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        yield frame.drop(columns="label"), frame["label"].to_numpy()


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--path", type=Path, default=None, help="folder of Parquet files with a 'label' column"
    )
    parser.add_argument("--n-rows", type=int, default=200_000)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.path
        if folder is None:
            folder = Path(tmp)
            write_synthetic_dataset(folder, args.n_rows)
        files = sorted(folder.glob("*.parquet"))
        train = [f for f in files if "validation" not in f.name]
        validation = [f for f in files if "validation" in f.name]

        model = DeepFMClassifier(random_state=0)
        for epoch in range(args.passes):
            for X_chunk, y_chunk in chunks(train, args.chunk_rows):
                model.partial_fit(X_chunk, y_chunk, classes=[0, 1])
            # Only the labels and probabilities of the held-out rows are gathered, not their features.
            labels, probabilities = zip(
                *((y, model.predict_proba(X)[:, 1]) for X, y in chunks(validation, args.chunk_rows))
            )
            auc = roc_auc_score(np.concatenate(labels), np.concatenate(probabilities))
            print(f"pass {epoch + 1}: {len(model.history_)} chunks trained, validation ROC AUC {auc:.4f}")
    return auc


if __name__ == "__main__":
    main()
