"""``sparse_embeddings`` and ``mixed_precision``: the speed options users switch on."""

import copy
import subprocess
import sys

import joblib
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from skorch.callbacks import Callback

from sklearn_pangu import DeepFMClassifier, LRClassifier, MMOEMultiOutput
from sklearn_pangu._net import CTRNet
from sklearn_pangu._optim import LazyAdam
from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.io import load, save

from .conftest import tiny_params


def _train_pair(weight_decay=0.0, steps=25):
    """The same embedding + linear model under LazyAdam and under SparseAdam + Adam."""
    torch.manual_seed(0)
    table = torch.nn.Embedding(40, 4, sparse=True)
    head = torch.nn.Linear(4, 1)
    ours = (
        table,
        head,
        [LazyAdam([*table.parameters(), *head.parameters()], lr=0.05, weight_decay=weight_decay)],
    )
    table_b, head_b = copy.deepcopy(table), copy.deepcopy(head)
    theirs = (
        table_b,
        head_b,
        [
            torch.optim.SparseAdam(table_b.parameters(), lr=0.05),
            torch.optim.Adam(head_b.parameters(), lr=0.05),
        ],
    )
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        rows = torch.randint(0, 20, (16,), generator=generator)  # rows 20..39 are never looked up
        for embedding, linear, optimizers in (ours, theirs):
            for optimizer in optimizers:
                optimizer.zero_grad()
            linear(embedding(rows)).pow(2).mean().backward()
            for optimizer in optimizers:
                optimizer.step()
    return ours, theirs


def test_lazy_adam_matches_sparse_adam_and_adam():
    (table, head, _), (table_b, head_b, _) = _train_pair()
    torch.testing.assert_close(table.weight, table_b.weight, rtol=0, atol=1e-6)
    torch.testing.assert_close(head.weight, head_b.weight, rtol=0, atol=1e-6)


def test_lazy_adam_leaves_rows_no_batch_touched():
    torch.manual_seed(0)
    initial = torch.nn.Embedding(40, 4).weight.detach()
    (table, _, _), _ = _train_pair(weight_decay=0.1)
    torch.testing.assert_close(table.weight[20:].detach(), initial[20:], rtol=0, atol=0)
    assert not torch.equal(table.weight[:20].detach(), initial[:20])


def test_lazy_adam_weight_decay_pulls_touched_rows_towards_zero():
    (plain, _, _), _ = _train_pair(weight_decay=0.0, steps=60)
    (decayed, _, _), _ = _train_pair(weight_decay=1.0, steps=60)
    assert decayed.weight[:20].norm() < plain.weight[:20].norm()


def test_lazy_adam_rejects_amsgrad_on_sparse_gradients():
    table = torch.nn.Embedding(5, 2, sparse=True)
    optimizer = LazyAdam(table.parameters(), amsgrad=True)
    table(torch.tensor([1])).sum().backward()
    with pytest.raises(ValueError, match="amsgrad"):
        optimizer.step()


ADAGRAD_STEP = """
import warnings, torch
from sklearn_pangu._optim import QuietSparseAdagrad
optimizer_class = {name}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    table = torch.nn.Embedding(5, 2, sparse=True)
    optimizer = optimizer_class(table.parameters())
    table(torch.tensor([1, 3])).sum().backward()
    optimizer.step()
print(sum("invariant" in str(w.message) for w in caught))
"""


@pytest.mark.parametrize("name, n_warnings", [("torch.optim.Adagrad", 1), ("QuietSparseAdagrad", 0)])
def test_sparse_adagrad_does_not_warn(name, n_warnings):
    # torch warns once per process: a fresh process, so that no earlier test has used it up.
    result = subprocess.run(
        [sys.executable, "-c", ADAGRAD_STEP.format(name=name)], capture_output=True, text=True, check=True
    )
    assert int(result.stdout.split()[-1]) == n_warnings


@pytest.fixture(scope="module")
def data():
    X, y = make_ctr_classification(4000, n_interactions=4, random_state=0)
    return X[:3000], y[:3000], X[3000:], y[3000:]


def _fit(data, **params):
    X, y, _, _ = data
    params = {**tiny_params(DeepFMClassifier), "max_epochs": 4, "random_state": 0, **params}
    return DeepFMClassifier(**params).fit(X, y)


