"""Encoding raw tabular features for the embedding models."""

from ._encoder import FeatureEncoder

__all__ = ["FeatureEncoder"]
