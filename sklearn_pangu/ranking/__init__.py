"""Ranking (CTR) classifiers: one thin estimator per model of the zoo."""

from ._afm import AFMClassifier
from ._afn import AFNClassifier
from ._aoanet import AOANetClassifier
from ._autoint import AutoIntClassifier
from ._bst import BSTClassifier
from ._ccpm import CCPMClassifier
from ._dcn import DCNClassifier
from ._dcnv2 import DCNV2Classifier
from ._deepfm import DeepFMClassifier
from ._dien import DIENClassifier
from ._din import DINClassifier
from ._fibinet import FiBiNetClassifier
from ._finalmlp import FinalMLPClassifier
from ._fm import FMClassifier
from ._lr import LRClassifier
from ._masknet import MaskNetClassifier
from ._nfm import NFMClassifier
from ._wide_deep import WideDeepClassifier
from ._xdeepfm import XDeepFMClassifier

__all__ = [
    "AFMClassifier",
    "AFNClassifier",
    "AOANetClassifier",
    "AutoIntClassifier",
    "BSTClassifier",
    "CCPMClassifier",
    "DCNClassifier",
    "DCNV2Classifier",
    "DIENClassifier",
    "DINClassifier",
    "DeepFMClassifier",
    "FMClassifier",
    "FiBiNetClassifier",
    "FinalMLPClassifier",
    "LRClassifier",
    "MaskNetClassifier",
    "NFMClassifier",
    "WideDeepClassifier",
    "XDeepFMClassifier",
]
