"""FieldEmbedding and LinearLogit (``sklearn_pangu.nn._embedding``), checked against hand computations."""

import contextlib
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sklearn_pangu._fields import FieldSpec
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


def test_dense_features_of_one_field_add_into_one_vector():
    # Features 0, 1 and 3 are the pieces and missing indicator of one column; 2 is its own.
    embedding = FieldEmbedding([4], n_dense=4, embedding_dim=2, dense_fields=[0, 0, 1, 0])
    v = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [-2.0, 4.0]])
    with torch.no_grad():
        embedding.dense_weight.copy_(v)
    dense = torch.tensor([[1.0, 0.25, 2.0, 0.0], [0.0, 0.0, -1.0, 1.0]])
    out = embedding(torch.zeros(2, 1, dtype=torch.long), dense)
    assert out.shape == (2, 3, 2) and embedding.n_fields == 3
    torch.testing.assert_close(out[0, 1], torch.tensor([1.0 + 0.75, 2.0 - 0.25]))
    torch.testing.assert_close(out[0, 2], torch.tensor([1.0, 1.0]))
    torch.testing.assert_close(out[1, 1], v[3])
    torch.testing.assert_close(out[1, 2], -v[2])


@pytest.mark.parametrize("dense_fields", [(1, 0), (0, 2), (0,), (0, -1)])
def test_field_spec_refuses_dense_fields_out_of_order(dense_fields):
    with pytest.raises(ValueError, match="dense_fields"):
        FieldSpec((), (), ("a", "b"), dense_fields=dense_fields)


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


# --------------------------------------------------------------------------- list fields
# Field 0: single-value (4 indices, rows 0-3); field 1: a list of 3 slots (5 indices, rows 4-8);
# field 2: a list of 2 slots sharing field 0's rows (no rows of its own). The table: 9 rows.
LIST_FIELDS = {"sequence_lengths": [0, 3, 2], "shared_tables": [0, 1, 0]}
TABLE = torch.tensor(
    [
        [1.0, -1.0],
        [2.0, 0.0],
        [-3.0, 4.0],
        [0.5, 0.5],
        [1.0, 2.0],
        [3.0, -2.0],
        [-1.0, -4.0],
        [-2.0, -6.0],
        [7.0, 1.0],
    ]
)
# Rows: items of field 1 (index + 4), pads -1; empty lists in rows 1 (field 1) and 0, 2 (field 2).
LIST_CODES = torch.tensor(
    [
        [1, 0, 2, -1, -1, -1],
        [3, -1, -1, -1, 2, 2],
        [0, 2, 3, 4, -1, -1],
    ],
    dtype=torch.int32,
)


def _list_embedding(pooling="mean", n_dense=0, **kwargs):
    embedding = FieldEmbedding([4, 5, 4], n_dense, 2, sequence_pooling=pooling, **LIST_FIELDS, **kwargs)
    with torch.no_grad():
        embedding.table.weight.copy_(TABLE)
    return embedding


@pytest.mark.parametrize(
    ("pooling", "field_1", "field_2"),
    [
        # Row 0 field 1: items 0, 2 -> rows 4, 6; row 2: items 2, 3, 4 -> rows 6, 7, 8.
        # Row 1 field 2: items 2, 2 -> row 2 twice (field 0's rows).
        ("mean", [[0.0, -1.0], [0.0, 0.0], [4.0 / 3, -3.0]], [[0.0, 0.0], [-3.0, 4.0], [0.0, 0.0]]),
        ("sum", [[0.0, -2.0], [0.0, 0.0], [4.0, -9.0]], [[0.0, 0.0], [-6.0, 8.0], [0.0, 0.0]]),
        # Max per coordinate; an empty list gives zeros, not -inf, even where every item is negative.
        ("max", [[1.0, 2.0], [0.0, 0.0], [7.0, 1.0]], [[0.0, 0.0], [-3.0, 4.0], [0.0, 0.0]]),
    ],
)
def test_list_fields_pool_their_items_hand_computed(pooling, field_1, field_2):
    embedding = _list_embedding(pooling)
    assert embedding.table.num_embeddings == 9
    assert embedding.n_fields == 3
    out = embedding(LIST_CODES, torch.zeros(3, 0)).detach()
    assert out.shape == (3, 3, 2)
    torch.testing.assert_close(out[:, 0], TABLE[[1, 3, 0]])
    torch.testing.assert_close(out[:, 1], torch.tensor(field_1))
    torch.testing.assert_close(out[:, 2], torch.tensor(field_2))


