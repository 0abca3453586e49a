"""N* on a ladder: the slice's own asymptote, the first crossing (interpolated or censored), the lowest-loss size,
and the exponent γ of N* ∝ D^γ, on synthetic losses."""

import math

import numpy as np
import pytest

from paperlib.scaling.efficient import (Asymptote, exponent, first_crossing, fit_asymptotes, interpolate_size,
                                        lowest_rung)

SIZES = [1000.0, 2000.0, 4000.0, 8000.0]


def test_the_asymptotes_recover_each_slices_level_and_the_shared_exponent_from_noisy_losses():
    N, D = (a.ravel() for a in np.meshgrid(6000 * 1.5 ** np.arange(8), [1e4, 4e4, 1.6e5]))
    L_inf = {1e4: 2.4, 4e4: 2.1, 1.6e5: 1.9}
    amplitude = {1e4: 20.0, 4e4: 30.0, 1.6e5: 40.0}  # a(D) free: not the additive law
    loss = np.array([L_inf[d] + amplitude[d] * n ** -0.4 for n, d in zip(N, D)])
    exact = fit_asymptotes(N, D, loss)
    for d in L_inf:
        assert (exact[int(d)].L_inf, exact[int(d)].a, exact[int(d)].b) == pytest.approx((L_inf[d], amplitude[d], 0.4), rel=1e-4)
    noisy = fit_asymptotes(np.repeat(N, 2), np.repeat(D, 2), np.repeat(loss, 2) + np.random.default_rng(0).normal(0, 0.002, 48))
    assert [noisy[int(d)].L_inf for d in L_inf] == pytest.approx(list(L_inf.values()), abs=0.05)
    assert fit_asymptotes(N, D, loss, start=exact)[40000].b == pytest.approx(0.4, rel=1e-4)
    assert Asymptote(1.0, 2.0, 1.0).loss(4.0) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="three"):
        fit_asymptotes([1000, 1000, 2000], [1, 1, 1], [2.0, 2.0, 1.9])
    with pytest.raises(ValueError, match="no slice"):  # a bootstrap resample can leave none, and counts it failed
        fit_asymptotes([], [], [], start=exact)


def test_the_first_crossing_is_interpolated_in_log_n_or_censored_at_an_end():
    losses = [2.0, 1.8, 1.6, 1.5]
    found = first_crossing(SIZES, losses, 1.7)
    assert found.status == "found" and found.pair == (1, 2)
    assert found.size == pytest.approx(math.sqrt(2000 * 4000)), "half way in loss: the geometric mean"
    assert first_crossing(SIZES, losses, 1.8).size == pytest.approx(2000), "meeting it exactly is enough"
    assert first_crossing(SIZES, losses, 2.5).status == "below" and first_crossing(SIZES, losses, 2.5).size == 1000
    assert first_crossing(SIZES, losses, 1.0).status == "above" and first_crossing(SIZES, losses, 1.0).pair == ()
    noisy = first_crossing(SIZES, [2.0, 1.65, 1.75, 1.6], 1.7)
    assert noisy.pair == (0, 1), "the first size that meets it, even if a larger one misses it again"
    with pytest.raises(ValueError, match="increasing"):
        first_crossing([2000, 1000], [1.0, 2.0], 1.5)
    with pytest.raises(ValueError, match="straddle"):
        interpolate_size(SIZES, {0: 1.0, 1: 2.0}, 1.5, 1)


def test_the_lowest_loss_size_is_censored_when_it_is_the_largest():
    assert lowest_rung(SIZES, [2.0, 1.7, 1.8, 1.9]).size == 2000 and lowest_rung(SIZES, [2.0, 1.7, 1.8, 1.9]).status == "found"
    assert lowest_rung(SIZES, [2.0, 1.9, 1.8, 1.7]).status == "above"


def test_the_exponent_needs_three_slices_and_recovers_a_power():
    D = np.repeat([1e4, 2e4, 4e4, 8e4], 2)
    assert exponent(D, 3 * D ** 0.6) == pytest.approx(0.6)
    assert math.isnan(exponent([1e4, 2e4, 2e4], [1.0, 2.0, 2.1]))
    with pytest.raises(ValueError, match="positive"):
        exponent([1e4, -2e4, 4e4], [1, 2, 3])
