"""AutoInt, CCPM and xDeepFM: their layers, modules and estimators."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.models.ranking._autoint import AutoIntModule
from sklearn_pangu.models.ranking._ccpm import CCPMModule, flexible_pooling_sizes
from sklearn_pangu.models.ranking._xdeepfm import XDeepFMModule
from sklearn_pangu.nn._cin import CompressedInteraction
from sklearn_pangu.nn._conv import KMaxPooling, RowWiseConvolution
from sklearn_pangu.nn._self_attention import MultiHeadSelfAttention
from sklearn_pangu.ranking._autoint import AutoIntClassifier
from sklearn_pangu.ranking._ccpm import CCPMClassifier
from sklearn_pangu.ranking._xdeepfm import XDeepFMClassifier


def _assert_gradients_reach_every_parameter(module, output):
    output.sum().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None, name
        assert (param.grad != 0).any(), name


# --------------------------------------------------------------------------- MultiHeadSelfAttention


def _attention_by_loops(layer, x):
    """Each head separately, from the projection matrices, as in the paper's equations 5-8."""
    out_dim = layer.output_dim
    w_query, w_key, w_value, *w_res = layer.projection.weight.split(out_dim)
    d = layer.attention_dim
    heads = []
    for h in range(layer.num_heads):
        rows = slice(h * d, (h + 1) * d)
        query, key, value = x @ w_query[rows].T, x @ w_key[rows].T, x @ w_value[rows].T
        scores = query @ key.transpose(1, 2)
        if layer.scaled:
            scores = scores / math.sqrt(d)
        heads.append(torch.softmax(scores, dim=-1) @ value)
    out = torch.cat(heads, dim=-1)
    if w_res:
        out = out + x @ w_res[0].T
    return torch.relu(out)


def test_self_attention_output_shape_and_gradients():
    torch.manual_seed(0)
    layer = MultiHeadSelfAttention(input_dim=4, attention_dim=3, num_heads=2)
    assert layer.output_dim == 6
    x = torch.randn(7, 5, 4)
    out = layer(x)
    assert out.shape == (7, 5, 6)
    _assert_gradients_reach_every_parameter(layer, out)


@pytest.mark.parametrize("use_residual", [True, False])
@pytest.mark.parametrize("scaled", [False, True])
def test_self_attention_equals_per_head_loops(use_residual, scaled):
    torch.manual_seed(0)
    layer = MultiHeadSelfAttention(4, 3, num_heads=3, use_residual=use_residual, scaled=scaled).double()
    x = torch.randn(6, 5, 4, dtype=torch.float64)
    torch.testing.assert_close(layer(x), _attention_by_loops(layer, x))


def test_self_attention_hand_computed():
    # One head of size 1 on scalar fields x = (1, 2): W_Q = W_K = W_V = W_Res = 1, so the score of
    # field m for field k is x_m * x_k and the output is ReLU(softmax_k(x_m x_k) . x + x_m).
    layer = MultiHeadSelfAttention(input_dim=1, attention_dim=1, num_heads=1)
    with torch.no_grad():
        layer.projection.weight.fill_(1.0)
    out = layer(torch.tensor([[[1.0], [2.0]]]))
    first = (math.exp(1) * 1 + math.exp(2) * 2) / (math.exp(1) + math.exp(2)) + 1
    second = (math.exp(2) * 1 + math.exp(4) * 2) / (math.exp(2) + math.exp(4)) + 2
    torch.testing.assert_close(out, torch.tensor([[[first], [second]]]))
    # Negative values are cut by the ReLU.
    with torch.no_grad():
        layer.projection.weight.fill_(-1.0)
    assert (layer(torch.tensor([[[1.0], [2.0]]])) == 0).all()


def test_self_attention_parameter_count():
    assert sum(p.numel() for p in MultiHeadSelfAttention(4, 3, 2).parameters()) == 4 * 4 * 6
    assert (
        sum(p.numel() for p in MultiHeadSelfAttention(4, 3, 2, use_residual=False).parameters()) == 3 * 4 * 6
    )


