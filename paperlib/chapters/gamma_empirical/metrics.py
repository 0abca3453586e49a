"""The record of 'Measuring γ': every key, declared once (`METRICS`), and the values of them all from the runs, the
knees, the additive law and the simulated precision (`chapter_metrics`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from paperlib.book.metrics import EXECUTION, Declaration, DeclaredMetrics, Metric, with_ci
from paperlib.chapters.gamma_empirical.analysis import EPSILON_MULTIPLES, AdditiveLaw, Measured, additive_residuals

METRICS = Declaration("gamma_empirical", [
    Metric("n_runs", "runs", "runs in the grid, every seed"),
    Metric("not_learned_runs", "runs", "runs whose validation loss did not end LEARNED_MARGIN below the 1-gram loss"),
    Metric("capped_runs", "runs", "runs that reached the pass cap"),
    Metric("censored_runs", "runs", "runs still improving at the cap (best in the last CENSOR_LAST evaluations)"),
    Metric("censored_counted", "runs", "censored runs in the slices that count", headline=True),
    *EXECUTION,
    Metric("seed_sd", "nats/char", "pooled seed standard deviation of a validation loss"),
    Metric("gamma_knee_eps", "nats/char", "ε: EPSILON_SEMS standard errors of a cell's seed mean"),
    Metric("gamma_knee_seeds_min", "seeds", "the fewest seeds of any (D, N) cell"),
    Metric("gamma_knee", "exponent", "γ: slope of ln N*(D) on ln D, N* the knee within ε of the measured plateau",
           headline=True, ci=True),
    Metric("gamma_knee_slices", "slices", "slices whose plateau is confirmed (they count)", headline=True),
    Metric("gamma_knee_below", "slices", "slices whose smallest size is already within ε of the plateau"),
    Metric("gamma_knee_unconfirmed", "slices", "slices with fewer than two sizes above N* within ε of the plateau"),
    Metric("gamma_knee_failed", "resamples", "bootstrap resamples with fewer than three counted slices"),
    Metric("gamma_knee_half_width", "exponent", "half the width of γ's 95 % interval"),
    Metric("simulated_half_width", "exponent", "the mean half-width of γ's interval on synthetic grids like this one"),
    Metric("simulated_coverage", "fraction", "how often γ's interval held the true γ on those synthetic grids"),
    Metric("gamma_knee_{multiple}_eps", "exponent", "γ with ε halved (half) or doubled (double)", ci=True),
    Metric("gamma_joint", "exponent", "γ of the joint fit (a floor per slice, one knee shape, ln K = c + γ ln D)",
           ci=True),
    Metric("gamma_knee_minus_joint", "exponent", "γ of the knees minus γ of the joint fit, paired bootstrap", ci=True),
    Metric("joint_rms", "nats/char", "RMS of the joint fit's residuals from the seed means"),
    Metric("alpha_hat", "exponent", "context: α̂ of the additive law with E"),
    Metric("beta_hat", "exponent", "context: β̂ of the additive law with E"),
    Metric("E_hat", "nats/char", "context: Ê of the additive law"),
    Metric("beta_hat_no_E", "exponent", "context: β̂ of the additive law without E"),
    Metric("gamma_pred_{end}", "exponent", "context: an end of [1 − 2β̂, 1 − β̂], β̂ with E"),
    Metric("gamma_pred_no_E_{end}", "exponent", "context: an end of [1 − 2β̂, 1 − β̂], β̂ without E"),
    Metric("additive_F", "ratio", "F of the additivity test (an interaction of D and N over the shared sizes)"),
    Metric("additive_p", "probability", "p of the additivity test"),
    Metric("additive_residual_{end}", "nats/char", "the lowest (low) and highest (high) residual of the additive "
           "law with E at a seed mean"),
], fields={"end": ["low", "high"], "multiple": list(EPSILON_MULTIPLES)})


def run_counts(frame: pd.DataFrame, executed: Mapping[str, float]) -> DeclaredMetrics:
    """The record's counts of how the runs ended, and what this execution trained and loaded (`executed`:
    `run_grid`'s `EXECUTION` metrics)."""
    return METRICS.new() | {
        "n_runs": len(frame), "not_learned_runs": int((~frame.learned).sum()), "capped_runs": int(frame.capped.sum()),
        "censored_runs": int(frame.censored.sum())} | executed


def chapter_metrics(frame: pd.DataFrame, executed: Mapping[str, float], measured: Measured, law: AdditiveLaw,
                    precision: tuple[float, float]) -> DeclaredMetrics:
    """The record's metrics (exactly the declaration's keys) from the runs, the knees, the additive law and the
    simulated precision (`expected_precision`)."""
    knees, main = measured.main.knees, measured.main
    counted = [D for D, k in knees.items() if k.counted]
    metrics = run_counts(frame, executed)
    metrics |= {"censored_counted": int(frame[frame.D.isin(counted)].censored.sum()), "seed_sd": measured.sd,
                "gamma_knee_eps": measured.eps, "gamma_knee_seeds_min": measured.seeds,
                "gamma_knee_slices": len(counted),
                "gamma_knee_below": sum(k.status == "below" for k in knees.values()),
                "gamma_knee_unconfirmed": sum(k.status == "unconfirmed" for k in knees.values()),
                "gamma_knee_failed": main.failed, "gamma_knee_half_width": main.half_width,
                "simulated_half_width": precision[0], "simulated_coverage": precision[1],
                "joint_rms": main.joint.rms if main.joint else math.nan}
    metrics |= with_ci("gamma_knee", main.gamma, main.ci)
    for name, variant in measured.variants.items():
        metrics |= with_ci(f"gamma_knee_{name}_eps", variant.gamma, variant.ci)
    metrics |= with_ci("gamma_joint", main.joint_gamma, main.joint_ci)
    metrics |= with_ci("gamma_knee_minus_joint", main.gamma - main.joint_gamma, main.difference_ci)
    low, high = law.band(law.with_E)
    low_no_E, high_no_E = law.band(law.without_E)
    residuals = additive_residuals(frame, law.with_E).residual
    metrics |= {"alpha_hat": law.with_E.alpha, "beta_hat": law.with_E.beta, "E_hat": law.with_E.E,
                "beta_hat_no_E": law.without_E.beta, "gamma_pred_low": low, "gamma_pred_high": high,
                "gamma_pred_no_E_low": low_no_E, "gamma_pred_no_E_high": high_no_E, "additive_F": law.F,
                "additive_p": law.p, "additive_residual_low": residuals.min(), "additive_residual_high": residuals.max()}
    return metrics


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)
