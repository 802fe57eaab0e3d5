"""Multi-level MMoE and PLE: their layers, modules and estimators."""

import math

import joblib
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from sklearn_pangu import MLMMOEMultiOutput, PLEMultiOutput
from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.models.multitask._mlmmoe import MLMMOEModule
from sklearn_pangu.models.multitask._ple import PLEModule
from sklearn_pangu.nn._extraction import CustomizedGateControl
from sklearn_pangu.nn._multilevel_experts import MultiLevelMixtureOfExperts


def _assert_gradients_reach_every_parameter(module, output):
    output.sum().backward()
    for name, param in module.named_parameters():
        if param.numel() == 0:
            continue
        assert param.grad is not None, name
        assert (param.grad != 0).any(), name


def _n_parameters(module):
    return sum(p.numel() for p in module.parameters())


def _set_linear(linear, weight, bias):
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(weight, dtype=torch.float32).reshape(linear.weight.shape))
        linear.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))


# --------------------------------------------------------------------------- CustomizedGateControl


@pytest.mark.parametrize("shared_gate", [False, True])
@pytest.mark.parametrize("n_tasks", [1, 3])
def test_cgc_shape_and_gradients(n_tasks, shared_gate):
    torch.manual_seed(0)
    cgc = CustomizedGateControl(
        6,
        n_tasks=n_tasks,
        num_specific_experts=2,
        num_shared_experts=3,
        expert_units=(8, 5),
        shared_gate=shared_gate,
    )
    rows = n_tasks + int(shared_gate)
    assert cgc(torch.randn(4, 6)).shape == (rows, 4, 5)
    out = cgc(torch.randn(n_tasks + 1, 4, 6))
    assert out.shape == (rows, 4, 5)
    _assert_gradients_reach_every_parameter(cgc, out)
    task_weights, shared_weights = cgc.gate_weights(torch.randn(4, 6))
    assert task_weights.shape == (n_tasks, 4, 2 + 3)
    torch.testing.assert_close(task_weights.sum(-1), torch.ones(n_tasks, 4))
    if shared_gate:
        assert shared_weights.shape == (4, n_tasks * 2 + 3)
    else:
        assert shared_weights is None
    with pytest.raises(ValueError, match="inputs must have shape"):
        cgc(torch.randn(n_tasks + 2, 4, 6))


def test_cgc_rejects_levels_without_experts():
    for name in ("num_specific_experts", "num_shared_experts"):
        params = {"num_specific_experts": 1, "num_shared_experts": 1, name: 0}
        with pytest.raises(ValueError, match=name):
            CustomizedGateControl(3, n_tasks=2, expert_units=(2,), **params)


def test_cgc_hand_computed_mixtures():
    # Constant experts: a one-unit expert with weight 0 and bias c outputs relu(c) = c.
    cgc = CustomizedGateControl(
        2, n_tasks=2, num_specific_experts=1, num_shared_experts=1, expert_units=(1,), shared_gate=True
    )
    for expert, c in [(cgc.specific_experts[0][0], 1.0), (cgc.specific_experts[1][0], 2.0)]:
        _set_linear(expert[0], [0.0, 0.0], [c])
    _set_linear(cgc.shared_experts[0][0], [0.0, 0.0], [4.0])
    # Task 0's gate weighs (its expert, shared) 1/4, 3/4; task 1's 1/2, 1/2.
    _set_linear(cgc.gates[0], torch.zeros(2, 2), [0.0, math.log(3.0)])
    _set_linear(cgc.gates[1], torch.zeros(2, 2), [0.0, 0.0])
    # The shared gate weighs (task 0's, task 1's, shared) 1/8, 2/8, 5/8.
    _set_linear(cgc.shared_gate, torch.zeros(3, 2), [0.0, math.log(2.0), math.log(5.0)])
    out = cgc(torch.randn(3, 2)).squeeze(-1)
    expected = torch.tensor([0.25 * 1 + 0.75 * 4, 0.5 * 2 + 0.5 * 4, (1 * 1 + 2 * 2 + 5 * 4) / 8])
    torch.testing.assert_close(out, expected[:, None].expand(3, 3))


