"""FieldEmbedding and LinearLogit (``sklearn_pangu.nn._embedding``), checked against hand computations."""

import itertools

import pytest
import torch
from torch import nn

from sklearn_pangu.nn import FieldEmbedding, LinearLogit
from sklearn_pangu.nn._embedding import add_rows_into_held_gradients

# --------------------------------------------------------------------------- FieldEmbedding


def _numbered_embedding(cardinalities, n_dense, dim, **kwargs):
    """An embedding whose table row r is (r, r + 0.5, ...) so a lookup reveals its row."""
    embedding = FieldEmbedding(cardinalities, n_dense, dim, **kwargs)
    with torch.no_grad():
        rows = torch.arange(embedding.table.num_embeddings, dtype=torch.float32)
        embedding.table.weight.copy_(rows[:, None] + 0.5 * torch.arange(dim, dtype=torch.float32))
    return embedding


def _unit_scale(embedding):
    """Vectors of unit scale, so that different rows differ by more than the comparison tolerance."""
    torch.manual_seed(0)
    with torch.no_grad():
        embedding.table.weight.normal_()
        embedding.dense_weight.normal_()
    return embedding


def test_field_embedding_output_shape_and_vectors():
    embedding = _unit_scale(FieldEmbedding([5, 3, 7], n_dense=2, embedding_dim=4))
    assert embedding.n_fields == 5
    codes = torch.tensor([[4, 2, 6], [0, 0, 0]]).repeat(3, 1)
    dense = torch.tensor([[2.0, -1.0], [0.0, 0.5]]).repeat(3, 1)
    out = embedding(codes, dense).detach()
    assert out.shape == (6, 5, 4)
    # Field j is row offset_j + code of the one table (offsets 0, 5, 8); dense feature k is x_k v_k.
    table, v = embedding.table.weight.detach(), embedding.dense_weight.detach()
    torch.testing.assert_close(
        out[0], torch.cat([table[torch.tensor([4, 5 + 2, 8 + 6])], 2.0 * v[:1], -v[1:]])
    )
    torch.testing.assert_close(out[1], torch.cat([table[torch.tensor([0, 5, 8])], 0.0 * v[:1], 0.5 * v[1:]]))
    torch.testing.assert_close(out[2:], out[:2].repeat(2, 1, 1))
    only_codes = _unit_scale(FieldEmbedding([5, 3], n_dense=0, embedding_dim=4))
    out = only_codes(torch.tensor([[1, 2], [4, 0]]), torch.zeros(2, 0)).detach()
    assert out.shape == (2, 2, 4)
    torch.testing.assert_close(out, only_codes.table.weight.detach()[torch.tensor([[1, 5 + 2], [4, 5]])])
    only_dense = _unit_scale(FieldEmbedding([], n_dense=3, embedding_dim=4))
    out = only_dense(torch.zeros(2, 0, dtype=torch.long), torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]))
    assert out.shape == (2, 3, 4)
    v = only_dense.dense_weight.detach()
    torch.testing.assert_close(
        out.detach(),
        torch.stack([v * torch.tensor([[1.0], [2.0], [3.0]]), v * torch.tensor([[0.0], [-1.0], [1.0]])]),
    )


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
    with add_rows_into_held_gradients(embedding):
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
