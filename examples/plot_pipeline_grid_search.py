"""
Pipeline and grid search: a feature step in front of DeepFM
===========================================================

The estimators are ordinary scikit-learn estimators, so they sit at the end of a
:class:`~sklearn.pipeline.Pipeline` and are tuned with
:class:`~sklearn.model_selection.GridSearchCV`. Here the raw census DataFrame first
goes through a :class:`~sklearn.preprocessing.FunctionTransformer` that adds derived
columns and still returns a DataFrame; :class:`~sklearn_pangu.DeepFMClassifier` then
encodes each column by its dtype, and the grid searches its embedding size and learning
rate.

Run it with ``python examples/plot_pipeline_grid_search.py``. The run shown on this page
is ``--quick``: 5,000 rows, 2 epochs, a small network, 2-fold cross-validation.
"""

# %%
import argparse

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import load_census_income

parser = argparse.ArgumentParser(description="A pipeline tuned by grid search.")
parser.add_argument(
    "--quick", action="store_true", help="5,000 rows, 2 epochs, 2 folds"
)
# Known arguments only, so that the cells also run in a notebook.
quick = parser.parse_known_args()[0].quick

# %%
# A feature step that keeps the DataFrame
# ---------------------------------------
# The raw columns are text (``education``), integer-coded ``category`` columns
# (``det_ind_code``) and numbers (``age``). The step adds an ``age_band`` category and
# replaces the money amounts by their logarithm. Its output is still a DataFrame with
# dtypes, so the estimator embeds ``age_band`` as a categorical field and standardizes
# the numbers.
MONEY = ["capital_gains", "capital_losses", "stock_dividends", "wage_per_hour"]


def add_features(X: pd.DataFrame) -> pd.DataFrame:
    """Add an ``age_band`` category and replace the money columns by their logarithm."""
    bands = pd.cut(
        X["age"],
        bins=[-1, 17, 25, 35, 50, 65, 200],
        labels=["<18", "18-25", "26-35", "36-50", "51-65", "65+"],
    )
    return X.assign(age_band=bands, **{column: np.log1p(X[column]) for column in MONEY})


X, Y = load_census_income(return_X_y=True)
y = Y["income"]
if quick:
    X, y = X.iloc[:5000], y.iloc[:5000]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, stratify=y, random_state=0
)
add_features(X_train)[["age", "age_band", *MONEY]].head()

# %%
# The search
# ----------
# Parameters of a pipeline step are set through ``<step>__<parameter>`` names. The score
# is ``scoring="roc_auc"``: the default, accuracy, says little at 6% positives.
if quick:
    model = DeepFMClassifier(
        hidden_units=(32,), batch_size=256, max_epochs=2, random_state=0
    )
else:
    model = DeepFMClassifier(hidden_units=(256, 256), random_state=0)
pipeline = Pipeline(
    [("features", FunctionTransformer(add_features)), ("deepfm", model)]
)
grid = {"deepfm__embedding_dim": [4, 16], "deepfm__learning_rate": [1e-3, 1e-2]}
search = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=2 if quick else 3)
search.fit(X_train, y_train)

print(
    f"Census income task, {len(X_train):,} training rows, "
    f"{search.n_splits_}-fold cross-validation"
)
results = pd.DataFrame(search.cv_results_)
for params, mean, std in zip(
    results["params"], results["mean_test_score"], results["std_test_score"]
):
    print(f"  {params}: ROC AUC {mean:.4f} ± {std:.4f}")
print("best parameters:", search.best_params_)

# %%
# The grid at a glance
# --------------------
# The mean cross-validated ROC AUC of each pair of parameters.
scores = results.pivot_table(
    index="param_deepfm__embedding_dim",
    columns="param_deepfm__learning_rate",
    values="mean_test_score",
)
fig, ax = plt.subplots(figsize=(5, 3.5))
image = ax.imshow(scores.to_numpy(), cmap="viridis")
ax.set_xticks(range(scores.shape[1]), [f"{rate:g}" for rate in scores.columns])
ax.set_yticks(range(scores.shape[0]), [str(dim) for dim in scores.index])
ax.set(
    xlabel="learning_rate", ylabel="embedding_dim", title="Mean cross-validated ROC AUC"
)
for (row, column), value in np.ndenumerate(scores.to_numpy()):
    dark = value < scores.to_numpy().mean()  # white text on the dark cells
    color = "white" if dark else "black"
    ax.text(column, row, f"{value:.4f}", ha="center", va="center", color=color)
fig.colorbar(image, ax=ax)
fig.tight_layout()
plt.show()

# %%
# The refitted best pipeline
# --------------------------
# ``GridSearchCV`` refits the best pipeline on all the training rows; it predicts on raw
# DataFrames like any estimator.
test_auc = roc_auc_score(y_test, search.predict_proba(X_test)[:, 1])
print(f"refitted best pipeline: test ROC AUC {test_auc:.4f} on {len(X_test):,} rows")
