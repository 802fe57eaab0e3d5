"""skorch callbacks for the estimators' ``callbacks`` parameter."""

from ._training import SkipNonFiniteLoss

__all__ = ["SkipNonFiniteLoss"]
