"""ESMM and AITM: multi-task models of a conversion funnel (click, then conversion)."""

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F

from sklearn_pangu import AITMMultiOutput, ESMMMultiOutput
from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.models.multitask._aitm import AITMModule
from sklearn_pangu.models.multitask._esmm import ESMMModule, product_logit
from sklearn_pangu.nn._information_transfer import (
    AdaptiveInformationTransfer,
    BehavioralExpectationCalibrator,
)

from .conftest import shared_data

# Cardinalities 5 + 3 + 7 = 15 indices, 2 dense features, embedding_dim K = 4: n = 5 fields.
SPEC = FieldSpec(("a", "b", "c"), (5, 3, 7), ("x", "y"))
K = 4
TOWER = (8, 6)
EMBEDDING = (15 + 2) * K
# One tower MLP over the n·K = 20 flattened field vectors with hidden layers 8 and 6.
TOWER_HIDDEN = 20 * 8 + 8 + 8 * 6 + 6
TOWER_BN = 2 * (8 + 6)


def _batch(n=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    codes = torch.stack([torch.randint(0, c, (n,), generator=generator) for c in SPEC.cardinalities], dim=1)
    dense = torch.randn(n, SPEC.n_dense, generator=generator)
    return codes, dense


def _funnel(Y: pd.DataFrame) -> pd.DataFrame:
    """Census labels as a click/conversion funnel: conversion (income) implies click."""
    return pd.DataFrame({"click": Y["never_married"] | Y["income"], "conversion": Y["income"]}, index=Y.index)


@pytest.fixture(scope="module")
def census_funnel():
    X, Y = load_census_income(return_X_y=True)
    X, y = X.iloc[:20000], _funnel(Y.iloc[:20000])
    return X.iloc[:16000], X.iloc[16000:], y.iloc[:16000], y.iloc[16000:]


def _fit_one_thread(model, X, y):
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return model.fit(X, y)
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def fitted_esmm(census_funnel):
    X_train, _, y_train, _ = census_funnel
    model = ESMMMultiOutput(embedding_dim=4, tower_units=(32,), max_epochs=5, random_state=0)
    return _fit_one_thread(model, X_train, y_train)


@pytest.fixture(scope="module")
def fitted_aitm(census_funnel):
    X_train, _, y_train, _ = census_funnel
    model = AITMMultiOutput(embedding_dim=4, tower_units=(32,), max_epochs=5, random_state=0)
    return _fit_one_thread(model, X_train, y_train)


@pytest.fixture(scope="module")
def small_funnel():
    X, Y = load_census_income(return_X_y=True)
    return X.iloc[:3000], _funnel(Y.iloc[:3000])


def tiny(estimator_class, **params):
    defaults = {"embedding_dim": 4, "tower_units": (8,), "batch_size": 64, "max_epochs": 2, "random_state": 0}
    return estimator_class(**{**defaults, **params})


# --------------------------------------------------------------------------- product_logit
def test_product_logit_matches_the_naive_formula_where_it_is_accurate():
    grid = torch.linspace(-15, 15, 61, dtype=torch.float64)
    a, b = torch.meshgrid(grid, grid, indexing="ij")
    p = torch.sigmoid(a) * torch.sigmoid(b)
    naive = torch.log(p) - torch.log1p(-p)
    torch.testing.assert_close(product_logit(a, b), naive, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(product_logit(a.float(), b.float()).double(), naive, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (1000.0, 1000.0, 1000.0 - np.log(2.0)),  # 1 - p = e^-a + e^-b: p rounds to 1
        (1e4, 1e4, 1e4 - np.log(2.0)),
        (1000.0, -5.0, -5.0),  # sure click: pCTCVR = pCVR
        (-5.0, 1000.0, -5.0),
        (-1000.0, 0.0, -1000.0 - np.log(2.0)),  # p = e^-1000 / 2 underflows
        (-1e4, -1e4, -2e4),
        (30.0, 30.0, 30.0 - np.log(2.0)),
    ],
)
def test_product_logit_stays_finite_and_accurate_for_extreme_logits(a, b, expected):
    first = torch.tensor([a], requires_grad=True)
    second = torch.tensor([b], requires_grad=True)
    logit = product_logit(first, second)
    assert torch.isfinite(logit).all()
    assert logit.item() == pytest.approx(expected, rel=1e-5, abs=1e-4)
    F.binary_cross_entropy_with_logits(logit, torch.tensor([1.0])).backward()
    assert torch.isfinite(first.grad).all() and torch.isfinite(second.grad).all()


def test_product_logit_of_extremes_grid_is_finite_with_finite_gradients():
    values = torch.tensor([-1e4, -1e3, -100.0, -20.0, 0.0, 20.0, 100.0, 1e3, 1e4])
    a, b = torch.meshgrid(values, values, indexing="ij")
    a, b = a.clone().requires_grad_(), b.clone().requires_grad_()
    logit = product_logit(a, b)
    assert torch.isfinite(logit).all()
    assert (logit <= torch.minimum(a, b) + 1e-3).all()  # p <= min(sigmoid(a), sigmoid(b))
    for target in (0.0, 1.0):
        a.grad = b.grad = None
        F.binary_cross_entropy_with_logits(logit, torch.full_like(logit, target)).backward(retain_graph=True)
        assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()


# ------------------------------------------------------------------------------ ESMM module
def test_esmm_module_returns_ctr_and_ctcvr_logits():
    torch.manual_seed(0)
    module = ESMMModule(SPEC, n_tasks=2, embedding_dim=K, tower_units=TOWER).eval()
    codes, dense = _batch(n=9)
    out = module(codes, dense)
    towers = module.tower_logits(codes, dense)
    assert out.shape == towers.shape == (9, 2)
    torch.testing.assert_close(out[:, 0], towers[:, 0])
    torch.testing.assert_close(
        torch.sigmoid(out[:, 1]), torch.sigmoid(towers[:, 0]) * torch.sigmoid(towers[:, 1])
    )


def test_esmm_module_needs_two_tasks():
    with pytest.raises(ValueError, match="exactly 2 tasks"):
        ESMMModule(SPEC, n_tasks=3, embedding_dim=K, tower_units=TOWER)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_esmm_module_parameter_count(batch_norm):
    # shared embedding + a CTR and a CVR network, each an MLP 20 -> 8 -> 6 -> 1
    module = ESMMModule(SPEC, n_tasks=2, embedding_dim=K, tower_units=TOWER, batch_norm=batch_norm)
    expected = EMBEDDING + 2 * (TOWER_HIDDEN + 6 + 1 + (TOWER_BN if batch_norm else 0))
    assert sum(p.numel() for p in module.parameters()) == expected


@pytest.mark.parametrize("batch_norm", [False, True])
def test_esmm_module_gradients_reach_every_parameter(batch_norm):
    # the CVR network has no loss of its own: it learns through pCTCVR only
    torch.manual_seed(0)
    module = ESMMModule(
        SPEC, n_tasks=2, embedding_dim=K, tower_units=TOWER, batch_norm=batch_norm, dropout=0.1
    ).train()
    codes, dense = _batch()
    target = torch.stack([torch.ones(32), (torch.arange(32) % 2).float()], dim=1)
    F.binary_cross_entropy_with_logits(module(codes, dense), target).backward()
    for name, param in module.named_parameters():
        assert param.grad is not None and (param.grad != 0).any(), name


# ---------------------------------------------------------------------------- ESMM estimator
def test_esmm_learns_the_census_funnel(fitted_esmm, census_funnel):
    _, X_test, _, y_test = census_funnel
    model = fitted_esmm
    assert model.task_names_ == ["click", "conversion"]
    proba = model.predict_proba(X_test)
    assert isinstance(proba, list) and [p.shape for p in proba] == [(4000, 2), (4000, 2)]
    assert model.predict(X_test).shape == (4000, 2)
    p_ctr, p_ctcvr = proba[0][:, 1], proba[1][:, 1]
    assert roc_auc_score(y_test["click"], p_ctr) > 0.95
    assert roc_auc_score(y_test["conversion"], p_ctcvr) > 0.85
    # pCVR is conversion given a click: evaluated on the clicked rows, against conversion
    p_cvr = model.predict_cvr_proba(X_test)[:, 1]
    clicked = y_test["click"].to_numpy() == 1
    assert roc_auc_score(y_test["conversion"][clicked], p_cvr[clicked]) > 0.85


def test_esmm_pctcvr_is_pctr_times_pcvr(fitted_esmm, census_funnel):
    _, X_test, _, _ = census_funnel
    proba = fitted_esmm.predict_proba(X_test)
    cvr = fitted_esmm.predict_cvr_proba(X_test)
    assert cvr.shape == (len(X_test), 2)
    np.testing.assert_allclose(cvr.sum(axis=1), 1.0)
    p_ctr, p_ctcvr = proba[0][:, 1], proba[1][:, 1]
    np.testing.assert_allclose(p_ctcvr, p_ctr * cvr[:, 1], rtol=1e-5)
    assert np.all(p_ctcvr <= p_ctr * (1 + 1e-6))
    assert fitted_esmm.predict_cvr_proba(X_test.iloc[:0]).shape == (0, 2)


def test_esmm_pcvr_runs_its_towers_in_the_mixed_precision(small_funnel):
    X, y = small_funnel
    model = tiny(ESMMMultiOutput, mixed_precision="bfloat16").fit(X, y)
    seen = []
    hook = model.net_.module_.cvr_tower.register_forward_hook(lambda *args: seen.append(args[-1].dtype))
    try:
        cvr = model.predict_cvr_proba(X)
    finally:
        hook.remove()
    assert seen and set(seen) == {torch.bfloat16}
    assert cvr.dtype == np.float64 and np.isfinite(cvr).all()
    # pCTCVR = pCTR x pCVR, to bfloat16's precision
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba[1][:, 1], proba[0][:, 1] * cvr[:, 1], rtol=0.05)