# --------------------------------------------------------------------------- CompressedInteraction


def _cin_by_loops(cin, x):
    """Equation 6 of the xDeepFM paper with explicit sums over maps and fields, then sum pooling."""
    batch, m, dim = x.shape
    hidden, pooled = x, []
    for k, weight in enumerate(cin.weights):
        units = weight.shape[0]
        maps = torch.zeros(batch, units, dim, dtype=x.dtype)
        for h in range(units):
            for i in range(hidden.shape[1]):
                for j in range(m):
                    maps[:, h] += weight[h, i * m + j] * hidden[:, i] * x[:, j]
        if cin.split_half and k < len(cin.weights) - 1:
            hidden, kept = maps[:, : units // 2], maps[:, units // 2 :]
        else:
            hidden, kept = maps, maps
        pooled.append(kept.sum(dim=2))
    return torch.cat(pooled, dim=1)


def test_cin_output_shape_and_gradients():
    torch.manual_seed(0)
    cin = CompressedInteraction(n_fields=5, layer_units=(8, 6, 4))
    assert cin.output_dim == 4 + 3 + 4
    out = cin(torch.randn(7, 5, 3))
    assert out.shape == (7, 11)
    _assert_gradients_reach_every_parameter(cin, out)
    assert CompressedInteraction(5, (8, 6, 4), split_half=False).output_dim == 18


# Units 2 (2 * 2 <= 5 fields) take the contract-the-fields-first path, larger ones the outer product.
@pytest.mark.parametrize("units", [(8, 6, 4), (2, 2, 3), (4, 12, 2)])
@pytest.mark.parametrize("split_half", [True, False])
def test_cin_equals_equation_6_by_loops(units, split_half):
    if split_half and any(u % 2 for u in units[:-1]):
        pytest.skip("odd units cannot be split")
    torch.manual_seed(0)
    cin = CompressedInteraction(5, units, split_half=split_half).double()
    x = torch.randn(4, 5, 3, dtype=torch.float64)
    torch.testing.assert_close(cin(x), _cin_by_loops(cin, x))


def test_cin_hand_computed():
    # Two scalar fields (a, b), one map: W . (a*a, a*b, b*a, b*b).
    cin = CompressedInteraction(n_fields=2, layer_units=(1,))
    with torch.no_grad():
        cin.weights[0].copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
    out = cin(torch.tensor([[[2.0], [3.0]], [[1.0], [-1.0]]]))
    torch.testing.assert_close(out, torch.tensor([[4.0 + 5 * 6.0 + 4 * 9.0], [1.0 - 5.0 + 4.0]]))


def test_cin_rejects_odd_units_when_splitting():
    with pytest.raises(ValueError, match="even"):
        CompressedInteraction(5, (3, 4))
    assert CompressedInteraction(5, (4, 3)).output_dim == 2 + 3  # the last layer may be odd
    assert CompressedInteraction(5, (3, 4), split_half=False).output_dim == 7


# --------------------------------------------------------------------------- RowWiseConvolution, KMaxPooling


def test_row_wise_convolution_shape_and_gradients():
    torch.manual_seed(0)
    conv = RowWiseConvolution(dim=4, in_maps=2, out_maps=3, kernel_width=3)
    out = conv(torch.randn(5, 4, 2, 6))  # (batch, dim, maps, length)
    assert out.shape == (5, 4, 3, 6 + 3 - 1)
    _assert_gradients_reach_every_parameter(conv, out)
    # A filter per embedding row and pair of maps, a bias per row and output map.
    assert sum(p.numel() for p in conv.parameters()) == 4 * 2 * 3 * 3 + 4 * 3


def test_row_wise_convolution_hand_computed():
    # One row, one map, width 2: the wide convolution of (x1, x2, x3) with filter (w0, w1) has
    # 3 + 2 - 1 positions, with zeros beyond both ends.
    conv = RowWiseConvolution(dim=1, in_maps=1, out_maps=1, kernel_width=2)
    with torch.no_grad():
        conv.conv.weight.copy_(torch.tensor([[[2.0, 3.0]]]))
        conv.conv.bias.fill_(0.5)
    out = conv(torch.tensor([[1.0, 10.0, 100.0]]).view(1, 1, 1, 3)).view(-1)
    expected = [3 * 1 + 0.5, 2 * 1 + 3 * 10 + 0.5, 2 * 10 + 3 * 100 + 0.5, 2 * 100 + 0.5]
    torch.testing.assert_close(out, torch.tensor(expected))


def test_row_wise_convolution_keeps_embedding_rows_apart():
    torch.manual_seed(0)
    conv = RowWiseConvolution(dim=3, in_maps=2, out_maps=2, kernel_width=2)
    x = torch.randn(4, 3, 2, 5)
    changed = x.clone()
    changed[:, 1] += 1.0  # change embedding row 1 only
    out, out_changed = conv(x), conv(changed)
    torch.testing.assert_close(out[:, [0, 2]], out_changed[:, [0, 2]])
    assert not torch.allclose(out[:, 1], out_changed[:, 1])


@pytest.mark.parametrize("length, kernel_width", [(1, 3), (5, 2), (10, 6), (39, 5)])
def test_row_wise_convolution_banded_product_equals_the_grouped_conv1d(length, kernel_width):
    torch.manual_seed(0)
    banded = RowWiseConvolution(dim=4, in_maps=2, out_maps=3, kernel_width=kernel_width).double()
    grouped = copy.deepcopy(banded)
    grouped.max_toeplitz_length = 0  # every input through the grouped conv1d
    x = torch.randn(5, 4, 2, length, dtype=torch.float64, requires_grad=True)
    x_copy = x.detach().clone().requires_grad_()
    out, expected = banded(x), grouped(x_copy)
    torch.testing.assert_close(out, expected)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(x.grad, x_copy.grad)
    for parameter, twin in zip(banded.parameters(), grouped.parameters(), strict=True):
        torch.testing.assert_close(parameter.grad, twin.grad)


@pytest.mark.parametrize("k", [1, 3, 4, 5, 6])
def test_k_max_pooling_equals_the_sorted_top_k(k):
    torch.manual_seed(0)
    x = torch.randn(3, 4, 7, 2)
    expected = x.gather(2, x.topk(k, dim=2).indices.sort(dim=2).values)
    torch.testing.assert_close(KMaxPooling(k=k, dim=2)(x), expected)


def test_k_max_pooling_keeps_order_and_routes_gradients():
    x = torch.tensor([[3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0]], requires_grad=True)
    out = KMaxPooling(k=3)(x)
    torch.testing.assert_close(out, torch.tensor([[4.0, 5.0, 9.0]]))
    out.sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([[0.0, 0, 1, 0, 1, 1, 0]]))
    maps = torch.randn(2, 3, 6, 4)
    pooled = KMaxPooling(k=2, dim=2)(maps)
    assert pooled.shape == (2, 3, 2, 4)
    torch.testing.assert_close(KMaxPooling(k=6, dim=2)(maps), maps)
    torch.testing.assert_close(KMaxPooling(k=4)(maps), maps)


