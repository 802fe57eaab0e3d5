"""DCN, DCN-V2 and MaskNet: their layers against hand computations, their modules and estimators."""

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_pangu import DCNClassifier, DCNV2Classifier, MaskNetClassifier
from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.models.ranking._dcn import DCNModule
from sklearn_pangu.models.ranking._dcnv2 import DCNV2Module
from sklearn_pangu.models.ranking._masknet import MaskNetModule
from sklearn_pangu.nn._cross import CrossLayer, CrossNetwork, LowRankMixtureCrossLayer, MatrixCrossLayer
from sklearn_pangu.nn._mask_block import InstanceGuidedMask, MaskBlock


def _assert_gradients_reach_every_parameter(module, output):
    output.sum().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None, name
        assert (param.grad != 0).any(), name


# --------------------------------------------------------------------------- cross layers


def test_cross_layer_hand_computed():
    layer = CrossLayer(3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.0, 0.0, -1.0]))
        layer.bias.copy_(torch.tensor([0.5, 0.0, -0.5]))
    x0 = torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])
    x = torch.tensor([[2.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    # row 0: x . w = 2 - 1 = 1 -> x0 * 1 + b + x = (1 + 0.5 + 2, 2 + 0 + 1, 3 - 0.5 + 1)
    # row 1: x . w = 1 - 1 = 0 -> b + x = (1.5, 1, 0.5)
    expected = torch.tensor([[3.5, 3.0, 3.5], [1.5, 1.0, 0.5]])
    out = layer(x0, x)
    assert out.shape == (2, 3)
    torch.testing.assert_close(out, expected)


def test_cross_layer_is_the_papers_outer_product_form():
    # x_{l+1} = x0 x_l^T w_l + b_l + x_l, with the d x d matrix x0 x_l^T built explicitly.
    generator = torch.Generator().manual_seed(0)
    x0, x = torch.randn(4, 5, generator=generator), torch.randn(4, 5, generator=generator)
    layer = CrossLayer(5).double()
    with torch.no_grad():
        layer.bias.normal_(generator=generator)
    x0, x = x0.double(), x.double()
    outer = x0.unsqueeze(2) * x.unsqueeze(1)  # (batch, d, d)
    expected = outer @ layer.weight + layer.bias + x
    torch.testing.assert_close(layer(x0, x), expected)


def test_matrix_cross_layer_hand_computed():
    layer = MatrixCrossLayer(2)
    with torch.no_grad():
        layer.linear.weight.copy_(torch.tensor([[1.0, 0.0], [2.0, 1.0]]))
        layer.linear.bias.copy_(torch.tensor([0.5, -0.5]))
    x0 = torch.tensor([[1.0, 2.0], [-1.0, 0.0]])
    x = torch.tensor([[3.0, -1.0], [1.0, 1.0]])
    # row 0: W x + b = (3 + 0.5, 6 - 1 - 0.5) = (3.5, 4.5); x0 * that + x = (3.5 + 3, 9 - 1)
    # row 1: W x + b = (1 + 0.5, 2 + 1 - 0.5) = (1.5, 2.5); x0 * that + x = (-1.5 + 1, 0 + 1)
    expected = torch.tensor([[6.5, 8.0], [-0.5, 1.0]])
    torch.testing.assert_close(layer(x0, x), expected)


def test_low_rank_mixture_equals_the_gated_sum_of_experts():
    torch.manual_seed(0)
    d, r, k = 6, 2, 3
    layer = LowRankMixtureCrossLayer(d, rank=r, num_experts=k).double()
    with torch.no_grad():
        layer.bias.normal_()
    x0, x = torch.randn(5, d, dtype=torch.float64), torch.randn(5, d, dtype=torch.float64)
    gates = torch.softmax(x @ layer.gate, dim=-1)
    expected = x.clone()
    for i in range(k):
        v, c, u = layer.down[:, i], layer.middle[i], layer.up[i].T  # V_i, C_i, U_i
        expert = x0 * (torch.tanh(torch.tanh(x @ v) @ c.T) @ u.T + layer.bias)
        expected = expected + gates[:, i : i + 1] * expert
    out = layer(x0, x)
    assert out.shape == (5, d)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize(
    "make_layer",
    [lambda: CrossLayer(6), lambda: MatrixCrossLayer(6), lambda: LowRankMixtureCrossLayer(6, 2, 3)],
    ids=["vector", "matrix", "low_rank_mixture"],
)
def test_cross_layers_shape_and_gradients(make_layer):
    torch.manual_seed(0)
    layer = make_layer()
    x0 = torch.randn(4, 6)
    out = layer(x0, layer(x0, x0))  # two applications, so that the bias reaches x . w too
    assert out.shape == (4, 6)
    _assert_gradients_reach_every_parameter(layer, out * torch.randn(4, 6))


def test_cross_network_chains_layers_on_the_same_x0():
    torch.manual_seed(0)
    layers = [CrossLayer(4), MatrixCrossLayer(4)]
    network = CrossNetwork(layers)
    x0 = torch.randn(3, 4)
    torch.testing.assert_close(network(x0), layers[1](x0, layers[0](x0, x0)))
    assert len(network.layers) == 2


def test_cross_network_degree_grows_by_one_per_layer():
    # With zero biases, scaling x0 by t scales the output of L vector layers by terms up to t^(L+1).
    torch.manual_seed(0)
    network = CrossNetwork(CrossLayer(3) for _ in range(2)).double()
    x0 = torch.randn(1, 3, dtype=torch.float64)
    ts = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    outputs = torch.stack([network(t * x0)[0, 0] for t in ts])
    vandermonde = torch.stack([ts**p for p in (1, 2, 3)], dim=1)
    coefficients = torch.linalg.lstsq(vandermonde, outputs.unsqueeze(1)).solution
    torch.testing.assert_close(vandermonde @ coefficients, outputs.unsqueeze(1))


# --------------------------------------------------------------------------- mask block


def test_instance_guided_mask_hand_computed():
    mask = InstanceGuidedMask(2, 1, reduction_ratio=2.0)
    assert (mask.aggregation.in_features, mask.aggregation.out_features) == (2, 2)
    assert (mask.projection.in_features, mask.projection.out_features) == (2, 1)
    with torch.no_grad():
        mask.aggregation.weight.copy_(torch.tensor([[1.0, 1.0], [1.0, -1.0]]))
        mask.aggregation.bias.copy_(torch.tensor([0.0, -1.0]))
        mask.projection.weight.copy_(torch.tensor([[2.0, 3.0]]))
        mask.projection.bias.copy_(torch.tensor([0.5]))
    v = torch.tensor([[1.0, 2.0], [3.0, 1.0]])
    # row 0: ReLU(3, -2) = (3, 0) -> 6 + 0.5; row 1: ReLU(4, 1) = (4, 1) -> 8 + 3 + 0.5
    torch.testing.assert_close(mask(v), torch.tensor([[6.5], [11.5]]))


def test_mask_block_is_relu_of_layer_norm_of_masked_hidden_layer():
    torch.manual_seed(0)
    block = MaskBlock(input_dim=6, mask_input_dim=10, output_dim=4, reduction_ratio=1.5)
    assert block.mask.aggregation.out_features == 9
    assert block.hidden.bias is None
    x, v = torch.randn(5, 6), torch.randn(5, 10)
    hidden = (block.mask(v) * x) @ block.hidden.weight.T
    expected = torch.relu(nn.functional.layer_norm(hidden, (4,), block.norm.weight, block.norm.bias))
    out = block(x, v)
    assert out.shape == (5, 4)
    torch.testing.assert_close(out, expected)


def test_mask_block_gradients_reach_every_parameter():
    torch.manual_seed(0)
    block = MaskBlock(input_dim=6, mask_input_dim=10, output_dim=4)
    with torch.no_grad():
        block.norm.bias.fill_(0.1)  # keep some units on both sides of the ReLU
    out = block(torch.randn(8, 6), torch.randn(8, 10))
    _assert_gradients_reach_every_parameter(block, out * torch.randn(8, 4))


# --------------------------------------------------------------------------- modules

SPEC = FieldSpec(categorical_fields=("a", "b", "c"), cardinalities=(5, 3, 7), dense_features=("x", "y"))
K = 4
HIDDEN = (8, 6)
D = SPEC.n_fields * K  # size of x0: 5 fields of 4


def _batch(n=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    codes = torch.stack([torch.randint(0, c, (n,), generator=generator) for c in SPEC.cardinalities], dim=1)
    dense = torch.randn(n, SPEC.n_dense, generator=generator)
    return codes, dense


VARIANTS = {
    "dcn": (DCNModule, {"num_cross_layers": 3}),
    "dcnv2_parallel": (DCNV2Module, {"num_cross_layers": 2, "structure": "parallel"}),
    "dcnv2_stacked": (DCNV2Module, {"num_cross_layers": 2, "structure": "stacked"}),
    "dcnv2_cross_only": (DCNV2Module, {"num_cross_layers": 2, "structure": "cross_only"}),
    "dcnv2_low_rank": (DCNV2Module, {"num_cross_layers": 2, "low_rank": 3, "num_experts": 2}),
    "dcnv2_low_rank_stacked": (
        DCNV2Module,
        {"num_cross_layers": 2, "structure": "stacked", "low_rank": 3, "num_experts": 2},
    ),
    "masknet_parallel": (MaskNetModule, {"structure": "parallel", "num_blocks": 3, "block_dim": 5}),
    "masknet_serial": (MaskNetModule, {"structure": "serial", "num_blocks": 3, "block_dim": 5}),
}


def _build(name, batch_norm=False, dropout=0.0):
    module_class, params = VARIANTS[name]
    return module_class(
        SPEC, embedding_dim=K, hidden_units=HIDDEN, dropout=dropout, batch_norm=batch_norm, **params
    )


@pytest.mark.parametrize("name", list(VARIANTS))
def test_module_output_shape_and_finite(name):
    torch.manual_seed(0)
    module = _build(name, batch_norm=True, dropout=0.1)
    codes, dense = _batch(n=9)
    for mode in (module.train, module.eval):
        mode()
        out = module(codes, dense)
        assert out.shape == (9,)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", list(VARIANTS))
def test_module_gradients_reach_every_parameter(name):
    torch.manual_seed(0)
    module = _build(name, batch_norm=True).train()
    with torch.no_grad():  # embeddings of a trained size, so that every product carries gradient
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    codes, dense = _batch()
    target = torch.randint(0, 2, (32,), generator=torch.Generator().manual_seed(1)).float()
    loss = nn.functional.binary_cross_entropy_with_logits(module(codes, dense), target)
    loss.backward()
    for param_name, param in module.named_parameters():
        assert param.grad is not None, param_name
        assert (param.grad != 0).any(), param_name


def test_modules_reject_unknown_structures():
    with pytest.raises(ValueError, match="structure"):
        DCNV2Module(SPEC, embedding_dim=K, hidden_units=HIDDEN, structure="diagonal")
    with pytest.raises(ValueError, match="structure"):
        MaskNetModule(SPEC, embedding_dim=K, hidden_units=HIDDEN, structure="both")


# Parameter counts: cardinalities 5 + 3 + 7 = 15, 2 dense features, k = 4, so x0 has d = 5 * 4 = 20.
EMBEDDING = (15 + 2) * K  # one vector per categorical index and per dense feature
BN = 2 * (8 + 6)  # BatchNorm1d weight and bias of each hidden layer


def _mlp(input_dim, hidden=HIDDEN):
    """Weights and biases of the hidden layers of an MLP, no output layer."""
    widths = (input_dim, *hidden)
    return sum(widths[i] * widths[i + 1] + widths[i + 1] for i in range(len(hidden)))


def _dcn_count(num_cross_layers, batch_norm):
    # DCN (Wang et al., 2017): cross layer l has w_l, b_l in R^d; the combination layer
    # maps [x_L1 (d), h_L2 (last hidden width)] to the logit with a weight and a bias.
    cross = num_cross_layers * 2 * D
    return EMBEDDING + cross + _mlp(D) + (BN if batch_norm else 0) + (D + HIDDEN[-1]) + 1


def _dcnv2_count(num_cross_layers, structure, low_rank=None, num_experts=1):
    if low_rank is None:
        per_layer = D * D + D  # W_l in R^{d x d}, b_l in R^d
    else:
        # per expert U, V in R^{d x r} and C in R^{r x r}; a gate vector per expert; b shared
        per_layer = num_experts * (2 * D * low_rank + low_rank * low_rank) + num_experts * D + D
    deep = 0 if structure == "cross_only" else _mlp(D)
    top = {"parallel": D + HIDDEN[-1], "stacked": HIDDEN[-1], "cross_only": D}[structure]
    return EMBEDDING + num_cross_layers * per_layer + deep + top + 1


def _mask_block_count(input_dim, block_dim, reduction_ratio=2.0):
    # instance-guided mask: V_emb (d) -> aggregation (r * input_dim) -> projection (input_dim),
    # then the bias-free hidden layer input_dim -> block_dim and its layer norm (gain and shift)
    aggregation = round(reduction_ratio * input_dim)
    mask = D * aggregation + aggregation + aggregation * input_dim + input_dim
    return mask + input_dim * block_dim + 2 * block_dim


def _masknet_count(structure, num_blocks, block_dim):
    layer_norm_embedding = 2 * K  # one LayerNorm over each field vector, shared by the fields
    if structure == "serial":
        blocks = _mask_block_count(D, block_dim) + (num_blocks - 1) * _mask_block_count(block_dim, block_dim)
        top = block_dim + 1
    else:
        blocks = num_blocks * _mask_block_count(D, block_dim)
        top = _mlp(num_blocks * block_dim) + HIDDEN[-1] + 1
    return EMBEDDING + layer_norm_embedding + blocks + top


@pytest.mark.parametrize(
    "name, batch_norm, expected",
    [
        ("dcn", False, _dcn_count(3, batch_norm=False)),
        ("dcn", True, _dcn_count(3, batch_norm=True)),
        ("dcnv2_parallel", False, _dcnv2_count(2, "parallel")),
        ("dcnv2_stacked", False, _dcnv2_count(2, "stacked")),
        ("dcnv2_cross_only", False, _dcnv2_count(2, "cross_only")),
        ("dcnv2_low_rank", False, _dcnv2_count(2, "parallel", low_rank=3, num_experts=2)),
        ("dcnv2_low_rank_stacked", False, _dcnv2_count(2, "stacked", low_rank=3, num_experts=2)),
        ("masknet_parallel", False, _masknet_count("parallel", 3, 5)),
        ("masknet_serial", False, _masknet_count("serial", 3, 5)),
    ],
)
def test_module_parameter_count(name, batch_norm, expected):
    module = _build(name, batch_norm=batch_norm)
    assert sum(p.numel() for p in module.parameters()) == expected


def test_parameter_count_formulas_by_hand():
    # The formulas above, written out once for the defaults of this file.
    assert _dcn_count(3, batch_norm=False) == 68 + 120 + (168 + 54) + 27
    assert _dcnv2_count(2, "parallel") == 68 + 2 * 420 + 222 + 27
    assert _dcnv2_count(2, "parallel", low_rank=3, num_experts=2) == 68 + 2 * (2 * 129 + 40 + 20) + 222 + 27
    # first block: mask 20 -> 40 -> 20 (840 + 820), hidden 20 x 5, layer norm 10
    assert _mask_block_count(D, 5) == 1660 + 100 + 10
    # later serial blocks: mask 20 -> 10 -> 5 (210 + 55), hidden 5 x 5, layer norm 10
    assert _mask_block_count(5, 5) == 265 + 25 + 10
    assert _masknet_count("serial", 3, 5) == 68 + 8 + 1770 + 2 * 300 + 6


# --------------------------------------------------------------------------- estimators


@pytest.fixture(scope="module")
def small_data():
    return make_ctr_classification(300, n_sparse=3, n_dense=2, max_cardinality=20, random_state=0)


@pytest.mark.parametrize(
    "estimator_class, param, value",
    [
        (DCNClassifier, "num_cross_layers", 0),
        (DCNClassifier, "num_cross_layers", 2.5),
        (DCNV2Classifier, "num_cross_layers", 0),
        (DCNV2Classifier, "structure", "diagonal"),
        (DCNV2Classifier, "low_rank", 0),
        (DCNV2Classifier, "low_rank", 4.0),
        (DCNV2Classifier, "num_experts", 0),
        (MaskNetClassifier, "structure", "both"),
        (MaskNetClassifier, "num_blocks", 0),
        (MaskNetClassifier, "block_dim", 0),
        (MaskNetClassifier, "reduction_ratio", 0.0),
        (MaskNetClassifier, "reduction_ratio", "2"),
    ],
)
def test_bad_parameter_raises_value_error_naming_it(small_data, estimator_class, param, value):
    X, y = small_data
    estimator = estimator_class(hidden_units=(8,), max_epochs=1, **{param: value})
    with pytest.raises(ValueError, match=param):
        estimator.fit(X, y)


@pytest.mark.parametrize(
    "estimator",
    [
        DCNClassifier(embedding_dim=4, hidden_units=(8,), num_cross_layers=1, max_epochs=2),
        DCNV2Classifier(embedding_dim=4, hidden_units=(8,), structure="cross_only", max_epochs=2),
        DCNV2Classifier(embedding_dim=4, hidden_units=(8,), low_rank=2, num_experts=2, max_epochs=2),
        MaskNetClassifier(embedding_dim=4, hidden_units=(8,), structure="serial", block_dim=4, max_epochs=2),
    ],
    ids=["dcn", "dcnv2_cross_only", "dcnv2_low_rank", "masknet_serial"],
)
def test_structural_options_fit_and_predict(small_data, estimator):
    X, y = small_data
    proba = estimator.set_params(random_state=0).fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
