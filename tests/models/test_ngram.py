"""Witten–Bell n-grams: proper distributions, the hand-computed estimate, lower orders share counts."""

import numpy as np
import pytest

from paperlib.models.ngram import NGram, context_codes

V = 5


@pytest.fixture(scope="module")
def model():
    tokens = np.random.default_rng(0).integers(0, V - 1, 2000)  # symbol V-1 never occurs
    return NGram(4, V).fit(tokens)


@pytest.mark.parametrize("history", [[], [0], [1, 2], [3, 3, 3, 3, 3], [4, 4, 4], [0, 1, 2, 3, 4, 0]])
def test_next_token_probabilities_sum_to_one(model, history):
    for order in range(1, 5):
        p = model.lower(order).next_probs(np.array(history, dtype=np.int64))
        assert p.shape == (V,) and (p > 0).all()
        assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_log_probs_agree_with_the_next_token_distribution(model):
    tokens = np.array([0, 1, 4, 2, 3, 1, 0, 0, 2])
    expected = [np.log(model.next_probs(tokens[:i])[t]) for i, t in enumerate(tokens)]
    np.testing.assert_allclose(model.log_probs(tokens), expected, rtol=1e-12)


def test_witten_bell_by_hand():
    bigram = NGram(2, 3).fit(np.array([0, 1, 0, 1, 0, 2]))
    unigram = {0: (3 + 3 / 3) / (6 + 3), 1: (2 + 3 / 3) / (6 + 3), 2: (1 + 3 / 3) / (6 + 3)}
    # after 0: 1 twice, 2 once -> c(h) = 3, T(h) = 2
    after_zero = [(0 + 2 * unigram[0]) / 5, (2 + 2 * unigram[1]) / 5, (1 + 2 * unigram[2]) / 5]
    np.testing.assert_allclose(bigram.next_probs(np.array([0])), after_zero)
    np.testing.assert_allclose(bigram.next_probs(np.array([2])), list(unigram.values()))  # unseen context


def test_context_codes_are_base_v_integers():
    codes = context_codes(np.array([1, 2, 3, 4]), 2, 10)
    assert codes.tolist() == [-1, -1, 12, 23]


def test_loss_is_the_mean_negative_log_likelihood_and_falls_with_the_order_on_a_patterned_text():
    tokens = np.tile([0, 1, 2, 0, 3], 100)  # after 0 comes 1 or 3: a bigram is unsure, a trigram is not
    model = NGram(3, 4).fit(tokens)
    losses = [model.lower(order).loss(tokens) for order in (1, 2, 3)]
    assert losses[0] > losses[1] > losses[2] and losses[2] < 0.05
    assert model.loss(tokens) == pytest.approx(-model.log_probs(tokens).mean())


def test_bad_orders_are_refused(model):
    with pytest.raises(ValueError, match="order"):
        NGram(0, V)
    with pytest.raises(ValueError, match="int64"):
        NGram(7, 1000)
    for order in (0, 5):
        with pytest.raises(ValueError, match="order"):
            model.lower(order)
