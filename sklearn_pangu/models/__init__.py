"""Torch modules of the model zoo; each maps ``(codes, dense)`` to logits."""
