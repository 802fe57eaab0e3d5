"""Errors that the estimators raise besides scikit-learn's and Python's own."""

from __future__ import annotations

__all__ = ["NonFiniteLossError"]


class NonFiniteLossError(FloatingPointError):
    """Raised when a training batch's loss is NaN or infinite: the fit stops and fails.

    Like any failed fit, it leaves the estimator as it was before the call; what the
    fit trained until then is not lost but comes with the error.

    Attributes
    ----------
    epoch : int
        The epoch (from 1) whose batch gave the loss.
    batch : int
        The training batch (from 1) within that epoch.
    kept : str
        Which weights the trained network holds, in words: those of the best
        validation epoch, from before the failing batch, or from the start of the
        epoch when the weights themselves had become non-finite.
    trained_estimator : estimator or None
        A fitted copy of the estimator holding the network as ``kept`` describes it,
        set when the error leaves ``fit`` or ``partial_fit``.
    """

    trained_estimator = None

    def __init__(self, message: str, epoch: int, batch: int, kept: str = "from before the failing batch"):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.kept = kept