def test_cgc_routes_each_input_to_its_experts_and_gate():
    # Experts E(x) = relu(x_0): each reveals the first coordinate of the input it reads.
    cgc = CustomizedGateControl(
        2, n_tasks=2, num_specific_experts=1, num_shared_experts=1, expert_units=(1,), shared_gate=True
    )
    experts = [cgc.specific_experts[0][0], cgc.specific_experts[1][0], cgc.shared_experts[0]]
    for expert in experts:
        _set_linear(expert[0], [1.0, 0.0], [0.0])
    # Gates read the second coordinate of their own input: logits (0, x_1).
    for gate in [*cgc.gates, cgc.shared_gate]:
        weight = torch.zeros(gate.out_features, 2)
        weight[-1, 1] = 1.0
        _set_linear(gate, weight, torch.zeros(gate.out_features))
    inputs = torch.tensor(
        [[[1.0, 0.0]], [[2.0, math.log(3.0)]], [[5.0, math.log(2.0)]]]
    )  # tasks 0, 1, shared
    out = cgc(inputs).squeeze(-1).squeeze(-1)
    # task 0: (1 + 5) / 2; task 1: (2 + 3 * 5) / 4; shared gate: logits (0, 0, log 2) -> (1 + 2 + 2 * 5) / 4
    torch.testing.assert_close(out, torch.tensor([3.0, 17.0 / 4.0, 13.0 / 4.0]))


def test_cgc_task_output_ignores_other_tasks_inputs():
    torch.manual_seed(0)
    cgc = CustomizedGateControl(
        4, n_tasks=2, num_specific_experts=2, num_shared_experts=1, expert_units=(6,), shared_gate=True
    ).eval()
    inputs = torch.randn(3, 5, 4)
    changed = inputs.clone()
    changed[1] += 1.0  # task 1's input
    before, after = cgc(inputs), cgc(changed)
    torch.testing.assert_close(before[0], after[0])  # task 0 reads only its input and the shared one
    assert not torch.allclose(before[1], after[1])
    assert not torch.allclose(before[2], after[2])  # the shared gate mixes task 1's experts too
    changed = inputs.clone()
    changed[2] += 1.0  # the shared input reaches every task through the shared experts
    after = cgc(changed)
    for row in range(3):
        assert not torch.allclose(before[row], after[row]), row


# --------------------------------------------------------------------------- MultiLevelMixtureOfExperts


def test_multilevel_moe_shape_and_gradients():
    torch.manual_seed(0)
    moe = MultiLevelMixtureOfExperts(
        6, num_experts=4, expert_units=(8, 7), num_level2_experts=3, level2_expert_units=(5,), num_gates=2
    )
    out = moe(torch.randn(9, 6))
    assert out.shape == (2, 9, 5)
    _assert_gradients_reach_every_parameter(moe, out)
    assert moe.gate_weights(torch.randn(9, 6)).shape == (2, 9, 3)
    assert moe.level1.gate_weights(torch.randn(9, 6)).shape == (3, 9, 4)


def test_multilevel_moe_hand_computed():
    moe = MultiLevelMixtureOfExperts(
        2, num_experts=2, expert_units=(1,), num_level2_experts=2, level2_expert_units=(1,), num_gates=2
    )
    # Level-1 experts output 1 and 3.
    _set_linear(moe.level1.experts[0][0], [0.0, 0.0], [1.0])
    _set_linear(moe.level1.experts[1][0], [0.0, 0.0], [3.0])
    # Level-1 gate 0 weighs them 1/2, 1/2 -> h_0 = 2; gate 1 weighs 3/4, 1/4 -> h_1 = 1.5.
    _set_linear(moe.level1.gates[0], torch.zeros(2, 2), [0.0, 0.0])
    _set_linear(moe.level1.gates[1], torch.zeros(2, 2), [math.log(3.0), 0.0])
    # Level-2 expert 0 computes relu(2 h_0) = 4, expert 1 relu(h_1) = 1.5.
    _set_linear(moe.experts[0][0], [2.0], [0.0])
    _set_linear(moe.experts[1][0], [1.0], [0.0])
    # Task gate 0 weighs them 1/2, 1/2; task gate 1 4/5, 1/5.
    _set_linear(moe.gates[0], torch.zeros(2, 2), [0.0, 0.0])
    _set_linear(moe.gates[1], torch.zeros(2, 2), [math.log(4.0), 0.0])
    out = moe(torch.randn(3, 2)).squeeze(-1)
    expected = torch.tensor([0.5 * 4 + 0.5 * 1.5, 0.8 * 4 + 0.2 * 1.5])
    torch.testing.assert_close(out, expected[:, None].expand(2, 3))