@pytest.mark.parametrize(
    "n_fields, n_layers, expected",
    [
        (39, 3, [34, 13, 3]),
        (39, 2, [19, 3]),
        (8, 3, [7, 2, 3]),
        (10, 4, [9, 7, 2, 3]),
        (2, 1, [2]),
        (1, 3, [1, 1, 1]),
    ],
)
def test_flexible_pooling_sizes(n_fields, n_layers, expected):
    # p_i = floor((1 - (i / l) ** (l - i)) * n), at least 1; p_l = min(3, n).
    assert flexible_pooling_sizes(n_fields, n_layers) == expected


# --------------------------------------------------------------------------- modules

SPEC = FieldSpec(categorical_fields=("a", "b", "c"), cardinalities=(5, 3, 7), dense_features=("x", "y"))
K = 4
HIDDEN = (8, 6)
N_FIELDS = 5


def _batch(n=16, seed=0):
    generator = torch.Generator().manual_seed(seed)
    codes = torch.stack([torch.randint(0, c, (n,), generator=generator) for c in SPEC.cardinalities], dim=1)
    return codes, torch.randn(n, SPEC.n_dense, generator=generator)


def _count(module):
    return sum(p.numel() for p in module.parameters())


MODULES = {
    "autoint": lambda **kw: AutoIntModule(SPEC, embedding_dim=K, hidden_units=HIDDEN, **kw),
    "autoint_plus": lambda **kw: AutoIntModule(
        SPEC, embedding_dim=K, hidden_units=HIDDEN, use_dnn=True, **kw
    ),
    "autoint_no_residual": lambda **kw: AutoIntModule(SPEC, embedding_dim=K, use_residual=False, **kw),
    "xdeepfm": lambda **kw: XDeepFMModule(SPEC, embedding_dim=K, hidden_units=HIDDEN, **kw),
    "xdeepfm_no_split": lambda **kw: XDeepFMModule(
        SPEC, embedding_dim=K, hidden_units=HIDDEN, cin_units=(3, 5), cin_split_half=False, **kw
    ),
    "ccpm": lambda **kw: CCPMModule(SPEC, embedding_dim=K, **kw),
    "ccpm_one_layer": lambda **kw: CCPMModule(
        SPEC, embedding_dim=K, conv_kernel_widths=(2,), conv_filters=(3,)
    ),
    "ccpm_deep": lambda **kw: CCPMModule(
        SPEC, embedding_dim=K, conv_kernel_widths=(1, 2, 3, 2, 1), conv_filters=(2, 3, 2, 3, 2)
    ),
}


