"""
User histories on MovieLens: from a ratings log to DIN
======================================================

Turns the MovieLens ml-latest-small ratings log into a click task with behaviour
sequences, and fits models with and without the user's history:

- the task: a rating of 4 or more is a click; the last 20% of each user's ratings by
  time are the test rows, so every test user has training rows;
- the features: ``user_id``, ``movie_id``, ``genres`` (``|``-separated text, declared
  with ``multi_value_features``) and ``history``, the movies the user rated before,
  oldest first, built from the log with pandas;
- the models: :class:`~sklearn_pangu.LRClassifier` and
  :class:`~sklearn_pangu.DeepFMClassifier` on the ids, DeepFM with the genres and the
  mean-pooled history, and :class:`~sklearn_pangu.DINClassifier`, which reads the
  history against the movie being scored.

On ratings most of the signal is each user's own bias, which the user id already
carries: compare the models with the history to those without it on the same rows.

MovieLens is research-only data and is not part of the repository, so the
documentation build does not run this example. The script reads
``movielens_latest_small/ratings.csv.gz`` and ``movies.csv.gz`` from ``--data-dir``,
by default ``../shared/data`` beside the repository or ``$SKLEARN_PANGU_SHARED_DATA``,
and stops with a message when they are absent.

Run it with ``python examples/movielens_behavior.py [--quick] [--data-dir DIR]``
(``--quick``: the first 100 users' ratings, a small network, 2 epochs).
"""

# %%
import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from sklearn_pangu import DeepFMClassifier, DINClassifier, LRClassifier

# ../shared/data beside the repository, or the folder $SKLEARN_PANGU_SHARED_DATA names.
shared_data = (
    os.environ.get("SKLEARN_PANGU_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
parser = argparse.ArgumentParser(description="Behaviour sequences on MovieLens.")
parser.add_argument(
    "--quick", action="store_true", help="100 users, a small network, 2 epochs"
)
parser.add_argument(
    "--data-dir",
    type=Path,
    default=Path(shared_data),
    help="has movielens_latest_small/",
)
# Known arguments only, so that the cells also run in a notebook.
args = parser.parse_known_args()[0]

# %%
# The log
# -------
folder = args.data_dir / "movielens_latest_small"
if not (folder / "ratings.csv.gz").exists():
    raise SystemExit(
        f"MovieLens is not in {folder} (research-only data, not in the repository)."
    )
ratings = pd.read_csv(folder / "ratings.csv.gz")
movies = pd.read_csv(folder / "movies.csv.gz", index_col="movieId")
if args.quick:
    ratings = ratings[ratings["userId"] < ratings["userId"].min() + 100]

# %%
# A history column from the log
# -----------------------------
# Sort by user and time; ``cumcount`` counts each row's earlier ratings of the same
# user (at most 50 kept), and the history is the slice of the movie array that ends
# just before the row. It holds earlier movies only, never the rating of the row.
log = ratings.sort_values(["userId", "timestamp", "movieId"], ignore_index=True)
items = log["movieId"].astype(str).to_numpy(dtype=object)
earlier = log.groupby("userId").cumcount().clip(upper=50).to_numpy()
row = np.arange(len(log))
genres = movies["genres"].reindex(log["movieId"]).replace("(no genres listed)", "")
X = pd.DataFrame(
    {
        "user_id": log["userId"].astype(str),
        "movie_id": items.astype(str),
        "genres": genres.fillna("").to_numpy(),
        "history": [items[r - e : r].tolist() for r, e in zip(row, earlier)],
    }
)
y = (log["rating"] >= 4).astype(int).to_numpy()
X.tail(3)

# %%
# The split
# ---------
# The last 20% of each user's ratings by time are the test rows. The histories of the
# test rows hold the user's earlier ratings, in training or in test, as at serving time.
rank = log.groupby("userId").cumcount().to_numpy()
size = log.groupby("userId")["userId"].transform("size").to_numpy()
test = rank >= np.ceil(0.8 * size)
X_train, X_test, y_train, y_test = X[~test], X[test], y[~test], y[test]
print(
    f"{len(X_train):,} training and {len(X_test):,} test rows, "
    f"{y_train.mean():.1%} and {y_test.mean():.1%} positive"
)

# %%
# Models with and without the history
# -----------------------------------
# ``genres`` is delimited text: ``multi_value_features={"genres": "|"}`` makes it a
# list field. The history is a column of Python lists, found as a list field without
# being declared; it shares the movie vocabulary (``shared_vocabulary`` for DeepFM,
# implied by DIN's ``behavior_features``). Early stopping uses a validation split of
# the training rows (a quick run trains 2 epochs); the test rows never enter a fit.
quick = {"max_epochs": 2} if args.quick else {}
small = {"embedding_dim": 8, "hidden_units": (32, 16)} if args.quick else {}
settings = {"random_state": 0, **quick, **small}
lists = {"multi_value_features": {"genres": "|"}}
ids = ["user_id", "movie_id"]
models = {
    "LR, ids": (LRClassifier(random_state=0, **quick), ids),
    "DeepFM, ids": (DeepFMClassifier(**settings), ids),
    "DeepFM, ids, genres, history mean-pooled": (
        DeepFMClassifier(
            shared_vocabulary={"history": "movie_id"}, **lists, **settings
        ),
        list(X.columns),
    ),
    "DIN, ids, genres, history read against the movie": (
        DINClassifier(behavior_features={"history": "movie_id"}, **lists, **settings),
        list(X.columns),
    ),
}
aucs = {}
for name, (model, columns) in models.items():
    model.fit(X_train[columns], y_train)
    proba = model.predict_proba(X_test[columns])[:, 1]
    aucs[name] = roc_auc_score(y_test, proba)
aucs = pd.Series(aucs, name="test ROC AUC")
print(aucs.round(4).to_string())
