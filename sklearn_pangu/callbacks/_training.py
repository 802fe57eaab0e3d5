"""Callbacks that steer training: early stopping, learning-rate decay, skipping non-finite batches."""

from __future__ import annotations

import math
import warnings

from skorch.callbacks import Callback, EarlyStopping


class ValidationEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping``, idle in a fit that has no validation set.

    The estimators decide per call to ``fit`` whether to hold out a validation
    set (``early_stopping='auto'``), while the net and its callbacks are built once.
    """

    def on_train_begin(self, net, **kwargs) -> None:
        self.active_ = net.train_split is not None
        super().on_train_begin(net, **kwargs)

    def on_epoch_end(self, net, **kwargs) -> None:
        if self.active_:
            super().on_epoch_end(net, **kwargs)

    def on_train_end(self, net, **kwargs) -> None:
        if self.active_:
            super().on_train_end(net, **kwargs)


class PlateauLearningRateDecay(Callback):
    """Multiply the learning rate by ``factor`` after each epoch that brings no new best ``valid_auc``.

    Idle in a fit without a validation set, or with ``factor=1``. Records the
    learning rate of each epoch as ``lr`` in the history.

    Parameters
    ----------
    factor : float
        Multiplier of the learning rate, in (0, 1].
    """

    def __init__(self, factor: float = 0.1) -> None:
        self.factor = factor

    def on_train_begin(self, net, **kwargs) -> None:
        self.active_ = net.train_split is not None and self.factor < 1
        self.best_ = -math.inf

    def on_epoch_end(self, net, **kwargs) -> None:
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])
        if not self.active_:
            return
        auc = net.history[-1].get("valid_auc", math.nan)
        if auc > self.best_:
            self.best_ = auc
            return
        for group in net.optimizer_.param_groups:
            group["lr"] *= self.factor


class SkipNonFiniteLoss(Callback):
    """Skip a training batch whose loss is NaN or infinite instead of stopping training.

    Pass it in an estimator's ``callbacks``. A batch whose loss is not finite makes no
    update; training stops with the usual error only when the weights themselves are
    no longer finite, since no later batch could then give a finite loss. The number
    of batches skipped in each epoch is recorded as ``skipped_batches`` in the
    history, and a warning at the end of training gives the total.

    Examples
    --------
    >>> from sklearn_pangu import DeepFMClassifier
    >>> from sklearn_pangu.callbacks import SkipNonFiniteLoss
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=500, random_state=0)
    >>> model = DeepFMClassifier(max_epochs=2, callbacks=[SkipNonFiniteLoss()], random_state=0)
    >>> model.fit(X, y).history_[:, "skipped_batches"]
    [0, 0]
    """

    def on_train_begin(self, net, **kwargs) -> None:
        self.skipped_ = 0

    def on_epoch_end(self, net, **kwargs) -> None:
        skipped = sum(1 for batch in net.history[-1]["batches"] if batch.get("skipped"))
        net.history.record("skipped_batches", skipped)
        self.skipped_ += skipped

    def on_train_end(self, net, **kwargs) -> None:
        if self.skipped_:
            warnings.warn(
                f"Skipped {self.skipped_} training batch(es) whose loss was NaN or infinite; "
                "see 'skipped_batches' in history_.",
                UserWarning,
                stacklevel=2,
            )
