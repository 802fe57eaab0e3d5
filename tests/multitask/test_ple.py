"""PLE: its module (``models/multitask/_ple.py``) and estimator (``multitask/_ple.py``).

tests/nn/test_extraction.py covers its extraction level, CGC.
"""

import joblib
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F

from sklearn_pangu import PLEMultiOutput
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.models.multitask._ple import PLEModule
from sklearn_pangu.nn._extraction import CustomizedGateControl

K = 4
D0 = 5 * K  # 20: the flattened embeddings (5 fields of the ``spec`` fixture) every first-level expert reads
EMBEDDING = (5 + 3 + 7 + 2) * K
#: Parameter-name pieces of every gate and expert, in the module's state dict (2 levels).
GATE_AND_EXPERT_KEYS = [
    "levels.0.gates.",
    "levels.0.shared_gate.",
    "levels.0.specific_experts.",
    "levels.0.shared_experts.",
    "levels.1.gates.",
    "levels.1.specific_experts.",
    "levels.1.shared_experts.",
]


def _mlp(input_dim, units, batch_norm, output_dim=None):
    """Parameters of MLP(input_dim, units): Linear per layer (+ BatchNorm weight and bias)."""
    count, width = 0, input_dim
    for u in units:
        count += width * u + u + (2 * u if batch_norm else 0)
        width = u
    if output_dim is not None:
        count += width * output_dim + output_dim
    return count


def _gate(input_dim, n_experts):
    return input_dim * n_experts + n_experts


def _module(spec, n_tasks=2, batch_norm=False, dropout=0.0, **params):
    params = {
        "num_levels": 2,
        "num_specific_experts": 2,
        "num_shared_experts": 1,
        "expert_units": (8, 6),
        "tower_units": (4,),
        **params,
    }
    return PLEModule(spec, n_tasks=n_tasks, embedding_dim=K, batch_norm=batch_norm, dropout=dropout, **params)


@pytest.mark.parametrize("n_tasks", [1, 3])
def test_module_logits(spec, batch, assert_logits_per_row, n_tasks):
    torch.manual_seed(0)
    codes, dense, _ = batch(n=9)
    assert_logits_per_row(_module(spec, n_tasks=n_tasks, batch_norm=True), codes, dense, n_tasks=n_tasks)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_module_gradients_reach_every_parameter(spec, batch, assert_gradients_reach, batch_norm):
    torch.manual_seed(0)
    module = _module(spec, batch_norm=batch_norm, dropout=0.1 if batch_norm else 0.0).train()
    codes, dense, target = batch(n_tasks=2)
    assert_gradients_reach(module, F.binary_cross_entropy_with_logits(module(codes, dense), target))


def test_ple_parameter_count_literal(spec):
    # 2 tasks, 2 levels of 2 experts per task and 1 shared (in -> 8 -> 6), towers 6 -> 4 -> 1.
    level1 = (2 * 2 + 1) * (20 * 8 + 8 + 8 * 6 + 6) + 2 * (20 * 3 + 3) + (20 * 5 + 5)  # with the shared gate
    level2 = (2 * 2 + 1) * (6 * 8 + 8 + 8 * 6 + 6) + 2 * (6 * 3 + 3)  # the last level has no shared gate
    towers = 2 * (6 * 4 + 4 + 4 * 1 + 1)
    assert sum(p.numel() for p in _module(spec).parameters()) == EMBEDDING + level1 + level2 + towers == 2067


@pytest.mark.parametrize(
    "n_tasks, batch_norm, params",
    [
        (2, False, {"num_levels": 1}),
        (2, True, {"num_levels": 2}),
        (3, False, {"num_levels": 3, "num_specific_experts": 1, "num_shared_experts": 2}),
        (1, True, {"num_levels": 2, "expert_units": (5,), "tower_units": ()}),
    ],
)
def test_ple_parameter_count(spec, n_tasks, batch_norm, params):
    module = _module(spec, n_tasks=n_tasks, batch_norm=batch_norm, **params)
    levels = params["num_levels"]
    m_k = params.get("num_specific_experts", 2)
    m_s = params.get("num_shared_experts", 1)
    units = params.get("expert_units", (8, 6))
    towers = params.get("tower_units", (4,))
    expected = EMBEDDING + n_tasks * _mlp(units[-1], towers, batch_norm, output_dim=1)
    for level in range(levels):
        d_in = D0 if level == 0 else units[-1]
        expected += (n_tasks * m_k + m_s) * _mlp(d_in, units, batch_norm)  # experts
        expected += n_tasks * _gate(d_in, m_k + m_s)  # task gates: own + shared experts
        if level < levels - 1:
            expected += _gate(d_in, n_tasks * m_k + m_s)  # shared gate: every expert
    assert sum(p.numel() for p in module.parameters()) == expected


