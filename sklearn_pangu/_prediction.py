"""Prediction in batches, padded so that a row's result does not depend on its batch; threads on the CPU."""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import torch
from skorch import NeuralNet

from ._dataset import EncodedDataset
from .nn import projecting

#: Prediction batches are padded with zero rows to a multiple of this size. A float32
#: matrix product gives a row the same bits whatever else is in its batch only when
#: the batch's row count is a multiple of the BLAS kernel's row block, so padding
#: makes a row's prediction independent of the rows predicted with it. Kernels measured
#: needed a multiple of 4; 16 leaves room for wider ones while a one-row request pays
#: the network for 16 rows, not more.
PREDICT_ROW_BLOCK = 16


#: CPU prediction runs batches of at most this many rows two at a time (see
#: :func:`cpu_prediction_threads`); larger batches keep torch's threads busy alone.
TWO_THREAD_BATCH_ROWS = 1024


#: A call of more than this many batches (so that the tried ones are whole), on a network
#: not yet tried, times one batch on all of torch's threads against two at once (see
#: :func:`predict_outputs`).
TRIAL_BATCHES = 6

#: What the trial found, by module: ``{(batch_size, torch threads): Python threads}``.
_thread_choices: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def cpu_prediction_threads(device, batch_size: int) -> int:
    """How many Python threads :func:`predict_outputs` spreads batches over on ``device``.

    Two on the CPU for batches of at most :data:`TWO_THREAD_BATCH_ROWS` rows when torch
    has two or more threads (each thread then runs its batches with half of them, one
    of them with the extra thread of an odd count), else one. A forward pass over a
    batch that small is too short to keep two torch threads busy through every
    operation, so two batches at a time, one per core, finish sooner than one batch on
    both cores. The price is the memory of a second batch in flight.
    """
    two = torch.device(device).type == "cpu" and batch_size <= TWO_THREAD_BATCH_ROWS
    return 2 if two and torch.get_num_threads() >= 2 else 1


def predict_outputs(
    net: NeuralNet, dataset: EncodedDataset, batch_size: int, n_threads: int = 1
) -> torch.Tensor:
    """Run the trained module over ``dataset`` in eval mode, without autograd; outputs on the CPU.

    Batches of ``batch_size`` rows keep memory flat for a large ``dataset``; an empty
    ``dataset`` gives an empty result of the module's output shape. With ``n_threads``
    above one, that many Python threads take the batches in turn, sharing torch's
    threads out between them; every batch gives the same bits either way. Whether
    that is faster depends on the network, so the first call of more than
    :data:`TRIAL_BATCHES` batches times its second batch alone against its fifth and
    sixth at once (after the third and fourth have warmed the threads up), and it and
    later calls on the module keep to the faster way. The first layers over field
    vectors run from projected table rows (:func:`nn.projecting`). Running out of
    device memory raises ``torch.OutOfMemoryError`` again with advice on the batch size.
    """
    starts = range(0, max(len(dataset), 1), batch_size)

    @torch.inference_mode()
    def predict_batch(start: int) -> torch.Tensor:
        n_rows = min(batch_size, len(dataset) - start)
        X, _ = dataset.batch(slice(start, start + n_rows))
        n_padding = -n_rows % PREDICT_ROW_BLOCK if n_rows else PREDICT_ROW_BLOCK
        if n_padding:
            X = {name: torch.cat([t, t.new_zeros((n_padding, *t.shape[1:]))]) for name, t in X.items()}
        return net.evaluation_step((X, None), training=False)[:n_rows].to("cpu")

    try:
        with projecting(net.module_):
            if n_threads > 1 and len(starts) > 1:
                outputs = _predict_spread(predict_batch, starts, n_threads, net.module_, batch_size)
            else:
                outputs = [predict_batch(start) for start in starts]
    except torch.OutOfMemoryError as exc:
        raise type(exc)(
            f"The device ran out of memory while predicting in batches of {batch_size} rows. Splitting "
            "X does not help, since the rows already go through in batches of that size: set a "
            "smaller predict_batch_size on the estimator or free device memory held elsewhere. "
            f"({exc})"
        ) from exc
    return torch.cat(outputs)


def _predict_spread(predict_batch, starts, n_threads: int, module, batch_size: int) -> list:
    """``[predict_batch(start) for start in starts]`` in ``n_threads`` threads, or in one if faster."""
    choices = _thread_choices.setdefault(module, {})
    key = (batch_size, torch.get_num_threads())
    if key not in choices and len(starts) > TRIAL_BATCHES:
        outputs = [predict_batch(starts[0])]  # warms the caches up
        choices[key], tried = _faster_way(predict_batch, starts[1:6], n_threads)
        return [*outputs, *tried, *_predict_spread(predict_batch, starts[6:], n_threads, module, batch_size)]
    if choices.get(key, n_threads) > 1 and len(starts) > 1:
        return _map_in_threads(predict_batch, starts, n_threads)
    return [predict_batch(start) for start in starts]


def _faster_way(function, items, n_threads: int) -> tuple[int, list]:
    """``n_threads`` or 1, whichever ran ``function`` faster; and ``[function(item) for item in items]``.

    ``items[0]`` runs alone in the calling thread; then ``n_threads`` threads run
    ``items[1:3]`` at once, which starts them and warms them up, and ``items[3:5]``,
    timed against twice ``items[0]``.
    """
    started = time.perf_counter()
    outputs = [function(items[0])]
    alone = time.perf_counter() - started
    with _torch_thread_pool(n_threads) as pool:
        outputs += pool.map(function, items[1:3])
        started = time.perf_counter()
        outputs += pool.map(function, items[3:5])
        together = time.perf_counter() - started
    return (n_threads if together < 2 * alone else 1), outputs


def _map_in_threads(function, items, n_threads: int) -> list:
    """``[function(item) for item in items]`` in ``n_threads`` threads that share torch's threads."""
    with _torch_thread_pool(n_threads) as pool:
        return list(pool.map(function, items))


@contextlib.contextmanager
def _torch_thread_pool(n_threads: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of ``n_threads`` threads, each with its share of torch's threads.

    ``torch.set_num_threads`` sets the torch thread count of the thread that calls it,
    and also the count that threads started afterwards begin with. Each worker sets its
    share while they all wait at a barrier (which makes the pool start every worker),
    and the caller then sets its own count again, so that later threads begin with it.
    """
    torch_threads = torch.get_num_threads()
    shares = iter(
        [max(torch_threads // n_threads + (i < torch_threads % n_threads), 1) for i in range(n_threads)]
    )
    everyone_started = threading.Barrier(n_threads)

    def take_share() -> None:
        torch.get_num_threads()  # torch gives a thread its starting count on first use: before ours
        torch.set_num_threads(next(shares))
        everyone_started.wait()

    pool = ThreadPoolExecutor(n_threads)
    try:
        try:
            for started in [pool.submit(take_share) for _ in range(n_threads)]:
                started.result()
        finally:
            everyone_started.abort()  # frees a worker left waiting if a thread failed to start
            torch.set_num_threads(torch_threads)
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)
