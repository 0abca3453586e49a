"""The γ arithmetic must reproduce every published number exactly from Hoffmann's printed β."""

import numpy as np
import pytest

from paperlib.scaling.gamma import doubling_multiple, gamma_ci, gamma_interval
from paperlib.scaling.published import HOFFMANN_ROUNDED, HOFFMANN_UNROUNDED


def test_printed_beta_gives_the_papers_interval_exactly():
    g = gamma_interval(HOFFMANN_ROUNDED.beta)
    assert round(g.low, 10) == 0.44
    assert round(g.high, 10) == 0.72
    assert round(g.midpoint, 10) == 0.58


def test_doubling_multiples_are_2_62_and_4_83():
    low, high = gamma_interval(0.28).doubling_multiples
    assert round(low, 2) == 2.62 and round(high, 2) == 4.83
    assert doubling_multiple(0.72) == pytest.approx(2 ** (1 / 0.72))


def test_unrounded_beta_moves_the_interval():
    g = gamma_interval(HOFFMANN_UNROUNDED.beta)
    assert (round(g.low, 3), round(g.high, 3)) == (0.430, 0.715)
    assert [round(m, 2) for m in g.doubling_multiples] == [2.64, 5.01]


@pytest.mark.parametrize("beta", [0.0, 0.5, -0.1, 0.7])
def test_beta_outside_the_meaningful_range_is_refused(beta):
    with pytest.raises(ValueError, match="beta"):
        gamma_interval(beta)


def test_gamma_ci_maps_the_percentiles_of_beta_onto_both_ends():
    beta = np.linspace(0.2, 0.4, 401)
    ci = gamma_ci(beta)
    low, high = ci["beta"]
    assert (low, high) == pytest.approx((0.205, 0.395))
    assert ci["gamma_low"] == pytest.approx((1 - 2 * high, 1 - 2 * low))
    assert ci["gamma_high"] == pytest.approx((1 - high, 1 - low))
    assert gamma_ci(beta, level=0.5)["beta"] == pytest.approx((0.25, 0.35))
