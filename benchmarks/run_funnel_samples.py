"""ESMM and AITM end to end on the Ali-CCP and AliExpress click -> conversion samples.

The samples in ``../shared/data`` (or ``$SKLEARN_PANGU_SHARED_DATA``) are fixtures of
100 training rows with a handful of clicks: too small to rank models, so this script
shows that both funnel models fit on them with their defaults, dense features
included, and what they predict. It records its table in ``RESULTS.md``. Each
sample is skipped with a message when absent (research-only data, not in the repo).

Usage: ``python benchmarks/run_funnel_samples.py``
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sklearn_pangu import AITMMultiOutput, ESMMMultiOutput

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, record  # noqa: E402

SHARED_DATA = Path(
    os.environ.get("SKLEARN_PANGU_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
#: name -> (file of each part, label columns, columns to drop, is a column categorical?)
SAMPLES = {
    "Ali-CCP": (
        "ali_ccp_sample/ali_ccp_{part}_sample.csv",
        ["click", "purchase"],
        [],
        lambda column: not column.startswith("D"),
    ),
    "AliExpress": (
        "aliexpress_sample/fuxictr_tiny_mtl_{part}.csv",
        ["click", "conversion"],
        ["search_id"],
        lambda column: column.startswith("categorical"),
    ),
}


def load(pattern: str, labels: list[str], dropped: list[str], part: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_csv(SHARED_DATA / pattern.format(part=part))
    return frame.drop(columns=labels + dropped), frame[labels]


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    for sample, (pattern, labels, dropped, is_categorical) in SAMPLES.items():
        if not (SHARED_DATA / pattern.format(part="train")).exists():
            print(f"{sample} skipped: {SHARED_DATA / pattern.format(part='train')} is not available.")
            continue
        X_train, Y_train = load(pattern, labels, dropped, "train")
        X_test, Y_test = load(pattern, labels, dropped, "test")
        categorical = [column for column in X_train.columns if is_categorical(column)]
        for estimator_class in (ESMMMultiOutput, AITMMultiOutput):
            model = estimator_class(categorical_features=categorical, random_state=0).fit(X_train, Y_train)
            proba = [p[:, 1] for p in model.predict_proba(X_test)]
            embedding = model.net_.module_.embedding
            rows.append(
                [
                    sample,
                    estimator_class.__name__,
                    f"{len(X_train)} / {len(X_test)}",
                    ", ".join(f"{Y_train[c].sum()}" for c in labels),
                    f"{embedding.n_categorical} + {embedding.n_dense}",
                    model.n_iter_,
                    ", ".join(f"{p.mean():.4f}" for p in proba),
                    "yes" if np.all(proba[1] <= proba[0] + 1e-7) else "no",
                ]
            )
            print(rows[-1], flush=True)
    if rows:
        record(
            "funnel_samples",
            "ESMM and AITM on the Ali-CCP and AliExpress samples (runs end to end; too small to rank)",
            "python benchmarks/run_funnel_samples.py",
            markdown_table(
                [
                    "sample",
                    "model",
                    "train / test rows",
                    "training positives (click, conversion)",
                    "categorical + dense fields",
                    "epochs",
                    "mean test probability (click, conversion)",
                    "conversion ≤ click on every row",
                ],
                rows,
            ),
            notes="Defaults, random_state=0, CPU. `early_stopping='auto'` is off at 10,000 rows or "
            "fewer, so the fits run all `max_epochs`. ESMM's conversion output is "
            "pCTCVR = pCTR × pCVR, never above pCTR by construction; AITM's calibrator only "
            "penalises pConversion > pClick during training.",
        )


if __name__ == "__main__":
    main()
