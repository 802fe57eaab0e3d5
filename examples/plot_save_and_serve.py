"""
Saving, safe loading and serving a model
========================================

A fitted estimator is saved in one of two formats:

- ``joblib.dump`` / ``joblib.load`` (or ``pickle``): the whole estimator, which also
  works for a ``Pipeline`` or a fitted ``GridSearchCV``. Loading a pickle runs code
  named by the file, so load only files you made or trust.
- :func:`sklearn_pangu.io.save` / :func:`sklearn_pangu.io.load`: the weights as tensors
  and everything else (hyper-parameters, fitted encoder, history, package versions) as
  JSON, read back with ``torch.load(weights_only=True)``: loading never runs code from
  the file. Use it for models you exchange or download.

Both give back an estimator that predicts exactly as the saved one. The example then
serves the loaded model from JSON records, as a web service receives them.

Run it with ``python examples/plot_save_and_serve.py [--output-dir DIR]``; without
``--output-dir`` the model files go to a temporary folder, removed at the end. The run
shown on this page is ``--quick``: 5,000 rows, 2 epochs, a small network.
"""

# %%
import argparse
import json
import shutil
import tempfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.io import load, save

parser = argparse.ArgumentParser(description="Saving, loading and serving a model.")
parser.add_argument("--quick", action="store_true", help="5,000 rows, 2 epochs")
parser.add_argument("--output-dir", type=Path, help="where the model files go")
# Known arguments only, so that the cells also run in a notebook.
args = parser.parse_known_args()[0]
output_dir = args.output_dir or Path(tempfile.mkdtemp())
output_dir.mkdir(parents=True, exist_ok=True)

# %%
# A model to save
# ---------------
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
expected = model.predict_proba(X_test)

# %%
# Two formats
# -----------
joblib_path = output_dir / "deepfm.joblib"
joblib.dump(model, joblib_path)
from_joblib = joblib.load(
    joblib_path
)  # runs code named by the file: trusted files only

safe_path = output_dir / "deepfm.pt"
save(model, safe_path)
from_safe = load(safe_path)  # tensors and JSON only: safe on a file from anywhere

for name, path, loaded in [
    ("joblib", joblib_path, from_joblib),
    ("sklearn_pangu.io", safe_path, from_safe),
]:
    same = np.array_equal(loaded.predict_proba(X_test), expected)
    print(
        f"{name:<17} {path.name:<14} {path.stat().st_size / 1e6:6.2f} MB, "
        f"identical predictions: {same}"
    )

# %%
# Serving JSON records
# --------------------
# ``predict_records`` takes JSON records, one dict per row, builds a DataFrame with the
# columns seen at fit and returns the probabilities. Requests need not be clean: a
# category never seen in training (an ``education`` value that does not exist) is
# encoded as *unknown*, a ``null`` as missing, and a field absent from a record as
# missing too; none of them raises.


def predict_records(model, records: list[dict]) -> list[float]:
    """P(positive class) for each JSON record, a dict of column -> value."""
    # Columns in the order seen at fit; a field absent from a record is NaN (missing).
    X = pd.DataFrame.from_records(records, columns=model.feature_names_in_)
    return model.predict_proba(X)[:, 1].tolist()


# A request as a service receives it: JSON text, one object per row.
request = json.dumps(X_test.head(2).to_dict(orient="records"))
records = json.loads(request)
odd = dict(
    records[0], education="PhD in Astrology", class_worker=None
)  # unseen category, a null
del odd["age"]  # an absent field
records.append(odd)
served = predict_records(from_safe, records)
print(
    "served probabilities (2 test rows, then the first with an unseen category "
    "and missing values):"
)
print("  ", np.round(served, 4).tolist())

# %%
if args.output_dir is None:
    shutil.rmtree(output_dir)  # the temporary folder of the model files
