"""
Hyper-parameter search on a Dask cluster
========================================

scikit-learn's searches run on Dask through joblib's ``dask`` backend: inside
``joblib.parallel_config(backend="dask")``, every fit of every fold of a
:class:`~sklearn.model_selection.GridSearchCV` with ``n_jobs=-1`` becomes a task on the
cluster's workers. The estimator and the data are pickled to the workers, which need the
same versions of sklearn_pangu, torch, scikit-learn and skorch as the client. The
example searches the embedding size and the learning rate of
:class:`~sklearn_pangu.DeepFMClassifier` on the census income task and prints the
workers, each candidate's mean ROC AUC and the best parameters.

It starts worker processes, so the documentation build does not run it: this page shows
its code only. It needs the ``dask`` extra (``pip install "sklearn-pangu[dask]"``).

Run it with ``python examples/dask_search.py [--quick] [--n-workers 2] [--scheduler
ADDRESS]`` (``--quick``: 3,000 rows, 2 epochs, a small network, 2 candidates). Without
``--scheduler`` it starts a local cluster of ``--n-workers`` processes;
``--scheduler tcp://host:8786`` uses a running cluster instead.
"""

# %%
# One single-threaded worker per core
# -----------------------------------
# Each fit is compute-bound, so run one single-threaded worker process per core:
# ``LocalCluster(n_workers=..., threads_per_worker=1, processes=True)`` here, or ``dask
# worker SCHEDULER --nworkers auto --nthreads 1`` on a real cluster. Dask's nanny starts
# workers with ``OMP_NUM_THREADS=1``, so torch uses one thread in each and the fits do
# not oversubscribe the cores; the example checks it with a scorer that reports
# ``torch.get_num_threads()`` in the worker that fitted.
import argparse
import contextlib

import joblib
import pandas as pd
import torch
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from sklearn_pangu import DeepFMClassifier
from sklearn_pangu.datasets import load_census_income


def torch_threads(estimator, X, y) -> float:
    """A "score": how many threads torch had in the worker that fitted and scored."""
    return float(torch.get_num_threads())


# %%
# The search
# ----------
# ``main`` starts the cluster or connects to one, runs the search on it and returns the
# fitted :class:`~sklearn.model_selection.GridSearchCV`.


def main(argv: list[str] | None = None) -> GridSearchCV:
    parser = argparse.ArgumentParser(
        description="Hyper-parameter search on a Dask cluster."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3,000 rows, 2 epochs, a small network, 2 candidates",
    )
    parser.add_argument(
        "--n-workers", type=int, default=2, help="worker processes of the local cluster"
    )
    parser.add_argument(
        "--scheduler", default=None, help="address of a running Dask scheduler"
    )
    args = parser.parse_args(argv)

    X, Y = load_census_income(return_X_y=True)
    y = Y["income"]
    if args.quick:
        X, y = X.iloc[:3000], y.iloc[:3000]
        model = DeepFMClassifier(
            hidden_units=(32,), batch_size=256, max_epochs=2, random_state=0
        )
    else:
        model = DeepFMClassifier(hidden_units=(256, 256), random_state=0)
    grid = (
        {"learning_rate": [1e-3, 1e-2]}
        if args.quick
        else {"embedding_dim": [8, 32], "learning_rate": [1e-3, 1e-2]}
    )
    search = GridSearchCV(
        model,
        grid,
        scoring={"roc_auc": "roc_auc", "torch_threads": torch_threads},
        refit="roc_auc",
        cv=2 if args.quick else 3,
        n_jobs=-1,  # as many tasks at once as the cluster has worker threads
    )

    with contextlib.ExitStack() as stack:
        if args.scheduler is None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=args.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(args.scheduler))
        workers = client.scheduler_info()["workers"]
        print(
            f"Dask cluster: {len(workers)} workers, "
            f"{sum(w['nthreads'] for w in workers.values())} threads"
        )
        with joblib.parallel_config(backend="dask"):
            search.fit(X, y)

    results = pd.DataFrame(search.cv_results_)
    print(
        f"{len(results)} candidates × {search.n_splits_} folds "
        f"on {len(X):,} rows of census income"
    )
    for params, auc, threads in zip(
        results["params"],
        results["mean_test_roc_auc"],
        results["mean_test_torch_threads"],
    ):
        print(f"  {params}: ROC AUC {auc:.4f}, torch threads per fit {threads:g}")
    print(
        "best parameters:", search.best_params_, f"(ROC AUC {search.best_score_:.4f})"
    )
    return search


# %%
# The ``__main__`` guard
# ----------------------
# Worker processes are started by spawning a new interpreter that imports the main
# module, so a script that starts a ``LocalCluster`` needs the ``if __name__ ==
# "__main__":`` guard, as here; without it the workers fail with ``RuntimeError: Nanny
# failed to start.``

if __name__ == "__main__":
    main()
