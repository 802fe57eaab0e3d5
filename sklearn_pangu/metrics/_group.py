"""Group AUC: the impression-weighted mean of per-group (per-user) ROC AUC."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import make_scorer
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils.metadata_routing import MetadataRequest


def group_roc_auc_score(
    y_true, y_score, *, groups, sample_weight=None, multioutput: str = "uniform_average"
) -> float | np.ndarray:
    """Group AUC: the mean of each group's ROC AUC, weighted by the group's impressions.

    CTR models are judged per user: a group (a user, a session, a query) counts
    when it holds both classes, with the weight of its rows (their number, or the
    sum of their ``sample_weight``); the others are left out. Ties in a group's
    scores count one half, as in :func:`sklearn.metrics.roc_auc_score`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True binary labels; the larger of the two labels is the positive one (per
        column for several tasks).
    y_score : array-like of shape (n_samples,) or (n_samples, n_tasks), or list of ndarray
        Scores of the positive class: a column per task, or what a multi-task
        estimator's ``predict_proba`` returns (one ``(n_samples, 2)`` array per
        task, the positive class last).
    groups : array-like of shape (n_samples,)
        The group of each row, such as a user id.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights: they weigh the pairs inside a group's AUC and the group in the
        mean.
    multioutput : {'uniform_average', 'raw_values'}, default='uniform_average'
        With several tasks, their mean, or one score per task.

    Returns
    -------
    score : float or ndarray of shape (n_tasks,)
        The group AUC (per task with ``multioutput='raw_values'``).

    Raises
    ------
    ValueError
        When no group holds both classes (for a task), when a label column has more
        than two labels, or when the lengths differ.

    Examples
    --------
    >>> from sklearn_pangu.metrics import group_roc_auc_score
    >>> y_true = [1, 0, 0, 1, 0, 1, 1]
    >>> y_score = [0.9, 0.2, 0.4, 0.3, 0.5, 0.8, 0.7]
    >>> users = ["a", "a", "a", "b", "b", "c", "c"]
    >>> group_roc_auc_score(y_true, y_score, groups=users)  # (3 * 1.0 + 2 * 0.0) / 5, without c
    0.6
    """
    if multioutput not in ("uniform_average", "raw_values"):
        raise ValueError(f"multioutput must be 'uniform_average' or 'raw_values', got {multioutput!r}.")
    labels = np.asarray(y_true.to_numpy() if isinstance(y_true, pd.DataFrame) else y_true)
    one_task = labels.ndim == 1
    labels = labels.reshape(len(labels), -1)
    if isinstance(y_score, list | tuple) and len(y_score) and np.ndim(y_score[0]) == 2:
        scores = np.column_stack([np.asarray(p)[:, -1] for p in y_score])
    else:
        scores = np.asarray(y_score, dtype=np.float64)
    groups = column_or_1d(np.asarray(groups), warn=True)
    check_consistent_length(labels, scores, groups)
    scores = scores.reshape(len(labels), -1)
    if scores.shape[1] != labels.shape[1]:
        raise ValueError(f"y_true has {labels.shape[1]} task column(s) and y_score {scores.shape[1]}.")
    weight = np.ones(len(labels)) if sample_weight is None else column_or_1d(sample_weight).astype(float)
    check_consistent_length(labels, weight)
    _, group_codes = np.unique(groups, return_inverse=True)
    results = np.array(
        [
            _group_auc(_positive(labels[:, t], t), scores[:, t], group_codes, weight)
            for t in range(labels.shape[1])
        ]
    )
    if one_task:
        return float(results[0])
    return results if multioutput == "raw_values" else float(results.mean())


def _positive(column: np.ndarray, task: int) -> np.ndarray:
    values = np.unique(column)
    if len(values) > 2:
        raise ValueError(f"y_true of task {task} has {len(values)} labels; group AUC needs two.")
    return column == values[-1]


def _group_auc(positive: np.ndarray, score: np.ndarray, group: np.ndarray, weight: np.ndarray) -> float:
    """Weighted mean of per-group AUC by the Mann-Whitney count, one sort for all groups."""
    order = np.lexsort((score, group))
    positive, score, group, weight = positive[order], score[order], group[order], weight[order]
    # Blocks of equal (group, score): the ties whose pairs count one half.
    new_block = np.r_[True, (group[1:] != group[:-1]) | (score[1:] != score[:-1])]
    starts = np.flatnonzero(new_block)
    block_positive = np.add.reduceat(weight * positive, starts)
    block_negative = np.add.reduceat(weight * ~positive, starts)
    block_group = group[starts]
    n_groups = group.max() + 1 if len(group) else 0
    # Negative weight below each block in its group: the running sum, less the group's start.
    running = np.cumsum(block_negative) - block_negative
    first_block = np.r_[True, block_group[1:] != block_group[:-1]]
    running -= np.repeat(running[first_block], np.diff(np.r_[np.flatnonzero(first_block), len(starts)]))
    wins = np.bincount(block_group, block_positive * (running + 0.5 * block_negative), minlength=n_groups)
    total_positive = np.bincount(block_group, block_positive, minlength=n_groups)
    total_negative = np.bincount(block_group, block_negative, minlength=n_groups)
    both = (total_positive > 0) & (total_negative > 0)
    if not both.any():
        raise ValueError("No group holds both classes: the group AUC is undefined.")
    impressions = (total_positive + total_negative)[both]
    aucs = wins[both] / (total_positive[both] * total_negative[both])
    return float(np.average(aucs, weights=impressions))


def _make_group_auc_scorer():
    scorer = make_scorer(group_roc_auc_score, response_method="predict_proba")
    # What set_score_request(groups=True) records, which scikit-learn allows only while
    # routing is on: the scorer asks for ``groups`` from its creation.
    request = MetadataRequest(owner=scorer)
    request.score.add_request(param="groups", alias=True)
    scorer._metadata_request = request
    return scorer


#: Scorer for ``cross_validate`` and ``GridSearchCV``: :func:`group_roc_auc_score` of an
#: estimator's ``predict_proba`` (the mean over tasks for a multi-task estimator). It
#: requests ``groups``, which scikit-learn routes to it while
#: ``sklearn.set_config(enable_metadata_routing=True)``: ``cross_validate(...,
#: scoring=group_roc_auc_scorer, params={"groups": users})``, or
#: ``GridSearchCV(...).fit(X, y, groups=users)``.
group_roc_auc_scorer = _make_group_auc_scorer()
