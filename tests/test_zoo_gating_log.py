"""FinalMLP, AFN and AOANet: their layers, modules and estimators."""

import pytest
import torch
from torch import nn

from sklearn_pangu import AFNClassifier, AOANetClassifier, FinalMLPClassifier
from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.models.ranking._afn import AFNModule
from sklearn_pangu.models.ranking._aoanet import AOANetModule
from sklearn_pangu.models.ranking._finalmlp import FinalMLPModule
from sklearn_pangu.nn._fusion import MultiHeadBilinearFusion
from sklearn_pangu.nn._gating import FeatureGate
from sklearn_pangu.nn._generalized_interaction import GeneralizedInteraction, GeneralizedInteractionNet
from sklearn_pangu.nn._logarithmic import LogarithmicTransformation


def _assert_gradients_reach_every_parameter(module, output):
    output.sum().backward()
    for name, param in module.named_parameters():
        if param.numel() == 0:
            continue
        assert param.grad is not None, name
        assert (param.grad != 0).any(), name


def _n_parameters(module):
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------- FeatureGate


def test_feature_gate_shape_and_gradients():
    torch.manual_seed(0)
    gate = FeatureGate(6, context_dim=4, hidden_units=(16, 8))
    x = torch.randn(3, 6)
    assert gate(x).shape == (3, 6)
    assert gate(x, context=torch.randn(3, 4)).shape == (3, 6)
    _assert_gradients_reach_every_parameter(gate, gate(x))


def test_feature_gate_hand_computed():
    gate = FeatureGate(3, context_dim=2)  # no hidden layer: gates = 2 sigmoid(A c + a)
    with torch.no_grad():
        gate.context.copy_(torch.tensor([1.0, -1.0]))
        gate.mlp[0].weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]))
        gate.mlp[0].bias.copy_(torch.tensor([0.0, -3.0, 0.0]))
    x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    # pre-activations 0, -3, 2 -> gates 2 sigmoid(.) = 1, 2 / (1 + e^3), 2 / (1 + e^-2)
    gates = torch.tensor([1.0, 2.0 / (1.0 + torch.e**3), 2.0 / (1.0 + torch.e**-2)])
    torch.testing.assert_close(gate(x), x * gates)
    # A context per row replaces the learnable one.
    context = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    per_row = torch.stack(
        [torch.tensor([1.0, 2.0 / (1.0 + torch.e**3), 1.0]), 2 * torch.sigmoid(torch.tensor([0.0, 0.0, 6.0]))]
    )
    torch.testing.assert_close(gate(x, context=context), x * per_row)


# --------------------------------------------------------------------------- MultiHeadBilinearFusion


def test_bilinear_fusion_shape_gradients_and_divisibility():
    torch.manual_seed(0)
    fusion = MultiHeadBilinearFusion(6, 4, num_heads=2)
    x, y = torch.randn(5, 6), torch.randn(5, 4)
    assert fusion(x, y).shape == (5,)
    _assert_gradients_reach_every_parameter(fusion, fusion(x, y))
    assert _n_parameters(fusion) == 6 + 1 + 4 + 2 * (3 * 2)
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadBilinearFusion(6, 4, num_heads=4)


@pytest.mark.parametrize("num_heads", [1, 3, 6])
def test_bilinear_fusion_equals_per_head_formula(num_heads):
    torch.manual_seed(0)
    fusion = MultiHeadBilinearFusion(6, 12, num_heads=num_heads).double()
    x, y = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 12, dtype=torch.float64)
    a, c = 6 // num_heads, 12 // num_heads
    expected = fusion.x_linear.bias + x @ fusion.x_linear.weight[0] + y @ fusion.y_linear.weight[0]
    for j in range(num_heads):
        x_j, y_j = x[:, j * a : (j + 1) * a], y[:, j * c : (j + 1) * c]
        expected = expected + ((x_j @ fusion.bilinear[j]) * y_j).sum(dim=1)
    torch.testing.assert_close(fusion(x, y), expected)


def test_bilinear_fusion_hand_computed():
    fusion = MultiHeadBilinearFusion(2, 2, num_heads=1)
    with torch.no_grad():
        fusion.x_linear.weight.copy_(torch.tensor([[1.0, 0.0]]))
        fusion.x_linear.bias.fill_(0.5)
        fusion.y_linear.weight.copy_(torch.tensor([[0.0, 2.0]]))
        fusion.bilinear.copy_(torch.tensor([[[1.0, 0.0], [0.0, 3.0]]]))
    # 0.5 + x_1 + 2 y_2 + x_1 y_1 + 3 x_2 y_2 = 0.5 + 1 + 8 + 3 + 3 * 2 * 4
    torch.testing.assert_close(
        fusion(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])), torch.tensor([36.5])
    )


