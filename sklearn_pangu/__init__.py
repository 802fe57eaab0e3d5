"""scikit-learn estimators for CTR ranking and multi-task recommendation models."""

from .multitask import (
    AITMMultiOutput,
    ESMMMultiOutput,
    MLMMOEMultiOutput,
    MMOEMultiOutput,
    OMOEMultiOutput,
    PLEMultiOutput,
    ShareBottomMultiOutput,
)
from .ranking import (
    AFMClassifier,
    AFNClassifier,
    AOANetClassifier,
    AutoIntClassifier,
    CCPMClassifier,
    DCNClassifier,
    DCNV2Classifier,
    DeepFMClassifier,
    FiBiNetClassifier,
    FinalMLPClassifier,
    FMClassifier,
    LRClassifier,
    MaskNetClassifier,
    NFMClassifier,
    WideDeepClassifier,
    XDeepFMClassifier,
)

__version__ = "0.1.0"

__all__ = [
    "AFMClassifier",
    "AFNClassifier",
    "AITMMultiOutput",
    "AOANetClassifier",
    "AutoIntClassifier",
    "CCPMClassifier",
    "DCNClassifier",
    "DCNV2Classifier",
    "DeepFMClassifier",
    "ESMMMultiOutput",
    "FMClassifier",
    "FiBiNetClassifier",
    "FinalMLPClassifier",
    "LRClassifier",
    "MLMMOEMultiOutput",
    "MMOEMultiOutput",
    "MaskNetClassifier",
    "NFMClassifier",
    "OMOEMultiOutput",
    "PLEMultiOutput",
    "ShareBottomMultiOutput",
    "WideDeepClassifier",
    "XDeepFMClassifier",
    "__version__",
]
