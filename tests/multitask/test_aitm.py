"""AITM: its module (``models/multitask/_aitm.py``) and estimator (``multitask/_aitm.py``).

AITM models a conversion funnel (click, then conversion); tests/nn/test_information_transfer.py
covers its layers.
"""

import functools

import joblib
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F

from sklearn_pangu import AITMMultiOutput
from sklearn_pangu.models.multitask._aitm import AITMModule

# The ``spec`` fixture: cardinalities 5 + 3 + 7 = 15 indices, 2 dense features; embedding_dim K = 4.
K = 4
TOWER = (8, 6)
EMBEDDING = (15 + 2) * K
# One tower MLP over the n·K = 20 flattened field vectors with hidden layers 8 and 6.
TOWER_HIDDEN = 20 * 8 + 8 + 8 * 6 + 6
TOWER_BN = 2 * (8 + 6)


@pytest.fixture(scope="module")
def tiny(tiny):
    """These tests fit towers of 8 units for 2 epochs."""
    return functools.partial(tiny, tower_units=(8,), max_epochs=2)


@pytest.fixture(scope="module")
def fitted_aitm(census_funnel, fit_one_thread):
    X_train, _, y_train, _ = census_funnel
    model = AITMMultiOutput(embedding_dim=4, tower_units=(32,), max_epochs=5, random_state=0)
    return fit_one_thread(model, X_train, y_train)


# --------------------------------------------------------------------------- AITM module


@pytest.mark.parametrize("n_tasks, batch_norm", [(2, False), (3, False), (3, True)])
def test_aitm_module_parameter_count(spec, n_tasks, batch_norm):
    # embedding + T towers (20 -> 8 -> 6) + T output layers (6 -> 1)
    # + (T - 1) AIT modules: transfer layer, query, key and value, each 6 -> 6
    module = AITMModule(spec, n_tasks=n_tasks, embedding_dim=K, tower_units=TOWER, batch_norm=batch_norm)
    d = TOWER[-1]
    expected = (
        EMBEDDING
        + n_tasks * (TOWER_HIDDEN + (TOWER_BN if batch_norm else 0))
        + n_tasks * (d + 1)
        + (n_tasks - 1) * 4 * (d * d + d)
    )
    assert sum(p.numel() for p in module.parameters()) == expected


@pytest.mark.parametrize("batch_norm", [False, True])
def test_aitm_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach, batch_norm):
    torch.manual_seed(0)
    module = AITMModule(
        spec, n_tasks=3, embedding_dim=K, tower_units=TOWER, batch_norm=batch_norm, dropout=0.1
    ).train()
    codes, dense, _ = batch()
    out = module(codes, dense)
    assert out.shape == (32, 3)
    target = (torch.arange(96).reshape(32, 3) % 2).float()
    loss = F.binary_cross_entropy_with_logits(out, target) + module.calibrator.pop_penalty()
    assert_gradients_reach(module, loss)


def test_aitm_information_flows_forward_only(spec, batch):
    torch.manual_seed(0)
    module = AITMModule(spec, n_tasks=3, embedding_dim=K, tower_units=TOWER).eval()
    codes, dense, _ = batch(n=16)
    before = module(codes, dense)
    with torch.no_grad():
        module.towers[1][0].weight.add_(1.0)  # task 1's own tower
    after = module(codes, dense)
    torch.testing.assert_close(after[:, 0], before[:, 0])  # task 0 does not read task 1
    assert not torch.allclose(after[:, 1], before[:, 1])
    assert not torch.allclose(after[:, 2], before[:, 2])  # task 2 reads task 1 through z_1


def test_aitm_module_rejects_empty_towers(spec):
    with pytest.raises(ValueError, match="tower_units"):
        AITMModule(spec, n_tasks=2, embedding_dim=K, tower_units=())


# --------------------------------------------------------------------------- AITM estimator


def test_aitm_learns_the_census_funnel(fitted_aitm, census_funnel):
    _, X_test, _, y_test = census_funnel
    proba = fitted_aitm.predict_proba(X_test)
    assert [p.shape for p in proba] == [(4000, 2), (4000, 2)]
    assert fitted_aitm.predict(X_test).shape == (4000, 2)
    assert roc_auc_score(y_test["click"], proba[0][:, 1]) > 0.95
    assert roc_auc_score(y_test["conversion"], proba[1][:, 1]) > 0.85


def test_aitm_calibrator_reduces_funnel_violations(fitted_aitm, census_funnel, fit_one_thread):
    X_train, X_test, y_train, _ = census_funnel
    without = fit_one_thread(
        AITMMultiOutput(
            embedding_dim=4, tower_units=(32,), max_epochs=5, random_state=0, calibrator_weight=0.0
        ),
        X_train,
        y_train,
    )

    def violations(model):
        click, conversion = (p[:, 1] for p in model.predict_proba(X_test))
        return int(np.count_nonzero(conversion > click))

    assert violations(fitted_aitm) < violations(without)


