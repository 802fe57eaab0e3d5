"""Ranking (CTR) modules: ``forward(codes, dense)`` returns one logit per row."""

from ._deepfm import DeepFMModule
from ._fm import FMModule
from ._linear import LogisticRegressionModule
from ._wide_deep import WideDeepModule

__all__ = ["DeepFMModule", "FMModule", "LogisticRegressionModule", "WideDeepModule"]
