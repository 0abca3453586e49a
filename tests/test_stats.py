"""Means over seeds with t-intervals, paired differences, percentile and Wilson intervals, power-law fits."""

import math

import numpy as np
import pandas as pd
import pytest

from paperlib.stats import ci_table, fit_power, mean_ci, paired_diff_ci, percentile_interval, standard_error, wilson_interval


def test_mean_ci_by_hand():
    mean, low, high = mean_ci([1, 2, 3, 4, 5])
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)  # t_0.975,4 * s / sqrt(n)
    assert mean == 3 and low == pytest.approx(3 - half) and high == pytest.approx(3 + half)
    assert all(type(v) is float for v in (mean, low, high))  # plain floats: glue and JSON show them as numbers


def test_mean_ci_of_one_value_has_no_bounds():
    mean, low, high = mean_ci([0.9])
    assert mean == 0.9 and math.isnan(low) and math.isnan(high)


def test_paired_difference_removes_shared_seed_effects():
    a, b = [0.90, 0.80, 0.70], [0.89, 0.79, 0.69]
    mean, low, high = paired_diff_ci(a, b)
    assert mean == pytest.approx(0.01) and high - low == pytest.approx(0, abs=1e-9)
    assert mean_ci(a)[1] < mean_ci(b)[2]  # unpaired, the intervals overlap
    with pytest.raises(ValueError, match="differ in shape"):
        paired_diff_ci([1, 2], [1, 2, 3])


def test_ci_table_groups():
    df = pd.DataFrame({"model": ["a", "a", "b", "b"], "step": [1, 1, 1, 1], "acc": [1.0, 3.0, 5.0, 5.0]})
    table = ci_table(df, ["model", "step"], "acc")
    assert table.columns.tolist() == ["model", "step", "n", "mean", "ci_low", "ci_high"]
    assert table["mean"].tolist() == [2.0, 5.0] and table["n"].tolist() == [2, 2]
    assert table["ci_low"][1] == table["ci_high"][1] == 5.0


def test_percentile_interval_is_the_central_share():
    samples = list(range(101))
    assert percentile_interval(samples) == pytest.approx((2.5, 97.5))
    assert percentile_interval(samples, level=0.5) == pytest.approx((25.0, 75.0))


def test_wilson_interval_by_hand_and_at_the_edges():
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4) and low + high == pytest.approx(1.0)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    for correct, n in ((11, 10), (-1, 10), (0, 0)):
        with pytest.raises(ValueError):
            wilson_interval(correct, n)


def test_fit_power_recovers_the_exponent_with_an_interval():
    rng = np.random.default_rng(0)
    ns = np.array([256, 512, 1024, 2048, 4096, 8192, 16384])
    ys = 3e-6 * ns**1.5 * np.exp(rng.normal(0, 0.03, ns.size))
    fit = fit_power(ns, ys)
    assert fit.ci_low < 1.5 < fit.ci_high and fit.ci_high - fit.ci_low < 0.2 and fit.n_points == 7
    exact = fit_power(ns, 2.0 * ns, n_min=1024)
    assert exact.exponent == pytest.approx(1.0) and exact.n_points == 5
    assert exact.prefactor == pytest.approx(2.0)


def test_fit_power_with_two_points_has_no_interval_and_fewer_is_refused():
    assert math.isnan(fit_power(np.array([1, 2]), np.array([1, 4])).ci_low)
    with pytest.raises(ValueError):
        fit_power(np.array([1, 2]), np.array([1, 4]), n_min=2)


def test_standard_error_is_the_sample_sd_over_root_n_and_nan_for_one_value():
    assert standard_error([1.0, 2.0, 3.0, 6.0]) == pytest.approx(np.std([1, 2, 3, 6], ddof=1) / 2)
    assert math.isnan(standard_error([4.0]))
