"""ESMM: product_logit and the module (``models/multitask/_esmm.py``), the estimator (``multitask/_esmm.py``).

ESMM models a conversion funnel (click, then conversion).
"""

import functools

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F

from sklearn_pangu import ESMMMultiOutput
from sklearn_pangu.models.multitask._esmm import ESMMModule, product_logit

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
def fitted_esmm(census_funnel, fit_one_thread):
    X_train, _, y_train, _ = census_funnel
    model = ESMMMultiOutput(embedding_dim=4, tower_units=(32,), max_epochs=5, random_state=0)
    return fit_one_thread(model, X_train, y_train)


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


# --------------------------------------------------------------------------- ESMM module


def test_esmm_module_returns_ctr_and_ctcvr_logits(spec, batch):
    torch.manual_seed(0)
    module = ESMMModule(spec, n_tasks=2, embedding_dim=K, tower_units=TOWER).eval()
    codes, dense, _ = batch(n=9)
    out = module(codes, dense)
    towers = module.tower_logits(codes, dense)
    assert out.shape == towers.shape == (9, 2)
    torch.testing.assert_close(out[:, 0], towers[:, 0])
    torch.testing.assert_close(
        torch.sigmoid(out[:, 1]), torch.sigmoid(towers[:, 0]) * torch.sigmoid(towers[:, 1])
    )


def test_esmm_module_needs_two_tasks(spec):
    with pytest.raises(ValueError, match="exactly 2 tasks"):
        ESMMModule(spec, n_tasks=3, embedding_dim=K, tower_units=TOWER)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_esmm_module_parameter_count(spec, batch_norm):
    # shared embedding + a CTR and a CVR network, each an MLP 20 -> 8 -> 6 -> 1
    module = ESMMModule(spec, n_tasks=2, embedding_dim=K, tower_units=TOWER, batch_norm=batch_norm)
    expected = EMBEDDING + 2 * (TOWER_HIDDEN + 6 + 1 + (TOWER_BN if batch_norm else 0))
    assert sum(p.numel() for p in module.parameters()) == expected


@pytest.mark.parametrize("batch_norm", [False, True])
def test_esmm_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach, batch_norm):
    # the CVR network has no loss of its own: it learns through pCTCVR only
    torch.manual_seed(0)
    module = ESMMModule(
        spec, n_tasks=2, embedding_dim=K, tower_units=TOWER, batch_norm=batch_norm, dropout=0.1
    ).train()
    codes, dense, _ = batch()
    target = torch.stack([torch.ones(32), (torch.arange(32) % 2).float()], dim=1)
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


# --------------------------------------------------------------------------- ESMM estimator


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


def test_esmm_pcvr_runs_its_towers_in_the_mixed_precision(small_funnel, tiny):
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


def test_esmm_rejects_a_conversion_without_click(small_funnel, tiny):
    X, y = small_funnel
    broken = y.copy()
    broken.iloc[:3] = [[0, 1]] * 3
    with pytest.raises(ValueError, match="3 row\\(s\\).*'click' is negative"):
        tiny(ESMMMultiOutput).fit(X, broken)


@pytest.mark.parametrize("n_columns", [1, 3])
def test_esmm_needs_exactly_two_columns(small_funnel, n_columns, tiny):
    X, y = small_funnel
    Y = pd.concat([y, y["click"].rename("extra")], axis=1).iloc[:, :n_columns]
    with pytest.raises(ValueError, match="exactly 2 target columns"):
        tiny(ESMMMultiOutput).fit(X, Y)


@pytest.mark.parametrize(
    "name, value", [("tower_units", (0,)), ("tower_units", "wide"), ("embedding_dim", 0)]
)
def test_esmm_bad_parameters_name_themselves(small_funnel, name, value, tiny):
    X, y = small_funnel
    with pytest.raises(ValueError, match=name):
        tiny(ESMMMultiOutput, **{name: value}).fit(X, y)


def test_esmm_joblib_round_trip_is_exact(small_funnel, tmp_path, tiny):
    X, y = small_funnel
    model = tiny(ESMMMultiOutput).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    for before, after in zip(model.predict_proba(X), loaded.predict_proba(X), strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(model.predict_cvr_proba(X), loaded.predict_cvr_proba(X))


# --------------------------------------------------------------------------- Ali-CCP and AliExpress samples


def test_end_to_end_on_click_conversion_samples(click_conversion_sample):
    X_train, y_train, X_test, y_test, columns = click_conversion_sample
    model = ESMMMultiOutput(
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
    cvr = model.predict_cvr_proba(X_test)[:, 1]
    np.testing.assert_allclose(proba[1][:, 1], proba[0][:, 1] * cvr, rtol=1e-5)
    assert np.all(proba[1][:, 1] <= proba[0][:, 1] * (1 + 1e-6))
