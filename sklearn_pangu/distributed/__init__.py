"""Training across processes and GPUs with Hugging Face accelerate (optional extra)."""

from ._accelerate import fit_with_accelerator

__all__ = ["fit_with_accelerator"]
