"""The torch building blocks and the ranking modules, checked against hand computations."""

import itertools

import pytest
import torch
from torch import nn

from sklearn_pangu._fields import FieldSpec
from sklearn_pangu.models.ranking import DeepFMModule, FMModule, LRModule, WideDeepModule
from sklearn_pangu.nn import MLP, FactorizationMachine, FieldEmbedding, LinearLogit
from sklearn_pangu.nn._embedding import add_rows_into_held_gradients

# --------------------------------------------------------------------------- FieldEmbedding


def _numbered_embedding(cardinalities, n_dense, dim, **kwargs):
    """An embedding whose table row r is (r, r + 0.5, ...) so a lookup reveals its row."""
    embedding = FieldEmbedding(cardinalities, n_dense, dim, **kwargs)
    with torch.no_grad():
        rows = torch.arange(embedding.table.num_embeddings, dtype=torch.float32)
        embedding.table.weight.copy_(rows[:, None] + 0.5 * torch.arange(dim, dtype=torch.float32))
    return embedding


def test_field_embedding_output_shape():
    embedding = FieldEmbedding([5, 3, 7], n_dense=2, embedding_dim=4)
    assert embedding.n_fields == 5
    out = embedding(torch.zeros(6, 3, dtype=torch.long), torch.zeros(6, 2))
    assert out.shape == (6, 5, 4)
    only_codes = FieldEmbedding([5, 3], n_dense=0, embedding_dim=4)
    assert only_codes(torch.zeros(2, 2, dtype=torch.long), torch.zeros(2, 0)).shape == (2, 2, 4)
    only_dense = FieldEmbedding([], n_dense=3, embedding_dim=4)
    assert only_dense(torch.zeros(2, 0, dtype=torch.long), torch.ones(2, 3)).shape == (2, 3, 4)


def test_field_embedding_uses_one_table_with_per_field_offsets():
    cardinalities = [3, 4, 2]
    embedding = _numbered_embedding(cardinalities, 0, 2)
    assert embedding.table.num_embeddings == 9
    assert embedding.offsets.tolist() == [[0, 3, 7]]
    codes = torch.tensor([[0, 0, 0], [2, 3, 1], [1, 2, 0]])
    out = embedding(codes, torch.zeros(3, 0))
    offsets = [0, 3, 7]
    for b, j in itertools.product(range(3), range(3)):
        row = offsets[j] + int(codes[b, j])
        assert out[b, j].tolist() == [row, row + 0.5], (b, j)


def test_dense_features_are_embedded_as_value_times_vector():
    embedding = FieldEmbedding([4], n_dense=2, embedding_dim=3)
    v = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    with torch.no_grad():
        embedding.dense_weight.copy_(v)
    dense = torch.tensor([[2.0, -1.0], [0.0, 4.0]])
    out = embedding(torch.zeros(2, 1, dtype=torch.long), dense)
    for b, k in itertools.product(range(2), range(2)):
        torch.testing.assert_close(out[b, 1 + k], dense[b, k] * v[k])


def test_l2_penalty_counts_each_distinct_row_once():
    l2 = 0.1
    embedding = _numbered_embedding([3, 2], 1, 2, l2=l2)
    with torch.no_grad():
        embedding.dense_weight.copy_(torch.tensor([[2.0, -1.0]]))
    # Field 0 uses indices 0, 0, 2 -> rows 0, 2; field 1 uses 1, 0, 1 -> rows 3 + 1, 3 + 0.
    # Index 0 of field 0 and index 0 of field 1 are different rows of the fused table.
    codes = torch.tensor([[0, 1], [0, 0], [2, 1]])
    embedding.train()
    embedding(codes, torch.tensor([[1.0], [0.0], [5.0]]))
    penalty = embedding.pop_penalty()
    weight = embedding.table.weight.detach()
    by_hand = sum(float(weight[r].pow(2).sum()) for r in (0, 2, 3, 4)) + (4.0 + 1.0)
    # rows: 0 -> (0, .5), 2 -> (2, 2.5), 3 -> (3, 3.5), 4 -> (4, 4.5)
    assert by_hand == pytest.approx(0.25 + 10.25 + 21.25 + 36.25 + 5.0)
    assert float(penalty.detach()) == pytest.approx(l2 * by_hand, rel=1e-6)
    # Its gradient is 2 * l2 * w on the rows used, and nothing on the others.
    penalty.backward()
    grad = embedding.table.weight.grad
    for r in range(5):
        expected = 2 * l2 * weight[r] if r in (0, 2, 3, 4) else torch.zeros(2)
        torch.testing.assert_close(grad[r], expected)
    torch.testing.assert_close(embedding.dense_weight.grad, 2 * l2 * embedding.dense_weight.detach())


