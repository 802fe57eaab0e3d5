"""Comparing models on Frappe with ROC curves.

Fits logistic regression (:class:`~sklearn_pangu.LRClassifier`), a factorization
machine (:class:`~sklearn_pangu.FMClassifier`), DeepFM
(:class:`~sklearn_pangu.DeepFMClassifier`) and the Deep & Cross Network
(:class:`~sklearn_pangu.DCNClassifier`) with their defaults on Frappe, a context-aware
app-usage CTR data set of 10 categorical fields (user, item, daytime, weekday, ...,
city), and draws their test ROC curves on one axis with
:class:`sklearn.metrics.RocCurveDisplay`. The curves show where in the ranking one
model beats another, which the single AUC number hides.

Frappe is research-only data and is not part of the repository: the script reads
``frappe/valid.csv.gz`` (57,722 rows, used for training; each estimator holds out its
own early-stopping split) and ``frappe/test.csv.gz`` (28,860 rows) from ``--data-dir``,
by default ``../shared/data`` beside the repository or ``$SKLEARN_PANGU_SHARED_DATA``.
Every column holds a feature index, read as a string, so each one is an embedded
categorical field. It writes ``roc_frappe.png`` to ``--output-dir`` and prints the
test ROC AUCs.

Usage: ``python examples/compare_models_roc.py [--quick] [--data-dir DIR]
[--output-dir DIR]`` (``--quick``: 5,000 training rows, LR and DeepFM only, 2 epochs).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import RocCurveDisplay, roc_auc_score  # noqa: E402

from sklearn_pangu import DCNClassifier, DeepFMClassifier, FMClassifier, LRClassifier  # noqa: E402

DEFAULT_DATA_DIR = Path(
    os.environ.get("SKLEARN_PANGU_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def load_frappe(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Frappe's training (``valid.csv.gz``) and test (``test.csv.gz``) features and labels."""
    folder = data_dir / "frappe"
    if not (folder / "valid.csv.gz").exists():
        raise SystemExit(f"Frappe is not available in {folder} (research-only data, not in the repository).")
    train = pd.read_csv(folder / "valid.csv.gz", dtype=str)  # every field is categorical
    test = pd.read_csv(folder / "test.csv.gz", dtype=str)
    return (
        train.drop(columns="label"),
        test.drop(columns="label"),
        train["label"].astype(int),
        test["label"].astype(int),
    )


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 training rows, 2 models, 2 epochs")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder holding frappe/")
    parser.add_argument("--output-dir", type=Path, default=Path.cwd(), help="where roc_frappe.png goes")
    args = parser.parse_args(argv)

    X_train, X_test, y_train, y_test = load_frappe(args.data_dir)
    if args.quick:
        X_train, y_train = X_train.sample(5000, random_state=0), y_train.sample(5000, random_state=0)
        models = {
            "LR": LRClassifier(max_epochs=2, batch_size=256, random_state=0),
            "DeepFM": DeepFMClassifier(hidden_units=(64, 64), max_epochs=2, batch_size=256, random_state=0),
        }
    else:
        models = {
            "LR": LRClassifier(random_state=0),
            "FM": FMClassifier(random_state=0),
            "DeepFM": DeepFMClassifier(random_state=0),
            "DCN": DCNClassifier(random_state=0),
        }

    fig, ax = plt.subplots(figsize=(5.5, 5))
    aucs = {}
    for name, model in models.items():
        model.fit(X_train, y_train)
        proba = model.predict_proba(X_test)[:, 1]
        aucs[name] = roc_auc_score(y_test, proba)
        RocCurveDisplay.from_predictions(y_test, proba, name=name, ax=ax)
        print(f"{name:<8} test ROC AUC {aucs[name]:.4f}  ({model.n_iter_} epochs)")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    ax.set_title(f"Frappe: {len(X_train):,} training rows, {len(X_test):,} test rows")
    ax.legend(loc="lower right")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / "roc_frappe.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")
    return aucs


if __name__ == "__main__":
    main()
