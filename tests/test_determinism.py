"""Same data and random_state give bit-identical predictions: across processes and parallel searches.

Two fits in one process are covered by ``test_same_random_state_same_predictions`` in
test_estimators.py and test_multitask.py.
"""

import subprocess
import sys
import textwrap

import joblib
import numpy as np
import torch
from sklearn.model_selection import GridSearchCV

import sklearn_pangu._base
from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import make_ctr_classification

#: Builds the data, fits and predicts; the same text runs here and in a fresh interpreter.
SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import torch
    from sklearn_pangu import DeepFMClassifier, MMOEMultiOutput
    from sklearn_pangu.datasets import make_ctr_classification

    def fit_predict(threads):
        torch.set_num_threads(threads)
        X, y = make_ctr_classification(500, n_sparse=4, n_dense=2, max_cardinality=300, random_state=1)
        deepfm = DeepFMClassifier(
            embedding_dim=4, hidden_units=(8,), batch_size=64, max_epochs=3,
            early_stopping=True, random_state=7,
        )
        Y = np.column_stack([y, (X["I1"] > 0).to_numpy()])
        mmoe = MMOEMultiOutput(
            embedding_dim=4, num_experts=2, expert_units=(8,), tower_units=(4,), batch_size=64,
            max_epochs=2, random_state=7,
        )
        return np.hstack([deepfm.fit(X, y).predict_proba(X), *mmoe.fit(X, Y).predict_proba(X)])
    """
)


def fit_predict(threads=1):
    namespace = {}
    exec(SCRIPT, namespace)
    return namespace["fit_predict"](threads)


def test_another_process_gives_bit_identical_predictions(tmp_path):
    path = tmp_path / "proba.npy"
    code = SCRIPT + f"\nnp.save({str(path)!r}, fit_predict(1))\n"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    np.testing.assert_array_equal(np.load(path), fit_predict(1))


def test_prediction_does_not_depend_on_the_torch_thread_count():
    # Training does: with more threads the gradient sums add up in another order, so
    # bit-identical fits need the same torch.get_num_threads() (documented caveat).
    X, y = make_ctr_classification(500, n_sparse=4, n_dense=2, max_cardinality=300, random_state=1)
    model = DeepFMClassifier(embedding_dim=4, hidden_units=(8,), max_epochs=2, random_state=0).fit(X, y)
    one = model.predict_proba(X)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        two = model.predict_proba(X)
    finally:
        torch.set_num_threads(previous)
    np.testing.assert_array_equal(two, one)


def _search(n_jobs):
    X, y = make_ctr_classification(600, n_sparse=3, n_dense=1, max_cardinality=200, random_state=0)
    search = GridSearchCV(
        DeepFMClassifier(embedding_dim=4, hidden_units=(8,), batch_size=64, max_epochs=2, random_state=0),
        {"learning_rate": [1e-2, 3e-2]},
        scoring="roc_auc",
        cv=2,
        n_jobs=n_jobs,
    )
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        search.fit(X, y)
    return search, X


def test_parallel_grid_search_matches_the_serial_one_bit_for_bit():
    serial, X = _search(n_jobs=1)
    parallel, _ = _search(n_jobs=2)
    for key in ("mean_test_score", "std_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(parallel.cv_results_[key], serial.cv_results_[key], err_msg=key)
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_array_equal(
        parallel.best_estimator_.predict_proba(X), serial.best_estimator_.predict_proba(X)
    )


def test_predicting_in_chunks_gives_the_bits_of_one_pass(monkeypatch):
    # Large inputs are encoded and predicted a chunk of whole prediction batches at a time.
    X, y = make_ctr_classification(3000, n_sparse=4, n_dense=2, max_cardinality=300, random_state=1)
    model = DeepFMClassifier(embedding_dim=4, hidden_units=(8,), max_epochs=2, random_state=0).fit(X, y)
    one_pass = model.predict_proba(X)
    model.set_params(predict_batch_size=64)
    monkeypatch.setattr(sklearn_pangu._base, "PREDICT_CHUNK_ROWS", 1000)  # chunks of 960 rows
    np.testing.assert_array_equal(model.predict_proba(X), one_pass)
    np.testing.assert_array_equal(model.predict_proba(X.iloc[:0]).shape, (0, 2))