def test_esmm_rejects_a_conversion_without_click(small_funnel):
    X, y = small_funnel
    broken = y.copy()
    broken.iloc[:3] = [[0, 1]] * 3
    with pytest.raises(ValueError, match="3 row\\(s\\).*'click' is negative"):
        tiny(ESMMMultiOutput).fit(X, broken)


@pytest.mark.parametrize("n_columns", [1, 3])
def test_esmm_needs_exactly_two_columns(small_funnel, n_columns):
    X, y = small_funnel
    Y = pd.concat([y, y["click"].rename("extra")], axis=1).iloc[:, :n_columns]
    with pytest.raises(ValueError, match="exactly 2 target columns"):
        tiny(ESMMMultiOutput).fit(X, Y)


@pytest.mark.parametrize(
    "name, value", [("tower_units", (0,)), ("tower_units", "wide"), ("embedding_dim", 0)]
)
def test_esmm_bad_parameters_name_themselves(small_funnel, name, value):
    X, y = small_funnel
    with pytest.raises(ValueError, match=name):
        tiny(ESMMMultiOutput, **{name: value}).fit(X, y)


def test_esmm_joblib_round_trip_is_exact(small_funnel, tmp_path):
    X, y = small_funnel
    model = tiny(ESMMMultiOutput).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    for before, after in zip(model.predict_proba(X), loaded.predict_proba(X), strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(model.predict_cvr_proba(X), loaded.predict_cvr_proba(X))


# ------------------------------------------------------------------------------- AITM layers
def test_information_transfer_shape_and_gradients():
    torch.manual_seed(0)
    ait = AdaptiveInformationTransfer(6, dropout=0.1).train()
    previous, current = torch.randn(10, 6), torch.randn(10, 6)
    z = ait(previous, current)
    assert z.shape == (10, 6)
    weights = ait.attention_weights(ait.transfer(previous), current)
    assert weights.shape == (10, 2)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(10))
    z.pow(2).sum().backward()
    for name, param in ait.named_parameters():
        assert param.grad is not None and (param.grad != 0).any(), name


