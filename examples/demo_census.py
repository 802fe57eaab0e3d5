"""DeepFM on the bundled census data, beside scikit-learn's logistic regression.

Trains :class:`~sklearn_pangu.DeepFMClassifier` on the income task of the bundled
UCI Census-Income (KDD) file (80/20 split, ``random_state=0``), printing one line
per epoch, then prints test ROC AUC and log loss of both models.

Run it with ``make demo``; ``--quick`` trains on a small sample for a few epochs.
"""

from __future__ import annotations

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


def main(quick: bool = False) -> dict[str, tuple[float, float]]:
    X, Y = load_census_income(return_X_y=True)
    y = Y["income"].to_numpy()
    if quick:
        X, y = X.iloc[:5000], y[:5000]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)

    numeric = X.select_dtypes("number").columns
    baseline = make_pipeline(
        make_column_transformer(
            (StandardScaler(), numeric),
            (OneHotEncoder(handle_unknown="ignore"), X.columns.difference(numeric)),
        ),
        LogisticRegression(max_iter=1000),
    )
    deepfm = DeepFMClassifier(random_state=0, verbose=1, max_epochs=3 if quick else 100)

    results = {}
    for name, model in [("DeepFMClassifier", deepfm), ("LogisticRegression (one-hot)", baseline)]:
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
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sample, few epochs")
    main(**vars(parser.parse_args()))
