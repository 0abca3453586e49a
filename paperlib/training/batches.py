"""How a run draws its batches from tensors, and the held-out sets it is scored on.

A sampler maps the run's `State` to a batch, so the order depends only on the seed and the step:
runs with one seed see the same batches (a paired design) and a resumed run continues the same order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import torch
from torch import Tensor

from paperlib.training.loop import Batch, Sampler, State


def shuffled_batches(x: Tensor, y: Tensor, batch_size: int) -> Sampler:
    """Epochs of shuffled batches without replacement, Keras style (the last batch may be short)."""
    per_epoch = steps_per_epoch(len(x), batch_size)
    cache: dict[tuple[int, int], Tensor] = {}  # keyed by seed too: runs of several seeds share a sampler

    def sample(state: State) -> Batch:
        epoch, i = divmod(state.step, per_epoch)
        key = (state.seed, epoch)
        if key not in cache:
            cache.clear()
            g = torch.Generator().manual_seed(state.seed * 1_000_003 + epoch)
            cache[key] = torch.randperm(len(x), generator=g).to(x.device)
        idx = cache[key][i * batch_size:(i + 1) * batch_size]
        return x[idx], y[idx]

    return sample


def random_windows(tokens: Tensor, context: int, batch_size: int) -> Sampler:
    """`batch_size` random windows of a token stream (inputs, next-token targets), drawn with the run's
    generator, so a seed fixes the batches."""
    def sample(state: State) -> Batch:
        starts = torch.randint(len(tokens) - context, (batch_size,), generator=state.generator)
        windows = _windows(tokens, context, starts)
        return windows[:, :-1], windows[:, 1:]

    return sample


def fixed_windows(tokens: Tensor, context: int, n: int, seed: int = 1234) -> Tensor:
    """`n` windows of `context` + 1 tokens at seeded random offsets: the evaluation set of a split."""
    g = torch.Generator().manual_seed(seed)
    return _windows(tokens, context, torch.randint(len(tokens) - context, (n,), generator=g))


def tiled_windows(tokens: Tensor, context: int) -> Tensor:
    """The whole stream as consecutive windows of `context` + 1 tokens that overlap by one (each token after the
    first is a target once; a tail shorter than a window is dropped): the evaluation set of a whole split."""
    if len(tokens) < context + 1:
        raise ValueError(f"a stream of {len(tokens)} tokens holds no window of {context + 1}")
    return tokens[:(len(tokens) - 1) // context * context + 1].unfold(0, context + 1, context)


def window_batches(windows: Tensor, batch_size: int = 64) -> Iterator[Batch]:
    """(inputs, next-token targets) of consecutive chunks of `windows` (n, context + 1)."""
    for chunk in windows.split(batch_size):
        yield chunk[:, :-1], chunk[:, 1:]


def tensor_batches(x: Tensor, y: Tensor, batch_size: int = 1000) -> Iterable[Batch]:
    """(x, y) in consecutive chunks of `batch_size`, in order."""
    return zip(x.split(batch_size), y.split(batch_size))


def split_validation(x: Tensor, y: Tensor, n_val: int, seed: int = 0) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(train_x, train_y, val_x, val_y): `n_val` examples drawn at random (seeded) out of (x, y)."""
    if not 0 < n_val < len(x):
        raise ValueError(f"n_val must be between 1 and {len(x) - 1}, got {n_val}")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def steps_per_epoch(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)


def _windows(tokens: Tensor, context: int, starts: Tensor) -> Tensor:
    return tokens[starts[:, None] + torch.arange(context + 1)]
