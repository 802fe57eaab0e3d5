"""
ESMM on AliExpress: pCTR, pCTCVR and the post-click conversion rate
===================================================================

A search or recommendation funnel goes impression → click → conversion (a purchase).
The post-click conversion rate, ``pCVR = p(conversion | click, x)``, is what ranks items
for purchases, but a model trained on clicked impressions only sees a biased sample of
the traffic it will score, and very few positives. ESMM, the entire space multi-task
model (:class:`~sklearn_pangu.ESMMMultiOutput`; Ma et al., SIGIR 2018), trains over
**all impressions**: a CTR network gives ``pCTR = p(click | x)``, a CVR network gives
pCVR, and their product ``pCTCVR = pCTR × pCVR = p(click and conversion | x)`` is fitted
to the conversion label; pCVR gets no loss of its own.

The AliExpress search logs are research-only data, not part of the repository, so the
documentation build does not run this example: this page shows its code only.

Run it with ``python examples/esmm_aliexpress.py [--quick] [--data-dir DIR]``
(``--quick``: 5 epochs instead of 30).
"""

# %%
import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from sklearn_pangu import ESMMMultiOutput

# ../shared/data beside the repository, or the folder $SKLEARN_PANGU_SHARED_DATA names.
shared_data = (
    os.environ.get("SKLEARN_PANGU_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
parser = argparse.ArgumentParser(description="ESMM on AliExpress.")
parser.add_argument("--quick", action="store_true", help="5 epochs instead of 30")
parser.add_argument(
    "--data-dir", type=Path, default=Path(shared_data), help="has aliexpress_sample/"
)
# Known arguments only, so that the cells also run in a notebook.
args = parser.parse_known_args()[0]

# %%
# The data
# --------
# The two AliExpress samples under ``aliexpress_sample/`` (FuxiCTR's ``tiny_mtl`` and
# torch-rechub's, the same 82 columns: ``search_id``, 16 integer-coded ``categorical_*``
# columns, 63 ``numerical_*`` columns, ``click``, ``conversion``) are pooled: 200
# training and 120 test impressions, with only a few conversions, so the AUCs printed
# below show the API, not model quality (the click rate is 3% in one sample and 60% in
# the other, which alone makes pCTR rank well).
FILES = ["fuxictr_tiny_mtl_{part}.csv", "rechub_aliexpress_{part}_sample.csv"]
LABELS = ["click", "conversion"]


def load_aliexpress(data_dir: Path, part: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pooled AliExpress samples of ``part``: features, and the labels ``click``
    and ``conversion``."""
    paths = [data_dir / "aliexpress_sample" / name.format(part=part) for name in FILES]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise SystemExit(
            f"AliExpress sample not available: {missing} (research-only data, "
            "not in the repository)."
        )
    frame = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
    return frame.drop(columns=["search_id", *LABELS]), frame[LABELS]


X_train, Y_train = load_aliexpress(args.data_dir, "train")
X_test, Y_test = load_aliexpress(args.data_dir, "test")

# %%
# The labels
# ----------
# ``Y`` has exactly two columns, in this order: ``click`` (the impression was clicked)
# and ``conversion``, which here means clicked *and* converted, over every impression,
# so a row with ``conversion=1`` always has ``click=1`` (``fit`` rejects a conversion
# without a click). The ``categorical_*`` columns are integers, which the estimators
# would read as numbers, so they are named in ``categorical_features`` to be embedded.
categorical = [
    column for column in X_train.columns if column.startswith("categorical_")
]
model = ESMMMultiOutput(
    categorical_features=categorical,  # integer ids: embed them instead of scaling them
    tower_units=(32,),
    batch_size=32,
    max_epochs=5 if args.quick else 30,
    random_state=0,
)
model.fit(X_train, Y_train)

# %%
# Three probabilities
# -------------------
# ``predict_proba(X)`` is aligned with the columns of ``Y`` and returns ``[pCTR,
# pCTCVR]``, both to be evaluated on all impressions; ``predict_cvr_proba(X)`` returns
# pCVR, to be evaluated on the clicked impressions only.
p_ctr, p_ctcvr = (p[:, 1] for p in model.predict_proba(X_test))
p_cvr = model.predict_cvr_proba(X_test)[:, 1]
clicked = (Y_test["click"] == 1).to_numpy()
aucs = {
    "pCTR (click, all impressions)": roc_auc_score(Y_test["click"], p_ctr),
    "pCTCVR (click and conversion, all impressions)": roc_auc_score(
        Y_test["conversion"], p_ctcvr
    ),
    "pCVR (conversion, clicked impressions)": roc_auc_score(
        Y_test["conversion"][clicked], p_cvr[clicked]
    ),
}
predictions = pd.DataFrame({"pCTR": p_ctr, "pCVR": p_cvr, "pCTCVR": p_ctcvr})

n_clicks, n_conversions = Y_train.sum()
print(
    f"Training: {len(X_train)} impressions, {n_clicks} clicks, "
    f"{n_conversions} conversions"
)
print(
    f"Test: {len(X_test)} impressions, {clicked.sum()} clicks, "
    f"{Y_test['conversion'].sum()} conversions"
)
print(f"task_names_: {model.task_names_}; {model.n_iter_} epochs")
for name, auc in aucs.items():
    print(f"  ROC AUC of {name:<48} {auc:.4f}")
print("mean predictions:", predictions.mean().round(4).to_dict())
gap = np.abs(p_ctr * p_cvr - p_ctcvr).max()
print(f"pCTCVR = pCTR × pCVR on every row (largest gap {gap:.1e}), so pCTCVR ≤ pCTR")
