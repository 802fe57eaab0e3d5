"""MovieLens ml-latest-small as a click task with behaviour sequences (research-only data).

The task of issue #25: a rating of 4 or more is a click. Features: ``user_id``,
``movie_id`` (text), ``genres`` (a list, from the ``|``-separated text) and ``history``
(the movies the user rated before this one, most recent last, up to
:data:`MAX_HISTORY`; it shares the movie vocabulary). Two splits:

- ``per_user``: the last 20% of each user's ratings by time are the test rows, so every
  test user has training rows and a history;
- ``time``: one cut for every user, the 80% quantile of all the ratings' timestamps;
  the ratings after it are the test rows (about 20%; 90% of them belong to users never
  seen in training: a cold-start measurement).

Rows are in time order within each user (ratings of the same second by movie id).
Histories are built from all of a user's earlier ratings (training and test rows alike
precede the row in time), never from later ones; labels never enter a feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import SHARED_DATA

MOVIELENS = SHARED_DATA / "movielens_latest_small"
MAX_HISTORY = 50
TEST_SHARE = 0.2
#: What the behaviour models attend with: the history against the target movie.
BEHAVIOR = {"history": "movie_id"}


def skip_reason() -> str | None:
    """Why MovieLens cannot run here, or None when its files are present."""
    if (MOVIELENS / "ratings.csv.gz").exists() and (MOVIELENS / "movies.csv.gz").exists():
        return None
    return (
        f"MovieLens skipped: {MOVIELENS} is not available (research-only data, never in the repository; "
        "set SKLEARN_PANGU_SHARED_DATA to the folder that holds movielens_latest_small/)."
    )


def histories(users: pd.Series, movies: np.ndarray, max_history: int = MAX_HISTORY) -> list[list[str]]:
    """For rows sorted by user then time: each row's earlier movies of the same user, oldest first.

    ``groupby().cumcount()`` counts each row's earlier rows of its user; the history is a
    slice of the movie array ending just before the row. No loop over the items.
    """
    earlier = np.minimum(users.groupby(users, sort=False).cumcount().to_numpy(), max_history)
    row = np.arange(len(users))
    return [movies[r - e : r].tolist() for r, e in zip(row, earlier, strict=True)]


def load(split: str = "per_user", rows: int | None = None):
    """``(X_train, X_test, y_train, y_test)`` of the task; None (after printing why) when absent.

    ``rows``: keep the ratings of the first users up to about this many rows (quick runs).
    """
    reason = skip_reason()
    if reason:
        print(reason, flush=True)
        return None
    ratings = pd.read_csv(MOVIELENS / "ratings.csv.gz")
    movies = pd.read_csv(MOVIELENS / "movies.csv.gz", index_col="movieId")
    ratings = ratings.sort_values(["userId", "timestamp", "movieId"], kind="stable", ignore_index=True)
    if rows:
        last_user = ratings["userId"].iloc[min(rows, len(ratings)) - 1]
        ratings = ratings[ratings["userId"] <= last_user].reset_index(drop=True)
    movie = ratings["movieId"].astype(str).to_numpy(dtype=object)
    genres = movies["genres"].reindex(ratings["movieId"]).fillna("").to_numpy()
    X = pd.DataFrame(
        {
            "user_id": ratings["userId"].astype(str),
            "movie_id": movie.astype(str),
            "genres": pd.Series([[] if g in ("", "(no genres listed)") else g.split("|") for g in genres]),
            "history": pd.Series(histories(ratings["userId"], movie)),
        }
    )
    y = (ratings["rating"] >= 4).astype(np.int64).to_numpy()
    if split == "per_user":
        rank = ratings.groupby("userId").cumcount().to_numpy()
        size = ratings.groupby("userId")["userId"].transform("size").to_numpy()
        test = rank >= np.ceil(size * (1 - TEST_SHARE))
    elif split == "time":
        test = (ratings["timestamp"] > ratings["timestamp"].quantile(1 - TEST_SHARE)).to_numpy()
    else:
        raise ValueError(f"split must be 'per_user' or 'time', got {split!r}.")
    return X[~test].reset_index(drop=True), X[test].reset_index(drop=True), y[~test], y[test]


def scalar_view(X: pd.DataFrame, item: str = "movie_id") -> pd.DataFrame:
    """What a model without list inputs gets: the ids, each list's length, and the first genre (if any)."""
    view = {"user_id": X["user_id"], item: X[item]}
    if "genres" in X.columns:
        view["first_genre"] = X["genres"].map(lambda g: g[0] if len(g) else "none")
        view["genre_count"] = X["genres"].map(len).astype(float)
    view["history_length"] = X["history"].map(len).astype(float)
    return pd.DataFrame(view)
