"""Hyper-parameter search in parallel: joblib processes, one torch thread each.

The search on a real Dask cluster is tested by running ``examples/dask_search.py``
(``tests/test_examples.py::test_dask_search_quick``), which asserts the same one thread.
"""

import joblib
import numpy as np
import torch
from sklearn.model_selection import GridSearchCV

from sklearn_pangu import FMClassifier
from sklearn_pangu.datasets import make_ctr_classification


def torch_threads(estimator, X, y):
    """A "score" that reports the torch threads of the process that fitted and scores."""
    return float(torch.get_num_threads())


def _search(**kwargs):
    X, y = make_ctr_classification(600, n_sparse=3, n_dense=1, random_state=0)
    search = GridSearchCV(
        FMClassifier(embedding_dim=4, max_epochs=2, random_state=0),
        {"learning_rate": [1e-2, 3e-2]},
        scoring={"auc": "roc_auc", "threads": torch_threads},
        refit="auc",
        cv=2,
        **kwargs,
    )
    return search.fit(X, y)


def test_joblib_workers_use_one_torch_thread_when_told():
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        search = _search(n_jobs=2)
    np.testing.assert_array_equal(search.cv_results_["mean_test_threads"], 1.0)
    assert np.isfinite(search.cv_results_["mean_test_auc"]).all()