def test_multilevel_moe_gates_are_conditioned_on_the_input():
    torch.manual_seed(0)
    moe = MultiLevelMixtureOfExperts(
        3, num_experts=3, expert_units=(4,), num_level2_experts=2, level2_expert_units=(4,), num_gates=2
    )
    x = torch.randn(5, 3)
    expected = torch.stack([torch.softmax(gate(x), dim=-1) for gate in moe.gates])
    torch.testing.assert_close(moe.gate_weights(x), expected)
    assert not torch.allclose(moe.gate_weights(x)[:, 0], moe.gate_weights(x)[:, 1])


# --------------------------------------------------------------------------- modules

SPEC = FieldSpec(categorical_fields=("a", "b", "c"), cardinalities=(5, 3, 7), dense_features=("x", "y"))
K = 4
D0 = SPEC.n_fields * K  # 20: the flattened embeddings every first-level expert and gate reads
EMBEDDING = (5 + 3 + 7 + 2) * K


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


def _towers(n_tasks, input_dim, tower_units, batch_norm):
    return n_tasks * _mlp(input_dim, tower_units, batch_norm, output_dim=1)


def _batch(n=32, n_tasks=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    codes = torch.stack([torch.randint(0, c, (n,), generator=generator) for c in SPEC.cardinalities], dim=1)
    dense = torch.randn(n, SPEC.n_dense, generator=generator)
    target = torch.randint(0, 2, (n, n_tasks), generator=generator).float()
    return codes, dense, target


def _mlmmoe(n_tasks=2, batch_norm=False, dropout=0.0, **params):
    params = {
        "num_experts": 3,
        "expert_units": (8, 6),
        "num_level2_experts": 2,
        "level2_expert_units": (5,),
        "tower_units": (4,),
        **params,
    }
    return MLMMOEModule(
        SPEC, n_tasks=n_tasks, embedding_dim=K, batch_norm=batch_norm, dropout=dropout, **params
    )


def _ple(n_tasks=2, batch_norm=False, dropout=0.0, **params):
    params = {
        "num_levels": 2,
        "num_specific_experts": 2,
        "num_shared_experts": 1,
        "expert_units": (8, 6),
        "tower_units": (4,),
        **params,
    }
    return PLEModule(SPEC, n_tasks=n_tasks, embedding_dim=K, batch_norm=batch_norm, dropout=dropout, **params)


BUILDERS = {"mlmmoe": _mlmmoe, "ple": _ple}


@pytest.mark.parametrize("n_tasks", [1, 3])
@pytest.mark.parametrize("name", BUILDERS)
def test_module_output_shape(name, n_tasks):
    torch.manual_seed(0)
    module = BUILDERS[name](n_tasks=n_tasks, batch_norm=True)
    codes, dense, _ = _batch(n=9)
    for mode in (module.train, module.eval):
        mode()
        out = module(codes, dense)
        assert out.shape == (9, n_tasks)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("name", BUILDERS)
def test_module_gradients_reach_every_parameter(name, batch_norm):
    torch.manual_seed(0)
    module = BUILDERS[name](batch_norm=batch_norm, dropout=0.1 if batch_norm else 0.0).train()
    codes, dense, target = _batch()
    loss = nn.functional.binary_cross_entropy_with_logits(module(codes, dense), target)
    loss.backward()
    for param_name, param in module.named_parameters():
        assert param.grad is not None, param_name
        assert (param.grad != 0).any(), param_name


def test_mlmmoe_parameter_count_literal():
    # 2 tasks; 3 level-1 experts 20 -> 8 -> 6; 2 level-1 gates over 3 experts;
    # 2 level-2 experts 6 -> 5; 2 task gates over 2 level-2 experts; towers 5 -> 4 -> 1.
    level1 = 3 * (20 * 8 + 8 + 8 * 6 + 6) + 2 * (20 * 3 + 3)
    level2 = 2 * (6 * 5 + 5) + 2 * (20 * 2 + 2)
    towers = 2 * (5 * 4 + 4 + 4 * 1 + 1)
    assert _n_parameters(_mlmmoe()) == EMBEDDING + level1 + level2 + towers == 1072


@pytest.mark.parametrize(
    "n_tasks, batch_norm, params",
    [
        (2, False, {}),
        (2, True, {}),
        (3, False, {"num_experts": 4, "num_level2_experts": 3, "level2_expert_units": (7, 5)}),
        (1, True, {"num_experts": 1, "num_level2_experts": 1, "tower_units": ()}),
    ],
)
def test_mlmmoe_parameter_count(n_tasks, batch_norm, params):
    module = _mlmmoe(n_tasks=n_tasks, batch_norm=batch_norm, **params)
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
        + _towers(n_tasks, u2[-1], towers, batch_norm)
    )
    assert _n_parameters(module) == expected


