"""The efficient model size N*(D), measured on a ladder of model sizes trained at one corpus size: the slice's own
asymptote L∞ (a fit of L = L∞ + a·N^−b across the sizes), the first size whose loss meets a threshold
(interpolated between the two sizes around it, or censored at an end of the ladder), the size with the lowest
loss, and the exponent γ of N* ∝ D^γ (methods page, measuring γ).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import softmax

from paperlib.bench import fit_power
from paperlib.scaling.fit import HUBER_DELTA, huber_least_squares

MIN_SIZES = 3  # corpus sizes an exponent needs before we fit one
ASYMPTOTE_STARTS = (0.25, 0.5, 1.0)  # starting exponents b of the per-slice fit


@dataclass(frozen=True)
class Asymptote:
    """L(N) = L∞ + a·N^−b across the model sizes at one corpus size."""

    L_inf: float
    a: float
    b: float

    def loss(self, N: np.ndarray | float) -> np.ndarray | float:
        return self.L_inf + self.a * np.power(N, -self.b)


def fit_asymptote(N: Sequence[float], loss: Sequence[float], start: Asymptote | None = None,
                  delta: float = HUBER_DELTA) -> Asymptote:
    """Fit L = L∞ + a·N^−b to losses at several sizes (repeats allowed) with the global fit's loss, the summed
    Huber loss of log L, written log L = LSE(ln a − b ln N, ln L∞) with b = e^c > 0: from `start`, or else from
    a few starting exponents `ASYMPTOTE_STARTS`."""
    log_N, log_L = np.log(np.asarray(N, dtype=float)), np.log(np.asarray(loss, dtype=float))
    if len(np.unique(log_N)) < 3:
        raise ValueError(f"an asymptote needs three model sizes at least, got {len(np.unique(log_N))}")

    def residuals(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ln_a, c, ln_inf = theta
        terms = np.stack([ln_a - math.exp(c) * log_N, np.full_like(log_N, ln_inf)])
        weights = softmax(terms, axis=0)
        fitted = np.logaddexp(terms[0], terms[1])
        return fitted - log_L, np.stack([weights[0], -weights[0] * log_N * math.exp(c), weights[1]], axis=1)

    if start is not None:
        starts = [np.array([math.log(start.a), math.log(start.b), math.log(start.L_inf)])]
    else:
        floor = 0.9 * float(np.exp(log_L.min()))
        first = float(np.exp(log_L[np.argmin(log_N)]))
        starts = [np.array([math.log(max(first - floor, 1e-3)) + b * log_N.min(), math.log(b), math.log(floor)])
                  for b in ASYMPTOTE_STARTS]
    (ln_a, c, ln_inf), _ = huber_least_squares(residuals, starts, delta)
    return Asymptote(math.exp(ln_inf), math.exp(ln_a), math.exp(c))


@dataclass(frozen=True)
class Crossing:
    """N* at one corpus size: found (interpolated between rungs ``pair``), or censored "below" the smallest
    rung (it already meets the threshold) or "above" the largest (none does); `size` is N* or the bound."""

    status: Literal["found", "below", "above"]
    size: float
    pair: tuple[int, ...] = ()  # the rungs that define N*: the last one missing and the first one meeting it


def first_crossing(sizes: Sequence[float], losses: Sequence[float], threshold: float) -> Crossing:
    """The first size (ascending) whose loss is at most `threshold`, interpolated linearly in log N between it
    and the size before (against the loss); censored at an end of the ladder when no pair straddles it."""
    if len(sizes) != len(losses) or not len(sizes) or any(a >= b for a, b in zip(sizes, sizes[1:])):
        raise ValueError("sizes must be increasing and as many as the losses")
    meets = [k for k, value in enumerate(losses) if value <= threshold]
    if not meets:
        return Crossing("above", float(sizes[-1]))
    k = meets[0]
    if k == 0:
        return Crossing("below", float(sizes[0]), (0,))
    return Crossing("found", interpolate_size(sizes, {k - 1: losses[k - 1], k: losses[k]}, threshold, k), (k - 1, k))


def lowest_rung(sizes: Sequence[float], losses: Sequence[float]) -> Crossing:
    """The size with the lowest loss (Hestness's best model found); censored "above" when it is the largest,
    since a larger size might do better still."""
    k = int(np.argmin(losses))
    return Crossing("above" if k == len(sizes) - 1 else "found", float(sizes[k]), (k,))


def interpolate_size(sizes: Sequence[float], losses: dict[int, float], target: float, boundary: int) -> float:
    """N* between the last failing rung (boundary - 1) and the first passing one, where the loss, taken as
    linear in log N between them, meets `target`."""
    if boundary < 1:
        raise ValueError("the smallest rung passes: N* is only known to be at most its size")
    above, below = losses[boundary - 1], losses[boundary]
    if not above > target >= below:
        raise ValueError(f"the losses {above}, {below} do not straddle the target {target}")
    fraction = (above - target) / (above - below)
    low, high = math.log(sizes[boundary - 1]), math.log(sizes[boundary])
    return float(math.exp(low + fraction * (high - low)))


def exponent(D: Sequence[float], N: Sequence[float]) -> float:
    """γ of N ∝ D^γ: the least-squares slope of log N on log D over every point (several may share a D); NaN
    when fewer than `MIN_SIZES` distinct corpus sizes remain."""
    D, N = np.asarray(D, dtype=float), np.asarray(N, dtype=float)
    if D.shape != N.shape or np.any(D <= 0) or np.any(N <= 0):
        raise ValueError("D and N must be positive and of the same length")
    if len(np.unique(D)) < MIN_SIZES:
        return math.nan
    return fit_power(D, N).exponent
