"""Logistic regression over every feature."""

from __future__ import annotations

import torch
from torch import nn

from ..._fields import FieldSpec
from ...nn import LinearLogit


class LRModule(nn.Module):
    """Bias plus a first-order weight for every categorical index and dense feature."""

    def __init__(self, field_spec: FieldSpec) -> None:
        super().__init__()
        self.linear = LinearLogit.from_spec(field_spec)

    def forward(self, codes: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        return self.linear(codes, dense)
