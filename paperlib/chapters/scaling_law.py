"""Chapter 'A natural scaling law?': γ from Hoffmann's printed β, the refit of the Chinchilla runs,
γ per published fit, and the figures and prose of the page (methods page, γ reconstruction)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from paperlib.book.metrics import Declaration, Metric
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.data.chinchilla import ChinchillaPoints
from paperlib.plots import page_figure
from paperlib.scaling.fit import GRIDS, ChinchillaFit
from paperlib.scaling.gamma import gamma_ci, gamma_interval
from paperlib.scaling.published import (
    COMPUTE_OPTIMAL,
    EPOCH_REFIT,
    HOFFMANN_ROUNDED,
    HOFFMANN_UNROUNDED,
    KAPLAN_JOINT,
    KAPLAN_LD,
    MUENNIGHOFF,
)
from paperlib.training.plan import RunSpec

FIT_COLUMNS = ("E", "A", "B", "alpha", "beta")
GAMMA_COLUMNS = ("fit", "β", "γ_low = 1−2β", "γ_high = 1−β", "γ_low 95 % CI", "γ_high 95 % CI")  # `sensitivity_table`'s
DETAIL_COLUMNS = ("fit", "midpoint", "data multiple to double N", "note")  # shown as two tables
METRICS = Declaration("scaling_law", [
    Metric("gamma_{end}", "exponent", "an end of the interval γ ∈ [1−2β, 1−β] from Hoffmann's printed β = 0.28",
           headline=True),
    Metric("gamma_midpoint", "exponent", "the midpoint of that interval", headline=True),
    Metric("doubling_{end}", "×", "the corpus multiple that doubles N at that end of the interval: 2^(1/γ_high) "
           "(low) and 2^(1/γ_low) (high)", headline=True),
    Metric("unrounded_gamma_{end}", "exponent", "the interval's end from Hoffmann's unrounded β"),
    Metric("printed_beta", "exponent", "Hoffmann's printed β (Approach 3), the paper's input"),
    Metric("refit_gamma_{end}", "exponent", "the interval's end from the refit's β (Epoch's likelihood fit of the "
           "Chinchilla runs); its interval a bootstrap percentile one", headline=True, ci=True),
    Metric("refit_beta", "exponent", "β of the refit; its interval a bootstrap percentile one", ci=True),
    Metric("refit_beta_se", "exponent", "the bootstrap standard error of the refit's β"),
    Metric("refit_beta_huber_grid", "exponent", "β of Hoffmann's own method (Huber loss, grid of L-BFGS-B starts) on "
           "the same runs"),
    Metric("refit_E", "nats", "the refit's irreducible loss E"),
    Metric("refit_alpha", "exponent", "the refit's parameter exponent α"),
    Metric("n_bootstrap", "resamples", "bootstrap resamples behind the refit's intervals"),
], fields={"end": ["low", "high"]})


def runs(params: Mapping[str, Any]) -> list[RunSpec]:
    """The chapter trains nothing: its plan has no runs (`work` says what it computes)."""
    return []


def work(params: Mapping[str, Any]) -> list[str]:
    """What the chapter computes, in words, from its parameters."""
    starts = math.prod(len(values) for values in GRIDS[params["grid"]].values())
    return ["γ from Hoffmann's printed and unrounded β (arithmetic)",
            f"Hoffmann's method on the Chinchilla runs ({params['drop_highest_loss']} highest losses dropped): "
            f"L-BFGS-B from {starts:,} starts ({params['grid']} grid)",
            "Epoch's likelihood fit of the same runs (BFGS from Hoffmann's estimate)",
            f"{params['n_bootstrap']:,} bootstrap refits of Epoch's fit (seed {params['seed']})"]


@dataclass(frozen=True)
class GammaRow:
    """One fit's β and how its uncertainty is known (bootstrap samples or a published CI)."""

    fit: str
    beta: float
    beta_ci: tuple[float, float] | None = None
    note: str = ""


