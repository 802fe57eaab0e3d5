"""Fits on a CUDA GPU. They skip without one; ``benchmarks/gpu_checks.sh`` runs them on one."""

import numpy as np
import pytest
import torch

from sklearn_pangu import DeepFMClassifier, ESMMMultiOutput
from sklearn_pangu.datasets import make_ctr_classification

from .conftest import tiny_params

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@needs_cuda
def test_a_gpu_fit_trains_the_model_a_cpu_fit_trains():
    X, y = make_ctr_classification(n_samples=600, random_state=0)
    # No dropout: the GPU draws its masks from another generator than the CPU.
    params = {**tiny_params(DeepFMClassifier), "dropout": 0.0, "early_stopping": True, "random_state": 0}
    on_gpu = DeepFMClassifier(**params, device="cuda").fit(X, y)
    on_cpu = DeepFMClassifier(**params).fit(X, y)
    assert next(on_gpu.net_.module_.parameters()).is_cuda
    assert on_gpu.n_iter_ == on_cpu.n_iter_
    # Not bit for bit: CUDA sums embedding gradients with atomic adds, in no fixed order.
    np.testing.assert_allclose(on_gpu.predict_proba(X), on_cpu.predict_proba(X), rtol=0, atol=1e-3)


@needs_cuda
def test_esmm_predicts_on_the_gpu():
    X, y = make_ctr_classification(n_samples=600, random_state=0)
    Y = np.column_stack([y, y * (np.arange(len(y)) % 2)])
    params = {**tiny_params(ESMMMultiOutput), "random_state": 0}
    on_gpu = ESMMMultiOutput(**params, device="cuda").fit(X, Y)
    for proba in on_gpu.predict_proba(X):
        assert proba.shape == (600, 2) and np.isfinite(proba).all()


@needs_cuda
def test_bfloat16_on_the_gpu_trains_and_predicts_float32():
    X, y = make_ctr_classification(n_samples=2000, random_state=0)
    model = DeepFMClassifier(
        **tiny_params(DeepFMClassifier), device="cuda", mixed_precision="bfloat16", random_state=0
    ).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.dtype == np.float64 and np.isfinite(proba).all()
    losses = model.history_[:, "train_loss"]
    assert losses[-1] < losses[0]
