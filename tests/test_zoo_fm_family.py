"""NFM, AFM and FiBiNET: their layers, modules and estimators."""

import pytest
import torch
from torch import nn

from sklearn_pangu import AFMClassifier, FiBiNetClassifier, NFMClassifier
from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.models.ranking import FMModule
from sklearn_pangu.models.ranking._afm import AFMModule
from sklearn_pangu.models.ranking._fibinet import FiBiNetModule
from sklearn_pangu.models.ranking._nfm import NFMModule
from sklearn_pangu.nn import FactorizationMachine
from sklearn_pangu.nn._attention_pooling import AttentionPooling
from sklearn_pangu.nn._bilinear import BILINEAR_TYPES, BilinearInteraction
from sklearn_pangu.nn._interaction import BiInteractionPooling
from sklearn_pangu.nn._pairs import PairwiseProduct, field_pairs
from sklearn_pangu.nn._senet import SqueezeExcitation


def _random(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _assert_gradients_reach(module: nn.Module, loss: torch.Tensor) -> None:
    loss.backward()
    for name, param in module.named_parameters():
        if param.numel() == 0:  # e.g. the dense vectors of an embedding that embeds no dense feature
            continue
        assert param.grad is not None, name
        assert (param.grad != 0).any(), name


# --------------------------------------------------------------------------- field pairs


def test_field_pairs_are_all_i_less_than_j_in_row_major_order():
    rows, cols = field_pairs(5)
    expected = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    assert list(zip(rows.tolist(), cols.tolist())) == expected
    assert rows.dtype == torch.long and cols.dtype == torch.long
    for n in (0, 1):
        rows, cols = field_pairs(n)
        assert rows.numel() == 0 and cols.numel() == 0


def test_pairwise_product_hand_computed_and_against_a_loop():
    e = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    expected = torch.tensor([[[3.0, 8.0], [5.0, 12.0], [15.0, 24.0]]])
    torch.testing.assert_close(PairwiseProduct(3)(e), expected)
    e = _random(4, 6, 3)
    layer = PairwiseProduct(6)
    out = layer(e)
    assert out.shape == (4, 15, 3) and layer.n_pairs == 15
    loop = torch.stack([e[:, i] * e[:, j] for i in range(6) for j in range(i + 1, 6)], dim=1)
    torch.testing.assert_close(out, loop)


def test_pairwise_product_gradient_reaches_the_input():
    e = _random(3, 4, 2).requires_grad_()
    PairwiseProduct(4)(e).sum().backward()
    assert e.grad is not None and (e.grad != 0).any()


# --------------------------------------------------------------------------- BiInteractionPooling


def test_bi_interaction_pooling_hand_computed():
    e = torch.tensor(
        [
            [[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]],  # (0 + 2 + 0, 0 + 0 + 3)
            [[1.0, 1.0], [-1.0, 2.0], [0.0, 0.0]],  # (-1, 2)
        ]
    )
    torch.testing.assert_close(BiInteractionPooling()(e), torch.tensor([[2.0, 3.0], [-1.0, 2.0]]))


def test_bi_interaction_pooling_equals_sum_of_pairwise_products():
    e = _random(7, 5, 3)
    out = BiInteractionPooling()(e)
    assert out.shape == (7, 3)
    torch.testing.assert_close(out, PairwiseProduct(5)(e).sum(dim=1))


def test_factorization_machine_is_the_sum_of_the_bi_interaction_vector():
    e = _random(6, 4, 3)
    torch.testing.assert_close(FactorizationMachine()(e), BiInteractionPooling()(e).sum(dim=1))
    assert list(FactorizationMachine().parameters()) == []


def test_bi_interaction_pooling_gradient_reaches_the_input():
    e = _random(3, 4, 2).requires_grad_()
    BiInteractionPooling()(e).sum().backward()
    assert e.grad is not None and (e.grad != 0).any()


# --------------------------------------------------------------------------- AttentionPooling


def test_attention_pooling_shape_and_weights_sum_to_one():
    torch.manual_seed(0)
    pooling = AttentionPooling(input_dim=4, attention_dim=3)
    x = torch.randn(5, 7, 4)
    assert pooling(x).shape == (5, 4)
    weights = pooling.attention_weights(x)
    assert weights.shape == (5, 7)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(5))
    assert sum(p.numel() for p in pooling.parameters()) == 4 * 3 + 3 + 3  # W, b, h


