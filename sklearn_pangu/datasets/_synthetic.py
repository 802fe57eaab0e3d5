"""Synthetic CTR data: Zipf-distributed ids with planted pairwise interactions, and user histories."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params


def _bias_for_rate(logit: np.ndarray, rate: float) -> float:
    """The bias ``b`` for which the mean of ``sigmoid(logit + b)`` is ``rate`` (bisection)."""
    low, high = -50.0, 50.0
    for _ in range(60):
        middle = (low + high) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(logit + middle)))) < rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_sparse": [Interval(Integral, 0, None, closed="left")],
        "n_dense": [Interval(Integral, 0, None, closed="left")],
        "max_cardinality": [Interval(Integral, 2, None, closed="left")],
        "n_interactions": [Interval(Integral, 0, None, closed="left")],
        "zipf_exponent": [Interval(Real, 0, None, closed="neither")],
        "interaction_strength": [Interval(Real, 0, None, closed="left")],
        "positive_rate": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_ctr_classification(
    n_samples: int = 100_000,
    n_sparse: int = 26,
    n_dense: int = 13,
    *,
    max_cardinality: int = 100_000,
    n_interactions: int = 20,
    zipf_exponent: float = 1.1,
    interaction_strength: float = 1.0,
    positive_rate: float = 0.25,
    random_state=None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Generate CTR-shaped data: many ids per field, few fields, planted interactions.

    Field ``j`` of the ``n_sparse`` categorical fields has a cardinality between 10
    and ``max_cardinality`` (log-spaced over the fields), and its ids are drawn with
    probability proportional to ``1 / rank ** zipf_exponent``. The log-odds of a
    click is a bias, plus a weight per id and per dense feature, plus, for
    ``n_interactions`` random pairs of fields ``(j, k)``, the dot product of
    rank-4 latent vectors of the two ids, times ``interaction_strength``. A linear
    model sees only the first-order part; factorization models can learn the rest.

    Parameters
    ----------
    n_samples : int, default=100_000
        Number of rows.
    n_sparse : int, default=26
        Number of categorical columns ``C1, C2, ...`` (``category`` dtype).
    n_dense : int, default=13
        Number of numeric columns ``I1, I2, ...`` (float32, standard normal).
    max_cardinality : int, default=100_000
        Cardinality of the largest field.
    n_interactions : int, default=20
        Number of planted field pairs (among the categorical fields).
    zipf_exponent : float, default=1.1
        Exponent of the id frequency distribution.
    interaction_strength : float, default=1.0
        Scale of the interaction part of the log-odds.
    positive_rate : float, default=0.25
        Expected share of positive labels: the bias makes the mean click
        probability equal to it.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    X : DataFrame of shape (n_samples, n_sparse + n_dense)
        Categorical columns first, then numeric ones.
    y : ndarray of shape (n_samples,)
        Labels in {0, 1}.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=1000, n_sparse=3, n_dense=2, random_state=0)
    >>> X.columns.tolist()
    ['C1', 'C2', 'C3', 'I1', 'I2']
    """
    rng = check_random_state(random_state)
    cardinalities = np.unique(np.geomspace(10, max_cardinality, max(n_sparse, 1)).astype(int))
    cardinalities = np.resize(cardinalities, n_sparse) if n_sparse else np.array([], dtype=int)
    rank = 4
    logit = np.zeros(n_samples)
    codes, latent = [], []
    for cardinality in cardinalities:
        probabilities = 1.0 / np.arange(1, cardinality + 1) ** zipf_exponent
        ids = np.searchsorted(np.cumsum(probabilities / probabilities.sum()), rng.random_sample(n_samples))
        ids = np.minimum(ids, cardinality - 1)
        relabel = rng.permutation(cardinality)
        logit += rng.normal(0.0, 0.5, cardinality)[ids]
        latent.append(rng.normal(0.0, 1.0 / np.sqrt(rank), (cardinality, rank))[ids])
        codes.append(relabel[ids])
    if n_sparse >= 2 and n_interactions:
        pairs = [(j, k) for j in range(n_sparse) for k in range(j + 1, n_sparse)]
        chosen = rng.choice(len(pairs), size=min(n_interactions, len(pairs)), replace=False)
        scale = interaction_strength * 2.0 / np.sqrt(len(chosen))
        for p in chosen:
            j, k = pairs[p]
            logit += scale * np.einsum("ij,ij->i", latent[j], latent[k])
    dense = rng.standard_normal((n_samples, n_dense)).astype(np.float32)
    logit += dense @ rng.normal(0.0, 0.3, n_dense)
    logit += _bias_for_rate(logit, positive_rate)
    y = (rng.random_sample(n_samples) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    columns = {}
    for j, (cardinality, column) in enumerate(zip(cardinalities, codes), start=1):
        categories = pd.Index(np.arange(cardinality).astype(str))
        columns[f"C{j}"] = pd.Categorical.from_codes(column, categories=categories)
    for j in range(n_dense):
        columns[f"I{j + 1}"] = dense[:, j]
    return pd.DataFrame(columns), y


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_users": [Interval(Integral, 1, None, closed="left")],
        "n_items": [Interval(Integral, 2, None, closed="left")],
        "n_groups": [Interval(Integral, 2, None, closed="left")],
        "max_history": [Interval(Integral, 1, None, closed="left")],
        "interest_strength": [Interval(Real, 0, None, closed="left")],
        "positive_rate": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_behavior_classification(
    n_samples: int = 20_000,
    *,
    n_users: int = 1_000,
    n_items: int = 500,
    n_groups: int = 20,
    max_history: int = 30,
    interest_strength: float = 3.0,
    positive_rate: float = 0.3,
    random_state=None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Generate impressions with user histories whose effect depends on the target item.

    Item ``i{k}`` belongs to group ``k % n_groups``. A row is an impression of a
    target item to a user, with the items the user interacted with before
    (``history``, oldest first, 0 to ``max_history`` items, uniformly). Each row has
    its own three interest groups (drawn at random: the user's interests of the
    moment); each history item is with probability 0.8 an item of one of them and
    otherwise any item, and the target item is with probability 0.5 an item of one
    of them and otherwise any item. The log-odds of a click is a user bias and an
    item bias (normal, standard deviation 0.5 each), plus ``interest_strength``
    times ``min(k, 3) / 3``, where ``k`` is the number of history items **in the
    target item's group**, plus the intercept that gives ``positive_rate``.

    So the history matters through its relation to the target, row by row: a
    model that reads the history against the target (DIN, DIEN, BST) can count the
    items of the target's group; a mean of the history's item vectors, the same
    whatever the target, blends the row's interests; the user id carries only the
    user's bias. The groups are not columns: a model learns them from the ids.

    Parameters
    ----------
    n_samples : int, default=20_000
        Number of rows.
    n_users : int, default=1_000
        Number of users.
    n_items : int, default=500
        Number of items.
    n_groups : int, default=20
        Number of item groups; at most ``n_items``.
    max_history : int, default=30
        Longest history; lengths are uniform on ``0 .. max_history``.
    interest_strength : float, default=3.0
        Rise of the log-odds of a click when the history holds three or more items
        of the target item's group (a third of it per item, up to three).
    positive_rate : float, default=0.3
        Expected share of positive labels.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    X : DataFrame of shape (n_samples, 3)
        ``user_id`` and ``item_id`` (text, ``"u12"``, ``"i34"``) and ``history``
        (Python lists of item ids, oldest first; empty for a user without one).
    y : ndarray of shape (n_samples,)
        Labels in {0, 1}.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_behavior_classification
    >>> X, y = make_behavior_classification(n_samples=100, random_state=0)
    >>> X.columns.tolist()
    ['user_id', 'item_id', 'history']
    >>> all(isinstance(items, list) for items in X["history"])
    True

    The click rate by the number of history items in the target item's group:

    >>> import pandas as pd
    >>> X, y = make_behavior_classification(n_samples=5000, random_state=0)
    >>> group = lambda item: int(item[1:]) % 20
    >>> rows = zip(X["item_id"], X["history"])
    >>> k = [min(sum(group(h) == group(item) for h in past), 3) for item, past in rows]
    >>> pd.Series(y).groupby(k).mean().round(2).tolist()
        [0.07, 0.19, 0.34, 0.57]
    """
    if n_groups > n_items:
        raise ValueError(f"n_groups must be at most n_items ({n_items}), got {n_groups}.")
    rng = check_random_state(random_state)
    group_sizes = (n_items - 1 - np.arange(n_groups)) // n_groups + 1

    def draw(width: int, share: float) -> np.ndarray:
        """``width`` items per row: with probability ``share`` of one of the row's groups, else any item."""
        groups = interests[np.arange(n_samples)[:, None], rng.randint(3, size=(n_samples, width))]
        rank = (rng.random_sample(groups.shape) * group_sizes[groups]).astype(np.int64)
        anything = rng.randint(n_items, size=groups.shape)
        return np.where(rng.random_sample(groups.shape) < share, groups + n_groups * rank, anything)

    users = rng.randint(n_users, size=n_samples)
    interests = rng.randint(n_groups, size=(n_samples, 3))
    lengths = rng.randint(max_history + 1, size=n_samples)
    history = draw(max_history, 0.8)
    targets = draw(1, 0.5)[:, 0]
    valid = np.arange(max_history) < lengths[:, None]
    in_target_group = ((history % n_groups == (targets % n_groups)[:, None]) & valid).sum(axis=1)
    logit = rng.normal(0.0, 0.5, n_users)[users] + rng.normal(0.0, 0.5, n_items)[targets]
    logit += interest_strength * np.minimum(in_target_group, 3) / 3.0
    logit += _bias_for_rate(logit, positive_rate)
    y = (rng.random_sample(n_samples) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    names = np.char.add("i", np.arange(n_items).astype(str)).astype(object)
    cells = np.split(names[history[valid]], np.cumsum(lengths)[:-1])
    X = pd.DataFrame(
        {
            "user_id": np.char.add("u", users.astype(str)).astype(object),
            "item_id": names[targets],
            "history": pd.Series([cell.tolist() for cell in cells], dtype=object),
        }
    )
    return X, y