@pytest.mark.parametrize("embedding_dim", [3, 1])
def test_table_gradient_is_that_of_nn_embedding(embedding_dim):
    # The CPU lookup sums gradient rows with index_add_ instead of nn.Embedding's sort
    # (a one-column table, LinearLogit's, as a vector); repeated indices within and
    # across fields must add up the same.
    torch.manual_seed(0)
    embedding = FieldEmbedding([6, 4, 5], n_dense=1, embedding_dim=embedding_dim)
    reference = nn.Embedding.from_pretrained(embedding.table.weight.detach().clone(), freeze=False)
    codes = torch.randint(0, 4, (50, 3))
    upstream = torch.randn(50, 4, embedding_dim)
    (embedding(codes, torch.ones(50, 1)) * upstream).sum().backward()
    (reference(codes + embedding.offsets) * upstream[:, :3]).sum().backward()
    assert embedding.table.weight.grad.layout == torch.strided
    torch.testing.assert_close(embedding.table.weight.grad, reference.weight.grad)


@pytest.mark.parametrize("embedding_dim", [3, 1])
def test_table_rows_are_added_into_a_held_gradient_within_the_training_context(embedding_dim):
    # A training loop that zeroes gradients in place keeps the table's gradient: within
    # add_rows_into_held_gradients the backward adds its rows into it, as autograd would
    # accumulate nn.Embedding's gradient, without handing autograd a table-sized tensor.
    torch.manual_seed(0)
    embedding = FieldEmbedding([6, 4, 5], n_dense=0, embedding_dim=embedding_dim)
    reference = nn.Embedding.from_pretrained(embedding.table.weight.detach().clone(), freeze=False)
    before = torch.randn_like(embedding.table.weight)
    held = before.clone()
    embedding.table.weight.grad, reference.weight.grad = held, before.clone()
    handed_to_autograd = []
    embedding.table.weight.register_hook(lambda grad: handed_to_autograd.append(getattr(grad, "shape", None)))
    codes = torch.randint(0, 4, (50, 3))
    upstream = torch.randn(50, 3, embedding_dim)
    with add_rows_into_held_gradients():
        (embedding(codes, torch.ones(50, 0)) * upstream).sum().backward()
    (reference(codes + embedding.offsets) * upstream).sum().backward()
    assert handed_to_autograd == [None]
    assert embedding.table.weight.grad is held
    torch.testing.assert_close(held, reference.weight.grad)

    # Outside it (or without a held gradient) autograd gets the gradient as usual.
    embedding.table.weight.grad = None
    (embedding(codes, torch.ones(50, 0)) * upstream).sum().backward()
    assert handed_to_autograd == [None, embedding.table.weight.shape]
    torch.testing.assert_close(embedding.table.weight.grad, reference.weight.grad - before)


def test_sparse_table_keeps_sparse_gradients():
    embedding = FieldEmbedding([6, 4], n_dense=0, embedding_dim=3)
    embedding.table.sparse = True
    embedding(torch.tensor([[1, 2], [1, 3]]), torch.zeros(2, 0)).sum().backward()
    grad = embedding.table.weight.grad
    assert grad.is_sparse
    assert sorted(set(grad.coalesce().indices()[0].tolist())) == [1, 8, 9]


def test_penalty_only_in_train_mode_and_pop_clears_it():
    embedding = FieldEmbedding([3, 2], 1, 2, l2=0.5)
    codes, dense = torch.tensor([[0, 1]]), torch.ones(1, 1)
    embedding.train()
    embedding(codes, dense)
    first = embedding.pop_penalty()
    assert first is not None and float(first.detach()) > 0
    assert embedding.pop_penalty() is None
    embedding.eval()
    embedding(codes, dense)
    assert embedding.pop_penalty() is None
    no_l2 = FieldEmbedding([3, 2], 1, 2).train()
    no_l2(codes, dense)
    assert no_l2.pop_penalty() is None