def test_max_pooling_of_negative_items_and_of_no_items():
    embedding = FieldEmbedding([3], 0, 2, sequence_lengths=[3], sequence_pooling="max")
    with torch.no_grad():
        embedding.table.weight.copy_(torch.tensor([[-1.0, -5.0], [-2.0, -3.0], [-4.0, -0.5]]))
    codes = torch.tensor([[0, 1, -1], [-1, -1, -1], [2, 2, 2]])
    out = embedding(codes, torch.zeros(3, 0)).detach()
    torch.testing.assert_close(out[:, 0], torch.tensor([[-1.0, -3.0], [0.0, 0.0], [-4.0, -0.5]]))


@pytest.mark.parametrize("pooling", ["mean", "sum", "max"])
def test_list_pooling_traced_for_export_gives_the_same_vectors(pooling, monkeypatch):
    # While torch.export traces, the pooling masks padded slots instead of packing the items.
    embedding = _list_embedding(pooling)
    with torch.no_grad():
        embedding.table.weight.mul_(-1)  # negative items: max pooling of no items must still give 0
        packed = embedding(LIST_CODES, torch.zeros(3, 0))
        monkeypatch.setattr(torch.compiler, "is_exporting", lambda: True)
        padded = embedding(LIST_CODES, torch.zeros(3, 0))
    torch.testing.assert_close(padded, packed)


def test_shared_field_has_no_rows_of_its_own():
    # An item field, a scalar field of its own and a history sharing the item field's table.
    embedding = FieldEmbedding([6, 3, 6], 0, 4, sequence_lengths=[0, 0, 2], shared_tables=[0, 1, 0])
    assert embedding.table.num_embeddings == 6 + 3
    assert embedding.offsets.tolist() == [[0, 6, 0]]
    linear = LinearLogit([6, 3, 6], 0, sequence_lengths=[0, 0, 2], shared_tables=[0, 1, 0])
    assert linear.weights.table.num_embeddings == 9
    # Shared scalar fields alike: the second uses the first's rows.
    scalar = _numbered_embedding([5, 5], 0, 2, shared_tables=[0, 0])
    assert scalar.table.num_embeddings == 5
    out = scalar(torch.tensor([[1, 1], [4, 2]]), torch.zeros(2, 0)).detach()
    assert out.tolist() == [[[1.0, 1.5], [1.0, 1.5]], [[4.0, 4.5], [2.0, 2.5]]]


def test_list_field_between_scalar_fields_keeps_field_order():
    embedding = _numbered_embedding([3, 4, 2], 1, 2, sequence_lengths=[0, 2, 0])
    codes = torch.tensor([[2, 1, 3, 1]])
    out = embedding(codes, torch.ones(1, 1)).detach()
    # Field 0 -> row 2; field 1 -> mean of rows 3 + 1, 3 + 3; field 2 -> row 7 + 1.
    assert out[0, :3].tolist() == [[2.0, 2.5], [5.0, 5.5], [8.0, 8.5]]
    torch.testing.assert_close(out[0, 3], embedding.dense_weight.detach()[0])


def test_pooled_replaces_a_list_field_which_is_then_not_pooled():
    embedding = _list_embedding("mean", n_dense=1)
    replacement = torch.tensor([[9.0, 9.0], [8.0, 8.0], [7.0, 7.0]], requires_grad=True)
    out = embedding(LIST_CODES, torch.ones(3, 1), pooled={1: replacement})
    assert out.shape == (3, 4, 2)
    torch.testing.assert_close(out[:, 1].detach(), replacement.detach())
    plain = embedding(LIST_CODES, torch.ones(3, 1)).detach()
    torch.testing.assert_close(out[:, [0, 2, 3]].detach(), plain[:, [0, 2, 3]])
    out.sum().backward()
    # The replacement gets the gradient; the replaced field's item rows (4-8) get none.
    torch.testing.assert_close(replacement.grad, torch.ones(3, 2))
    assert embedding.table.weight.grad[4:].abs().sum() == 0
    with pytest.raises(ValueError, match="not a list field"):
        embedding(LIST_CODES, torch.ones(3, 1), pooled={0: replacement})
    with pytest.raises(ValueError, match="not a list field"):
        FieldEmbedding([3], 0, 2)(torch.tensor([[1]]), torch.zeros(1, 0), pooled={0: torch.zeros(1, 2)})


