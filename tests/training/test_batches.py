"""Samplers and held-out sets: shuffled epochs, token windows, chunks and the validation split."""

import pytest
import torch
from torch import nn

from paperlib.training.batches import (fixed_windows, random_windows, shuffled_batches, split_validation,
                                       steps_per_epoch, tensor_batches, window_batches)
from paperlib.training.device import configure_device
from paperlib.training.loop import init
from paperlib.training.optim import OptimizerConfig

TOKENS = torch.arange(100)  # window rows are runs of consecutive integers, so their starts are easy to read


def state(seed: int):
    return init(lambda: nn.Linear(1, 1), OptimizerConfig(lr=1e-3), seed=seed, setup=configure_device("cpu"))


def assert_next_token_pairs(inputs: torch.Tensor, targets: torch.Tensor, context: int) -> None:
    """Each row is `context` consecutive tokens of TOKENS and its targets are the same shifted by one."""
    assert inputs.shape == targets.shape and inputs.shape[1] == context
    assert torch.equal(targets, inputs + 1)
    assert torch.equal(inputs, inputs[:, :1] + torch.arange(context))


def test_shuffled_batches_cover_each_epoch_once_and_pair_by_seed():
    x, y = torch.arange(10).float()[:, None], torch.arange(10)
    sample = shuffled_batches(x, y, 4)
    assert steps_per_epoch(10, 4) == 3 and steps_per_epoch(12, 4) == 3
    run = state(3)
    epochs = []
    for _ in range(2):
        batches = []
        for _ in range(3):
            bx, by = sample(run)
            assert torch.equal(bx[:, 0].long(), by)  # inputs and labels stay paired
            batches.append(by)
            run.step += 1
        assert [len(b) for b in batches] == [4, 4, 2]
        assert sorted(torch.cat(batches).tolist()) == list(range(10))
        epochs.append(torch.cat(batches).tolist())
    assert epochs[0] != epochs[1]
    assert sample(state(3))[1].tolist() == epochs[0][:4]
    assert sample(state(4))[1].tolist() != epochs[0][:4]  # another seed sharing the sampler gets its own order


def test_random_windows_are_next_token_pairs_drawn_with_the_states_generator():
    sample = random_windows(TOKENS, 8, 5)
    a, b = state(0), state(0)
    torch.manual_seed(1)
    first = sample(a)
    torch.manual_seed(2)  # the global RNG plays no part
    assert torch.equal(sample(b)[0], first[0])  # one seed, one stream of batches
    assert_next_token_pairs(*first, context=8)
    assert not torch.equal(sample(a)[0], first[0])  # each draw advances the generator
    assert not torch.equal(sample(state(1))[0], first[0])


def test_fixed_windows_are_seeded_and_window_batches_split_them_in_order():
    windows = fixed_windows(TOKENS, 6, 7)
    assert windows.shape == (7, 7) and torch.equal(windows, fixed_windows(TOKENS, 6, 7))
    assert not torch.equal(windows, fixed_windows(TOKENS, 6, 7, seed=1))
    assert windows.max() < len(TOKENS)
    chunks = list(window_batches(windows, batch_size=3))
    assert [len(inputs) for inputs, _ in chunks] == [3, 3, 1]
    for inputs, targets in chunks:
        assert_next_token_pairs(inputs, targets, context=6)
    assert torch.equal(torch.cat([inputs for inputs, _ in chunks]), windows[:, :-1])


def test_tensor_batches_are_consecutive_pairs_in_order():
    x, y = torch.arange(7) * 10, torch.arange(7)
    chunks = list(tensor_batches(x, y, batch_size=3))
    assert [c[1].tolist() for c in chunks] == [[0, 1, 2], [3, 4, 5], [6]]
    assert all(torch.equal(cx, 10 * cy) for cx, cy in chunks)


def test_split_validation_is_disjoint_complete_paired_and_seeded():
    x, y = torch.arange(50) * 10, torch.arange(50)
    tx, ty, vx, vy = split_validation(x, y, 12, seed=5)
    assert len(vx) == 12 and len(tx) == 38
    assert torch.equal(tx, 10 * ty) and torch.equal(vx, 10 * vy)
    assert sorted(ty.tolist() + vy.tolist()) == list(range(50))
    assert torch.equal(vy, split_validation(x, y, 12, seed=5)[3])
    assert not torch.equal(vy, split_validation(x, y, 12, seed=6)[3])


@pytest.mark.parametrize("n_val", [0, 50, -1])
def test_split_validation_refuses_an_empty_or_whole_validation_set(n_val):
    with pytest.raises(ValueError, match="n_val"):
        split_validation(torch.arange(50), torch.arange(50), n_val)