def test_information_transfer_hand_computed():
    # dim 1: transfer g(u) = relu(u), query = key = identity, value h_1(u) = 2u + 1
    ait = AdaptiveInformationTransfer(1)
    with torch.no_grad():
        for layer, weight, bias in [
            (ait.transfer[0], 1.0, 0.0),
            (ait.query, 1.0, 0.0),
            (ait.key, 1.0, 0.0),
            (ait.value, 2.0, 1.0),
        ]:
            layer.weight.fill_(weight)
            layer.bias.fill_(bias)
    z = ait(torch.tensor([[2.0], [-3.0]]), torch.tensor([[1.0], [1.0]]))
    # row 0: p = relu(2) = 2, scores (p·p, q·q) = (4, 1), values (5, 3)
    w = np.exp([4.0, 1.0]) / np.exp([4.0, 1.0]).sum()
    # row 1: p = relu(-3) = 0, scores (0, 1), values (1, 3)
    v = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    expected = torch.tensor([[w[0] * 5 + w[1] * 3], [v[0] * 1 + v[1] * 3]], dtype=torch.float32)
    torch.testing.assert_close(z, expected)


def test_calibrator_penalty_hand_computed():
    calibrator = BehavioralExpectationCalibrator(0.5)
    ordered = torch.logit(torch.tensor([[0.9, 0.5, 0.1], [0.4, 0.4, 0.2]], dtype=torch.float64))
    assert calibrator.penalty(ordered).item() == 0.0
    # excess of step 1 over step 0: (0, 0.3), of step 2 over step 1: (0, 0.3); row means 0.15 each
    unordered = torch.logit(torch.tensor([[0.8, 0.5, 0.1], [0.3, 0.6, 0.9]], dtype=torch.float64))
    assert calibrator.penalty(unordered).item() == pytest.approx(0.5 * (0.15 + 0.15))


