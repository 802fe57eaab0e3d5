"""Multi-task modules: ``forward(codes, dense)`` returns one logit per task, ``(batch, n_tasks)``."""

from ._aitm import AITMModule
from ._esmm import ESMMModule
from ._mlmmoe import MLMMoEModule
from ._mmoe import MMoEModule
from ._ple import PLEModule
from ._shared_bottom import SharedBottomModule

__all__ = ["AITMModule", "ESMMModule", "MLMMoEModule", "MMoEModule", "PLEModule", "SharedBottomModule"]
