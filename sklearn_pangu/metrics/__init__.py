"""Metrics and scorers for the estimators of sklearn_pangu."""

from ._multitask import mean_roc_auc_score, mean_roc_auc_scorer

__all__ = ["mean_roc_auc_score", "mean_roc_auc_scorer"]