def arithmetic() -> tuple[pd.DataFrame, dict[str, float]]:
    """γ, its midpoint and the doubling multiples from Hoffmann's printed and unrounded β, and the metrics."""
    paper, unrounded = gamma_interval(HOFFMANN_ROUNDED.beta), gamma_interval(HOFFMANN_UNROUNDED.beta)
    table = pd.DataFrame([
        {"β": name, "γ_low = 1−2β": g.low, "γ_high = 1−β": g.high, "midpoint": g.midpoint,
         "2^(1/γ_high)": g.doubling_multiples[0], "2^(1/γ_low)": g.doubling_multiples[1]}
        for name, g in (("0.28 (printed)", paper), (f"{HOFFMANN_UNROUNDED.beta} (unrounded)", unrounded))
    ]).set_index("β")
    metrics = {"gamma_low": paper.low, "gamma_high": paper.high, "gamma_midpoint": paper.midpoint,
               "doubling_low": paper.doubling_multiples[0], "doubling_high": paper.doubling_multiples[1],
               "unrounded_gamma_low": unrounded.low, "unrounded_gamma_high": unrounded.high,
               "printed_beta": HOFFMANN_ROUNDED.beta}
    return table, metrics


def fits_table(likelihood: ChinchillaFit, grid: ChinchillaFit) -> pd.DataFrame:
    """Epoch's published estimate, our two refits and Hoffmann's unrounded constants side by side."""
    rows = [("Epoch's published estimate", EPOCH_REFIT), (f"ours: {likelihood.method}", likelihood),
            (f"ours: {grid.method}", grid), ("Hoffmann 2022, unrounded", HOFFMANN_UNROUNDED)]
    return pd.DataFrame([{"fit": name, **{k: getattr(fit, k) for k in FIT_COLUMNS}} for name, fit in rows]).set_index("fit")


def refit_metrics(likelihood: ChinchillaFit, grid: ChinchillaFit, samples: np.ndarray) -> dict[str, float]:
    """The refit's β and γ, with percentile CIs over the bootstrap samples (columns E, A, B, α, β)."""
    refit = gamma_interval(likelihood.beta)
    metrics = {"refit_beta": likelihood.beta, "refit_gamma_low": refit.low, "refit_gamma_high": refit.high,
               "refit_beta_huber_grid": grid.beta, "refit_E": likelihood.E, "refit_alpha": likelihood.alpha,
               "refit_beta_se": float(samples[:, 4].std(ddof=1)), "n_bootstrap": len(samples)}
    for name, (low, high) in gamma_ci(samples[:, 4]).items():
        key = "refit_beta" if name == "beta" else f"refit_{name}"
        metrics[f"{key}.ci_low"], metrics[f"{key}.ci_high"] = low, high
    return metrics


def gamma_rows(likelihood: ChinchillaFit, grid: ChinchillaFit, metrics: Mapping[str, float]) -> list[GammaRow]:
    """Every fit with a data exponent, ours included (with the bootstrap CI of β)."""
    metrics = METRICS.view(metrics)
    ours_ci = (metrics["refit_beta.ci_low"], metrics["refit_beta.ci_high"])
    return [
        GammaRow(HOFFMANN_ROUNDED.name, HOFFMANN_ROUNDED.beta, note="the paper's input"),
        GammaRow(HOFFMANN_UNROUNDED.name, HOFFMANN_UNROUNDED.beta),
        GammaRow(EPOCH_REFIT.name, EPOCH_REFIT.beta, EPOCH_REFIT.beta_ci, note="published 95 % CI"),
        GammaRow("ours: Epoch's method", likelihood.beta, ours_ci,
                 note=f"bootstrap, {int(metrics['n_bootstrap'])} resamples"),
        GammaRow("ours: Hoffmann's method", grid.beta),
        GammaRow(MUENNIGHOFF.name, MUENNIGHOFF.beta),
        GammaRow(KAPLAN_LD.name, KAPLAN_LD.beta, note=KAPLAN_LD.note),
        GammaRow(KAPLAN_JOINT.name, KAPLAN_JOINT.beta, note=KAPLAN_JOINT.note),
    ]