# --------------------------------------------------------------------------- LinearLogit


def test_linear_logit_hand_computed():
    linear = LinearLogit([3, 2], n_dense=2)
    with torch.no_grad():
        linear.weights.table.weight.copy_(torch.tensor([[0.1], [0.2], [0.3], [1.0], [2.0]]))
        linear.weights.dense_weight.copy_(torch.tensor([[0.5], [-1.0]]))
        linear.bias.fill_(0.25)
    codes = torch.tensor([[2, 1], [0, 0]])
    dense = torch.tensor([[2.0, 3.0], [0.0, -1.0]])
    out = linear(codes, dense)
    assert out.shape == (2,)
    # row 0: w[2] + w[3 + 1] + 0.5 * 2 - 1 * 3 + b; row 1: w[0] + w[3] + 0 + 1 + b
    torch.testing.assert_close(out, torch.tensor([0.3 + 2.0 + 1.0 - 3.0 + 0.25, 0.1 + 1.0 + 1.0 + 0.25]))


# --------------------------------------------------------------------------- FactorizationMachine


def test_factorization_machine_hand_computed():
    e = torch.tensor(
        [
            [[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]],  # 0 + 2 + 3
            [[1.0, 1.0], [-1.0, 2.0], [0.0, 0.0]],  # 1 + 0 + 0
        ]
    )
    torch.testing.assert_close(FactorizationMachine()(e), torch.tensor([5.0, 1.0]))
    one_field = torch.tensor([[[3.0, 4.0]]])
    torch.testing.assert_close(FactorizationMachine()(one_field), torch.tensor([0.0]))


def test_factorization_machine_equals_pairwise_double_loop():
    generator = torch.Generator().manual_seed(0)
    e = torch.randn(7, 5, 3, generator=generator, dtype=torch.float64)
    expected = torch.zeros(7, dtype=torch.float64)
    for i in range(5):
        for j in range(i + 1, 5):
            expected += (e[:, i] * e[:, j]).sum(dim=1)
    out = FactorizationMachine()(e)
    assert out.shape == (7,)
    torch.testing.assert_close(out, expected)


def test_factorization_machine_gradient_is_that_of_the_pairwise_sum():
    generator = torch.Generator().manual_seed(1)
    e = torch.randn(6, 4, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(6, generator=generator, dtype=torch.float64)
    pairwise = sum((e[:, i] * e[:, j]).sum(dim=1) for i in range(4) for j in range(i + 1, 4))
    (expected,) = torch.autograd.grad((pairwise * upstream).sum(), e)
    (grad,) = torch.autograd.grad((FactorizationMachine()(e) * upstream).sum(), e)
    torch.testing.assert_close(grad, expected)
    assert torch.autograd.gradcheck(FactorizationMachine(), (e,))


# --------------------------------------------------------------------------- MLP


def test_mlp_plain_structure():
    mlp = MLP(8, (16, 4))
    assert [type(m) for m in mlp] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU]
    assert (mlp[0].in_features, mlp[0].out_features) == (8, 16)
    assert (mlp[2].in_features, mlp[2].out_features) == (16, 4)
    assert mlp.output_dim == 4
    assert mlp(torch.randn(3, 8)).shape == (3, 4)


def test_mlp_with_batch_norm_dropout_and_output():
    mlp = MLP(8, (16, 4), dropout=0.3, batch_norm=True, output_dim=1)
    types = [type(m) for m in mlp]
    block = [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout]
    assert types == block + block + [nn.Linear]
    assert mlp[1].num_features == 16 and mlp[5].num_features == 4
    assert mlp[3].p == pytest.approx(0.3) and mlp[7].p == pytest.approx(0.3)
    assert (mlp[8].in_features, mlp[8].out_features) == (4, 1)
    assert mlp.output_dim == 1
    assert mlp(torch.randn(5, 8)).shape == (5, 1)


def test_mlp_without_hidden_layers_is_one_linear_layer():
    mlp = MLP(6, (), output_dim=2)
    assert [type(m) for m in mlp] == [nn.Linear]
    assert (mlp[0].in_features, mlp[0].out_features) == (6, 2)


# --------------------------------------------------------------------------- ranking modules