# --------------------------------------------------------------------------- LogarithmicTransformation


def test_logarithmic_transformation_shape_and_gradients():
    torch.manual_seed(0)
    layer = LogarithmicTransformation(4, n_neurons=6).train()
    e = torch.randn(8, 4, 3)
    assert layer(e).shape == (8, 6, 3)
    _assert_gradients_reach_every_parameter(layer, layer(e) * torch.randn(8, 6, 3))
    # Parameters: the powers (no bias) and the two batch norms.
    assert _n_parameters(layer) == 6 * 4 + 2 * 4 + 2 * 6


def test_logarithmic_transformation_is_a_product_of_powers():
    layer = LogarithmicTransformation(3, n_neurons=2, batch_norm=False).double()
    weight = torch.tensor([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]], dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(weight)
    generator = torch.Generator().manual_seed(0)
    e = torch.randn(5, 3, 4, generator=generator, dtype=torch.float64)
    out = layer(e)
    for j in range(2):
        expected = torch.ones(5, 4, dtype=torch.float64)
        for i in range(3):
            expected = expected * e[:, i].abs() ** weight[j, i]
        torch.testing.assert_close(out[:, j], expected)
    # Zeros are clamped at eps before the logarithm: 0 ** 1 * 2 ** 2 -> eps * 4.
    zero = torch.tensor([[[0.0], [2.0], [1.0]]], dtype=torch.float64)
    torch.testing.assert_close(layer(zero)[0, 0, 0].detach(), zero.new_tensor(1e-7 * 4.0))


# --------------------------------------------------------------------------- GeneralizedInteraction


def _gin_layer_by_definition(layer, x0, b):
    """b'_k = h_k^T (W_k * sum_ij alpha_ijk outer(x_i, b_j)), with explicit outer products."""
    batch, n_fields, dim = x0.shape
    out = torch.zeros(batch, layer.W.shape[0], dim, dtype=x0.dtype)
    for k in range(layer.W.shape[0]):
        fused = torch.zeros(batch, dim, dim, dtype=x0.dtype)
        for i in range(n_fields):
            for j in range(b.shape[1]):
                fused = fused + layer.alpha[i, j, k] * torch.einsum("br,be->bre", x0[:, i], b[:, j])
        out[:, k] = torch.einsum("r,bre->be", layer.h[k], layer.W[k] * fused)
    return out


def test_generalized_interaction_equals_its_definition():
    torch.manual_seed(0)
    layer = GeneralizedInteraction(3, input_subspaces=2, output_subspaces=4, embedding_dim=5).double()
    with torch.no_grad():
        for param in layer.parameters():
            param.normal_()
    x0 = torch.randn(6, 3, 5, dtype=torch.float64)
    b = torch.randn(6, 2, 5, dtype=torch.float64)
    out = layer(x0, b)
    assert out.shape == (6, 4, 5)
    torch.testing.assert_close(out, _gin_layer_by_definition(layer, x0, b))


def test_generalized_interaction_starts_as_elementwise_product():
    # W = I, h = 1, alpha = 1: every subspace is sum_ij x_i * b_j = (sum_i x_i) * (sum_j b_j).
    layer = GeneralizedInteraction(3, input_subspaces=2, output_subspaces=2, embedding_dim=2)
    x0 = torch.tensor([[[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]]])
    b = torch.tensor([[[1.0, -1.0], [2.0, 0.5]]])
    expected = torch.tensor([4.0, 3.0]) * torch.tensor([3.0, -0.5])
    torch.testing.assert_close(layer(x0, b), expected.expand(1, 2, 2))


def test_generalized_interaction_net_shape_gradients_and_parameters():
    torch.manual_seed(0)
    gin = GeneralizedInteractionNet(5, embedding_dim=4, num_layers=3, num_subspaces=2)
    x0 = torch.randn(7, 5, 4)
    assert gin(x0).shape == (7, 2, 4)
    _assert_gradients_reach_every_parameter(gin, gin(x0) * torch.randn(7, 2, 4))
    per_layer = 2 * 4 * 4 + 2 * 4  # W_k and h_k of each output subspace
    assert _n_parameters(gin) == 3 * per_layer + 5 * 5 * 2 + 2 * (5 * 2 * 2)


# --------------------------------------------------------------------------- modules

