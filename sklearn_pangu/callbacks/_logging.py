"""Callbacks that show how training goes while it runs."""

from __future__ import annotations

import sys
import time

from skorch.callbacks import Callback

#: An epoch shows its progress line once it has run this many seconds ...
PROGRESS_DELAY_SECONDS = 2.0
#: ... and rewrites it at most this often.
PROGRESS_INTERVAL_SECONDS = 0.5


def _stderr_is_interactive() -> bool:
    """A terminal or a notebook, where a carriage return rewrites the line; not a log file."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


class EpochProgress(Callback):
    """With ``verbose``, show how far a long epoch has got: batches done, elapsed, remaining.

    The line goes to ``sys.stderr`` when it is a terminal's or a notebook's (not a log
    file) once an epoch has run ``PROGRESS_DELAY_SECONDS``, is rewritten in place (a
    carriage return) at most every ``PROGRESS_INTERVAL_SECONDS``, and is erased before
    the epoch's line of the log table, so short epochs print nothing extra.
    """

    def on_epoch_begin(self, net, dataset_train=None, **kwargs) -> None:
        self.total_ = None if dataset_train is None else len(net.get_iterator(dataset_train, training=True))
        self.done_ = 0
        self.started_ = self.written_ = time.monotonic()
        self.width_ = 0
        self.active_ = bool(net.verbose) and _stderr_is_interactive()

    def on_batch_end(self, net, training=None, **kwargs) -> None:
        if not training or not self.active_:
            return
        self.done_ += 1
        now = time.monotonic()
        elapsed = now - self.started_
        if elapsed < PROGRESS_DELAY_SECONDS or now - self.written_ < PROGRESS_INTERVAL_SECONDS:
            return
        self.written_ = now
        line = f"epoch {len(net.history)}: {self.done_}"
        if self.total_:
            remaining = elapsed / self.done_ * (self.total_ - self.done_)
            percent = 100 * self.done_ // self.total_
            line += f"/{self.total_} batches ({percent}%), {elapsed:.0f}s, ~{remaining:.0f}s left"
        else:
            line += f" batches, {elapsed:.0f}s"
        sys.stderr.write("\r" + line.ljust(self.width_))
        sys.stderr.flush()
        self.width_ = len(line)

    def on_epoch_end(self, net, **kwargs) -> None:
        if self.width_:
            sys.stderr.write("\r" + " " * self.width_ + "\r")
            sys.stderr.flush()
            self.width_ = 0