def test_lookup_sequence_and_lookup_field():
    embedding = _list_embedding()
    rows, mask = embedding.lookup_sequence(LIST_CODES, 1)
    assert mask.tolist() == [[True, True, False], [False, False, False], [True, True, True]]
    expected = torch.zeros(3, 3, 2)
    expected[0, :2] = TABLE[[4, 6]]
    expected[2] = TABLE[[6, 7, 8]]
    torch.testing.assert_close(rows.detach(), expected)
    rows, mask = embedding.lookup_sequence(LIST_CODES, 2)
    assert mask.tolist() == [[False, False], [True, True], [False, False]]
    torch.testing.assert_close(rows.detach()[1], TABLE[[2, 2]])
    assert rows.detach()[[0, 2]].abs().sum() == 0
    torch.testing.assert_close(embedding.lookup_field(LIST_CODES, 0).detach(), TABLE[[1, 3, 0]])
    with pytest.raises(ValueError, match="not a list field"):
        embedding.lookup_sequence(LIST_CODES, 0)
    with pytest.raises(ValueError, match="not a single-value field"):
        embedding.lookup_field(LIST_CODES, 1)


@pytest.mark.parametrize("pooling", ["mean", "sum", "max"])
@pytest.mark.parametrize("held", [False, True])
def test_list_gradients_reach_item_rows_and_never_pads(pooling, held):
    embedding = _list_embedding(pooling)
    embedding.train()
    upstream = torch.randn(3, 3, 2)
    before = torch.randn(9, 2)
    embedding.table.weight.grad = before.clone()
    with add_rows_into_held_gradients(embedding) if held else contextlib.nullcontext():
        (embedding(LIST_CODES, torch.zeros(3, 0)) * upstream).sum().backward()
    grad = embedding.table.weight.grad - before
    # By hand, from the items only: a pad (-1) counted anywhere (row offset - 1, or row offset
    # once clamped, or the last row as a negative index) would change some row's gradient.
    expected = torch.zeros(9, 2)
    for b in range(3):
        expected[int(LIST_CODES[b, 0])] += upstream[b, 0]
    for j, columns, offset in ((1, slice(1, 4), 4), (2, slice(4, 6), 0)):
        for b in range(3):
            items = [int(c) + offset for c in LIST_CODES[b, columns] if c >= 0]
            for d in range(2):
                values = TABLE[items, d]
                for k, row in enumerate(items):
                    if pooling == "sum":
                        share = 1.0
                    elif pooling == "mean":
                        share = 1.0 / len(items)
                    else:
                        share = float(k == int(values.argmax()))
                    expected[row, d] += share * upstream[b, j, d]
    torch.testing.assert_close(grad, expected)
    assert grad[5].abs().sum() == 0  # the one row no field looks up


def test_list_gradient_matches_embedding_bag():
    torch.manual_seed(0)
    cardinalities, lengths = [30, 40, 30], [0, 6, 4]
    for pooling in ("mean", "sum"):
        embedding = FieldEmbedding(
            cardinalities, 0, 3, sequence_lengths=lengths, shared_tables=[0, 1, 0], sequence_pooling=pooling
        )
        codes = torch.cat(
            [torch.randint(0, 30, (64, 1)), torch.randint(-1, 40, (64, 6)), torch.randint(-1, 30, (64, 4))], 1
        )
        codes[:, 1:7] = codes[:, 1:7].sort(dim=1, descending=True).values  # items first, pads after
        codes[:, 7:] = codes[:, 7:].sort(dim=1, descending=True).values
        upstream = torch.randn(64, 3, 3)
        (embedding(codes, torch.zeros(64, 0)) * upstream).sum().backward()
        weight = embedding.table.weight.detach().clone().requires_grad_()
        reference = [weight[codes[:, 0]]]
        for columns, offset in ((slice(1, 7), 30), (slice(7, 11), 0)):
            block = codes[:, columns]
            valid = block >= 0
            counts = valid.sum(1)
            ids = block[valid] + offset
            reference.append(F.embedding_bag(ids, weight, counts.cumsum(0) - counts, mode=pooling))
        (torch.stack(reference, 1) * upstream).sum().backward()
        torch.testing.assert_close(embedding.table.weight.grad, weight.grad)