SPEC = FieldSpec(categorical_fields=("a", "b", "c"), cardinalities=(5, 3, 7), dense_features=("x", "y"))
K = 4
N_FIELDS = 5
EMBEDDING = (15 + 2) * K  # one vector per categorical index and per dense feature
HIDDEN = (8, 6)
STREAM1 = (N_FIELDS * K) * 8 + 8 + 8 * 6 + 6  # hidden layers only, no output layer
BN = 2 * (8 + 6)


def _mlp_parameters(input_dim, hidden, output_dim=None):
    total, width = 0, input_dim
    for units in hidden:
        total += width * units + units
        width = units
    return total + (width * output_dim + output_dim if output_dim else 0)


def _batch(n=16, seed=0):
    generator = torch.Generator().manual_seed(seed)
    codes = torch.stack([torch.randint(0, c, (n,), generator=generator) for c in SPEC.cardinalities], dim=1)
    dense = torch.randn(n, SPEC.n_dense, generator=generator)
    return codes, dense


def _finalmlp(**kwargs):
    params = dict(
        embedding_dim=K,
        hidden_units=HIDDEN,
        stream2_units=(10,),
        gate_units=(12,),
        num_heads=2,
    )
    return FinalMLPModule(SPEC, **{**params, **kwargs})


def _afn(**kwargs):
    params = dict(
        embedding_dim=K, hidden_units=HIDDEN, num_logarithmic_neurons=7, use_dnn=False, dnn_units=(9,)
    )
    return AFNModule(SPEC, **{**params, **kwargs})


def _aoanet(**kwargs):
    params = dict(embedding_dim=K, hidden_units=HIDDEN, num_interaction_layers=2, num_subspaces=3)
    return AOANetModule(SPEC, **{**params, **kwargs})


MODULE_OPTIONS = [
    (_finalmlp, {}),
    (_finalmlp, {"use_feature_gating": False}),
    (_finalmlp, {"num_heads": 1, "gate_units": ()}),
    (_finalmlp, {"batch_norm": True, "dropout": 0.1}),
    (_afn, {}),
    (_afn, {"use_dnn": True}),
    (_afn, {"use_dnn": True, "batch_norm": True, "dropout": 0.1}),
    (_aoanet, {}),
    (_aoanet, {"num_interaction_layers": 1, "num_subspaces": 1}),
    (_aoanet, {"num_interaction_layers": 3, "batch_norm": True, "dropout": 0.1}),
]


@pytest.mark.parametrize("build, options", MODULE_OPTIONS)
def test_module_output_shape_and_finite(build, options):
    torch.manual_seed(0)
    module = build(**options)
    codes, dense = _batch(n=9)
    for mode in (module.train, module.eval):
        mode()
        out = module(codes, dense)
        assert out.shape == (9,)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("build, options", MODULE_OPTIONS)
def test_module_gradients_reach_every_parameter(build, options):
    torch.manual_seed(0)
    module = build(**options).train()
    with torch.no_grad():  # vectors of a trained size, so high-order terms are not ~0
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    codes, dense = _batch(n=32)
    target = torch.randint(0, 2, (32,), generator=torch.Generator().manual_seed(1)).float()
    loss = nn.functional.binary_cross_entropy_with_logits(module(codes, dense), target)
    loss.backward()
    for name, param in module.named_parameters():
        assert param.grad is not None, name
        assert (param.grad != 0).any(), name


def test_finalmlp_parameter_count():
    flat = N_FIELDS * K
    gate = K + _mlp_parameters(K, (12,), output_dim=flat)  # context vector + gate MLP
    stream2 = _mlp_parameters(flat, (10,))
    fusion = 6 + 1 + 10 + 2 * (3 * 5)  # w_1, b, w_2 and 2 heads of (6/2) x (10/2) bilinear weights
    assert _n_parameters(_finalmlp()) == EMBEDDING + 2 * gate + STREAM1 + stream2 + fusion
    assert _n_parameters(_finalmlp(use_feature_gating=False)) == EMBEDDING + STREAM1 + stream2 + fusion
    with_bn = EMBEDDING + 2 * gate + STREAM1 + BN + stream2 + 2 * 10 + fusion
    assert _n_parameters(_finalmlp(batch_norm=True)) == with_bn


def test_afn_parameter_count():
    logarithmic = 7 * N_FIELDS + 2 * N_FIELDS + 2 * 7  # powers w_ji, batch norm in and out
    afn_mlp = _mlp_parameters(7 * K, HIDDEN, output_dim=1)
    assert _n_parameters(_afn()) == EMBEDDING + logarithmic + afn_mlp
    dnn = _mlp_parameters(N_FIELDS * K, (9,), output_dim=1)
    ensemble = 2 + 1  # w_AFN, w_DNN, b
    assert _n_parameters(_afn(use_dnn=True)) == EMBEDDING + logarithmic + afn_mlp + dnn + ensemble