def test_attention_pooling_hand_computed():
    pooling = AttentionPooling(input_dim=2, attention_dim=2)
    with torch.no_grad():
        pooling.hidden.weight.copy_(torch.eye(2))
        pooling.hidden.bias.zero_()
        pooling.score.weight.copy_(torch.tensor([[1.0, 0.0]]))
    # scores relu(x_0): log 3 and 0 -> weights 3/4 and 1/4.
    log3 = float(torch.log(torch.tensor(3.0)))
    x = torch.tensor([[[log3, 1.0], [-2.0, 5.0]]])
    torch.testing.assert_close(pooling.attention_weights(x), torch.tensor([[0.75, 0.25]]))
    expected = 0.75 * x[0, 0] + 0.25 * x[0, 1]
    torch.testing.assert_close(pooling(x), expected[None])


def test_attention_pooling_with_zero_scores_is_the_mean():
    pooling = AttentionPooling(input_dim=3, attention_dim=4)
    with torch.no_grad():
        pooling.score.weight.zero_()
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(pooling(x), x.mean(dim=1))


def test_attention_pooling_gradients_reach_every_parameter():
    torch.manual_seed(0)
    pooling = AttentionPooling(input_dim=4, attention_dim=3)
    x = torch.randn(8, 6, 4)
    _assert_gradients_reach(pooling, (pooling(x) * torch.randn(4)).sum())


# --------------------------------------------------------------------------- SqueezeExcitation


def test_squeeze_excitation_shape_and_bottleneck_size():
    layer = SqueezeExcitation(n_fields=7, reduction_ratio=3)
    assert layer(torch.randn(4, 7, 5)).shape == (4, 7, 5)
    assert layer.excitation[0].weight.shape == (2, 7) and layer.excitation[2].weight.shape == (7, 2)
    assert layer.excitation[0].bias is None and layer.excitation[2].bias is None
    assert SqueezeExcitation(n_fields=2, reduction_ratio=3).excitation[0].weight.shape == (1, 2)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_squeeze_excitation_hand_computed(activation):
    layer = SqueezeExcitation(n_fields=3, reduction_ratio=3, excitation_activation=activation)
    with torch.no_grad():
        layer.excitation[0].weight.copy_(torch.tensor([[1.0, 1.0, 1.0]]))
        layer.excitation[2].weight.copy_(torch.tensor([[1.0], [0.5], [-1.0]]))
    e = torch.tensor([[[1.0, 3.0], [2.0, 4.0], [0.0, 6.0]]])
    # z = (2, 3, 3); hidden = relu(8) = 8; a = act(8, 4, -8)
    pre = torch.tensor([8.0, 4.0, -8.0])
    a = torch.relu(pre) if activation == "relu" else torch.sigmoid(pre)
    torch.testing.assert_close(layer.field_weights(e), a[None])
    torch.testing.assert_close(layer(e), e * a[None, :, None])


def test_squeeze_excitation_gradients_reach_every_parameter():
    torch.manual_seed(0)
    layer = SqueezeExcitation(n_fields=6, reduction_ratio=2, excitation_activation="sigmoid")
    _assert_gradients_reach(layer, (layer(torch.randn(16, 6, 3)) * torch.randn(3)).sum())


def test_squeeze_excitation_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="excitation_activation"):
        SqueezeExcitation(4, excitation_activation="tanh")


# --------------------------------------------------------------------------- BilinearInteraction


@pytest.mark.parametrize(
    "bilinear_type, n_matrices", [("field_all", 1), ("field_each", 4), ("field_interaction", 10)]
)
def test_bilinear_interaction_shape_and_parameter_count(bilinear_type, n_matrices):
    layer = BilinearInteraction(n_fields=5, embedding_dim=3, bilinear_type=bilinear_type)
    assert layer(torch.randn(2, 5, 3)).shape == (2, 10, 3)
    assert layer.n_pairs == 10
    assert sum(p.numel() for p in layer.parameters()) == n_matrices * 3 * 3