def test_calibrator_stores_its_penalty_only_in_training():
    calibrator = BehavioralExpectationCalibrator(0.5)
    logits = torch.logit(torch.tensor([[0.2, 0.6]]))
    calibrator.eval()
    assert calibrator(logits) is logits and calibrator.pop_penalty() is None
    calibrator.train()
    assert calibrator(logits) is logits
    assert calibrator.pop_penalty().item() == pytest.approx(0.5 * 0.4)
    assert calibrator.pop_penalty() is None  # popped once
    off = BehavioralExpectationCalibrator(0.0).train()
    off(logits)
    assert off.pop_penalty() is None


# ------------------------------------------------------------------------------ AITM module
@pytest.mark.parametrize("n_tasks, batch_norm", [(2, False), (3, False), (3, True)])
def test_aitm_module_parameter_count(n_tasks, batch_norm):
    # embedding + T towers (20 -> 8 -> 6) + T output layers (6 -> 1)
    # + (T - 1) AIT modules: transfer layer, query, key and value, each 6 -> 6
    module = AITMModule(SPEC, n_tasks=n_tasks, embedding_dim=K, tower_units=TOWER, batch_norm=batch_norm)
    d = TOWER[-1]
    expected = (
        EMBEDDING
        + n_tasks * (TOWER_HIDDEN + (TOWER_BN if batch_norm else 0))
        + n_tasks * (d + 1)
        + (n_tasks - 1) * 4 * (d * d + d)
    )
    assert sum(p.numel() for p in module.parameters()) == expected


@pytest.mark.parametrize("batch_norm", [False, True])
def test_aitm_module_gradients_reach_every_parameter(batch_norm):
    torch.manual_seed(0)
    module = AITMModule(
        SPEC, n_tasks=3, embedding_dim=K, tower_units=TOWER, batch_norm=batch_norm, dropout=0.1
    ).train()
    codes, dense = _batch()
    out = module(codes, dense)
    assert out.shape == (32, 3)
    target = (torch.arange(96).reshape(32, 3) % 2).float()
    loss = F.binary_cross_entropy_with_logits(out, target) + module.calibrator.pop_penalty()
    loss.backward()
    for name, param in module.named_parameters():
        assert param.grad is not None and (param.grad != 0).any(), name


def test_aitm_information_flows_forward_only():
    torch.manual_seed(0)
    module = AITMModule(SPEC, n_tasks=3, embedding_dim=K, tower_units=TOWER).eval()
    codes, dense = _batch(n=16)
    before = module(codes, dense)
    with torch.no_grad():
        module.towers[1][0].weight.add_(1.0)  # task 1's own tower
    after = module(codes, dense)
    torch.testing.assert_close(after[:, 0], before[:, 0])  # task 0 does not read task 1
    assert not torch.allclose(after[:, 1], before[:, 1])
    assert not torch.allclose(after[:, 2], before[:, 2])  # task 2 reads task 1 through z_1


def test_aitm_module_rejects_empty_towers():
    with pytest.raises(ValueError, match="tower_units"):
        AITMModule(SPEC, n_tasks=2, embedding_dim=K, tower_units=())