SPEC = FieldSpec(categorical_fields=("a", "b", "c"), cardinalities=(5, 3, 7), dense_features=("x", "y"))
K = 4
HIDDEN = (8, 6)


def _build(name, batch_norm=False, dropout=0.0):
    if name == "lr":
        return LRModule(SPEC)
    if name == "fm":
        return FMModule(SPEC, embedding_dim=K)
    deep = {"embedding_dim": K, "hidden_units": HIDDEN, "batch_norm": batch_norm, "dropout": dropout}
    return {"widedeep": WideDeepModule, "deepfm": DeepFMModule}[name](SPEC, **deep)


def _batch(n=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    codes = torch.stack([torch.randint(0, c, (n,), generator=generator) for c in SPEC.cardinalities], dim=1)
    dense = torch.randn(n, SPEC.n_dense, generator=generator)
    target = torch.randint(0, 2, (n,), generator=generator).float()
    return codes, dense, target


MODULES = ["lr", "fm", "widedeep", "deepfm"]


@pytest.mark.parametrize("name", MODULES)
def test_ranking_module_output_shape(name):
    torch.manual_seed(0)
    module = _build(name)
    codes, dense, _ = _batch(n=9)
    for mode in (module.train, module.eval):
        mode()
        out = module(codes, dense)
        assert out.shape == (9,)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("name", MODULES)
def test_ranking_module_gradients_reach_every_parameter(name, batch_norm):
    torch.manual_seed(0)
    module = _build(name, batch_norm=batch_norm, dropout=0.1 if batch_norm else 0.0).train()
    codes, dense, target = _batch()
    loss = nn.functional.binary_cross_entropy_with_logits(module(codes, dense), target)
    loss.backward()
    for param_name, param in module.named_parameters():
        if param.numel() == 0:  # e.g. the dense vectors of an embedding that embeds no dense feature
            continue
        assert param.grad is not None, param_name
        assert (param.grad != 0).any(), param_name


# Cardinalities 5 + 3 + 7 = 15, 2 dense features, embedding_dim k = 4, MLP 8 -> 6 -> 1.
LINEAR = 15 + 2 + 1  # a weight per categorical index and dense feature, plus the bias
BN = 2 * (8 + 6)  # BatchNorm1d weight and bias of each hidden layer
# Wide & Deep: the MLP reads the 3 categorical embeddings and the 2 raw dense features.
WIDE_DEEP_MLP = (3 * 4 + 2) * 8 + 8 + 8 * 6 + 6 + 6 * 1 + 1
# DeepFM: the MLP reads all 5 field vectors (dense features are embedded too).
DEEPFM_MLP = (5 * 4) * 8 + 8 + 8 * 6 + 6 + 6 * 1 + 1


@pytest.mark.parametrize(
    "name, batch_norm, expected",
    [
        ("lr", False, LINEAR),
        ("fm", False, LINEAR + (15 + 2) * 4),
        ("widedeep", False, LINEAR + 15 * 4 + WIDE_DEEP_MLP),
        ("widedeep", True, LINEAR + 15 * 4 + WIDE_DEEP_MLP + BN),
        ("deepfm", False, LINEAR + (15 + 2) * 4 + DEEPFM_MLP),
        ("deepfm", True, LINEAR + (15 + 2) * 4 + DEEPFM_MLP + BN),
    ],
)
def test_ranking_module_parameter_count(name, batch_norm, expected):
    assert SPEC.cardinalities == (5, 3, 7) and SPEC.n_dense == 2 and K == 4 and HIDDEN == (8, 6)
    module = _build(name, batch_norm=batch_norm)
    assert sum(p.numel() for p in module.parameters()) == expected


def test_fm_module_is_linear_plus_pairwise_interactions():
    torch.manual_seed(0)
    module = FMModule(SPEC, embedding_dim=K).eval()
    with torch.no_grad():
        module.embedding.table.weight.normal_()
        module.embedding.dense_weight.normal_()
    codes, dense, _ = _batch(n=5)
    e = module.embedding(codes, dense).double()
    pairwise = sum((e[:, i] * e[:, j]).sum(dim=1) for i in range(5) for j in range(i + 1, 5))
    expected = module.linear(codes, dense).double() + pairwise
    torch.testing.assert_close(module(codes, dense).double(), expected, rtol=1e-5, atol=1e-5)