@pytest.mark.parametrize("bilinear_type", BILINEAR_TYPES)
def test_bilinear_interaction_against_a_loop_over_pairs(bilinear_type):
    layer = BilinearInteraction(n_fields=4, embedding_dim=3, bilinear_type=bilinear_type).double()
    e = _random(5, 4, 3)
    W = layer.weight.detach()
    expected = []
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    for p, (i, j) in enumerate(pairs):
        index = {"field_all": 0, "field_each": i, "field_interaction": p}[bilinear_type]
        matrix = W[index]
        expected.append((e[:, i] @ matrix) * e[:, j])
    torch.testing.assert_close(layer(e), torch.stack(expected, dim=1))


def test_bilinear_interaction_hand_computed():
    layer = BilinearInteraction(n_fields=2, embedding_dim=2, bilinear_type="field_all")
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[1.0, 2.0], [0.0, 1.0]]]))
    e = torch.tensor([[[1.0, 1.0], [3.0, 5.0]]])
    # e_0 W = (1, 3); times e_1 = (3, 15)
    torch.testing.assert_close(layer(e), torch.tensor([[[3.0, 15.0]]]))
    with torch.no_grad():
        layer.weight.copy_(torch.eye(2)[None])
    e = torch.randn(3, 2, 2)
    torch.testing.assert_close(layer(e), PairwiseProduct(2)(e))


@pytest.mark.parametrize("bilinear_type", BILINEAR_TYPES)
def test_bilinear_interaction_gradients_reach_every_parameter(bilinear_type):
    torch.manual_seed(0)
    layer = BilinearInteraction(n_fields=4, embedding_dim=3, bilinear_type=bilinear_type)
    _assert_gradients_reach(layer, (layer(torch.randn(8, 4, 3)) * torch.randn(3)).sum())


def test_bilinear_interaction_rejects_an_unknown_type():
    with pytest.raises(ValueError, match="bilinear_type"):
        BilinearInteraction(4, 3, bilinear_type="interaction")


# --------------------------------------------------------------------------- modules


SPEC = FieldSpec(categorical_fields=("a", "b", "c"), cardinalities=(5, 3, 7), dense_features=("x", "y"))
K = 4
HIDDEN = (8, 6)
T = 3  # AFM attention_dim


def _build(name, batch_norm=False, dropout=0.0, **kwargs):
    if name == "afm":
        return AFMModule(SPEC, embedding_dim=K, attention_dim=T, dropout=dropout, **kwargs)
    deep = {"embedding_dim": K, "hidden_units": HIDDEN, "batch_norm": batch_norm, "dropout": dropout}
    return {"nfm": NFMModule, "fibinet": FiBiNetModule}[name](SPEC, **deep, **kwargs)


