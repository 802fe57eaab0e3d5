"""DIN's activation unit, DIEN's AUGRU and auxiliary loss, BST's transformer: hand-computed values."""

import math

import pytest
import torch
from torch.nn import functional as F

from sklearn_pangu.nn import AUGRU, ActivationUnitAttention, BehaviorTransformer
from sklearn_pangu.nn._behavior import interest_auxiliary_loss, masked_softmax, sample_negative_codes


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# --------------------------------------------------------------------------- DIN


def _two_item_attention(softmax):
    # Score = e[0] + (e * t)[1] + 0.5 on the input [e, t, e - t, e * t] (D = 2, no hidden layer).
    attention = ActivationUnitAttention(2, attention_units=(), softmax=softmax)
    with torch.no_grad():
        attention.output.weight.copy_(torch.tensor([[1.0, 0, 0, 0, 0, 0, 0, 1.0]]))
        attention.output.bias.fill_(0.5)
    rows = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [7.0, 7.0]]])  # the third slot is padding
    mask = torch.tensor([[True, True, False]])
    return attention, torch.tensor([[1.0, 1.0]]), rows, mask


def test_din_attention_by_hand_without_softmax():
    attention, target, rows, mask = _two_item_attention(softmax=False)
    # e1 = (1, 0): 1 + 0 + 0.5 = 1.5; e2 = (0, 2): 0 + 2 + 0.5 = 2.5; the pad exactly 0.
    assert attention.weights(target, rows, mask).tolist() == [[1.5, 2.5, 0.0]]
    torch.testing.assert_close(attention(target, rows, mask), torch.tensor([[1.5, 5.0]]))


def test_din_attention_by_hand_with_softmax():
    attention, target, rows, mask = _two_item_attention(softmax=True)
    a1, a2 = _sigmoid(-1.0), _sigmoid(1.0)  # softmax of (1.5, 2.5)
    torch.testing.assert_close(attention.weights(target, rows, mask), torch.tensor([[a1, a2, 0.0]]))
    torch.testing.assert_close(attention(target, rows, mask), torch.tensor([[a1, 2 * a2]]))


@pytest.mark.parametrize("activation", ["dice", "prelu", "relu"])
def test_din_attention_ignores_pads_and_gives_zeros_without_items(activation):
    torch.manual_seed(0)
    attention = ActivationUnitAttention(3, attention_units=(5, 4), activation=activation).train()
    target, rows = torch.randn(2, 3), torch.randn(2, 4, 3)
    mask = torch.tensor([[True, True, False, False], [False] * 4])
    out = attention(target, rows, mask)
    changed = rows.clone()
    changed[:, 2:] = 100.0
    changed[1] = -100.0
    torch.testing.assert_close(attention(target, changed, mask), out)
    assert out[1].tolist() == [0.0, 0.0, 0.0]


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation"):
        ActivationUnitAttention(2, activation="tanh")


def test_masked_softmax_rows_without_slots_are_zero():
    out = masked_softmax(
        torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[True, False], [False, False]])
    )
    assert out.tolist() == [[1.0, 0.0], [0.0, 0.0]]


# --------------------------------------------------------------------------- DIEN


def _scalar_augru():
    gru = AUGRU(1, 1)
    with torch.no_grad():
        # Rows r, u, h of W (input) and U (state), and their biases.
        gru.input_projection.weight.copy_(torch.tensor([[0.5], [-1.0], [2.0]]))
        gru.input_projection.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
        gru.hidden_projection.weight.copy_(torch.tensor([[1.5], [0.7], [-0.4]]))
        gru.hidden_projection.bias.copy_(torch.tensor([0.0, -0.1, 0.25]))
    return gru


def _augru_step(x, h, a):
    r = _sigmoid(0.5 * x + 0.1 + 1.5 * h + 0.0)
    u = _sigmoid(-1.0 * x + 0.2 + 0.7 * h - 0.1)
    candidate = math.tanh(2.0 * x - 0.3 + r * (-0.4 * h + 0.25))
    u = a * u
    return (1 - u) * h + u * candidate


def test_augru_steps_by_hand():
    gru = _scalar_augru()
    h1 = _augru_step(0.8, 0.0, 0.6)
    h2 = _augru_step(-1.2, h1, 0.3)
    out = gru(torch.tensor([[[0.8], [-1.2]]]), torch.tensor([[0.6, 0.3]]))
    assert out.item() == pytest.approx(h2, rel=1e-5)
    assert gru(torch.tensor([[[0.8]]]), torch.tensor([[0.6]])).item() == pytest.approx(h1, rel=1e-5)


def test_augru_zero_attention_steps_are_identities():
    torch.manual_seed(0)
    gru = AUGRU(3, 4)
    inputs = torch.randn(2, 5, 3)
    attention = torch.tensor([[0.2, 0.5, 0.3, 0.0, 0.0], [0.0] * 5])
    out = gru(inputs, attention)
    torch.testing.assert_close(out[:1], gru(inputs[:1, :3], attention[:1, :3]))
    assert out[1].tolist() == [0.0] * 4  # no items: the initial state
    noisy = inputs.clone()
    noisy[:, 3:] = 1e3
    torch.testing.assert_close(gru(noisy, attention), out)