def sensitivity_table(rows: Sequence[GammaRow]) -> pd.DataFrame:
    """γ interval, midpoint and doubling multiples per fit; CIs of γ follow from the CI of β."""
    table = []
    for row in rows:
        interval = gamma_interval(row.beta)
        low_multiple, high_multiple = interval.doubling_multiples
        entry = {
            "fit": row.fit, "β": row.beta, "γ_low = 1−2β": interval.low, "γ_high = 1−β": interval.high,
            "midpoint": interval.midpoint, "data multiple to double N": f"{low_multiple:.2f}–{high_multiple:.2f}×",
            "γ_low 95 % CI": "", "γ_high 95 % CI": "", "note": row.note,
        }
        if row.beta_ci is not None:
            b_low, b_high = row.beta_ci
            entry["γ_low 95 % CI"] = f"[{1 - 2 * b_high:.3f}, {1 - 2 * b_low:.3f}]"
            entry["γ_high 95 % CI"] = f"[{1 - b_high:.3f}, {1 - b_low:.3f}]"
        table.append(entry)
    return pd.DataFrame(table)


def compute_optimal_table() -> pd.DataFrame:
    """Published compute-optimal exponents x of N_opt ∝ D_opt^x (a different quantity, for contrast)."""
    return pd.DataFrame([{"source": c.source, "x in N_opt ∝ D_opt^x": c.x, "from": c.how} for c in COMPUTE_OPTIMAL])


