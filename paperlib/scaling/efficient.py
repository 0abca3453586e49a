"""The efficient model size N*(D), measured on a ladder of model sizes trained at one corpus size: the slice's own
asymptote L∞ (a fit of L = L∞ + a·N^−b across the sizes, b shared by the slices), the first size whose loss meets a threshold
(interpolated between the two sizes around it, or censored at an end of the ladder), the size with the lowest
loss, and the exponent γ of N* ∝ D^γ (methods page, measuring γ).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import softmax

from paperlib.stats import fit_power
from paperlib.scaling.fit import HUBER_DELTA, huber_least_squares

MIN_SIZES = 3  # corpus sizes an exponent needs before we fit one
ASYMPTOTE_STARTS = (0.25, 0.5, 1.0)  # starting exponents b of the slices' fit


@dataclass(frozen=True)
class Asymptote:
    """L(N) = L∞ + a·N^−b across the model sizes at one corpus size."""

    L_inf: float
    a: float
    b: float

    def loss(self, N: np.ndarray | float) -> np.ndarray | float:
        return self.L_inf + self.a * np.power(N, -self.b)


def fit_asymptotes(N: Sequence[float], D: Sequence[float], loss: Sequence[float],
                   start: Mapping[int, Asymptote] | None = None, delta: float = HUBER_DELTA) -> dict[int, Asymptote]:
    """Each corpus size's own asymptote: L = L∞(D) + a(D)·N^−b fitted to the losses at every size and corpus size
    (repeats allowed), L∞ and a free at each D, one exponent b > 0 shared by all (a slice's eight noisy losses
    alone rarely pin down both its asymptote and its curvature). The loss is the global fit's, the summed Huber
    loss of log L, written log L = LSE(ln a(D) − b ln N, ln L∞(D)) with b = e^c; from `start`, or else from a few
    starting exponents `ASYMPTOTE_STARTS`."""
    log_N, log_L = np.log(np.asarray(N, dtype=float)), np.log(np.asarray(loss, dtype=float))
    sizes, group = np.unique(np.asarray(D), return_inverse=True)
    if not len(sizes):
        raise ValueError("no slice to fit an asymptote to: every slice has fewer than three model sizes")
    for i, size in enumerate(sizes):
        if len(np.unique(log_N[group == i])) < 3:
            raise ValueError(f"an asymptote needs three model sizes at least; D = {size} has fewer")
    rows, k = np.arange(len(log_N)), len(sizes)

    def residuals(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b, ln_a, ln_inf = math.exp(theta[0]), theta[1:1 + k][group], theta[1 + k:][group]
        terms = np.stack([ln_a - b * log_N, ln_inf])
        weights = softmax(terms, axis=0)
        jacobian = np.zeros((len(log_N), 1 + 2 * k))
        jacobian[:, 0] = -weights[0] * log_N * b
        jacobian[rows, 1 + group] = weights[0]
        jacobian[rows, 1 + k + group] = weights[1]
        return np.logaddexp(terms[0], terms[1]) - log_L, jacobian

    if start is not None:
        first = start[int(sizes[0])]
        starts = [np.concatenate([[math.log(first.b)], [math.log(start[int(d)].a) for d in sizes],
                                  [math.log(start[int(d)].L_inf) for d in sizes]])]
    else:
        floors = np.array([0.9 * np.exp(log_L[group == i].min()) for i in range(k)])
        smallest = np.array([np.exp(log_L[group == i][np.argmin(log_N[group == i])]) for i in range(k)])
        starts = [np.concatenate([[math.log(b)], np.log(np.maximum(smallest - floors, 1e-3)) + b * log_N.min(),
                                  np.log(floors)]) for b in ASYMPTOTE_STARTS]
    theta, _ = huber_least_squares(residuals, starts, delta)
    b = math.exp(theta[0])
    return {int(d): Asymptote(math.exp(theta[1 + k + i]), math.exp(theta[1 + i]), b) for i, d in enumerate(sizes)}


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
