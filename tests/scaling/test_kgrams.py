"""Distinct k-gram counts of growing prefixes, exact on strings small enough to count by hand."""

import numpy as np
import pytest

from paperlib.scaling.kgrams import distinct_kgrams, new_kgrams


def by_hand(text: str, k: int, D: int) -> int:
    return len({text[i:i + k] for i in range(D - k + 1)})


def test_counts_on_a_tiny_string():
    text = "abracadabra"
    tokens = np.frombuffer(text.encode(), dtype=np.uint8)
    assert new_kgrams(tokens, 2).tolist() == [True, True, True, True, True, True, True, False, False, False]
    assert distinct_kgrams(tokens, 2, [0, 1, 2, 5, 11]).tolist() == [0, 0, 1, 4, 7]  # ab br ra ac ca ad da


@pytest.mark.parametrize("k", [1, 3, 5, 12])
def test_counts_agree_with_sets_of_substrings(k):
    rng = np.random.default_rng(k)
    tokens = rng.integers(0, 3, 400).astype(np.int64)  # a wide dtype: k-grams compare as raw bytes
    text = "".join(map(str, tokens))
    sizes = [0, k - 1, k, 50, 399, 400]
    assert distinct_kgrams(tokens, k, sizes).tolist() == [by_hand(text, k, D) for D in sizes]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="at least k"):
        new_kgrams(np.arange(3), 4)
    with pytest.raises(ValueError, match="prefix sizes"):
        distinct_kgrams(np.arange(10), 2, [11])
