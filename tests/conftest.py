"""Fixtures every test folder shares.

Test modules take helpers as fixtures rather than importing this file: ``tiny`` (a small
estimator), ``spec`` and ``batch`` (an encoded input for the torch modules), and the
assertions ``assert_gradients_reach`` and ``assert_logits_per_row``. A module whose tests
share other defaults overrides ``tiny`` with a ``functools.partial`` of it.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.datasets import make_ctr_classification

#: Research-only data sets (never in the repository): ../shared/data beside the checkout,
#: or the folder named by the environment variable SKLEARN_PANGU_SHARED_DATA.
DATA_DIR = Path(
    os.environ.get(
        "SKLEARN_PANGU_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)

#: Hyper-parameters that make a network small and quick enough for unit tests.
TINY = {
    "embedding_dim": 4,
    "hidden_units": (8,),
    "batch_size": 64,
    "max_epochs": 3,
    "num_experts": 2,
    "expert_units": (8,),
    "bottom_units": (8,),
    "tower_units": (4,),
    "num_level2_experts": 2,
    "level2_expert_units": (8,),
}


def tiny_params(estimator_class) -> dict:
    """The subset of ``TINY`` that ``estimator_class`` accepts."""
    names = estimator_class().get_params()
    return {k: v for k, v in TINY.items() if k in names}


def shared_data(*parts: str) -> Path:
    """Path of a file under ../shared/data, or skip the test when it is absent."""
    path = DATA_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"research data {path} is not available on this machine")
    return path


@pytest.fixture(scope="session")
def research_data():
    """``research_data(*parts)``: the path of a research data file, or skip the test."""
    return shared_data


# --------------------------------------------------------------------------- estimators


@pytest.fixture(scope="session")
def tiny():
    """``tiny(estimator_class, **params)``: a small, seeded estimator (``TINY``, then ``params``)."""

    def make(estimator_class, **params):
        return estimator_class(**{**tiny_params(estimator_class), "random_state": 0, **params})

    return make


@pytest.fixture(scope="session")
def ctr_data():
    """200 rows of synthetic CTR data: 3 categorical and 2 dense columns, binary labels."""
    return make_ctr_classification(n_samples=200, n_sparse=3, n_dense=2, random_state=0)


@pytest.fixture(scope="session")
def list_frame():
    """``list_frame(n=200, seed=0)``: a DataFrame with list columns, and its item lists.

    Columns: ``item`` (the item scored, a string), ``price`` (a float), ``tags`` (a list of
    strings from ``"a"``-``"l"``: empty, ``None`` and long lists included), ``genres`` (the
    same items as ``"|"``-delimited text, ``""`` when empty) and ``history`` (earlier items,
    of the ``item`` vocabulary). Returns ``(X, tags)``, ``tags`` as a list of Python lists.
    """

    def make(n=200, seed=0):
        rng = np.random.default_rng(seed)
        vocabulary = np.array(list("abcdefghijkl"))
        items = [f"i{k}" for k in range(15)]
        tags = [
            [str(t) for t in rng.choice(vocabulary, size=rng.integers(0, 7), replace=False)] for _ in range(n)
        ]
        history = [[str(i) for i in rng.choice(items, size=rng.integers(0, 9))] for _ in range(n)]
        tags[0], tags[1], history[2] = [], [], []
        cells = pd.Series([list(t) for t in tags], dtype=object)
        cells[1] = None
        X = pd.DataFrame(
            {
                "item": rng.choice(items, n),
                "price": rng.normal(size=n),
                "tags": cells,
                "genres": ["|".join(t) for t in tags],
                "history": pd.Series(history, dtype=object),
            }
        )
        return X, tags

    return make


# --------------------------------------------------------------------------- torch modules


@pytest.fixture(scope="session")
def spec():
    """Categorical fields a, b, c of 5, 3 and 7 indices and dense features x, y: five fields."""
    return FieldSpec(categorical_fields=("a", "b", "c"), cardinalities=(5, 3, 7), dense_features=("x", "y"))


@pytest.fixture(scope="session")
def batch(spec):
    """``batch(n=32, seed=0, n_tasks=None)``: seeded ``codes``, ``dense`` and 0/1 ``target`` for ``spec``.

    ``target`` has shape ``(n,)``, or ``(n, n_tasks)`` when ``n_tasks`` is given.
    """

    def make(n=32, seed=0, n_tasks=None):
        generator = torch.Generator().manual_seed(seed)
        codes = torch.stack(
            [torch.randint(0, c, (n,), generator=generator) for c in spec.cardinalities], dim=1
        )
        dense = torch.randn(n, spec.n_dense, generator=generator)
        shape = (n,) if n_tasks is None else (n, n_tasks)
        target = torch.randint(0, 2, shape, generator=generator).float()
        return codes, dense, target

    return make


@pytest.fixture(scope="session")
def assert_gradients_reach():
    """``check(module, loss)``: back-propagate ``loss``; every parameter gets a non-zero gradient.

    Parameters without elements (the dense vectors of an embedding of no dense
    feature) are skipped: they can hold no gradient.
    """

    def check(module, loss):
        loss.backward()
        for name, param in module.named_parameters():
            if param.numel() == 0:
                continue
            assert param.grad is not None, name
            assert (param.grad != 0).any(), name

    return check


@pytest.fixture(scope="session")
def assert_logits_per_row():
    """``check(module, codes, dense, n_tasks=None)``: one finite logit per row (and task).

    In training and in evaluation mode the module returns shape ``(n,)``, or
    ``(n, n_tasks)``, all finite; in evaluation mode each row's logits are those of
    the row alone, whatever rows share its batch (batch norm uses its running
    statistics), as predicting in batches relies on. Leaves the module in
    evaluation mode and returns its logits.
    """

    def check(module, codes, dense, n_tasks=None):
        n = len(codes)
        shape = (n,) if n_tasks is None else (n, n_tasks)
        for mode in (module.train, module.eval):
            mode()
            out = module(codes, dense)
            assert out.shape == shape
            assert torch.isfinite(out).all()
        with torch.no_grad():
            out = module(codes, dense)
            alone = torch.cat([module(codes[i : i + 1], dense[i : i + 1]) for i in range(n)])
        torch.testing.assert_close(out, alone)
        return out

    return check
