"""
Quickstart: DeepFM on a raw census DataFrame
============================================

The first model of the README. The bundled UCI Census-Income (KDD) data is a raw pandas
DataFrame of text, category and numeric columns; the estimators encode it themselves,
so it goes straight into ``fit``. :class:`~sklearn_pangu.DeepFMClassifier` learns the
``income`` task (income above 50,000 USD, 6% positive), and
:class:`~sklearn_pangu.LRClassifier`, logistic regression over the same encoded
features, is the baseline.

Run it with ``python examples/plot_quickstart.py``. The run shown on this page is
``--quick``: 5,000 rows, 2 epochs and a small network, so its numbers are lower than
those of the full run.
"""

# %%
import argparse

import matplotlib.pyplot as plt
from sklearn.metrics import RocCurveDisplay, roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_pangu import DeepFMClassifier, LRClassifier
from sklearn_pangu.datasets import load_census_income

parser = argparse.ArgumentParser(description="DeepFM on census data.")
parser.add_argument("--quick", action="store_true", help="5,000 rows, 2 epochs")
# Known arguments only, so that the cells also run in a notebook.
quick = parser.parse_known_args()[0].quick

# %%
# The data
# --------
# ``X`` is the raw DataFrame, 39 feature columns; ``Y`` holds the two 0/1 targets, of
# which this example learns ``income``.
X, Y = load_census_income(return_X_y=True)
y = Y["income"]
if quick:
    X, y = X.iloc[:5000], y.iloc[:5000]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, stratify=y, random_state=0
)
X_train.iloc[:5, :8]

# %%
# Two models
# ----------
# Both take the DataFrame as it is. ``verbose=1`` prints one line per epoch; above
# 10,000 rows, early stopping on a 10% validation split ends the fit once the validation
# ROC AUC stops improving.
small = {"max_epochs": 2, "batch_size": 256} if quick else {}
network = {"embedding_dim": 8, "hidden_units": (64, 64)} if quick else {}
models = {
    "DeepFMClassifier": DeepFMClassifier(verbose=1, random_state=0, **small, **network),
    "LRClassifier": LRClassifier(random_state=0, **small),
}
for name, model in models.items():
    print(f"Training {name} on {len(X_train):,} rows")
    model.fit(X_train, y_train)

# %%
# Test ROC AUC and ROC curves
# ---------------------------
# ``predict_proba`` returns one column per class, in the order of ``classes_``; the
# second is the probability of ``income == 1``.
fig, ax = plt.subplots(figsize=(5.5, 5))
aucs = {}
for name, model in models.items():
    proba = model.predict_proba(X_test)[:, 1]
    aucs[name] = roc_auc_score(y_test, proba)
    RocCurveDisplay.from_predictions(y_test, proba, name=name, ax=ax)
ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
ax.set_title(f"Census income task, {len(X_test):,} test rows")
ax.legend(loc="lower right")

print(f"Census income task, {len(X_test):,} test rows")
for name, auc in aucs.items():
    print(f"{name:<18} test ROC AUC {auc:.4f}")
plt.show()

# %%
# Predictions
# -----------
# The estimators predict on raw rows too, including categories never seen in training.
first = models["DeepFMClassifier"].predict_proba(X_test.head())[:, 1]
print("DeepFM P(income > 50k) of the first test rows:", first.round(3))
