"""Multi-task estimators: several binary targets learned from one shared representation."""

from ._aitm import AITMMultiOutput
from ._esmm import ESMMMultiOutput
from ._mlmmoe import MLMMOEMultiOutput
from ._mmoe import MMOEMultiOutput
from ._omoe import OMOEMultiOutput
from ._ple import PLEMultiOutput
from ._shared_bottom import ShareBottomMultiOutput

__all__ = [
    "AITMMultiOutput",
    "ESMMMultiOutput",
    "MLMMOEMultiOutput",
    "MMOEMultiOutput",
    "OMOEMultiOutput",
    "PLEMultiOutput",
    "ShareBottomMultiOutput",
]
