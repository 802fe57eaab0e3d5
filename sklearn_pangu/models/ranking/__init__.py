"""Ranking (CTR) modules: ``forward(codes, dense)`` returns one logit per row."""

from ._afm import AFMModule
from ._afn import AFNModule
from ._aoanet import AOANetModule
from ._autoint import AutoIntModule
from ._bst import BSTModule
from ._ccpm import CCPMModule
from ._dcn import DCNModule
from ._dcnv2 import DCNV2Module
from ._deepfm import DeepFMModule
from ._dien import DIENModule
from ._din import DINModule
from ._fibinet import FiBiNetModule
from ._finalmlp import FinalMLPModule
from ._fm import FMModule
from ._linear import LRModule
from ._masknet import MaskNetModule
from ._nfm import NFMModule
from ._wide_deep import WideDeepModule
from ._xdeepfm import XDeepFMModule

__all__ = [
    "AFMModule",
    "AFNModule",
    "AOANetModule",
    "AutoIntModule",
    "BSTModule",
    "CCPMModule",
    "DCNModule",
    "DCNV2Module",
    "DIENModule",
    "DINModule",
    "DeepFMModule",
    "FMModule",
    "FiBiNetModule",
    "FinalMLPModule",
    "LRModule",
    "MaskNetModule",
    "NFMModule",
    "WideDeepModule",
    "XDeepFMModule",
]
