"""
Learning curves from the training history
=========================================

Every fitted estimator keeps the per-epoch record of its training in ``history_``, a
skorch :class:`~skorch.history.History` with one row per epoch: ``train_loss``,
``valid_loss`` and ``valid_auc`` (on the held-out validation split used for early
stopping), ``lr`` and ``dur``. ``model.history_[:, "valid_auc"]`` reads one key across
the epochs.

This example fits :class:`~sklearn_pangu.DeepFMClassifier` on the census income task
with early stopping forced on (``early_stopping=True``; by default it is on only above
10,000 rows) and plots its learning curves.

Run it with ``python examples/plot_learning_curves.py``. The run shown on this page is
``--quick``: 5,000 rows, a small network, stopping after 2 epochs without progress.
"""

# %%
import argparse

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import load_census_income

parser = argparse.ArgumentParser(description="Learning curves from history_.")
parser.add_argument("--quick", action="store_true", help="5,000 rows, a small network")
# Known arguments only, so that the cells also run in a notebook.
quick = parser.parse_known_args()[0].quick

# %%
# Training with early stopping
# ----------------------------
# 20% of the rows are held out for validation. After each epoch without a new best
# validation ROC AUC the learning rate is divided by ten (``learning_rate_decay=0.1``),
# and after ``n_iter_no_change`` such epochs training stops; the estimator then restores
# the weights of the best epoch.
X, Y = load_census_income(return_X_y=True)
y = Y["income"]
if quick:
    X, y = X.iloc[:5000], y.iloc[:5000]
    model = DeepFMClassifier(
        hidden_units=(64, 64), batch_size=256, max_epochs=10, n_iter_no_change=2
    )
else:
    model = DeepFMClassifier(max_epochs=30)
model.set_params(
    early_stopping=True, learning_rate=1e-2, validation_fraction=0.2, random_state=0
)
model.fit(X, y)

# %%
# The history as a table
# ----------------------
keys = ["train_loss", "valid_loss", "valid_auc", "lr"]
history = pd.DataFrame(
    {key: model.history_[:, key] for key in keys}, index=model.history_[:, "epoch"]
)
history.index.name = "epoch"
best = int(history["valid_auc"].idxmax())
print(
    f"{model.n_iter_} epochs run; best validation ROC AUC "
    f"{history['valid_auc'].max():.4f}, epoch {best}"
)
history.round(4)

# %%
# Learning curves
# ---------------
# The training and validation log loss on one panel, the validation ROC AUC on the
# other, with the best epoch marked. A validation loss that rises while the training
# loss keeps falling is overfitting. ``train_loss`` includes the ``embedding_l2``
# penalty on the embeddings (``valid_loss`` does not), so it sits above the validation
# loss and can even rise while the embeddings grow: compare the shapes of the curves,
# not their levels.
fig, (loss_ax, auc_ax) = plt.subplots(1, 2, figsize=(10, 4))
loss_ax.plot(
    history.index,
    history["train_loss"],
    marker="o",
    label="training (with the L2 penalty)",
)
loss_ax.plot(history.index, history["valid_loss"], marker="o", label="validation")
loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
auc_ax.plot(history.index, history["valid_auc"], marker="o", color="C2")
auc_ax.set(xlabel="epoch", ylabel="ROC AUC", title="Validation ROC AUC")
for ax in (loss_ax, auc_ax):
    ax.axvline(
        best, color="grey", linestyle=":", label=f"best epoch ({best}), restored"
    )
    ax.set_xticks(np.asarray(history.index))
    ax.legend()
fig.suptitle(f"DeepFM on census income, {len(X):,} rows")
fig.tight_layout()
plt.show()
