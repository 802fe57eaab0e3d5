"""scikit-learn estimators for CTR ranking and multi-task recommendation models."""

from .multitask import MMOEMultiOutput, OMOEMultiOutput, ShareBottomMultiOutput
from .ranking import DeepFMClassifier, FMClassifier, LRClassifier, WideDeepClassifier

__version__ = "0.1.0"

__all__ = [
    "DeepFMClassifier",
    "FMClassifier",
    "LRClassifier",
    "MMOEMultiOutput",
    "OMOEMultiOutput",
    "ShareBottomMultiOutput",
    "WideDeepClassifier",
    "__version__",
]
