"""Quickstart: DeepFM on a raw census DataFrame, beside logistic regression.

The first model of the README. The bundled UCI Census-Income (KDD) data is a raw
pandas DataFrame of text, category and numeric columns; the estimators encode it
themselves, so it goes straight into ``fit``. :class:`~sklearn_pangu.DeepFMClassifier`
learns the ``income`` task (income above 50,000 USD, 6% positive), with early stopping
on a validation split; :class:`~sklearn_pangu.LRClassifier`, logistic regression over
the same encoded features, is the baseline. The script prints the test ROC AUC of
both and the first predicted probabilities.

Usage: ``python examples/quickstart.py [--quick]`` (``--quick``: 5,000 rows, 2 epochs,
a small network).
"""

from __future__ import annotations

import argparse

from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_pangu import DeepFMClassifier, LRClassifier
from sklearn_pangu.datasets import load_census_income


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 rows, 2 epochs, a small network")
    args = parser.parse_args(argv)

    X, Y = load_census_income(return_X_y=True)  # X: raw DataFrame; Y: the 0/1 targets
    y = Y["income"]
    if args.quick:
        X, y = X.iloc[:5000], y.iloc[:5000]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)

    quick = {"max_epochs": 2, "batch_size": 256} if args.quick else {}
    models = {
        "DeepFMClassifier": DeepFMClassifier(
            verbose=1,
            random_state=0,
            **quick,
            **({"embedding_dim": 8, "hidden_units": (64, 64)} if args.quick else {}),
        ),
        "LRClassifier": LRClassifier(random_state=0, **quick),
    }
    aucs = {}
    for name, model in models.items():
        print(f"Training {name} on {len(X_train):,} rows")
        model.fit(X_train, y_train)  # early stopping on a 10% validation split above 10,000 rows
        aucs[name] = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])

    print(f"\nCensus income task, {len(X_test):,} test rows")
    for name, auc in aucs.items():
        print(f"{name:<18} test ROC AUC {auc:.4f}")
    first = models["DeepFMClassifier"].predict_proba(X_test.head())[:, 1]
    print("DeepFM P(income > 50k) of the first test rows:", first.round(3))
    return aucs


if __name__ == "__main__":
    main()
