"""
make demo: DeepFM beside scikit-learn's logistic regression
===========================================================

The script ``make demo`` runs. It trains :class:`~sklearn_pangu.DeepFMClassifier` on
the income task of the bundled UCI Census-Income (KDD) file (80/20 split,
``random_state=0``), printing one line per epoch, and scikit-learn's
:class:`~sklearn.linear_model.LogisticRegression` on one-hot encoded features beside it,
then prints the test ROC AUC and log loss of both.

The full run trains on 79,809 rows until early stopping, which takes minutes, so
the documentation build does not run it: this page shows its code only.
:ref:`sphx_glr_auto_examples_plot_quickstart.py` is the same comparison, run.

Run it with ``make demo`` or ``python examples/demo_census.py [--quick]`` (``--quick``:
5,000 rows, 3 epochs).
"""

# %%
import argparse
import time

from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import load_census_income

parser = argparse.ArgumentParser(description="DeepFM beside logistic regression.")
parser.add_argument("--quick", action="store_true", help="5,000 rows, 3 epochs")
# Known arguments only, so that the cells also run in a notebook.
quick = parser.parse_known_args()[0].quick

# %%
# The data
# --------
X, Y = load_census_income(return_X_y=True)
y = Y["income"].to_numpy()
if quick:
    X, y = X.iloc[:5000], y[:5000]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, random_state=0, stratify=y
)

# %%
# Two models
# ----------
# The baseline needs the columns encoded first: standardized numbers and one-hot
# categories. DeepFM takes the raw DataFrame.
numeric = X.select_dtypes("number").columns
baseline = make_pipeline(
    make_column_transformer(
        (StandardScaler(), numeric),
        (OneHotEncoder(handle_unknown="ignore"), X.columns.difference(numeric)),
    ),
    LogisticRegression(max_iter=1000),
)
deepfm = DeepFMClassifier(random_state=0, verbose=1, max_epochs=3 if quick else 100)

# %%
# Training and test scores
# ------------------------
results = {}
for name, model in [
    ("DeepFMClassifier", deepfm),
    ("LogisticRegression (one-hot)", baseline),
]:
    print(f"\nTraining {name} on {len(X_train):,} rows")
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)[:, 1]
    results[name] = (roc_auc_score(y_test, proba), log_loss(y_test, proba))
    print(f"{name}: trained in {seconds:.1f} s")

print(f"\nCensus income task, {len(X_test):,} test rows")
print(f"{'model':<32}{'ROC AUC':>10}{'log loss':>10}")
for name, (auc, loss) in results.items():
    print(f"{name:<32}{auc:>10.4f}{loss:>10.4f}")
