"""Metrics and scorers for the estimators of sklearn_pangu."""

from ._group import group_roc_auc_score, group_roc_auc_scorer
from ._multitask import mean_roc_auc_score, mean_roc_auc_scorer

__all__ = ["group_roc_auc_score", "group_roc_auc_scorer", "mean_roc_auc_score", "mean_roc_auc_scorer"]
