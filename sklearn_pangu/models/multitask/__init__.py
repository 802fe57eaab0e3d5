"""Multi-task modules: ``forward(codes, dense)`` returns one logit per task, ``(batch, n_tasks)``."""

from ._mmoe import MMoEModule
from ._shared_bottom import SharedBottomModule

__all__ = ["MMoEModule", "SharedBottomModule"]