def test_aoanet_parameter_count():
    s = 3
    first = s * K * K + s * K + N_FIELDS * N_FIELDS * s  # W_k, h_k, alpha over (field, field) pairs
    later = s * K * K + s * K + N_FIELDS * s * s  # alpha over (field, subspace) pairs
    output = (6 + s * K) + 1
    assert _n_parameters(_aoanet()) == EMBEDDING + STREAM1 + first + later + output
    assert _n_parameters(_aoanet(batch_norm=True)) == EMBEDDING + STREAM1 + BN + first + later + output


def test_afn_without_dnn_does_not_see_the_sign_of_dense_features():
    # The logarithm reads |x_k v_k|: flipping every dense value leaves plain AFN's logit
    # unchanged, which is why AFN+ (use_dnn=True) is the estimator's default.
    torch.manual_seed(0)
    codes, dense = _batch(n=6)
    afn = _afn().eval()
    torch.testing.assert_close(afn(codes, -dense), afn(codes, dense))
    afn_plus = _afn(use_dnn=True).eval()
    with torch.no_grad():
        afn_plus.embedding.dense_weight.normal_()
    assert not torch.allclose(afn_plus(codes, -dense), afn_plus(codes, dense))


def test_finalmlp_without_gating_feeds_both_streams_the_embeddings():
    torch.manual_seed(0)
    module = _finalmlp(use_feature_gating=False).eval()
    codes, dense = _batch(n=4)
    e = module.embedding(codes, dense).flatten(start_dim=1)
    expected = module.fusion(module.stream1(e), module.stream2(e))
    torch.testing.assert_close(module(codes, dense), expected)


# --------------------------------------------------------------------------- estimators

X_SMALL, Y_SMALL = make_ctr_classification(n_samples=200, n_sparse=3, n_dense=2, random_state=0)
TINY = {"embedding_dim": 4, "hidden_units": (8,), "batch_size": 64, "max_epochs": 1}


@pytest.mark.parametrize(
    "estimator_class, name, value",
    [
        (FinalMLPClassifier, "stream2_units", ()),
        (FinalMLPClassifier, "stream2_units", (4, 0)),
        (FinalMLPClassifier, "stream2_units", "64"),
        (FinalMLPClassifier, "gate_units", (-1,)),
        (FinalMLPClassifier, "gate_units", 8),
        (FinalMLPClassifier, "use_feature_gating", "yes"),
        (FinalMLPClassifier, "num_heads", 0),
        (FinalMLPClassifier, "num_heads", 1.5),
        (FinalMLPClassifier, "num_heads", 3),  # does not divide hidden_units[-1] = 8
        (AFNClassifier, "num_logarithmic_neurons", 0),
        (AFNClassifier, "num_logarithmic_neurons", 2.0),
        (AFNClassifier, "use_dnn", "no"),
        (AFNClassifier, "dnn_units", ()),
        (AFNClassifier, "dnn_units", (8, 2.5)),
        (AOANetClassifier, "num_interaction_layers", 0),
        (AOANetClassifier, "num_interaction_layers", "3"),
        (AOANetClassifier, "num_subspaces", 0),
        (AOANetClassifier, "num_subspaces", None),
    ],
)
def test_bad_parameter_value_raises_value_error_naming_it(estimator_class, name, value):
    params = {**TINY, "stream2_units": (8,)} if estimator_class is FinalMLPClassifier else TINY
    with pytest.raises(ValueError, match=name):
        estimator_class(**{**params, name: value}).fit(X_SMALL, Y_SMALL)


@pytest.mark.parametrize(
    "estimator_class, params",
    [
        (FinalMLPClassifier, {"stream2_units": (8,), "gate_units": ()}),
        (FinalMLPClassifier, {"stream2_units": (8,), "use_feature_gating": False, "num_heads": 4}),
        (AFNClassifier, {"num_logarithmic_neurons": 5, "dnn_units": (6,)}),
        (AFNClassifier, {"num_logarithmic_neurons": 5, "use_dnn": False}),
        (AOANetClassifier, {"num_interaction_layers": 1, "num_subspaces": 2}),
    ],
)
def test_estimator_options_fit_and_predict(estimator_class, params):
    model = estimator_class(**TINY, **params, random_state=0).fit(X_SMALL, Y_SMALL)
    proba = model.predict_proba(X_SMALL)
    assert proba.shape == (200, 2)
    assert torch.isfinite(torch.as_tensor(proba)).all()
