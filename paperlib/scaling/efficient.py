"""The efficient model size N*(D), measured: where on an ordered ladder of model sizes a run first reaches a
target, found by bisection, interpolated between the two rungs around it, and the exponent γ of N* ∝ D^γ
with a bootstrap interval over corpus sizes and seeds.

Bisection assumes that the predicate "this size reaches the target" is monotone along the ladder (false
below some rung, true from it on); it then needs about log2(rungs + 1) runs per search instead of one per
rung, and many searches advance together, one batch of runs per round.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from paperlib.stats import fit_power, percentile_interval


@dataclass
class Bisection:
    """The first passing rung of a ladder of `n` rungs under a monotone predicate: every rung up to `lo`
    fails, every rung from `hi` on passes (-1 and n stand for the ends, which are never run)."""

    n: int
    lo: int = -1
    hi: int = -1

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"a ladder needs at least one rung, got {self.n}")
        if self.hi == -1:
            self.hi = self.n

    @property
    def probe(self) -> int | None:
        """The rung to try next, or None when the boundary is found."""
        return None if self.hi - self.lo <= 1 else (self.lo + self.hi) // 2

    def record(self, rung: int, passed: bool) -> None:
        """The outcome of running `rung`."""
        if not self.lo < rung < self.hi:
            raise ValueError(f"rung {rung} lies outside the open bracket ({self.lo}, {self.hi})")
        if passed:
            self.hi = rung
        else:
            self.lo = rung

    @property
    def boundary(self) -> int | None:
        """The first passing rung (0: even the smallest passes), or None when no rung passes."""
        if self.probe is not None:
            raise RuntimeError("the search has not finished")
        return None if self.hi == self.n else self.hi


def bisect_together(searches: Mapping[Hashable, Bisection],
                    passes: Callable[[dict[Hashable, int]], Mapping[Hashable, bool]]) -> int:
    """Advance every search to its boundary. Each round asks `passes` about every unfinished search's probe
    at once ({key: rung} -> {key: passed}), so one batch of runs serves them all. Returns the rounds taken."""
    rounds = 0
    while probes := {key: s.probe for key, s in searches.items() if s.probe is not None}:
        outcome = passes(probes)
        for key, rung in probes.items():
            searches[key].record(rung, bool(outcome[key]))
        rounds += 1
    return rounds


def first_passing(predicate: Callable[[int], bool], n: int) -> int | None:
    """The first of rungs 0..n-1 where a monotone `predicate` holds (None: nowhere), by bisection."""
    search = Bisection(n)
    bisect_together({0: search}, lambda probes: {0: predicate(probes[0])})
    return search.boundary


def interpolate_size(sizes: Sequence[float], losses: Mapping[int, float], target: float, boundary: int) -> float:
    """N* between the last failing rung (boundary - 1) and the first passing one, where the loss, taken as
    linear in log N between them, meets `target`; the passing rung's size if the two are out of order."""
    if boundary < 1:
        raise ValueError("the smallest rung passes: N* is only known to be at most its size")
    above, below = losses[boundary - 1], losses[boundary]
    if not above > target >= below:
        return float(sizes[boundary])
    fraction = (above - target) / (above - below)
    low, high = math.log(sizes[boundary - 1]), math.log(sizes[boundary])
    return float(math.exp(low + fraction * (high - low)))


@dataclass(frozen=True)
class ExponentFit:
    """γ of N ∝ D^γ: the least-squares slope in log-log over every point, a bootstrap percentile interval,
    the points and corpus sizes used, and the resamples that had too few corpus sizes to fit."""

    gamma: float
    ci_low: float
    ci_high: float
    n_points: int
    n_sizes: int
    skipped: int = 0


MIN_SIZES = 3  # corpus sizes an exponent needs before we fit one


def fit_exponent(D: Sequence[float], N: Sequence[float], n_resamples: int = 2000, seed: int = 0,
                 level: float = 0.95) -> ExponentFit:
    """Fit γ on points (D, N*) (several seeds may share a D). The bootstrap resamples corpus sizes with
    replacement and, within each, its seeds' points, and refits; a resample with fewer than two distinct
    sizes is skipped. NaN throughout when fewer than `MIN_SIZES` distinct sizes remain."""
    D, N = np.asarray(D, dtype=float), np.asarray(N, dtype=float)
    if D.shape != N.shape or np.any(D <= 0) or np.any(N <= 0):
        raise ValueError("D and N must be positive and of the same length")
    sizes = np.unique(D)
    if len(sizes) < MIN_SIZES:
        return ExponentFit(math.nan, math.nan, math.nan, len(D), len(sizes))
    groups = [N[D == d] for d in sizes]
    rng = np.random.default_rng(seed)
    slopes, skipped = [], 0
    for _ in range(n_resamples):
        picked = rng.integers(len(sizes), size=len(sizes))
        if len(set(picked)) < 2:
            skipped += 1
            continue
        xs = np.concatenate([np.full(len(groups[i]), sizes[i]) for i in picked])
        ys = np.concatenate([rng.choice(groups[i], size=len(groups[i])) for i in picked])
        slopes.append(fit_power(xs, ys).exponent)
    low, high = percentile_interval(slopes, level) if slopes else (math.nan, math.nan)
    return ExponentFit(fit_power(D, N).exponent, low, high, len(D), len(sizes), skipped)