def test_ple_with_one_level_is_cgc(spec, batch):
    torch.manual_seed(0)
    module = _module(spec, num_levels=1).eval()
    assert len(module.levels) == 1
    level = module.levels[0]
    assert isinstance(level, CustomizedGateControl) and level.shared_gate is None
    assert not any("shared_gate" in name for name in module.state_dict())
    # The same network as a stand-alone CGC layer on the flattened embeddings, then the towers.
    cgc = CustomizedGateControl(
        D0, n_tasks=2, num_specific_experts=2, num_shared_experts=1, expert_units=(8, 6)
    ).eval()
    cgc.load_state_dict(level.state_dict())
    codes, dense, _ = batch(n=7)
    x = module.embedding(codes, dense).flatten(start_dim=1)
    mixtures = cgc(x)
    assert mixtures.shape == (2, 7, 6)  # task rows only: no shared mixture
    torch.testing.assert_close(module(codes, dense), module.towers(mixtures))
    # Task k's logit mixes only task k's experts and the shared expert.
    task_weights, shared_weights = cgc.gate_weights(x)
    assert shared_weights is None
    for k in range(2):
        experts = [e(x) for e in cgc.specific_experts[k]] + [cgc.shared_experts[0](x)]
        by_hand = sum(task_weights[k, :, e, None] * out for e, out in enumerate(experts))
        torch.testing.assert_close(mixtures[k], by_hand)


def test_ple_levels_feed_task_and_shared_mixtures_forward(spec, batch):
    torch.manual_seed(0)
    module = _module(spec, num_levels=3).eval()
    assert [lvl.shared_gate is not None for lvl in module.levels] == [True, True, False]
    assert [lvl.gates[0].in_features for lvl in module.levels] == [D0, 6, 6]
    codes, dense, _ = batch(n=5)
    h = module.embedding(codes, dense).flatten(start_dim=1)
    for level in module.levels:
        h = level(h)
    assert h.shape == (2, 5, 6)
    torch.testing.assert_close(module(codes, dense), module.towers(h))


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "name, value",
    [
        ("num_levels", 0),
        ("num_levels", 1.0),
        ("num_specific_experts", 0),
        ("num_shared_experts", 0),
        ("expert_units", ()),
        ("expert_units", (4, "8")),
        ("tower_units", (0,)),
    ],
)
def test_bad_parameter_value_raises_value_error_naming_it(census, tiny, name, value):
    X, Y = census
    with pytest.raises(ValueError, match=name):
        tiny(PLEMultiOutput, **{name: value}).fit(X.iloc[:200], Y.iloc[:200])


def test_gates_and_experts_are_registered_trained_and_saved(census, tiny, tmp_path):
    X, Y = census
    model = tiny(PLEMultiOutput, num_levels=2, max_epochs=1).fit(X, Y)
    module = model.net_.module_
    names = dict(module.named_parameters())
    keys = {piece: [k for k in names if k.startswith(piece)] for piece in GATE_AND_EXPERT_KEYS}
    for piece, found in keys.items():
        assert found, f"no registered parameter under {piece}"
    keys = [k for found in keys.values() for k in found]
    assert set(keys) <= set(module.state_dict())
    optimized = {id(p) for group in model.net_.optimizer_.param_groups for p in group["params"]}
    assert all(id(names[k]) in optimized for k in keys)
    before = {k: names[k].detach().clone() for k in keys}
    model.set_params(warm_start=True, max_epochs=2).fit(X, Y)
    state = model.net_.module_.state_dict()
    for key in keys:
        weight_or_bias = before[key].numpy()
        assert not np.array_equal(weight_or_bias, state[key].numpy()), key
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    loaded_state = loaded.net_.module_.state_dict()
    for key in keys:
        np.testing.assert_array_equal(loaded_state[key].numpy(), state[key].numpy())
    for before_p, after_p in zip(model.predict_proba(X), loaded.predict_proba(X), strict=True):
        np.testing.assert_array_equal(before_p, after_p)


def test_learns_both_census_tasks():
    X, Y = load_census_income(return_X_y=True)
    X_train, X_test = X.iloc[:16000], X.iloc[16000:20000]
    Y_train, Y_test = Y.iloc[:16000], Y.iloc[16000:20000]
    model = PLEMultiOutput(
        num_levels=2, expert_units=(32,), tower_units=(16,), max_epochs=6, batch_size=256, random_state=0
    )
    proba = model.fit(X_train, Y_train).predict_proba(X_test)
    assert isinstance(proba, list) and [p.shape for p in proba] == [(4000, 2), (4000, 2)]
    assert model.predict(X_test).shape == (4000, 2)
    assert roc_auc_score(Y_test["income"], proba[0][:, 1]) > 0.85
    assert roc_auc_score(Y_test["never_married"], proba[1][:, 1]) > 0.95


def test_ple_estimator_with_one_level_builds_cgc(census, tiny):
    X, Y = census
    model = tiny(PLEMultiOutput, num_levels=1, max_epochs=1).fit(X, Y)
    levels = model.net_.module_.levels
    assert len(levels) == 1 and levels[0].shared_gate is None
    assert [p.shape for p in model.predict_proba(X.iloc[:4])] == [(4, 2), (4, 2)]


def test_one_target(census, tiny):
    X, Y = census
    model = tiny(PLEMultiOutput, max_epochs=1).fit(X, Y["income"])
    assert model.predict_proba(X.iloc[:4]).shape == (4, 2)
