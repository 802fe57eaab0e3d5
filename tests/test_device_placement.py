"""How batches reach the device, and fits on a GPU.

The CUDA tests skip on a machine without a GPU; the device checks of the benchmarks
(``benchmarks/bench_gpu.py``) run them on one.
"""

import numpy as np
import pytest
import torch

from sklearn_pangu import DeepFMClassifier, ESMMMultiOutput
from sklearn_pangu._training import BatchIterator, EncodedDataset, to_device
from sklearn_pangu.datasets import make_ctr_classification

from .conftest import tiny_params

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _dataset(n_rows=10, with_weight=True):
    codes = torch.arange(n_rows * 3, dtype=torch.int32).reshape(n_rows, 3)
    dense = torch.arange(n_rows * 2, dtype=torch.float32).reshape(n_rows, 2)
    target = (torch.arange(n_rows) % 2).float()
    weight = torch.ones(n_rows) if with_weight else None
    return EncodedDataset(codes, dense, target, weight)


def test_on_the_cpu_nothing_moves():
    dataset = _dataset()
    batch = {"codes": dataset.codes}
    assert to_device(batch, "cpu")["codes"] is dataset.codes
    assert to_device(None, "cpu") is None


def test_the_shuffled_order_is_the_same_with_or_without_a_device():
    dataset = _dataset(n_rows=9)
    torch.manual_seed(3)
    plain = [X["codes"] for X, _ in BatchIterator(dataset, 4, shuffle=True)]
    torch.manual_seed(3)
    named = [X["codes"] for X, _ in BatchIterator(dataset, 4, shuffle=True, device="cpu")]
    for a, b in zip(plain, named, strict=True):
        torch.testing.assert_close(a, b)
    rows = torch.cat(plain)[:, 0] // 3
    assert sorted(rows.tolist()) == list(range(9))
    assert rows.tolist() != list(range(9))


# ------------------------------------------------------------------ CUDA
@needs_cuda
def test_batches_reach_the_gpu_through_pinned_memory():
    dataset = _dataset()
    batches = list(BatchIterator(dataset, 4, device="cuda"))
    for (X, y), start in zip(batches, range(0, 10, 4), strict=True):
        assert X["codes"].is_cuda and y["target"].is_cuda and y["weight"].is_cuda
        torch.testing.assert_close(X["codes"].cpu(), dataset.codes[start : start + 4])
        torch.testing.assert_close(y["target"].cpu(), dataset.target[start : start + 4])


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
