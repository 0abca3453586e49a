"""The measurement of 'Measuring γ': the seed noise and ε, the knees and γ at ε and its multiples (`measure`), the
precision synthetic grids like this one forecast (`expected_precision`), and, as context only, the additive law
L = E + A·N^−α + B·D^−β fitted with its test of additivity (`fit_additive_law`) and its residuals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import f as f_distribution

from paperlib.scaling.fit import ChinchillaFit, fit_huber_least_squares, fit_huber_without_E, start_grid
from paperlib.scaling.knee import KneeGamma, knee_epsilon, measure_gamma, pooled_seed_sd, simulate_runs

EPSILON_SEMS = 2.0  # ε is this many standard errors of a cell's seed mean
EPSILON_MULTIPLES = {"half": 0.5, "double": 2.0}  # γ is also reported at ε times these
SIMULATED_GRIDS, SIMULATED_RESAMPLES = 50, 200  # synthetic grids (and resamples of each) that forecast γ's precision
FIT_STARTS = {"alpha": (0.0, 0.5, 1.0), "beta": (0.0, 0.5, 1.0), "e": (-1.0, 0.0, 1.0), "a": (0.0, 5.0, 10.0),
              "b": (0.0, 5.0, 10.0)}  # starts of the additive-law fit: 243 points of (α, β, ln E, ln A, ln B)


# ---------------------------------------------------------------------------------------------------------------
# The measurement: noise, ε, the knees and γ


@dataclass(frozen=True)
class Measured:
    """γ of the knees at ε (`main`) and at ε times `EPSILON_MULTIPLES` (`variants`), the seed noise behind ε."""

    sd: float
    seeds: int
    main: KneeGamma
    variants: dict[str, KneeGamma]

    @property
    def eps(self) -> float:
        return self.main.eps


def measure(frame: pd.DataFrame, n_bootstrap: int, seed: int) -> Measured:
    """The knees and γ of the learned runs: ε from the pooled seed SD and the fewest seeds of a cell, γ at ε with
    the joint fit's cross-check, and at every multiple of ε."""
    learned = frame[frame.learned]
    seeds = int(learned.groupby(["D", "N"]).seed.nunique().min())
    sd = pooled_seed_sd(learned)
    eps = knee_epsilon(sd, seeds, EPSILON_SEMS)
    main = measure_gamma(learned, eps, n_bootstrap, seed)
    variants = {name: measure_gamma(learned, eps * k, n_bootstrap, seed, cross_check=False)
                for name, k in EPSILON_MULTIPLES.items()}
    return Measured(sd, seeds, main, variants)


def expected_precision(frame: pd.DataFrame, measured: Measured, seed: int) -> tuple[float, float]:
    """The mean half-width of γ's 95 % interval and how often it holds the true γ, over `SIMULATED_GRIDS` synthetic
    grids of this one (its sizes, seeds, ε and measured seed SD) drawn from its own joint fit; NaN without one."""
    joint = measured.main.joint
    if joint is None:
        return math.nan, math.nan
    ladders = {int(D): sorted(g.N.unique()) for D, g in frame[frame.learned].groupby("D")}
    floors = {D: joint.floors.get(D, measured.main.knees[D].plateau) for D in ladders}
    rng, widths, covered = np.random.default_rng(seed), [], 0
    for i in range(SIMULATED_GRIDS):
        runs = simulate_runs(ladders, measured.seeds, joint.gamma, joint.c, floors, joint.slope, joint.width,
                             measured.sd, rng)
        result = measure_gamma(runs, measured.eps, SIMULATED_RESAMPLES, seed + i, cross_check=False)
        low, high = result.ci
        widths.append(result.half_width)
        covered += bool(low <= joint.gamma <= high)
    return float(np.nanmean(widths)) if np.isfinite(widths).any() else math.nan, covered / SIMULATED_GRIDS


# ---------------------------------------------------------------------------------------------------------------
# Context: the additive law, fitted and checked


@dataclass(frozen=True)
class AdditiveLaw:
    """L = E + A·N^−α + B·D^−β fitted to every learned run (with E and without it), and the check of its one
    testable shape: at every D the same curve in N (a two-way analysis of variance over the rungs all slices share)."""

    with_E: ChinchillaFit
    without_E: ChinchillaFit
    F: float
    p: float
    shared_rungs: int

    def band(self, fit: ChinchillaFit) -> tuple[float, float]:
        """[1 − 2β, 1 − β]: the paper's relation applied to a fit's β."""
        return 1 - 2 * fit.beta, 1 - fit.beta


def fit_additive_law(frame: pd.DataFrame) -> AdditiveLaw:
    """Both fits of the learned runs (Huber loss on log L from the `FIT_STARTS` grid) and the test of additivity."""
    learned = frame[frame.learned]
    N, D, L = (learned[c].to_numpy(float) for c in ("N", "D", "val_loss"))
    starts = start_grid(FIT_STARTS)
    F, p, shared = additivity_test(learned)
    return AdditiveLaw(fit_huber_least_squares(N, D, L, starts), fit_huber_without_E(N, D, L, starts), F, p, shared)


def additivity_test(frame: pd.DataFrame) -> tuple[float, float, int]:
    """The F-test of an additive L(N, D) = f(N) + g(D) against a free loss in every (D, N) cell, over the sizes
    every slice trained, with the seeds as replicates: (F, p, shared sizes). The additive law predicts the same
    curve in N at every D, shifted; F large (p small) rejects it whatever its form."""
    shared = set.intersection(*(set(g.N) for _, g in frame.groupby("D")))
    runs = frame[frame.N.isin(shared)]
    if len(shared) < 2 or runs.D.nunique() < 2:
        return math.nan, math.nan, len(shared)
    loss = runs.val_loss.to_numpy(float)
    cell = runs.groupby(["D", "N"]).val_loss.transform("mean").to_numpy(float)
    design = np.column_stack([np.ones(len(runs)), pd.get_dummies(runs.D, drop_first=True, dtype=float),
                              pd.get_dummies(runs.N, drop_first=True, dtype=float)])
    additive = design @ np.linalg.lstsq(design, loss, rcond=None)[0]
    cells = runs.groupby(["D", "N"]).ngroups
    within, interaction = len(runs) - cells, cells - design.shape[1]
    rss_full, rss_add = float(np.sum((loss - cell) ** 2)), float(np.sum((loss - additive) ** 2))
    if within < 1 or interaction < 1 or rss_full == 0:
        return math.nan, math.nan, len(shared)
    F = (rss_add - rss_full) / interaction / (rss_full / within)
    return float(F), float(f_distribution.sf(F, interaction, within)), len(shared)


def additive_residuals(frame: pd.DataFrame, fit: ChinchillaFit) -> pd.DataFrame:
    """Seed-mean loss minus the additive law's prediction, per (D, N) cell of the learned runs (nats)."""
    cells = frame[frame.learned].groupby(["D", "N"], as_index=False).val_loss.mean()
    return cells.assign(residual=cells.val_loss - fit.loss(cells.N.to_numpy(float), cells.D.to_numpy(float)))
