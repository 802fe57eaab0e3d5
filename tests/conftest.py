import os
from pathlib import Path

import pytest
import torch

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


@pytest.fixture(autouse=True)
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def shared_data(*parts: str) -> Path:
    """Path of a file under ../shared/data, or skip the test when it is absent."""
    path = DATA_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"research data {path} is not available on this machine")
    return path