# ---------------------------------------------------------------------------- AITM estimator
def test_aitm_learns_the_census_funnel(fitted_aitm, census_funnel):
    _, X_test, _, y_test = census_funnel
    proba = fitted_aitm.predict_proba(X_test)
    assert [p.shape for p in proba] == [(4000, 2), (4000, 2)]
    assert fitted_aitm.predict(X_test).shape == (4000, 2)
    assert roc_auc_score(y_test["click"], proba[0][:, 1]) > 0.95
    assert roc_auc_score(y_test["conversion"], proba[1][:, 1]) > 0.85


def test_aitm_calibrator_reduces_funnel_violations(fitted_aitm, census_funnel):
    X_train, X_test, y_train, _ = census_funnel
    without = _fit_one_thread(
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
def test_aitm_training_loss_includes_the_calibrator(small_funnel, calibrator_weight):
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


def test_aitm_handles_three_steps(small_funnel):
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
def test_aitm_bad_parameters_name_themselves(small_funnel, name, value):
    X, y = small_funnel
    with pytest.raises(ValueError, match=name):
        tiny(AITMMultiOutput, **{name: value}).fit(X, y)


def test_aitm_needs_at_least_two_columns(small_funnel):
    X, y = small_funnel
    with pytest.raises(ValueError, match="at least 2 target columns"):
        tiny(AITMMultiOutput).fit(X, y["click"])


def test_aitm_transfer_modules_are_trained_and_saved(small_funnel, tmp_path):
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


# ------------------------------------------------------------ Ali-CCP and AliExpress samples
def _ali_ccp(part):
    frame = pd.read_csv(shared_data("ali_ccp_sample", f"ali_ccp_{part}_sample.csv"))
    return frame.drop(columns=["click", "purchase"]), frame[["click", "purchase"]]


def _aliexpress(source, part):
    name = f"fuxictr_tiny_mtl_{part}.csv" if source == "fuxictr" else f"rechub_aliexpress_{part}_sample.csv"
    frame = pd.read_csv(shared_data("aliexpress_sample", name))
    return frame.drop(columns=["search_id", "click", "conversion"]), frame[["click", "conversion"]]


SAMPLES = {
    # Ali-CCP: 23 id fields (integers, so named as categorical) and 8 dense "D..." fields
    "ali_ccp": (lambda part: _ali_ccp(part), lambda X: [c for c in X.columns if not c.startswith("D")]),
    # AliExpress: categorical_1..16 and numerical_1..63
    "aliexpress_fuxictr": (
        lambda part: _aliexpress("fuxictr", part),
        lambda X: [c for c in X.columns if c.startswith("categorical")],
    ),
    "aliexpress_rechub": (
        lambda part: _aliexpress("rechub", part),
        lambda X: [c for c in X.columns if c.startswith("categorical")],
    ),
}


@pytest.mark.parametrize("estimator_class", [ESMMMultiOutput, AITMMultiOutput])
@pytest.mark.parametrize("sample", list(SAMPLES))
def test_end_to_end_on_click_conversion_samples(sample, estimator_class):
    load, categorical = SAMPLES[sample]
    X_train, y_train = load("train")
    X_test, y_test = load("test")
    columns = categorical(X_train)
    model = estimator_class(
        embedding_dim=4,
        tower_units=(8,),
        batch_size=32,
        max_epochs=3,
        categorical_features=columns,
        random_state=0,
    ).fit(X_train, y_train)
    embedding = model.net_.module_.embedding
    assert embedding.n_categorical == len(columns)
    assert embedding.n_dense == X_train.shape[1] - len(columns) > 0  # dense features are used
    assert model.task_names_ == list(y_train.columns)
    proba = model.predict_proba(X_test)
    assert [p.shape for p in proba] == [(len(X_test), 2)] * 2
    assert all(np.isfinite(p).all() for p in proba)
    assert model.predict(X_test).shape == (len(X_test), 2)
    if estimator_class is ESMMMultiOutput:
        cvr = model.predict_cvr_proba(X_test)[:, 1]
        np.testing.assert_allclose(proba[1][:, 1], proba[0][:, 1] * cvr, rtol=1e-5)
        assert np.all(proba[1][:, 1] <= proba[0][:, 1] * (1 + 1e-6))
