"""One fitted estimator serving predictions from many threads at once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

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
