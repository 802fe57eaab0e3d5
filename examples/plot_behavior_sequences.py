"""
Behaviour sequences: a user's history read against the target item
==================================================================

A user's past clicks say what they like, but whether they say anything about *this*
impression depends on the item being shown. This example generates impressions where a
click is more likely when the user's history holds an item of the target item's group
(:func:`~sklearn_pangu.datasets.make_behavior_classification`), and compares:

- :class:`~sklearn_pangu.DeepFMClassifier` on the ids only;
- DeepFM with the history as a list field, its items' vectors mean-pooled into one,
  whatever the target;
- :class:`~sklearn_pangu.DINClassifier`, whose attention weighs each past item by its
  relevance to the target item.

It ends with how to build such a history column from an interaction log with pandas.

Run it with ``python examples/plot_behavior_sequences.py``. The run shown on this page
is ``--quick``: 4,000 rows of 300 users and 60 items, and a small network.
"""

# %%
import argparse

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from sklearn_pangu import DeepFMClassifier, DINClassifier
from sklearn_pangu.datasets import make_behavior_classification

parser = argparse.ArgumentParser(description="DeepFM and DIN on behaviour sequences.")
parser.add_argument("--quick", action="store_true", help="4,000 rows, a small network")
# Known arguments only, so that the cells also run in a notebook.
quick = parser.parse_known_args()[0].quick

# %%
# The data
# --------
# ``history`` holds the items each user interacted with before, oldest first; it is a
# column of Python lists, which every estimator reads as a list field. Item ``i{k}``
# belongs to group ``k % n_groups``; the groups are not columns, the models learn them
# from the ids. The quick run uses fewer users and items, so that a few thousand rows
# teach the models something.
small_world = {
    "n_users": 300,
    "n_items": 60,
    "n_groups": 6,
    "max_history": 10,
    "interest_strength": 5.0,
}
data = small_world if quick else {"n_groups": 20}
n_samples = 4_000 if quick else 60_000
X, y = make_behavior_classification(n_samples, random_state=0, **data)
n_train = int(0.8 * n_samples)
X_train, X_test = X.iloc[:n_train], X.iloc[n_train:]
y_train, y_test = y[:n_train], y[n_train:]
X.head()

# %%
# Three models
# ------------
# The history and the target item are the same ids: ``shared_vocabulary`` gives them
# one vocabulary and one embedding table. DIN's ``behavior_features`` names the pair it
# attends with, which implies the shared vocabulary. The test rows never enter a fit
# (the full run early-stops on a validation split of the training rows).
# The quick run: a small network, 10 epochs; the full run: the defaults.
small = {"embedding_dim": 8, "hidden_units": (32, 16), "batch_size": 256}
settings = {**small, "learning_rate": 1e-2, "max_epochs": 10} if quick else {}
history = {"history": "item_id"}
models = {
    "DeepFM, ids only": (
        DeepFMClassifier(random_state=0, **settings),
        ["user_id", "item_id"],
    ),
    "DeepFM, history mean-pooled": (
        DeepFMClassifier(shared_vocabulary=history, random_state=0, **settings),
        ["user_id", "item_id", "history"],
    ),
    "DIN, history read against the item": (
        DINClassifier(behavior_features=history, random_state=0, **settings),
        ["user_id", "item_id", "history"],
    ),
}
scores = {}
for name, (model, columns) in models.items():
    model.fit(X_train[columns], y_train)
    scores[name] = model.predict_proba(X_test[columns])[:, 1]
aucs = pd.Series(
    {name: roc_auc_score(y_test, score) for name, score in scores.items()},
    name="test ROC AUC",
)
print(aucs.round(4).to_string())


# %%
# What each model learned from the history
# ----------------------------------------
# The click's log-odds rise with the number of history items in the target item's
# group, up to three (the planted effect). Group the test rows by that number and
# compare their click rate with each model's mean predicted probability: a model that
# reads the history against the target follows the clicks up; the ids alone cannot,
# and the mean-pooled history only a little.
def group(item: str) -> int:
    return int(item[1:]) % data["n_groups"]


rows = zip(X_test["item_id"], X_test["history"])
same_group = [min(sum(group(h) == group(item) for h in past), 3) for item, past in rows]
same_group = pd.Series(same_group, name="history items in the target's group")
rates = (
    pd.DataFrame({"observed clicks": y_test, **scores})
    .groupby(same_group.to_numpy())
    .mean()
)
rates.index = ["0", "1", "2", "3 or more"]
rates.index.name = same_group.name
print(rates.round(3).to_string())

fig, ax = plt.subplots(figsize=(7, 4.5))
for name, rate in rates.items():
    style = {"color": "black", "linewidth": 3} if name == "observed clicks" else {}
    ax.plot(rates.index, rate, marker="o", label=name, **style)
ax.set_xlabel(same_group.name)
ax.set_ylabel("click rate, or mean predicted probability")
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %%
# A history column from an interaction log
# ----------------------------------------
# Each row's history is the items the same user interacted with before it, oldest
# first. Sort by user and time; ``cumcount`` counts each row's earlier rows of its
# user (at most 50 kept), and the history is the slice of the item array that ends
# just before the row: it never holds the row itself, so it cannot leak its label.
log = pd.DataFrame(
    {
        "user_id": ["u1", "u2", "u1", "u1", "u2"],
        "item_id": ["i3", "i7", "i5", "i3", "i1"],
        "timestamp": [10, 11, 12, 15, 20],
    }
)
log = log.sort_values(["user_id", "timestamp"], ignore_index=True)
items = log["item_id"].to_numpy(dtype=object)
earlier = log.groupby("user_id").cumcount().clip(upper=50).to_numpy()
row = np.arange(len(log))
log["history"] = [items[r - e : r].tolist() for r, e in zip(row, earlier)]
print(log.to_string())
