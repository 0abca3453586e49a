"""Copy and selective-copy batches (the S4 / Mamba generator reused by Kausik; methods page, copy data).

A sequence has M data tokens drawn uniformly from 1 .. A-2, L noise tokens of value 0 and M markers
of value A-1 at the end; the target is the M data tokens in order:

    copy            [d_1 .. d_M, 0 x L, A-1 x M]                          length L + 2M
    selective copy  d_1 .. d_M at sorted random positions among the first L + M, zeros elsewhere,
                    then A-1 x M

Batches are drawn whole (no per-sample loop) from a seeded CPU generator; a fresh batch every call.
"""

from collections.abc import Iterator

import torch
from torch import Tensor

N_DATA = 16  # M: data tokens to remember
ALPHABET = 16  # A: noise 0, data 1 .. A-2, marker A-1
NOISE = 0


def seq_len(noise_len: int, n_data: int = N_DATA) -> int:
    """Tokens of a sample with `noise_len` noise tokens: the data, the noise and the markers (L + 2M)."""
    return noise_len + 2 * n_data


def copy_batch(batch: int, noise_len: int, *, selective: bool = False, n_data: int = N_DATA,
               alphabet: int = ALPHABET, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(x, y): inputs (batch, `seq_len(noise_len, n_data)`) and targets (batch, n_data), int64 on the CPU."""
    if alphabet < 3:
        raise ValueError(f"alphabet must be >= 3 (noise, one data symbol, marker), got {alphabet}")
    if noise_len < 0 or n_data < 1 or batch < 1:
        raise ValueError(f"need batch >= 1, n_data >= 1 and noise_len >= 0; got {batch}, {n_data}, {noise_len}")
    y = torch.randint(1, alphabet - 1, (batch, n_data), generator=generator)
    x = torch.full((batch, seq_len(noise_len, n_data)), NOISE, dtype=torch.long)
    x[:, -n_data:] = alphabet - 1
    if selective:
        span = noise_len + n_data
        positions = torch.rand(batch, span, generator=generator).argsort(dim=1)[:, :n_data].sort(dim=1).values
        x.scatter_(1, positions, y)
    else:
        x[:, :n_data] = y
    return x, y


def copy_batches(n_batches: int, batch: int, noise_len: int, *, selective: bool, generator: torch.Generator
                 ) -> Iterator[tuple[Tensor, Tensor]]:
    """`n_batches` fresh batches of `copy_batch`, drawn one at a time from `generator`."""
    for _ in range(n_batches):
        yield copy_batch(batch, noise_len, selective=selective, generator=generator)
