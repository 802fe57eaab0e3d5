"""Torch building blocks shared by the models; no scikit-learn inside."""

from ._embedding import FieldEmbedding, LinearLogit
from ._experts import MixtureOfExperts, TaskTowers
from ._interaction import FactorizationMachine
from ._mlp import MLP

__all__ = [
    "MLP",
    "FactorizationMachine",
    "FieldEmbedding",
    "LinearLogit",
    "MixtureOfExperts",
    "TaskTowers",
]
