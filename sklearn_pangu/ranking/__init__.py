"""Ranking (CTR) classifiers: one thin estimator per model of the zoo."""

from ._deepfm import DeepFMClassifier
from ._fm import FMClassifier
from ._lr import LRClassifier
from ._wide_deep import WideDeepClassifier

__all__ = ["DeepFMClassifier", "FMClassifier", "LRClassifier", "WideDeepClassifier"]
