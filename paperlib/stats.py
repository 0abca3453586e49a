"""Confidence intervals: t-intervals of means over seeds and of paired differences, percentile
intervals of bootstrap samples, Wilson intervals of proportions; power laws fitted in log-log."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def standard_error(values: Sequence[float]) -> float:
    """The standard error of the mean (sample standard deviation over √n); NaN for fewer than 2 values."""
    x = np.asarray(values, dtype=float)
    return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the Student-t interval of the mean; the bounds are NaN for fewer than 2 values."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf((1 + level) / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half


def paired_diff_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """`mean_ci` of a - b, pair by pair (e.g. two models trained with the same seeds)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in shape: {a.shape} and {b.shape}")
    return mean_ci(a - b, level)


def ci_table(df: pd.DataFrame, by: list[str], value: str, level: float = 0.95) -> pd.DataFrame:
    """Per group of `by`: n, mean, ci_low and ci_high of column `value`."""
    rows = [(*(key if isinstance(key, tuple) else (key,)), len(g), *mean_ci(g[value], level))
            for key, g in df.groupby(by, sort=False)]
    return pd.DataFrame(rows, columns=[*by, "n", "mean", "ci_low", "ci_high"])


def percentile_interval(samples: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """The central percentile interval of bootstrap `samples` at `level`."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(np.asarray(samples, dtype=float), [tail, 100 - tail])
    return float(low), float(high)


def wilson_interval(correct: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of a proportion correct / n."""
    if not 0 <= correct <= n or n < 1:
        raise ValueError(f"need 0 <= correct <= n and n >= 1, got {correct}, {n}")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@dataclass
class PowerFit:
    """y = prefactor * n**exponent fitted by least squares in log-log, with a t-interval on the exponent."""

    exponent: float
    ci_low: float
    ci_high: float
    prefactor: float
    n_points: int


def fit_power(
    ns: np.ndarray, ys: np.ndarray, n_min: float = 0, n_max: float = math.inf, level: float = 0.95
) -> PowerFit:
    """Fit log y = log a + b log n on the points with n_min <= n <= n_max.

    The interval is the OLS t-interval (k - 2 degrees of freedom), so it widens both with noise (a
    timing's, a bootstrap's) and with curvature that a single power law does not describe; it is NaN for two points.
    """
    ns, ys = np.asarray(ns, dtype=float), np.asarray(ys, dtype=float)
    keep = (ns >= n_min) & (ns <= n_max) & (ys > 0)
    x, y = np.log(ns[keep]), np.log(ys[keep])
    k = len(x)
    if k < 2:
        raise ValueError(f"need at least two points in [{n_min}, {n_max}] to fit an exponent, got {k}")
    fit = stats.linregress(x, y)
    slope = float(fit.slope)
    half = float(stats.t.ppf(0.5 + level / 2, k - 2) * fit.stderr) if k > 2 else math.nan
    return PowerFit(slope, slope - half, slope + half, math.exp(fit.intercept), k)
