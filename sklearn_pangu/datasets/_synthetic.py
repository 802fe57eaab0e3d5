"""Synthetic CTR data with Zipf-distributed ids and planted pairwise interactions."""

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
