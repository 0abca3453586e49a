"""Distinct k-grams of a growing prefix of a token stream: the paper's "unique sequences", counted exactly.

A k-gram is new at position i when no earlier position starts the same k tokens; the prefix of D tokens holds
as many distinct k-grams as there are new positions i with i + k <= D. One sort of the stream's k-grams
(compared as raw bytes, so no hashing and no collisions) gives every prefix's count at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def new_kgrams(tokens: np.ndarray, k: int) -> np.ndarray:
    """Flags (length n - k + 1): True where the k-gram starting at that position has not occurred before."""
    tokens = np.ascontiguousarray(tokens)
    if tokens.ndim != 1 or not 1 <= k <= len(tokens):
        raise ValueError(f"need a 1-d token stream of at least k = {k} tokens, got shape {tokens.shape}")
    windows = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(tokens, k))
    keys = windows.view(np.dtype((np.void, k * tokens.itemsize))).ravel()
    _, first = np.unique(keys, return_index=True)
    flags = np.zeros(len(keys), dtype=bool)
    flags[first] = True
    return flags


def distinct_kgrams(tokens: np.ndarray, k: int, sizes: Sequence[int]) -> np.ndarray:
    """The number of distinct k-grams in each prefix ``tokens[:D]`` for D in `sizes`."""
    sizes = np.asarray(sizes, dtype=int)
    if np.any(sizes < 0) or np.any(sizes > len(tokens)):
        raise ValueError(f"prefix sizes must lie in 0..{len(tokens)}")
    running = np.concatenate([[0], np.cumsum(new_kgrams(tokens, k))])
    return running[np.clip(sizes - k + 1, 0, None)]