@pytest.mark.parametrize("name", MODULES)
def test_module_output_shape_finite_and_gradients(name):
    torch.manual_seed(0)
    module = MODULES[name]()
    codes, dense = _batch()
    for mode in (module.eval, module.train):
        mode()
        out = module(codes, dense)
        assert out.shape == (16,)
        assert torch.isfinite(out).all()
    target = torch.randint(0, 2, (16,), generator=torch.Generator().manual_seed(1)).float()
    nn.functional.binary_cross_entropy_with_logits(out, target).backward()
    for param_name, param in module.named_parameters():
        assert param.grad is not None, param_name
        assert (param.grad != 0).any(), param_name


@pytest.mark.parametrize(
    "spec",
    [
        FieldSpec(("a",), (4,), ()),
        FieldSpec((), (), ("x", "y")),
        FieldSpec(("a", "b"), (4, 2), ("x",)),
    ],
    ids=["one_field", "dense_only", "three_fields"],
)
@pytest.mark.parametrize("module_class", [AutoIntModule, XDeepFMModule, CCPMModule])
def test_modules_handle_few_fields(spec, module_class):
    kwargs = {"embedding_dim": 3}
    if module_class is not CCPMModule:
        kwargs["hidden_units"] = (4,)
    module = module_class(spec, **kwargs).eval()
    codes = torch.zeros(5, spec.n_categorical, dtype=torch.long)
    out = module(codes, torch.randn(5, spec.n_dense))
    assert out.shape == (5,) and torch.isfinite(out).all()


# Cardinalities 5 + 3 + 7 = 15, 2 dense features, so n = 5 fields; embedding_dim K = 4.
EMBEDDING = (15 + 2) * K
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias
MLP = (N_FIELDS * K) * 8 + 8 + 8 * 6 + 6 + 6 * 1 + 1  # MLP 20 -> 8 -> 6 -> 1


def _autoint_count(layers, heads, d, residual=True, dnn=False):
    # W_Query, W_Key, W_Value (and W_Res) of every interacting layer map the previous width to H * d';
    # the output layer reads the n * H * d' features of the last layer.
    projections = 4 if residual else 3
    width, attention = K, 0
    for _ in range(layers):
        attention += projections * width * heads * d
        width = heads * d
    return EMBEDDING + attention + (N_FIELDS * width + 1) + (MLP if dnn else 0)


