"""Export a fitted estimator, its feature encoding included, for serving outside Python."""

from ._onnx import onnx_inputs, to_onnx

__all__ = ["onnx_inputs", "to_onnx"]
