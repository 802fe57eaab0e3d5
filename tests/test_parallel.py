"""Hyper-parameter search in parallel: joblib processes and a real Dask cluster, one torch thread each."""

import joblib
import numpy as np
import pytest
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


def test_grid_search_on_a_dask_local_cluster():
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        with joblib.parallel_config(backend="dask"):
            search = _search(n_jobs=-1)
    # Dask's nanny starts workers with OMP_NUM_THREADS=1, which torch honours.
    np.testing.assert_array_equal(search.cv_results_["mean_test_threads"], 1.0)
    assert search.best_estimator_.predict_proba(
        make_ctr_classification(5, n_sparse=3, n_dense=1)[0]
    ).shape == (5, 2)
