"""Multi-task estimators: several binary targets learned from one shared representation."""

from ._mmoe import MMOEMultiOutput
from ._omoe import OMOEMultiOutput
from ._shared_bottom import ShareBottomMultiOutput

__all__ = ["MMOEMultiOutput", "OMOEMultiOutput", "ShareBottomMultiOutput"]
