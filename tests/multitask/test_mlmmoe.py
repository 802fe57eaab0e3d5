"""Multi-level MMoE: its module (``models/multitask/_mlmmoe.py``) and estimator (``multitask/_mlmmoe.py``).

tests/nn/test_multilevel_experts.py covers its mixture layer.
"""

import joblib
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F

from sklearn_pangu import MLMMOEMultiOutput
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.models.multitask._mlmmoe import MLMMOEModule

K = 4
D0 = 5 * K  # 20: the flattened embeddings (5 fields of the ``spec`` fixture) every first-level expert reads
EMBEDDING = (5 + 3 + 7 + 2) * K
#: Parameter-name pieces of every gate and expert, in the module's state dict.
GATE_AND_EXPERT_KEYS = [
    "mixture.level1.gates.",
    "mixture.level1.experts.",
    "mixture.gates.",
    "mixture.experts.",
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
        "num_experts": 3,
        "expert_units": (8, 6),
        "num_level2_experts": 2,
        "level2_expert_units": (5,),
        "tower_units": (4,),
        **params,
    }
    return MLMMOEModule(
        spec, n_tasks=n_tasks, embedding_dim=K, batch_norm=batch_norm, dropout=dropout, **params
    )


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


def test_mlmmoe_parameter_count_literal(spec):
    # 2 tasks; 3 level-1 experts 20 -> 8 -> 6; 2 level-1 gates over 3 experts;
    # 2 level-2 experts 6 -> 5; 2 task gates over 2 level-2 experts; towers 5 -> 4 -> 1.
    level1 = 3 * (20 * 8 + 8 + 8 * 6 + 6) + 2 * (20 * 3 + 3)
    level2 = 2 * (6 * 5 + 5) + 2 * (20 * 2 + 2)
    towers = 2 * (5 * 4 + 4 + 4 * 1 + 1)
    assert sum(p.numel() for p in _module(spec).parameters()) == EMBEDDING + level1 + level2 + towers == 1072


@pytest.mark.parametrize(
    "n_tasks, batch_norm, params",
    [
        (2, False, {}),
        (2, True, {}),
        (3, False, {"num_experts": 4, "num_level2_experts": 3, "level2_expert_units": (7, 5)}),
        (1, True, {"num_experts": 1, "num_level2_experts": 1, "tower_units": ()}),
    ],
)
def test_mlmmoe_parameter_count(spec, n_tasks, batch_norm, params):
    module = _module(spec, n_tasks=n_tasks, batch_norm=batch_norm, **params)
    m1 = params.get("num_experts", 3)
    u1 = params.get("expert_units", (8, 6))
    m2 = params.get("num_level2_experts", 2)
    u2 = params.get("level2_expert_units", (5,))
    towers = params.get("tower_units", (4,))
    # M1 experts and M2 level-1 gates on x; M2 level-2 experts on level-1 mixtures, T task gates on x.
    expected = (
        EMBEDDING
        + m1 * _mlp(D0, u1, batch_norm)
        + m2 * _gate(D0, m1)
        + m2 * _mlp(u1[-1], u2, batch_norm)
        + n_tasks * _gate(D0, m2)
        + n_tasks * _mlp(u2[-1], towers, batch_norm, output_dim=1)
    )
    assert sum(p.numel() for p in module.parameters()) == expected


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize(
    "name, value",
    [
        ("num_experts", 0),
        ("num_level2_experts", 0),
        ("num_level2_experts", 1.5),
        ("expert_units", (0,)),
        ("level2_expert_units", ()),
        ("level2_expert_units", 3),
        ("tower_units", (-1,)),
    ],
)
def test_bad_parameter_value_raises_value_error_naming_it(census, tiny, name, value):
    X, Y = census
    with pytest.raises(ValueError, match=name):
        tiny(MLMMOEMultiOutput, **{name: value}).fit(X.iloc[:200], Y.iloc[:200])


def test_gates_and_experts_are_registered_trained_and_saved(census, tiny, tmp_path):
    X, Y = census
    model = tiny(MLMMOEMultiOutput, max_epochs=1).fit(X, Y)
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
    model = MLMMOEMultiOutput(
        num_experts=4,
        expert_units=(32,),
        num_level2_experts=2,
        level2_expert_units=(16,),
        tower_units=(16,),
        max_epochs=6,
        random_state=0,
    ).fit(X_train, Y_train)
    proba = model.predict_proba(X_test)
    assert isinstance(proba, list) and [p.shape for p in proba] == [(4000, 2), (4000, 2)]
    assert model.predict(X_test).shape == (4000, 2)
    assert roc_auc_score(Y_test["income"], proba[0][:, 1]) > 0.85
    assert roc_auc_score(Y_test["never_married"], proba[1][:, 1]) > 0.95


def test_one_target(census, tiny):
    X, Y = census
    model = tiny(MLMMOEMultiOutput, max_epochs=1).fit(X, Y["income"])
    assert model.predict_proba(X.iloc[:4]).shape == (4, 2)
