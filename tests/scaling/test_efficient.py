"""N* on a ladder: the first crossing of a threshold, interpolated in log N or censored at an end."""

import math

import pytest

from paperlib.scaling.efficient import first_crossing, interpolate_size

SIZES = [1000.0, 2000.0, 4000.0, 8000.0]


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
