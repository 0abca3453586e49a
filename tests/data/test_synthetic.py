"""The copy / selective-copy generator: layout, targets, markers, positions, seeding."""

import pytest
import torch

from paperlib.data.synthetic import ALPHABET, N_DATA, NOISE, copy_batch, copy_batches, seq_len


def batch(selective: bool, noise_len: int = 100, seed: int = 0, **kw):
    return copy_batch(32, noise_len, selective=selective, generator=torch.Generator().manual_seed(seed), **kw)


def data_positions(x: torch.Tensor, n_data: int) -> torch.Tensor:
    return (x[:, :-n_data] != NOISE).nonzero()[:, 1].view(len(x), -1)


@pytest.mark.parametrize("selective", [False, True])
def test_shapes_markers_and_alphabet(selective):
    x, y = batch(selective)
    assert x.shape == (32, 100 + 2 * N_DATA) and y.shape == (32, N_DATA)
    assert x.dtype == y.dtype == torch.long
    assert (x[:, -N_DATA:] == ALPHABET - 1).all()
    assert ((y >= 1) & (y <= ALPHABET - 2)).all()
    assert set(y.unique().tolist()) == set(range(1, ALPHABET - 1))  # 512 draws cover all 14 symbols
    body = x[:, :-N_DATA]
    assert ((body == NOISE).sum(1) == 100).all()
    assert ((body >= 0) & (body <= ALPHABET - 2)).all()


def test_a_sample_is_the_noise_between_the_data_and_the_markers():
    assert seq_len(4096) == 4128 == copy_batch(1, 4096)[0].shape[1]  # the paper's length
    assert seq_len(10, n_data=3) == 16 == copy_batch(2, 10, n_data=3)[0].shape[1]


def test_copy_puts_the_data_first_and_the_target_is_the_data():
    x, y = batch(False)
    assert torch.equal(x[:, :N_DATA], y)
    assert (x[:, N_DATA:-N_DATA] == NOISE).all()


def test_selective_positions_are_sorted_distinct_in_range_and_carry_the_target_in_order():
    x, y = batch(True, noise_len=300)
    pos = data_positions(x, N_DATA)
    assert pos.shape == (32, N_DATA)
    assert (pos.diff(dim=1) > 0).all() and (pos >= 0).all() and (pos < 300 + N_DATA).all()
    assert torch.equal(x.gather(1, pos), y)
    assert len({tuple(p) for p in pos.tolist()}) == 32  # random per row
    assert pos.max() > 200  # spread over the whole span, not only the start


def test_selective_positions_cover_the_span_uniformly():
    x, _ = copy_batch(4000, 16, selective=True, generator=torch.Generator().manual_seed(1))
    counts = torch.bincount(data_positions(x, N_DATA).flatten(), minlength=32).float()
    assert counts.shape == (32,)
    expected = 4000 * N_DATA / 32  # each of the L + M positions holds data with probability M / (L + M)
    assert ((counts - expected).abs() < 0.1 * expected).all()


def test_zero_noise_and_other_sizes():
    x, y = copy_batch(3, 0, selective=True, n_data=4, alphabet=6, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 8) and torch.equal(x[:, :4], y) and (x[:, 4:] == 5).all()


@pytest.mark.parametrize("selective", [False, True])
def test_a_seed_repeats_its_batches_and_each_draw_is_fresh(selective):
    g = torch.Generator().manual_seed(7)
    first, second = (copy_batch(8, 50, selective=selective, generator=g) for _ in range(2))
    assert not torch.equal(first[0], second[0])
    assert torch.equal(copy_batch(8, 50, selective=selective, generator=torch.Generator().manual_seed(7))[0], first[0])


def test_full_paper_batch_is_vectorized():
    x, y = copy_batch(64, 4096, selective=True, generator=torch.Generator().manual_seed(0))
    assert x.shape == (64, 4128) and torch.equal(x.gather(1, data_positions(x, N_DATA)), y)


def test_rejects_bad_sizes():
    with pytest.raises(ValueError):
        copy_batch(4, -1)
    with pytest.raises(ValueError):
        copy_batch(4, 10, alphabet=2)


def test_copy_batches_are_successive_draws_of_one_generator():
    batches = list(copy_batches(3, 4, 20, selective=True, generator=torch.Generator().manual_seed(5)))
    g = torch.Generator().manual_seed(5)
    expected = [copy_batch(4, 20, selective=True, generator=g) for _ in range(3)]
    assert len(batches) == 3 and not torch.equal(batches[0][0], batches[1][0])
    assert all(torch.equal(x, ex) and torch.equal(y, ey) for (x, y), (ex, ey) in zip(batches, expected))