def _xdeepfm_count(units, split_half=True):
    # CIN (Eq. 6): layer k has H_k x H_{k-1} x m weights, H_0 = m, H_{k-1} halved when split;
    # w_cin (Eq. 9) reads the pooled maps; the output bias is the linear part's.
    cin, previous, pooled = 0, N_FIELDS, 0
    for k, h in enumerate(units):
        cin += h * previous * N_FIELDS
        split = split_half and k < len(units) - 1
        previous = h // 2 if split else h
        pooled += h - previous if split else h
    return LINEAR + EMBEDDING + cin + pooled + MLP


def _ccpm_count(widths, filters):
    # Convolution i: a width-w_i filter per embedding row and pair of maps, a bias per row and map;
    # output layer: a weight per value of the last p_l x d x c_l maps, plus a bias.
    convolutions, maps = 0, 1
    for width, out_maps in zip(widths, filters):
        convolutions += K * maps * out_maps * width + K * out_maps
        maps = out_maps
    p_last = flexible_pooling_sizes(N_FIELDS, len(widths))[-1]
    return EMBEDDING + convolutions + maps * p_last * K + 1


@pytest.mark.parametrize(
    "module, expected",
    [
        (
            AutoIntModule(
                SPEC,
                embedding_dim=K,
                hidden_units=HIDDEN,
                num_attention_layers=2,
                num_heads=2,
                attention_dim=3,
            ),
            _autoint_count(2, 2, 3),
        ),
        (
            AutoIntModule(
                SPEC,
                embedding_dim=K,
                num_attention_layers=3,
                num_heads=1,
                attention_dim=5,
                use_residual=False,
            ),
            _autoint_count(3, 1, 5, residual=False),
        ),
        (
            AutoIntModule(
                SPEC,
                embedding_dim=K,
                hidden_units=HIDDEN,
                num_attention_layers=1,
                attention_dim=2,
                use_dnn=True,
            ),
            _autoint_count(1, 2, 2, dnn=True),
        ),
        (
            XDeepFMModule(SPEC, embedding_dim=K, hidden_units=HIDDEN, cin_units=(4, 6, 3)),
            _xdeepfm_count((4, 6, 3)),
        ),
        (
            XDeepFMModule(SPEC, embedding_dim=K, hidden_units=HIDDEN, cin_units=(3, 5), cin_split_half=False),
            _xdeepfm_count((3, 5), split_half=False),
        ),
        (
            CCPMModule(SPEC, embedding_dim=K, conv_kernel_widths=(3, 2), conv_filters=(2, 3)),
            _ccpm_count((3, 2), (2, 3)),
        ),
        (CCPMModule(SPEC, embedding_dim=K), _ccpm_count((6, 5, 3), (4, 4, 4))),
    ],
    ids=[
        "autoint",
        "autoint_no_residual",
        "autoint_plus",
        "xdeepfm",
        "xdeepfm_no_split",
        "ccpm",
        "ccpm_default",
    ],
)
def test_module_parameter_count(module, expected):
    assert _count(module) == expected


def test_parameter_count_formulas_by_hand():
    # The formulas above, written out once for the first configurations.
    assert _autoint_count(2, 2, 3) == 68 + (4 * 4 * 6 + 4 * 6 * 6) + (5 * 6 + 1)
    assert _xdeepfm_count((4, 6, 3)) == 18 + 68 + (4 * 5 * 5 + 6 * 2 * 5 + 3 * 3 * 5) + (2 + 3 + 3) + MLP
    # CCPM on 5 fields with 2 layers: p = (floor(5 / 2), 3) = (2, 3).
    assert _ccpm_count((3, 2), (2, 3)) == 68 + (4 * 1 * 2 * 3 + 4 * 2) + (4 * 2 * 3 * 2 + 4 * 3) + (
        3 * 3 * 4 + 1
    )