def test_ple_parameter_count_literal():
    # 2 tasks, 2 levels of 2 experts per task and 1 shared (in -> 8 -> 6), towers 6 -> 4 -> 1.
    level1 = (2 * 2 + 1) * (20 * 8 + 8 + 8 * 6 + 6) + 2 * (20 * 3 + 3) + (20 * 5 + 5)  # with the shared gate
    level2 = (2 * 2 + 1) * (6 * 8 + 8 + 8 * 6 + 6) + 2 * (6 * 3 + 3)  # the last level has no shared gate
    towers = 2 * (6 * 4 + 4 + 4 * 1 + 1)
    assert _n_parameters(_ple()) == EMBEDDING + level1 + level2 + towers == 2067


@pytest.mark.parametrize(
    "n_tasks, batch_norm, params",
    [
        (2, False, {"num_levels": 1}),
        (2, True, {"num_levels": 2}),
        (3, False, {"num_levels": 3, "num_specific_experts": 1, "num_shared_experts": 2}),
        (1, True, {"num_levels": 2, "expert_units": (5,), "tower_units": ()}),
    ],
)
def test_ple_parameter_count(n_tasks, batch_norm, params):
    module = _ple(n_tasks=n_tasks, batch_norm=batch_norm, **params)
    levels = params["num_levels"]
    m_k = params.get("num_specific_experts", 2)
    m_s = params.get("num_shared_experts", 1)
    units = params.get("expert_units", (8, 6))
    towers = params.get("tower_units", (4,))
    expected = EMBEDDING + _towers(n_tasks, units[-1], towers, batch_norm)
    for level in range(levels):
        d_in = D0 if level == 0 else units[-1]
        expected += (n_tasks * m_k + m_s) * _mlp(d_in, units, batch_norm)  # experts
        expected += n_tasks * _gate(d_in, m_k + m_s)  # task gates: own + shared experts
        if level < levels - 1:
            expected += _gate(d_in, n_tasks * m_k + m_s)  # shared gate: every expert
    assert _n_parameters(module) == expected


def test_ple_with_one_level_is_cgc():
    torch.manual_seed(0)
    module = _ple(num_levels=1).eval()
    assert len(module.levels) == 1
    level = module.levels[0]
    assert isinstance(level, CustomizedGateControl) and level.shared_gate is None
    assert not any("shared_gate" in name for name in module.state_dict())
    # The same network as a stand-alone CGC layer on the flattened embeddings, then the towers.
    cgc = CustomizedGateControl(
        D0, n_tasks=2, num_specific_experts=2, num_shared_experts=1, expert_units=(8, 6)
    ).eval()
    cgc.load_state_dict(level.state_dict())
    codes, dense, _ = _batch(n=7)
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


def test_ple_levels_feed_task_and_shared_mixtures_forward():
    torch.manual_seed(0)
    module = _ple(num_levels=3).eval()
    assert [lvl.shared_gate is not None for lvl in module.levels] == [True, True, False]
    assert [lvl.gates[0].in_features for lvl in module.levels] == [D0, 6, 6]
    codes, dense, _ = _batch(n=5)
    h = module.embedding(codes, dense).flatten(start_dim=1)
    for level in module.levels:
        h = level(h)
    assert h.shape == (2, 5, 6)
    torch.testing.assert_close(module(codes, dense), module.towers(h))


# --------------------------------------------------------------------------- estimators

TINY_MLMMOE = {
    "embedding_dim": 4,
    "num_experts": 2,
    "expert_units": (8,),
    "num_level2_experts": 2,
    "level2_expert_units": (8,),
    "tower_units": (4,),
    "batch_size": 64,
    "max_epochs": 3,
}
TINY_PLE = {
    "embedding_dim": 4,
    "num_levels": 2,
    "num_specific_experts": 1,
    "num_shared_experts": 1,
    "expert_units": (8,),
    "tower_units": (4,),
    "batch_size": 64,
    "max_epochs": 3,
}
TINY = {MLMMOEMultiOutput: TINY_MLMMOE, PLEMultiOutput: TINY_PLE}
#: Parameter-name pieces of every gate and expert, in the modules' state dicts.
GATE_AND_EXPERT_KEYS = {
    MLMMOEMultiOutput: [
        "mixture.level1.gates.",
        "mixture.level1.experts.",
        "mixture.gates.",
        "mixture.experts.",
    ],
    PLEMultiOutput: [
        "levels.0.gates.",
        "levels.0.shared_gate.",
        "levels.0.specific_experts.",
        "levels.0.shared_experts.",
        "levels.1.gates.",
        "levels.1.specific_experts.",
        "levels.1.shared_experts.",
    ],
}