def _training_loss_of_a_batch(model, X, y):
    """Return the net's training loss of one batch, its logits and its float targets."""
    net = model.net_
    target = y.to_numpy().astype(np.float32)
    batch_X, batch_y = model._dataset(X, target).batch(slice(0, len(X)))
    net.module_.train()
    logits = net.infer(batch_X)
    return net.get_loss(logits, batch_y, training=True), logits, torch.from_numpy(target)


@pytest.mark.parametrize("calibrator_weight", [0.6, 0.0])
def test_aitm_training_loss_includes_the_calibrator(small_funnel, calibrator_weight, tiny):
    X, y = small_funnel
    model = tiny(
        AITMMultiOutput, calibrator_weight=calibrator_weight, dropout=0.0, batch_norm=False, embedding_l2=0.0
    ).fit(X, y)
    assert model.n_iter_ == 2 and np.isfinite(model.history_[-1]["train_loss"])
    with torch.no_grad():  # make pConversion > pClick on every row
        model.net_.module_.outputs[0][0].bias.sub_(3.0)
        model.net_.module_.outputs[1][0].bias.add_(3.0)
    loss, logits, target = _training_loss_of_a_batch(model, X.iloc[:500], y.iloc[:500])
    cross_entropy = F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(dim=0).sum()
    p = torch.sigmoid(logits)
    penalty = calibrator_weight * torch.relu(p[:, 1] - p[:, 0]).mean()
    if calibrator_weight:
        assert penalty.item() > 0.1
    torch.testing.assert_close(loss, cross_entropy + penalty)
    assert model.net_.module_.calibrator.pop_penalty() is None  # get_loss took it
    # a validation loss has no penalty
    torch.testing.assert_close(model.net_.get_loss(logits, {"target": target}, training=False), cross_entropy)


def test_aitm_handles_three_steps(small_funnel, tiny):
    X, y = small_funnel
    Y = y.assign(rich_and_older=y["conversion"] & (X["age"] >= 45).astype(int))
    model = tiny(AITMMultiOutput).fit(X, Y)
    assert model.task_names_ == ["click", "conversion", "rich_and_older"]
    assert len(model.net_.module_.transfers) == 2
    assert [p.shape for p in model.predict_proba(X.iloc[:5])] == [(5, 2)] * 3


@pytest.mark.parametrize(
    "name, value",
    [
        ("calibrator_weight", -0.1),
        ("calibrator_weight", "high"),
        ("tower_units", ()),
        ("tower_units", (4, 0)),
    ],
)
def test_aitm_bad_parameters_name_themselves(small_funnel, name, value, tiny):
    X, y = small_funnel
    with pytest.raises(ValueError, match=name):
        tiny(AITMMultiOutput, **{name: value}).fit(X, y)


def test_aitm_needs_at_least_two_columns(small_funnel, tiny):
    X, y = small_funnel
    with pytest.raises(ValueError, match="at least 2 target columns"):
        tiny(AITMMultiOutput).fit(X, y["click"])


def test_aitm_transfer_modules_are_trained_and_saved(small_funnel, tmp_path, tiny):
    X, y = small_funnel
    model = tiny(AITMMultiOutput, max_epochs=1).fit(X, y)
    initial = {k: v.clone() for k, v in model.net_.module_.state_dict().items()}
    model.set_params(warm_start=True, max_epochs=2).fit(X, y)
    state = model.net_.module_.state_dict()
    keys = [k for k in state if k.startswith(("transfers.", "towers.", "outputs."))]
    assert any(k.startswith("transfers.0.query") for k in keys)
    for key in keys:
        if state[key].dtype.is_floating_point:
            assert not torch.equal(initial[key], state[key]), key
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    for key, value in loaded.net_.module_.state_dict().items():
        assert torch.equal(value, state[key]), key
    for before, after in zip(model.predict_proba(X), loaded.predict_proba(X), strict=True):
        np.testing.assert_array_equal(before, after)


# --------------------------------------------------------------------------- Ali-CCP and AliExpress samples


def test_end_to_end_on_click_conversion_samples(click_conversion_sample):
    X_train, y_train, X_test, y_test, columns = click_conversion_sample
    model = AITMMultiOutput(
        embedding_dim=4,
        tower_units=(8,),
        batch_size=32,
        max_epochs=3,
        categorical_features=columns,
        random_state=0,
    ).fit(X_train, y_train)
    embedding = model.net_.module_.embedding
    n_numeric = X_train.shape[1] - len(columns)
    assert embedding.n_categorical == len(columns) + n_numeric  # and a bucket field per numeric column
    assert embedding.n_dense == n_numeric > 0  # dense features are used
    assert model.task_names_ == list(y_train.columns)
    proba = model.predict_proba(X_test)
    assert [p.shape for p in proba] == [(len(X_test), 2)] * 2
    assert all(np.isfinite(p).all() for p in proba)
    assert model.predict(X_test).shape == (len(X_test), 2)
