"""Bisection over a ladder, interpolation at the boundary, and the exponent fit on synthetic N*(D)."""

import math

import numpy as np
import pytest

from paperlib.scaling.efficient import Bisection, bisect_together, first_passing, fit_exponent, interpolate_size


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 33])
def test_bisection_finds_the_boundary_of_every_monotone_predicate(n):
    for boundary in range(n + 1):  # n: no rung passes
        asked: list[int] = []

        def predicate(rung, asked=asked, boundary=boundary):
            asked.append(rung)
            return rung >= boundary

        assert first_passing(predicate, n) == (boundary if boundary < n else None)
        assert len(asked) == len(set(asked)) <= math.ceil(math.log2(n + 1)), "each rung once, log2 runs"


def test_searches_advance_together_one_batch_per_round():
    boundaries = {"a": 0, "b": 3, "c": 8}
    searches = {key: Bisection(8) for key in boundaries}
    batches = []

    def passes(probes):
        batches.append(dict(probes))
        return {key: rung >= boundaries[key] for key, rung in probes.items()}

    rounds = bisect_together(searches, passes)
    assert {key: s.boundary for key, s in searches.items()} == {"a": 0, "b": 3, "c": None}
    assert rounds == len(batches) <= 4 and set(batches[0]) == {"a", "b", "c"}


def test_a_bisection_refuses_what_it_cannot_use():
    with pytest.raises(ValueError, match="at least one rung"):
        Bisection(0)
    search = Bisection(4)
    search.record(1, False)
    with pytest.raises(ValueError, match="outside"):
        search.record(0, True)
    with pytest.raises(RuntimeError, match="not finished"):
        _ = search.boundary


def test_interpolation_meets_the_target_in_log_size():
    sizes, losses = [1e3, 1e4, 1e5], {1: 2.0, 2: 1.0}
    assert interpolate_size(sizes, losses, 1.5, 2) == pytest.approx(10 ** 4.5)
    assert interpolate_size(sizes, losses, 1.0, 2) == pytest.approx(1e5)
    assert interpolate_size(sizes, {1: 0.9, 2: 1.0}, 1.0, 2) == 1e5, "out of order: the passing rung"
    with pytest.raises(ValueError, match="smallest"):
        interpolate_size(sizes, losses, 1.5, 0)


def test_the_fit_recovers_a_known_exponent():
    D = np.repeat(31250 * 2.0 ** np.arange(6), 3)
    exact = fit_exponent(D, 7.0 * D ** 0.6, n_resamples=200)
    assert exact.gamma == pytest.approx(0.6) and exact.ci_low == pytest.approx(0.6) and exact.ci_high == pytest.approx(0.6)
    noisy = fit_exponent(D, 7.0 * D ** 0.6 * np.exp(np.random.default_rng(1).normal(0, 0.15, len(D))), n_resamples=500)
    assert abs(noisy.gamma - 0.6) < 0.08 and noisy.ci_low < 0.6 < noisy.ci_high
    assert noisy.ci_high - noisy.ci_low < 0.3 and (noisy.n_points, noisy.n_sizes) == (18, 6)


def test_too_few_corpus_sizes_give_no_exponent():
    fit = fit_exponent([1e4, 1e4, 2e4], [10, 11, 20])
    assert math.isnan(fit.gamma) and math.isnan(fit.ci_low) and fit.n_sizes == 2
    with pytest.raises(ValueError, match="positive"):
        fit_exponent([1e4, 2e4, 4e4], [1, 0, 3])