def tiny(estimator_class, **params):
    return estimator_class(**{**TINY[estimator_class], "random_state": 0, **params})


@pytest.fixture(scope="module")
def census():
    X, Y = load_census_income(return_X_y=True)
    return X.iloc[:3000], Y.iloc[:3000]


@pytest.mark.parametrize(
    "estimator_class, name, value",
    [
        (MLMMOEMultiOutput, "num_experts", 0),
        (MLMMOEMultiOutput, "num_level2_experts", 0),
        (MLMMOEMultiOutput, "num_level2_experts", 1.5),
        (MLMMOEMultiOutput, "expert_units", (0,)),
        (MLMMOEMultiOutput, "level2_expert_units", ()),
        (MLMMOEMultiOutput, "level2_expert_units", 3),
        (MLMMOEMultiOutput, "tower_units", (-1,)),
        (PLEMultiOutput, "num_levels", 0),
        (PLEMultiOutput, "num_levels", 1.0),
        (PLEMultiOutput, "num_specific_experts", 0),
        (PLEMultiOutput, "num_shared_experts", 0),
        (PLEMultiOutput, "expert_units", ()),
        (PLEMultiOutput, "expert_units", (4, "8")),
        (PLEMultiOutput, "tower_units", (0,)),
    ],
)
def test_bad_parameter_value_raises_value_error_naming_it(estimator_class, name, value, census):
    X, Y = census
    with pytest.raises(ValueError, match=name):
        tiny(estimator_class, **{name: value}).fit(X.iloc[:200], Y.iloc[:200])


@pytest.mark.parametrize("estimator_class", [MLMMOEMultiOutput, PLEMultiOutput])
def test_gates_and_experts_are_registered_trained_and_saved(estimator_class, census, tmp_path):
    X, Y = census
    model = tiny(estimator_class, max_epochs=1).fit(X, Y)
    module = model.net_.module_
    names = dict(module.named_parameters())
    keys = {
        piece: [k for k in names if k.startswith(piece)] for piece in GATE_AND_EXPERT_KEYS[estimator_class]
    }
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


@pytest.mark.parametrize(
    "estimator_class, params",
    [
        (
            MLMMOEMultiOutput,
            {"num_experts": 4, "expert_units": (32,), "num_level2_experts": 2, "level2_expert_units": (16,)},
        ),
        (PLEMultiOutput, {"num_levels": 2, "expert_units": (32,)}),
    ],
)
def test_learns_both_census_tasks(estimator_class, params):
    X, Y = load_census_income(return_X_y=True)
    X_train, X_test = X.iloc[:16000], X.iloc[16000:20000]
    Y_train, Y_test = Y.iloc[:16000], Y.iloc[16000:20000]
    model = estimator_class(**params, tower_units=(16,), max_epochs=6, random_state=0).fit(X_train, Y_train)
    proba = model.predict_proba(X_test)
    assert isinstance(proba, list) and [p.shape for p in proba] == [(4000, 2), (4000, 2)]
    assert model.predict(X_test).shape == (4000, 2)
    assert roc_auc_score(Y_test["income"], proba[0][:, 1]) > 0.85
    assert roc_auc_score(Y_test["never_married"], proba[1][:, 1]) > 0.95


def test_ple_estimator_with_one_level_builds_cgc(census):
    X, Y = census
    model = tiny(PLEMultiOutput, num_levels=1, max_epochs=1).fit(X, Y)
    levels = model.net_.module_.levels
    assert len(levels) == 1 and levels[0].shared_gate is None
    assert [p.shape for p in model.predict_proba(X.iloc[:4])] == [(4, 2), (4, 2)]


def test_one_target(census):
    X, Y = census
    for estimator_class in (MLMMOEMultiOutput, PLEMultiOutput):
        model = tiny(estimator_class, max_epochs=1).fit(X, Y["income"])
        assert model.predict_proba(X.iloc[:4]).shape == (4, 2)
