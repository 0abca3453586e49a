"""N* on a ladder: the slice's own asymptote, the first crossing (interpolated or censored), the lowest-loss size,
and the exponent γ of N* ∝ D^γ, on synthetic losses."""

import math

import numpy as np
import pytest

from paperlib.scaling.efficient import (Asymptote, exponent, first_crossing, fit_asymptote, interpolate_size,
                                        lowest_rung)

SIZES = [1000.0, 2000.0, 4000.0, 8000.0]


def test_the_asymptote_fit_recovers_a_power_law_in_n_from_noisy_losses():
    N = 6000 * 1.5 ** np.arange(8)
    exact = fit_asymptote(N, 1.8 + 30 * N ** -0.4)
    assert (exact.L_inf, exact.a, exact.b) == pytest.approx((1.8, 30, 0.4), rel=1e-4)
    noisy = 1.8 + 30 * np.repeat(N, 2) ** -0.4 + np.random.default_rng(0).normal(0, 0.002, 16)
    assert fit_asymptote(np.repeat(N, 2), noisy).L_inf == pytest.approx(1.8, abs=0.05)
    assert fit_asymptote(N, 1.8 + 30 * N ** -0.4, start=exact).b == pytest.approx(0.4, rel=1e-4)
    assert Asymptote(1.0, 2.0, 1.0).loss(4.0) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="three"):
        fit_asymptote([1000, 1000, 2000], [2.0, 2.0, 1.9])


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
