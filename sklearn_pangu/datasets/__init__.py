"""Bundled real data and synthetic CTR data."""

from ._census import load_census_income
from ._synthetic import make_behavior_classification, make_ctr_classification

__all__ = ["load_census_income", "make_behavior_classification", "make_ctr_classification"]
