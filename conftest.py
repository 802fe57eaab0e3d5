"""Settings for every test, the doctests in ``sklearn_pangu/`` included."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One torch thread per test: ``make test`` runs a pytest worker per core."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