@pytest.mark.parametrize("pooling", ["mean", "sum"])
def test_sparse_table_with_list_fields(pooling):
    embedding = _list_embedding(pooling)
    embedding.table.sparse = True
    embedding(LIST_CODES, torch.zeros(3, 0)).sum().backward()
    grad = embedding.table.weight.grad
    assert grad.is_sparse
    # Field 0 rows 1, 3, 0; field 1 item rows 4, 6, 7, 8; field 2 item row 2 (shared with field 0).
    assert sorted(set(grad.coalesce().indices()[0].tolist())) == [0, 1, 2, 3, 4, 6, 7, 8]
    rows, _ = embedding.lookup_sequence(LIST_CODES, 1)
    embedding.table.weight.grad = None
    rows.sum().backward()
    assert sorted(set(embedding.table.weight.grad.coalesce().indices()[0].tolist())) == [4, 6, 7, 8]


def test_max_pooling_refuses_sparse_gradients():
    embedding = _list_embedding("max")
    embedding.table.sparse = True
    with pytest.raises(ValueError, match="sequence_pooling='max'.*sparse_embeddings=True"):
        embedding(LIST_CODES, torch.zeros(3, 0))


def test_l2_penalty_counts_each_distinct_row_once_with_list_items_and_lookups():
    l2 = 0.1
    embedding = _list_embedding("mean", n_dense=1, l2=l2)
    with torch.no_grad():
        embedding.dense_weight.copy_(torch.tensor([[2.0, -1.0]]))
    embedding.train()
    # One step: a behaviour model's lookups, then the forward pass that takes field 2's vector.
    embedding.lookup_field(LIST_CODES, 0)  # rows 1, 3, 0
    rows, _ = embedding.lookup_sequence(LIST_CODES, 2)  # row 2 (twice)
    embedding(LIST_CODES, torch.ones(3, 1), pooled={2: rows.sum(1)})  # rows 1, 3, 0; items 4, 6, 7, 8
    penalty = embedding.pop_penalty()
    used = [0, 1, 2, 3, 4, 6, 7, 8]
    by_hand = float(TABLE[used].pow(2).sum()) + 5.0
    assert by_hand == pytest.approx(2 + 4 + 25 + 0.5 + 5 + 17 + 40 + 50 + 5)
    assert float(penalty.detach()) == pytest.approx(l2 * by_hand, rel=1e-6)
    embedding.table.weight.grad = None
    penalty.backward()
    grad = embedding.table.weight.grad
    for r in range(9):
        torch.testing.assert_close(grad[r], 2 * l2 * TABLE[r] if r in used else torch.zeros(2))
    assert embedding.pop_penalty() is None


def test_a_lookup_after_a_forward_pass_starts_the_next_step():
    embedding = _list_embedding("sum", l2=1.0)
    embedding.train()
    embedding(LIST_CODES, torch.zeros(3, 0))
    # The last step's forward pass was never popped: its rows no longer count.
    embedding.lookup_field(LIST_CODES[:1], 0)  # row 1 only
    assert float(embedding.pop_penalty().detach()) == pytest.approx(float(TABLE[1].pow(2).sum()))
    embedding.eval()
    embedding.lookup_sequence(LIST_CODES, 1)
    embedding(LIST_CODES, torch.zeros(3, 0))
    assert embedding.pop_penalty() is None


def test_from_spec_builds_the_tables_of_the_spec():
    spec = FieldSpec(
        ("item", "tags", "history"),
        (4, 5, 4),
        ("price",),
        sequence_lengths=(0, 3, 2),
        shared_tables=(0, 1, 0),
        sequence_pooling="sum",
    )
    embedding = FieldEmbedding.from_spec(spec, 2, l2=0.5, init_std=1.0)
    assert (embedding.table.num_embeddings, embedding.n_fields, embedding.l2) == (9, 4, 0.5)
    assert embedding.sequence_pooling == "sum"
    assert embedding.table.weight.std() > 0.1
    with torch.no_grad():
        embedding.table.weight.copy_(TABLE)
    out = embedding(LIST_CODES, torch.zeros(3, 1)).detach()
    assert out[2, 1].tolist() == [4.0, -9.0]
    linear = LinearLogit.from_spec(spec)
    with torch.no_grad():
        linear.weights.table.weight.copy_(torch.arange(9.0)[:, None])
        linear.weights.dense_weight.fill_(2.0)
    # Row 0: weight 1 (field 0) + 4 + 6 (items 0, 2 of tags, summed) + nothing + 2 * 0.5.
    torch.testing.assert_close(
        linear(LIST_CODES[:1], torch.tensor([[0.5]])), torch.tensor([1.0 + 4.0 + 6.0 + 1.0])
    )
