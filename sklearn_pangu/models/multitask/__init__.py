"""Multi-task modules: ``forward(codes, dense)`` returns one logit per task, ``(batch, n_tasks)``."""

from ._aitm import AITMModule
from ._esmm import ESMMModule
from ._mlmmoe import MLMMOEModule
from ._mmoe import MMOEModule
from ._ple import PLEModule
from ._shared_bottom import ShareBottomModule

__all__ = ["AITMModule", "ESMMModule", "MLMMOEModule", "MMOEModule", "PLEModule", "ShareBottomModule"]
