"""One fitted estimator serving predictions from many threads at once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

import sklearn_pangu._base
import sklearn_pangu._prediction
from sklearn_pangu import DeepFMClassifier, MMOEMultiOutput
from sklearn_pangu.datasets import make_ctr_classification

N_THREADS = 8


def _in_threads(function, arguments):
    """Call ``function`` on each argument, all threads released at once."""
    barrier = threading.Barrier(len(arguments))

    def call(argument):
        barrier.wait()
        return [function(argument) for _ in range(3)]

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(call, arguments))


@pytest.mark.parametrize("estimator_class", [DeepFMClassifier, MMOEMultiOutput])
def test_predict_proba_from_eight_threads_equals_the_serial_result(estimator_class):
    X, y = make_ctr_classification(800, n_sparse=4, n_dense=2, max_cardinality=300, random_state=0)
    params = {"embedding_dim": 4, "batch_size": 64, "max_epochs": 2, "random_state": 0}
    if estimator_class is MMOEMultiOutput:
        y = np.column_stack([y, (X["I1"] > 0).to_numpy()])
        params.update(num_experts=2, expert_units=(8,), tower_units=(4,))
    else:
        params.update(hidden_units=(8,), dropout=0.2)
    model = estimator_class(**params).fit(X, y)

    def proba(rows):
        result = model.predict_proba(X.iloc[rows])
        return np.hstack(result) if isinstance(result, list) else result

    # Each thread predicts its own rows, of its own length, several times over.
    slices = [slice(start, start + 50 + 90 * start // 100) for start in range(0, 800, 100)]
    assert len(slices) == N_THREADS
    serial = [proba(rows) for rows in slices]
    for results, expected in zip(_in_threads(proba, slices), serial, strict=True):
        for result in results:
            np.testing.assert_array_equal(result, expected)
    # And all threads on the same full input.
    full = proba(slice(None))
    for results in _in_threads(proba, [slice(None)] * N_THREADS):
        for result in results:
            np.testing.assert_array_equal(result, full)


def _forward_threads(model, X, meet: int = 0):
    """Predict ``X``; return the probabilities and, per batch, the thread and its torch thread count.

    The first ``meet`` batches wait for each other, so they must run in as many threads
    at once (a BrokenBarrierError after 10 s otherwise).
    """
    seen = []
    meeting = threading.Barrier(meet) if meet else None

    def record(*_):
        seen.append((threading.get_ident(), torch.get_num_threads()))
        if meeting is not None and len(seen) <= meet:
            meeting.wait(timeout=10)

    hook = model.net_.module_.register_forward_hook(record)
    try:
        return model.predict_proba(X), seen
    finally:
        hook.remove()


def _torch_threads_of_a_new_thread() -> int:
    counts = []
    thread = threading.Thread(target=lambda: counts.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return counts[0]


def test_cpu_prediction_spreads_batches_over_two_threads_with_half_the_torch_threads_each(
    monkeypatch,
):
    monkeypatch.setattr(sklearn_pangu._prediction, "TRIAL_BATCHES", float("inf"))  # no trial: two threads
    X, y = make_ctr_classification(3000, n_sparse=4, n_dense=2, max_cardinality=300, random_state=0)
    model = DeepFMClassifier(
        embedding_dim=4, hidden_units=(8,), max_epochs=1, predict_batch_size=128, random_state=0
    ).fit(X, y)
    torch.set_num_threads(2)  # conftest sets the count back after the test
    proba, seen = _forward_threads(model, X, meet=2)
    assert len(seen) == 24
    assert len({thread for thread, _ in seen}) == 2
    assert threading.get_ident() not in {thread for thread, _ in seen}
    assert {count for _, count in seen} == {1}
    # The caller, and threads started after, keep the count they had.
    assert torch.get_num_threads() == 2
    assert _torch_threads_of_a_new_thread() == 2
    # The same bits as one batch after another in the calling thread.
    monkeypatch.setattr(sklearn_pangu._base, "cpu_prediction_threads", lambda device, batch_size: 1)
    serial, seen = _forward_threads(model, X)
    assert {thread for thread, _ in seen} == {threading.get_ident()}
    np.testing.assert_array_equal(proba, serial)


def test_with_one_torch_thread_prediction_stays_in_the_calling_thread():
    # Inside joblib workers, which run torch with one thread each, prediction adds no threads.
    X, y = make_ctr_classification(1000, n_sparse=4, n_dense=2, max_cardinality=100, random_state=0)
    model = DeepFMClassifier(embedding_dim=4, hidden_units=(8,), max_epochs=1, predict_batch_size=128).fit(
        X, y
    )
    torch.set_num_threads(1)
    _, seen = _forward_threads(model, X)
    assert len(seen) == 8
    assert set(seen) == {(threading.get_ident(), 1)}
    assert _torch_threads_of_a_new_thread() == 1


def test_an_odd_torch_thread_count_gives_one_prediction_thread_the_extra_thread(monkeypatch):
    monkeypatch.setattr(sklearn_pangu._prediction, "TRIAL_BATCHES", float("inf"))
    X, y = make_ctr_classification(1000, n_sparse=4, n_dense=2, max_cardinality=100, random_state=0)
    model = DeepFMClassifier(embedding_dim=4, hidden_units=(8,), max_epochs=1, predict_batch_size=128)
    model.fit(X, y)
    torch.set_num_threads(3)
    _, seen = _forward_threads(model, X, meet=2)
    assert sorted(dict(seen).values()) == [1, 2]
    assert torch.get_num_threads() == 3


def test_batches_above_1024_rows_run_in_the_calling_thread():
    # A second batch in flight would cost its memory without a gain at that size.
    X, y = make_ctr_classification(3000, n_sparse=4, n_dense=2, max_cardinality=100, random_state=0)
    model = DeepFMClassifier(embedding_dim=4, hidden_units=(8,), max_epochs=1, predict_batch_size=1025)
    model.fit(X, y)
    torch.set_num_threads(2)
    _, seen = _forward_threads(model, X)
    assert len(seen) == 3
    assert set(seen) == {(threading.get_ident(), 2)}


def test_the_trial_keeps_two_threads_only_where_two_batches_at_once_finish_sooner():
    lock, running = threading.Lock(), []

    def waits(item):  # releases the GIL: two at once take the time of one
        time.sleep(0.05)
        return item

    def slows_down_alongside_another(item):  # as a forward pass that streams large tensors
        with lock:
            running.append(item)
            alongside = len(running)
        time.sleep(0.04 * alongside**2)
        with lock:
            running.remove(item)
        return item

    assert sklearn_pangu._prediction._faster_way(waits, [1, 2, 3, 4, 5], 2) == (2, [1, 2, 3, 4, 5])
    assert sklearn_pangu._prediction._faster_way(slows_down_alongside_another, [1, 2, 3, 4, 5], 2) == (
        1,
        [1, 2, 3, 4, 5],
    )


def test_the_trial_runs_once_per_network_and_gives_the_same_bits(monkeypatch):
    X, y = make_ctr_classification(3000, n_sparse=4, n_dense=2, max_cardinality=300, random_state=0)
    model = DeepFMClassifier(
        embedding_dim=4, hidden_units=(8,), max_epochs=1, predict_batch_size=128, random_state=0
    ).fit(X, y)
    torch.set_num_threads(2)
    tries = []
    faster_way = sklearn_pangu._prediction._faster_way

    def counted(*args):
        tries.append(args)
        return faster_way(*args)

    monkeypatch.setattr(sklearn_pangu._prediction, "_faster_way", counted)
    first = model.predict_proba(X)
    second = model.predict_proba(X)
    assert len(tries) == 1 and len(tries[0][1]) == 5  # batches 2-6 of the first call
    choice = sklearn_pangu._prediction._thread_choices[model.net_.module_][(128, 2)]
    assert choice in (1, 2)
    monkeypatch.setattr(sklearn_pangu._base, "cpu_prediction_threads", lambda device, batch_size: 1)
    np.testing.assert_array_equal(first, model.predict_proba(X))
    np.testing.assert_array_equal(second, first)