def _batch(n=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    codes = torch.stack([torch.randint(0, c, (n,), generator=generator) for c in SPEC.cardinalities], dim=1)
    dense = torch.randn(n, SPEC.n_dense, generator=generator)
    target = torch.randint(0, 2, (n,), generator=generator).float()
    return codes, dense, target


def _unit_embeddings(module):
    """Give the embedding vectors unit scale so every path carries a visible gradient."""
    with torch.no_grad():
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    return module


MODULE_CASES = [
    ("nfm", {}),
    ("afm", {}),
    ("fibinet", {"bilinear_type": "field_all"}),
    ("fibinet", {"bilinear_type": "field_each"}),
    ("fibinet", {"bilinear_type": "field_interaction", "reduction_ratio": 2}),
]


@pytest.mark.parametrize("name, kwargs", MODULE_CASES)
def test_module_output_shape_and_finite(name, kwargs):
    torch.manual_seed(0)
    module = _build(name, batch_norm=True, dropout=0.1, **kwargs)
    codes, dense, _ = _batch(n=9)
    for mode in (module.train, module.eval):
        mode()
        out = module(codes, dense)
        assert out.shape == (9,)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("name, kwargs", MODULE_CASES)
def test_module_gradients_reach_every_parameter(name, kwargs, batch_norm):
    torch.manual_seed(0)
    module = _unit_embeddings(_build(name, batch_norm=batch_norm, **kwargs)).train()
    codes, dense, target = _batch()
    loss = nn.functional.binary_cross_entropy_with_logits(module(codes, dense), target)
    _assert_gradients_reach(module, loss)


def test_modules_with_a_single_field_have_no_pairs_and_still_run():
    spec = FieldSpec(categorical_fields=("a",), cardinalities=(4,))
    codes, dense = torch.tensor([[1], [3]]), torch.zeros(2, 0)
    for module in (
        NFMModule(spec, embedding_dim=K, hidden_units=HIDDEN),
        AFMModule(spec, embedding_dim=K, attention_dim=T),
        FiBiNetModule(spec, embedding_dim=K, hidden_units=HIDDEN, bilinear_type="field_each"),
    ):
        out = module.eval()(codes, dense)
        assert out.shape == (2,) and torch.isfinite(out).all()


# Cardinalities 5 + 3 + 7 = 15, 2 dense features: n = 5 fields, 10 pairs; k = 4; MLP 8 -> 6 -> 1.
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias
EMBEDDING = (15 + 2) * 4  # a k-vector per categorical index and dense feature
N_FIELDS, N_PAIRS = 5, 10
HIDDEN_BN = 2 * (8 + 6)  # BatchNorm1d weight and bias of each hidden layer


def _mlp(input_dim):
    return input_dim * 8 + 8 + 8 * 6 + 6 + 6 * 1 + 1


# NFM: the MLP reads the k-dim Bi-Interaction vector, batch-normalized when batch_norm=True.
NFM = LINEAR + EMBEDDING + _mlp(K)
# AFM: attention network W (t x k), b (t), h (t), and the projection p (k); no MLP.
AFM = LINEAR + EMBEDDING + (T * K + T + T) + K
# FiBiNET: SENET W_1 (n x n/r) and W_2 (n/r x n) with n/r = max(1, 5 // 3) = 1, two bilinear
# layers (original and SENET embeddings), an MLP over the 2 * n_pairs * k combination.
SENET = N_FIELDS * 1 + 1 * N_FIELDS
BILINEAR = {"field_all": K * K, "field_each": (N_FIELDS - 1) * K * K, "field_interaction": N_PAIRS * K * K}
FIBINET_MLP = _mlp(2 * N_PAIRS * K)


@pytest.mark.parametrize(
    "name, batch_norm, kwargs, expected",
    [
        ("nfm", False, {}, NFM),
        ("nfm", True, {}, NFM + 2 * K + HIDDEN_BN),
        ("afm", False, {}, AFM),
        *[
            ("fibinet", batch_norm, {"bilinear_type": kind}, expected)
            for kind in BILINEAR_TYPES
            for batch_norm, expected in [
                (False, LINEAR + EMBEDDING + SENET + 2 * BILINEAR[kind] + FIBINET_MLP),
                (True, LINEAR + EMBEDDING + SENET + 2 * BILINEAR[kind] + FIBINET_MLP + HIDDEN_BN),
            ]
        ],
    ],
)
def test_module_parameter_count(name, batch_norm, kwargs, expected):
    assert SPEC.cardinalities == (5, 3, 7) and SPEC.n_dense == 2 and K == 4 and HIDDEN == (8, 6)
    module = _build(name, batch_norm=batch_norm, **kwargs)
    assert sum(p.numel() for p in module.parameters()) == expected


def test_nfm_without_hidden_layers_and_unit_output_weights_is_an_fm():
    torch.manual_seed(0)
    nfm = _unit_embeddings(NFMModule(SPEC, embedding_dim=K, hidden_units=())).eval()
    fm = FMModule(SPEC, embedding_dim=K).eval()
    fm.load_state_dict({k: v for k, v in nfm.state_dict().items() if not k.startswith("deep")})
    with torch.no_grad():
        nfm.deep[0].weight.fill_(1.0)
    codes, dense, _ = _batch(n=6)
    torch.testing.assert_close(nfm(codes, dense), fm(codes, dense))


def test_afm_starts_as_an_fm_when_attention_is_uniform():
    torch.manual_seed(0)
    afm = _unit_embeddings(AFMModule(SPEC, embedding_dim=K, attention_dim=T)).eval()
    with torch.no_grad():
        afm.attention.score.weight.zero_()
    codes, dense, _ = _batch(n=6)
    e = afm.embedding(codes, dense)
    # The pooled vector is the mean of the pairs and p starts at n_pairs: FM's pairwise sum.
    expected = afm.linear(codes, dense) + FactorizationMachine()(e)
    torch.testing.assert_close(afm(codes, dense), expected)


def test_fibinet_forward_is_the_paper_composition():
    torch.manual_seed(0)
    module = _unit_embeddings(_build("fibinet", bilinear_type="field_each")).eval()
    codes, dense, _ = _batch(n=6)
    e = module.embedding(codes, dense)
    v = module.senet(e)
    p, q = module.bilinear(e), module.bilinear_senet(v)
    expected = module.linear(codes, dense) + module.deep(torch.cat([p, q], dim=1).flatten(1)).squeeze(-1)
    torch.testing.assert_close(module(codes, dense), expected)


# --------------------------------------------------------------------------- estimators


@pytest.fixture(scope="module")
def tiny_data():
    return make_ctr_classification(n_samples=200, n_sparse=3, n_dense=2, random_state=0)


@pytest.mark.parametrize(
    "estimator_class, params, name",
    [
        (NFMClassifier, {"dropout": 1.0}, "dropout"),
        (NFMClassifier, {"hidden_units": (8, 0)}, "hidden_units"),
        (AFMClassifier, {"attention_dim": 0}, "attention_dim"),
        (AFMClassifier, {"attention_dim": 2.5}, "attention_dim"),
        (AFMClassifier, {"dropout": -0.1}, "dropout"),
        (AFMClassifier, {"dropout": 1.0}, "dropout"),
        (FiBiNetClassifier, {"reduction_ratio": 0.5}, "reduction_ratio"),
        (FiBiNetClassifier, {"reduction_ratio": "3"}, "reduction_ratio"),
        (FiBiNetClassifier, {"bilinear_type": "interaction"}, "bilinear_type"),
        (FiBiNetClassifier, {"bilinear_type": None}, "bilinear_type"),
    ],
)
def test_bad_parameter_raises_value_error_naming_it(tiny_data, estimator_class, params, name):
    X, y = tiny_data
    with pytest.raises(ValueError, match=name):
        estimator_class(**params, max_epochs=1).fit(X, y)


@pytest.mark.parametrize("bilinear_type", BILINEAR_TYPES)
def test_fibinet_estimator_each_bilinear_type_fits(tiny_data, bilinear_type):
    X, y = tiny_data
    model = FiBiNetClassifier(
        embedding_dim=3, hidden_units=(8,), bilinear_type=bilinear_type, reduction_ratio=2, max_epochs=2
    ).fit(X, y)
    assert model.predict_proba(X).shape == (200, 2)
    assert model.net_.module_.bilinear.bilinear_type == bilinear_type


def test_estimators_pass_their_parameters_to_the_module(tiny_data):
    X, y = tiny_data
    afm = AFMClassifier(embedding_dim=3, attention_dim=5, dropout=0.3, max_epochs=1).fit(X, y)
    assert afm.net_.module_.attention.hidden.out_features == 5
    assert afm.net_.module_.dropout.p == pytest.approx(0.3)
    nfm = NFMClassifier(embedding_dim=3, hidden_units=(7,), batch_norm=False, max_epochs=1).fit(X, y)
    assert nfm.net_.module_.deep[0].in_features == 3 and nfm.net_.module_.deep[0].out_features == 7


# The integrator keeps these: each model must beat logistic regression on the planted interactions.
