"""Learning curves from the training history.

Every fitted estimator keeps the per-epoch record of its training in ``history_``, a
skorch :class:`~skorch.history.History` with one row per epoch: ``train_loss``,
``valid_loss`` and ``valid_auc`` (on the held-out validation split used for early
stopping), ``lr`` and ``dur``. ``model.history_[:, "valid_auc"]`` reads one key
across the epochs.

The script fits :class:`~sklearn_pangu.DeepFMClassifier` on the census income task
with early stopping forced on (``early_stopping=True``; by default it is on only above
10,000 rows), then plots the training and validation log loss on one panel and the
validation ROC AUC on the other, marking the best epoch, whose weights the estimator
restored. A validation loss that rises while the training loss keeps falling is
overfitting. After each epoch without a new best AUC the learning rate is divided by
ten (``learning_rate_decay=0.1``, the ``lr`` column), and after ``n_iter_no_change``
such epochs training stops. ``train_loss`` includes the ``embedding_l2`` penalty on
the embeddings (``valid_loss`` does not), so it sits above the validation loss and
can even rise while the embeddings grow: compare the shapes of the curves, not their
levels. The script writes ``learning_curves.png`` to ``--output-dir`` and prints the
history as a table.

Usage: ``python examples/learning_curves.py [--quick] [--output-dir DIR]``
(``--quick``: 5,000 rows, a small network, stopping after 2 epochs without progress).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sklearn_pangu import DeepFMClassifier  # noqa: E402
from sklearn_pangu.datasets import load_census_income  # noqa: E402


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 rows, a small network")
    parser.add_argument("--output-dir", type=Path, default=Path.cwd(), help="where learning_curves.png goes")
    args = parser.parse_args(argv)

    X, Y = load_census_income(return_X_y=True)
    y = Y["income"]
    if args.quick:
        X, y = X.iloc[:5000], y.iloc[:5000]
        model = DeepFMClassifier(hidden_units=(64, 64), batch_size=256, max_epochs=10, n_iter_no_change=2)
    else:
        model = DeepFMClassifier(max_epochs=30)
    model.set_params(early_stopping=True, learning_rate=1e-2, validation_fraction=0.2, random_state=0)
    model.fit(X, y)

    keys = ["train_loss", "valid_loss", "valid_auc", "lr"]
    history = pd.DataFrame({key: model.history_[:, key] for key in keys}, index=model.history_[:, "epoch"])
    history.index.name = "epoch"
    best = int(history["valid_auc"].idxmax())
    print(history.round(4).to_string())
    print(
        f"{model.n_iter_} epochs run; best validation ROC AUC {history['valid_auc'].max():.4f}, epoch {best}"
    )

    fig, (loss_ax, auc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    loss_ax.plot(history.index, history["train_loss"], marker="o", label="training (with the L2 penalty)")
    loss_ax.plot(history.index, history["valid_loss"], marker="o", label="validation")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    auc_ax.plot(history.index, history["valid_auc"], marker="o", color="C2")
    auc_ax.set(xlabel="epoch", ylabel="ROC AUC", title="Validation ROC AUC")
    for ax in (loss_ax, auc_ax):
        ax.axvline(best, color="grey", linestyle=":", label=f"best epoch ({best}), restored")
        ax.set_xticks(np.asarray(history.index))
        ax.legend()
    fig.suptitle(f"DeepFM on census income, {len(X):,} rows")
    fig.tight_layout()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / "learning_curves.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")
    return history


if __name__ == "__main__":
    main()