def test_ccpm_module_pools_to_flexible_sizes():
    module = CCPMModule(SPEC, embedding_dim=K, conv_kernel_widths=(2, 2, 3), conv_filters=(2, 2, 2))
    pools = [m.k for m in module.convolutions if isinstance(m, KMaxPooling)]
    assert pools == flexible_pooling_sizes(N_FIELDS, 3) == [4, 1, 3]
    assert [type(m) for m in module.convolutions] == [RowWiseConvolution, KMaxPooling, nn.Tanh] * 3
    # A last convolution with fewer than 3 positions (1 + 2 - 1) keeps them all.
    short = CCPMModule(SPEC, embedding_dim=K, conv_kernel_widths=(2, 2, 2), conv_filters=(2, 2, 2))
    assert [m.k for m in short.convolutions if isinstance(m, KMaxPooling)] == [4, 1, 2]


def test_autoint_without_dnn_has_no_deep_component():
    assert AutoIntModule(SPEC, embedding_dim=K).deep is None
    assert AutoIntModule(SPEC, embedding_dim=K, use_dnn=True, hidden_units=HIDDEN).deep is not None


# --------------------------------------------------------------------------- estimators

X_SMALL, Y_SMALL = make_ctr_classification(n_samples=300, n_sparse=3, n_dense=2, random_state=0)
TINY = {"embedding_dim": 4, "batch_size": 64, "max_epochs": 1, "random_state": 0}


@pytest.mark.parametrize(
    "estimator_class, name, value",
    [
        (AutoIntClassifier, "num_attention_layers", 0),
        (AutoIntClassifier, "num_attention_layers", 1.5),
        (AutoIntClassifier, "num_heads", 0),
        (AutoIntClassifier, "num_heads", "2"),
        (AutoIntClassifier, "attention_dim", 0),
        (AutoIntClassifier, "attention_dim", None),
        (AutoIntClassifier, "use_residual", "yes"),
        (AutoIntClassifier, "use_dnn", 1.0),
        (AutoIntClassifier, "hidden_units", ()),
        (CCPMClassifier, "conv_kernel_widths", ()),
        (CCPMClassifier, "conv_kernel_widths", (3, 0)),
        (CCPMClassifier, "conv_kernel_widths", 3),
        (CCPMClassifier, "conv_kernel_widths", (3,)),  # length differs from conv_filters
        (CCPMClassifier, "conv_filters", (4, 2.5, 4)),
        (CCPMClassifier, "conv_filters", ()),
        (CCPMClassifier, "conv_filters", "444"),
        (XDeepFMClassifier, "cin_units", ()),
        (XDeepFMClassifier, "cin_units", (8, -1)),
        (XDeepFMClassifier, "cin_units", (7, 8)),  # odd map count fed on with split-half
        (XDeepFMClassifier, "cin_units", 16),
        (XDeepFMClassifier, "cin_split_half", "no"),
    ],
)
def test_bad_parameter_is_a_value_error_naming_it(estimator_class, name, value):
    with pytest.raises(ValueError, match=name):
        estimator_class(**TINY, **{name: value}).fit(X_SMALL, Y_SMALL)


def test_odd_cin_units_are_fine_without_split_half():
    model = XDeepFMClassifier(**TINY, hidden_units=(8,), cin_units=(7, 5), cin_split_half=False)
    assert model.fit(X_SMALL, Y_SMALL).predict_proba(X_SMALL).shape == (300, 2)


@pytest.mark.parametrize(
    "estimator",
    [
        AutoIntClassifier(**TINY, num_attention_layers=2, attention_dim=4, num_heads=1, use_residual=False),
        AutoIntClassifier(**TINY, num_attention_layers=1, attention_dim=4, hidden_units=(8,), use_dnn=True),
        XDeepFMClassifier(**TINY, hidden_units=(8,), cin_units=(4, 3), cin_split_half=True),
        CCPMClassifier(**TINY, conv_kernel_widths=(2,), conv_filters=(3,)),
        CCPMClassifier(**TINY, conv_kernel_widths=(7, 5, 3, 1), conv_filters=(2, 2, 2, 2)),
    ],
    ids=["autoint_no_residual", "autoint_plus", "xdeepfm", "ccpm_one_layer", "ccpm_wide_kernels"],
)
def test_structural_options_fit_and_predict(estimator):
    proba = estimator.fit(X_SMALL, Y_SMALL).predict_proba(X_SMALL)
    assert proba.shape == (300, 2)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
