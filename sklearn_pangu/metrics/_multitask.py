"""Scores for multi-task estimators: the mean of the tasks' ROC AUCs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def mean_roc_auc_score(y_true, y_proba, *, classes: Sequence | None = None) -> float:
    """Mean over tasks of the ROC AUC of each task's positive-class probability.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks)
        True labels, one column per task, two labels per column.
    y_proba : list of ndarray of shape (n_samples, 2), or array-like of shape (n_samples, n_tasks)
        What a multi-task estimator's ``predict_proba`` returns (one array per
        task, probabilities of ``classes[t]``), or each task's probability of its
        positive label as one column.
    classes : list of array-like of shape (2,), default=None
        Each task's labels in the order of ``y_proba``'s columns; the second is the
        positive one. Default: each column's sorted labels.

    Returns
    -------
    score : float
        The unweighted mean of the tasks' ROC AUCs.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pangu.metrics import mean_roc_auc_score
    >>> y_true = np.array([[0, 1], [1, 0], [1, 1], [0, 0]])
    >>> y_proba = np.array([[0.1, 0.8], [0.9, 0.3], [0.7, 0.6], [0.4, 0.2]])
    >>> mean_roc_auc_score(y_true, y_proba)
    1.0
    """
    Y = np.asarray(y_true.to_numpy() if isinstance(y_true, pd.DataFrame) else y_true)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if isinstance(y_proba, np.ndarray) and y_proba.ndim == 2 and y_proba.shape[1] == 2 and Y.shape[1] == 1:
        y_proba = [y_proba]
    if isinstance(y_proba, list | tuple):
        positive = np.column_stack([np.asarray(p)[:, -1] for p in y_proba])
    else:
        positive = np.asarray(y_proba, dtype=np.float64).reshape(len(Y), -1)
    if positive.shape != Y.shape:
        raise ValueError(
            f"y_true has {Y.shape[1]} task column(s) and y_proba {positive.shape[1]}; they must match."
        )
    if classes is None:
        classes = [np.unique(column) for column in Y.T]
    scores = []
    for t, (column, labels) in enumerate(zip(Y.T, classes, strict=True)):
        labels = np.asarray(labels)
        if labels.shape != (2,):
            raise ValueError(f"Task {t} needs exactly two labels, got {labels.tolist()}.")
        scores.append(roc_auc_score(column == labels[1], positive[:, t]))
    return float(np.mean(scores))


def mean_roc_auc_scorer(estimator, X, y) -> float:
    """Scorer for ``GridSearchCV(scoring=...)``: mean task ROC AUC of a fitted multi-task estimator.

    A multi-output classifier's ``score`` is subset accuracy (every task right at
    once), which rarely suits ranking; this scorer calls ``predict_proba`` and
    averages the tasks' ROC AUCs, each task's positive label being ``classes_[t][1]``.

    Parameters
    ----------
    estimator : fitted multi-task estimator
        An estimator with ``predict_proba`` and ``classes_`` (a list of arrays, or
        one array for a single task).
    X : DataFrame or array-like of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples, n_tasks)
        True labels.

    Returns
    -------
    score : float
        The mean of the tasks' ROC AUCs; greater is better.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_pangu import MMOEMultiOutput
    >>> from sklearn_pangu.datasets import load_census_income
    >>> from sklearn_pangu.metrics import mean_roc_auc_scorer
    >>> X, Y = load_census_income(return_X_y=True)
    >>> search = GridSearchCV(
    ...     MMOEMultiOutput(num_experts=2, expert_units=(16,), max_epochs=1, random_state=0),
    ...     {"embedding_dim": [4, 8]}, scoring=mean_roc_auc_scorer, cv=2,
    ... ).fit(X[:2000], Y[:2000])
    >>> sorted(search.best_params_)
    ['embedding_dim']
    """
    classes = estimator.classes_
    if not isinstance(classes, list):
        classes = [classes]
    return mean_roc_auc_score(y, estimator.predict_proba(X), classes=classes)