def plot_gamma_intervals(rows: Sequence[GammaRow]) -> Figure:
    """A bar [1−2β, 1−β] per fit, whiskers from the CI of β, against the paper's [0.44, 0.72]."""
    fig, ax = page_figure(row_height=4.6)
    for i, row in enumerate(rows):
        g = gamma_interval(row.beta)
        ax.plot([g.low, g.high], [i, i], lw=6, alpha=0.75, solid_capstyle="butt", color=f"C{min(i, 9)}")
        if row.beta_ci is not None:
            low, high = row.beta_ci
            ax.errorbar([g.low, g.high], [i, i], xerr=[[g.low - (1 - 2 * high), g.high - (1 - high)],
                                                       [(1 - 2 * low) - g.low, (1 - low) - g.high]],
                        fmt="none", ecolor="black", capsize=4, lw=1)
    ax.axvspan(0.44, 0.72, color="grey", alpha=0.12, label="the paper's [0.44, 0.72]")
    ax.set_yticks(range(len(rows)), [r.fit for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("γ in N ∝ D^γ  (bar: [1−2β, 1−β]; whiskers: 95 % CI of each end)")
    ax.set_title("The γ interval per fit")
    fig.legend(loc="outside lower center")
    return fig


def plot_excess_loss(points: ChinchillaPoints, fit: ChinchillaFit) -> Figure:
    """Left: excess loss L − E per run against tokens, with B·D^−β and the two learning rates anchored at
    the largest corpus. Right: the fit's iso-loss curves over the runs."""
    fig, (left, right) = page_figure(2, row_height=4.2)
    sc = left.scatter(points.D, points.loss - fit.E, c=np.log10(points.N), s=14, cmap="viridis")
    fig.colorbar(sc, ax=left, label="log10 N")
    D = np.logspace(np.log10(points.D.min()), 12.5, 100)
    kl = fit.B * D ** -fit.beta
    left.plot(D, kl, "k-", lw=2, label=f"B·D^−β (β = {fit.beta:.3f})")
    left.plot(D, kl[-1] * (D[-1] / D), "C3--", label="fast rate d/D (slope −1)")
    left.plot(D, kl[-1] * np.sqrt(D[-1] / D), "C1--", label="slow rate √(d/D) (slope −1/2)")
    left.set(xscale="log", yscale="log", xlabel="tokens D", ylabel="excess loss L − E (nats)",
             title="Excess loss (KL) against data", ylim=(0.02, 5))
    left.legend(loc="lower left")
    n_grid, d_grid = np.meshgrid(np.logspace(7.5, 10.5, 200), np.logspace(8.5, 11.8, 200))
    contours = right.contour(n_grid, d_grid, fit.loss(n_grid, d_grid), levels=np.arange(2.0, 4.01, 0.2), cmap="magma")
    right.clabel(contours, fmt="%.1f", fontsize=9)
    right.scatter(points.N, points.D, c=points.loss, s=12, cmap="magma", edgecolor="k", linewidth=0.2)
    right.set(xscale="log", yscale="log", xlabel="parameters N", ylabel="tokens D",
              title="Refit loss surface (iso-loss curves)")
    return fig


def beta_words(record: Record) -> str:
    """The refit's β against Hoffmann's printed one (rule ``reference``: the bootstrap interval against an exact
    number)."""
    m = record["metrics"]
    shown = f"β = {m['refit_beta']:.4f} (95 % CI [{m['refit_beta.ci_low']:.3f}, {m['refit_beta.ci_high']:.3f}])"
    return decided("reference", record, ["refit_beta", "=printed_beta"], {
        "higher": f"The refit's {shown} lies above Hoffmann's printed {m['printed_beta']:g}.",
        "lower": f"The refit's {shown} lies below Hoffmann's printed {m['printed_beta']:g}.",
        "not separated": f"The refit's {shown} is not separated from Hoffmann's printed {m['printed_beta']:g}."})


def in_words(record: Record, rows: Sequence[GammaRow], n_points: int) -> str:
    """The verdicts in a few sentences (rule ``verdict``): the arithmetic, the refit, the spread over published
    fits."""
    m = record["metrics"]
    unjudged = {"not comparable": "{words} ({reason}).", "not run": "no verdict ({reason})."}

    def arithmetic(claim_id: str, what: str) -> str:
        return decided_verdict(record, claim_id, {
            "reproduced": f"{what} is exactly what the reconstruction gives from Hoffmann's printed β = 0.28: "
                          "reproduced.",
            "not reproduced": f"{what} is not what the reconstruction gives from Hoffmann's printed β = 0.28: not "
                              "reproduced.", **{status: f"{what}: " + text for status, text in unjudged.items()}})

    refit = decided_verdict(record, "gamma_refit", {
        "reproduced": f"On the corrected fit of the same {n_points} runs the interval still holds within the bootstrap "
                      "intervals: {words}.",
        "not reproduced": f"On the corrected fit of the same {n_points} runs the interval becomes "
                          f"[{m['refit_gamma_low']:.3f}, {m['refit_gamma_high']:.3f}], and the bootstrap 95 % intervals "
                          f"of its ends ([{m['refit_gamma_low.ci_low']:.3f}, {m['refit_gamma_low.ci_high']:.3f}] and "
                          f"[{m['refit_gamma_high.ci_low']:.3f}, {m['refit_gamma_high.ci_high']:.3f}]) do not both "
                          "contain 0.44 and 0.72: {words}; the headline rests on a fit that its own data do not "
                          "support.",
        **{status: f"On the corrected fit of the same {n_points} runs: " + text for status, text in unjudged.items()}})
    gamma_lows = [gamma_interval(r.beta).low for r in rows]
    return " ".join([
        "**In words.**", arithmetic("gamma_interval", "The interval [0.44, 0.72]"),
        arithmetic("gamma_midpoint", "Its midpoint 0.58"), arithmetic("doubling_multiple", "The corpus multiple 3–5×"),
        beta_words(record), refit, f"Across the published fits γ_low ranges from {min(gamma_lows):.2f} to "
                                   f"{max(gamma_lows):.2f}."])