def test_cpu_training_adds_into_one_table_gradient_per_epoch_and_learns_the_same(data, monkeypatch):
    # Zeroing the gradients in place instead of freeing them, and adding the table rows
    # into the held gradient, spares a new table-sized gradient each step; the weights
    # come out bit for bit as with freed gradients.
    gradients, handed_to_autograd = {}, {}

    class TableGradients(Callback):
        def on_train_begin(self, net, **kwargs):
            def record(grad):
                handed_to_autograd.setdefault(len(net.history), []).append(grad is not None)

            net.module_.embedding.table.weight.register_hook(record)

        def on_grad_computed(self, net, named_parameters, **kwargs):
            gradient = net.module_.embedding.table.weight.grad
            gradients.setdefault(len(net.history), []).append(gradient)

    params = {"early_stopping": True, "max_epochs": 3, "batch_size": 256}
    held = _fit(data, **params, callbacks=[TableGradients()])
    assert len(gradients) == 3
    for epoch, epoch_gradients in gradients.items():
        assert len(epoch_gradients) > 5 and all(g is epoch_gradients[0] for g in epoch_gradients)
        # Only the epoch's first step, which starts without a gradient, builds one.
        assert handed_to_autograd[epoch] == [True] + [False] * (len(epoch_gradients) - 1)

    monkeypatch.setattr(CTRNet, "_holds_gradients", lambda net: False)
    freed = _fit(data, **params)
    for (name, a), b in zip(held.net_.module_.state_dict().items(), freed.net_.module_.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_prediction_puts_every_submodule_in_eval_mode_and_runs_without_autograd(data):
    # The net leaves alone a mode that already holds, but one submodule left in
    # training mode (a batch norm here) is still switched, so its running statistics
    # are used, not the batch's.
    _, _, X_test, _ = data
    model = _fit(data, batch_norm=True)
    expected = model.predict_proba(X_test)
    module = model.net_.module_.eval()
    next(layer for layer in module.modules() if isinstance(layer, torch.nn.BatchNorm1d)).train()
    seen = []

    def record(layer, args, output):
        seen.append((not any(m.training for m in layer.modules()), torch.is_inference_mode_enabled()))

    handle = module.register_forward_hook(record)
    try:
        got = model.predict_proba(X_test)
    finally:
        handle.remove()
    assert seen and all(eval_mode and inference for eval_mode, inference in seen)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("optimizer", ["adam", "adagrad", "sgd"])
def test_sparse_embeddings_give_sparse_gradients_and_learn(data, optimizer):
    layouts = set()

    class EmbeddingGradientLayouts(Callback):
        def on_grad_computed(self, net, named_parameters, **kwargs):
            layers = net.module_.modules()
            tables = [layer.weight for layer in layers if isinstance(layer, torch.nn.Embedding)]
            assert tables
            layouts.update(table.grad.layout for table in tables)

    model = _fit(
        data,
        sparse_embeddings=True,
        optimizer=optimizer,
        learning_rate=0.01,
        callbacks=[EmbeddingGradientLayouts()],
    )
    assert layouts == {torch.sparse_coo}
    losses = model.history_[:, "train_loss"]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("option", [{"sparse_embeddings": True}, {"mixed_precision": "bfloat16"}])
def test_with_speed_options_deepfm_still_beats_lr_on_interactions(option):
    X, y = make_ctr_classification(
        20_000, n_sparse=6, n_dense=2, max_cardinality=50, interaction_strength=4.0, random_state=0
    )
    X_train, X_test, y_train, y_test = X[:15_000], X[15_000:], y[:15_000], y[15_000:]
    shared = {"batch_size": 512, "learning_rate": 3e-3, "random_state": 0}
    linear = LRClassifier(**shared).fit(X_train, y_train)
    deep = DeepFMClassifier(**shared, embedding_dim=8, hidden_units=(64, 32), **option).fit(X_train, y_train)
    auc_linear = roc_auc_score(y_test, linear.predict_proba(X_test)[:, 1])
    auc_deep = roc_auc_score(y_test, deep.predict_proba(X_test)[:, 1])
    assert auc_deep > auc_linear + 0.01, (auc_deep, auc_linear)


@pytest.mark.parametrize("optimizer", ["adamw", "rmsprop"])
def test_sparse_embeddings_with_a_dense_only_optimizer_names_both_parameters(data, optimizer):
    with pytest.raises(ValueError, match=f"optimizer='{optimizer}'.*sparse_embeddings=True"):
        _fit(data, sparse_embeddings=True, optimizer=optimizer)


def test_sparse_embeddings_survive_joblib_and_warm_start(data, tmp_path):
    X, y, X_test, _ = data
    model = _fit(data, sparse_embeddings=True)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
    loaded.set_params(warm_start=True, max_epochs=1).fit(X, y)
    assert isinstance(loaded.net_.optimizer_, LazyAdam)


def test_speed_options_survive_the_safe_format(data, tmp_path):
    X, y, X_test, _ = data
    model = _fit(data, sparse_embeddings=True, mixed_precision="bfloat16")
    save(model, tmp_path / "model")
    loaded = load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
    assert loaded.net_.mixed_precision == "bfloat16"
    loaded.set_params(warm_start=True, max_epochs=1).fit(X, y)
    assert isinstance(loaded.net_.optimizer_, LazyAdam)


def test_mixed_precision_runs_the_forward_pass_in_bfloat16(data):
    model = _fit(data, mixed_precision="bfloat16")
    seen = []
    hook = model.net_.module_.deep.register_forward_hook(
        lambda module, args, output: seen.append(output.dtype)
    )
    _, _, X_test, y_test = data
    proba = model.predict_proba(X_test)
    hook.remove()
    assert seen and set(seen) == {torch.bfloat16}
    assert proba.dtype == np.float64 and np.isfinite(proba).all()
    for parameter in model.net_.module_.parameters():
        assert parameter.dtype == torch.float32


def test_mixed_precision_is_close_to_float32(data):
    _, _, X_test, y_test = data
    exact = _fit(data)
    mixed = _fit(data, mixed_precision="bfloat16")
    auc_exact = roc_auc_score(y_test, exact.predict_proba(X_test)[:, 1])
    auc_mixed = roc_auc_score(y_test, mixed.predict_proba(X_test)[:, 1])
    assert abs(auc_exact - auc_mixed) < 0.02


def test_mixed_precision_rejects_unknown_dtypes(data):
    with pytest.raises(ValueError, match="mixed_precision"):
        _fit(data, mixed_precision="float8")


def test_multitask_accepts_both_options(data):
    X, y, X_test, _ = data
    Y = np.column_stack([y, np.roll(y, 1)])
    params = {**tiny_params(MMOEMultiOutput), "max_epochs": 2, "random_state": 0}
    model = MMOEMultiOutput(**params, sparse_embeddings=True, mixed_precision="bfloat16").fit(X, Y)
    assert len(model.predict_proba(X_test)) == 2


@pytest.mark.parametrize(
    "change", [{"sparse_embeddings": False}, {"optimizer": "sgd"}], ids=["sparse_embeddings", "optimizer"]
)
def test_warm_start_refuses_to_switch_the_optimizer(data, change):
    X, y, _, _ = data
    model = _fit(data, sparse_embeddings=True)
    with pytest.raises(ValueError, match="first fit's optimizer"):
        model.set_params(warm_start=True, max_epochs=1, **change).fit(X, y)
    with pytest.raises(ValueError, match="first fit's optimizer"):
        model.set_params(warm_start=False, max_epochs=1).partial_fit(X, y)


def test_warm_start_takes_up_a_new_mixed_precision(data):
    X, y, X_test, _ = data
    model = _fit(data)
    model.set_params(warm_start=True, max_epochs=1, mixed_precision="bfloat16").fit(X, y)
    assert model.net_.mixed_precision == "bfloat16"
    model.set_params(mixed_precision=None).fit(X, y)
    assert model.net_.mixed_precision is None


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_by_name_is_torchs_fused_adam_and_steps_as_the_class_does(data, name):
    # 'adam' and 'adamw' run torch's fused kernel: the arithmetic of the class's default
    # (foreach) implementation up to float rounding, which a few steps keep at that size.
    # Without batch norm: a bias before it has a gradient of rounding noise, which Adam
    # scales up to a full step of either sign.
    X, y, _, _ = data
    params = {**tiny_params(DeepFMClassifier), "batch_size": 1000, "max_epochs": 1, "random_state": 0}
    params["batch_norm"] = False
    by_name = DeepFMClassifier(**params, early_stopping=False, optimizer=name).fit(X, y)
    optimizer_class = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    by_class = DeepFMClassifier(**params, early_stopping=False, optimizer=optimizer_class).fit(X, y)
    assert by_name.net_.optimizer_.defaults["fused"] is True
    assert not by_class.net_.optimizer_.defaults["fused"]
    fused, reference = by_name.net_.module_.state_dict(), by_class.net_.module_.state_dict()
    for key, value in reference.items():
        torch.testing.assert_close(fused[key], value, rtol=0, atol=1e-6, msg=key)