def test_auxiliary_loss_by_hand():
    states = torch.tensor([[[1.0], [2.0], [0.0]]])
    positives = torch.tensor([[[0.0], [1.0], [3.0]]])
    negatives = torch.tensor([[[0.0], [-1.0], [2.0]]])
    # One valid pair (0, 1): -log sigmoid(1 * 1) - log(1 - sigmoid(1 * -1)).
    one = interest_auxiliary_loss(states, positives, negatives, torch.tensor([[True, True, False]]))
    assert one.item() == pytest.approx(-math.log(_sigmoid(1.0)) - math.log(1 - _sigmoid(-1.0)), rel=1e-6)
    # Two pairs: the mean of the two terms; (1, 2) gives -log sigmoid(6) - log(1 - sigmoid(4)).
    two = interest_auxiliary_loss(states, positives, negatives, torch.ones(1, 3, dtype=torch.bool))
    second = -math.log(_sigmoid(6.0)) - math.log(1 - _sigmoid(4.0))
    assert two.item() == pytest.approx((one.item() + second) / 2, rel=1e-6)


def test_auxiliary_loss_without_pairs_is_zero_and_keeps_the_graph():
    states = torch.randn(2, 1, 3, requires_grad=True)  # histories of one item have no pair
    loss = interest_auxiliary_loss(states, states, states, torch.ones(2, 1, dtype=torch.bool))
    loss.backward()
    assert loss.item() == 0.0


def test_auxiliary_loss_matches_binary_cross_entropy():
    torch.manual_seed(0)
    states, positives, negatives = torch.randn(3, 4, 2), torch.randn(3, 4, 2), torch.randn(3, 4, 2)
    mask = torch.tensor([[True] * 4, [True, True, False, False], [True, False, False, False]])
    pos = (states[:, :-1] * positives[:, 1:]).sum(-1)
    neg = (states[:, :-1] * negatives[:, 1:]).sum(-1)
    pairs = mask[:, :-1] & mask[:, 1:]  # 3 + 1 + 0 pairs
    expected = (
        F.binary_cross_entropy_with_logits(pos[pairs], torch.ones(4), reduction="sum")
        + F.binary_cross_entropy_with_logits(neg[pairs], torch.zeros(4), reduction="sum")
    ) / 4
    torch.testing.assert_close(interest_auxiliary_loss(states, positives, negatives, mask), expected)


def test_negatives_are_known_items_other_than_the_positive():
    generator = torch.Generator().manual_seed(0)
    positives = torch.tensor([[2, 3, 4, 0, 1]]).repeat(2000, 1)
    codes, drawn = sample_negative_codes(positives, 5, generator=generator)
    assert drawn.all()
    assert ((codes >= 2) & (codes < 5)).all()
    assert (codes != positives).all()
    # Uniform over the two (or, for unknown and missing positives, three) other items.
    assert set(codes[:, 0].tolist()) == {3, 4}
    assert set(codes[:, 3].tolist()) == {2, 3, 4}
    assert abs((codes[:, 0] == 3).float().mean().item() - 0.5) < 0.05


def test_no_negative_exists_with_a_single_known_item():
    codes, drawn = sample_negative_codes(torch.tensor([[2, 0]]), 3)
    assert drawn.tolist() == [[False, True]]
    # Every code indexes the table, drawn or not: the lookup comes before the mask.
    assert codes.tolist() == [[2, 2]]


# --------------------------------------------------------------------------- BST


def test_bst_empty_histories_give_no_nan_and_zero_pads():
    torch.manual_seed(0)
    block = BehaviorTransformer(4, max_length=3, num_layers=2, num_heads=2).eval()
    out = block(torch.randn(2, 4), torch.zeros(2, 3, 4), torch.zeros(2, 3, dtype=torch.bool))
    assert torch.isfinite(out).all()
    assert out[:, 1:].abs().sum() == 0
    assert out[:, 0].abs().sum() > 0


def test_bst_is_order_sensitive_and_ignores_pads():
    torch.manual_seed(0)
    block = BehaviorTransformer(4, max_length=4).eval()
    target, rows = torch.randn(1, 4), torch.randn(1, 4, 4)
    mask = torch.tensor([[True, True, True, False]])
    out = block(target, rows, mask)
    swapped = rows[:, [1, 0, 2, 3]]
    assert not torch.allclose(block(target, swapped, mask)[:, 0], out[:, 0])
    padded = rows.clone()
    padded[:, 3] = 50.0
    torch.testing.assert_close(block(target, padded, mask), out)


def test_bst_positions_count_from_the_newest_item():
    # Positions by recency: the same items right-padded into more slots give the same outputs.
    torch.manual_seed(0)
    long = BehaviorTransformer(4, max_length=5).eval()
    short = BehaviorTransformer(4, max_length=2).eval()
    state = long.state_dict()
    state["positions.weight"] = state["positions.weight"][:3]
    short.load_state_dict(state)
    target, rows = torch.randn(1, 4), torch.randn(1, 2, 4)
    out_short = short(target, rows, torch.ones(1, 2, dtype=torch.bool))
    padded = torch.cat([rows, torch.zeros(1, 3, 4)], dim=1)
    out_long = long(target, padded, torch.tensor([[True, True, False, False, False]]))
    torch.testing.assert_close(out_long[:, :3], out_short)
    # The newest behaviour (slot 1 of the input) comes right after the target.
    assert not torch.allclose(out_short[:, 1], out_short[:, 2])


def test_bst_heads_must_divide_the_width():
    with pytest.raises(ValueError, match="num_heads"):
        BehaviorTransformer(6, max_length=2, num_heads=4)
