"""The tables and figures of 'Measuring γ': the published fits' arithmetic, the pilot, the ladder, the slices, the
runs, the knees, γ, the additive law and the k-grams; the knees per slice, learning curves, N* against D, the
additive law's residuals and the k-grams' growth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from paperlib.bench import local_exponents
from paperlib.book.paper_numbers import CHINCHILLA_GAMMA, GAMMA_BAND, KAPLAN_OVERFIT_GAMMA
from paperlib.chapters.gamma_empirical.analysis import AdditiveLaw, Measured, additive_residuals
from paperlib.chapters.gamma_empirical.metrics import _missing
from paperlib.chapters.gamma_empirical.plan import RunKey
from paperlib.plots import page_figure
from paperlib.scaling.kgrams import distinct_kgrams
from paperlib.scaling.published import PUBLISHED_FITS
from paperlib.training.slice_runs import Design, censored


# ---------------------------------------------------------------------------------------------------------------
# Tables


def published_table() -> pd.DataFrame:
    """The published fits' arithmetic: β/α (what N* at a fixed fraction of the data-limited loss grows with under
    their law) beside the paper's interval [1 − 2β, 1 − β]."""
    rows = [{"fit": fit.name, "α": fit.alpha, "β": fit.beta, "β/α": fit.beta / fit.alpha,
             "1 − 2β": 1 - 2 * fit.beta, "1 − β": 1 - fit.beta,
             "β/α in [1 − 2β, 1 − β]": "yes" if 1 - 2 * fit.beta <= fit.beta / fit.alpha <= 1 - fit.beta else "no"}
            for fit in PUBLISHED_FITS if fit.alpha is not None]
    return pd.DataFrame(rows).set_index("fit")


def _count(n: float) -> str:
    """12,345 as 12.3K; 1,234,567 as 1.23M."""
    return f"{n / 1e6:.3g}M" if n >= 1e6 else f"{n / 1e3:.3g}K" if n >= 1e3 else f"{n:.0f}"


def pilot_table(pilot: Mapping[str, Any]) -> pd.DataFrame:
    """Validation loss of the pilot's runs: rung (rows) by learning rate (columns)."""
    frame = pd.DataFrame(pilot["runs"])
    frame["rung"] = [f"{r} ({_count(n)})" for r, n in zip(frame.rung, frame.non_embedding)]
    return frame.pivot(index="rung", columns="lr", values="val_loss").rename(columns=lambda lr: f"lr {lr:g}")


def ladder_table(design: Design, vocab_size: int) -> pd.DataFrame:
    """Per rung (WIDTHxLAYERS, two heads): non-embedding parameters N, the total with the embeddings, the step from
    the rung below, its learning rate and the slices that train it."""
    sizes = [r.non_embedding(vocab_size, design.context) for r in design.ladder]
    return pd.DataFrame([{"rung": r.name, "N": n, "total": r.params(vocab_size, design.context),
                          "× below": n / sizes[i - 1] if i else math.nan, "lr": lr,
                          "slices": ", ".join(_count(D) for D in design.sizes if i in design.rungs_of(D))}
                         for i, (r, n, lr) in enumerate(zip(design.ladder, sizes, design.lrs))]).set_index("rung")


def slices_table(design: Design, unigram: Mapping[int, float]) -> pd.DataFrame:
    """Per slice: steps per pass (a validation after each), the cap, the sizes it trains, the 1-gram validation
    loss."""
    def sizes(D: int) -> str:
        rungs = design.rungs_of(D)
        return f"{design.ladder[rungs[0]].name} – {design.ladder[rungs[-1]].name}"
    return pd.DataFrame([{"D (characters)": D, "steps per pass": design.steps_per_pass(D),
                          "cap (steps)": design.max_steps(D), "rungs": sizes(D), "1-gram loss (nats)": unigram[D]}
                         for D in design.sizes]).set_index("D (characters)")


def runs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Seed-mean validation loss ± seed SD (best weights, whole split), size (rows) by slice (columns); a dagger
    marks a cell with a censored run, "not learned" one with a run that stayed near its 1-gram loss."""
    cells = frame.groupby(["D", "N"]).agg(mean=("val_loss", "mean"), sd=("val_loss", "std"),
                                         censored=("censored", "any"), learned=("learned", "all")).reset_index()
    text = [f"{c.mean:.3f} ± {c.sd:.3f}" + (" †" if c.censored else "") if c.learned else "not learned"
            for c in cells.itertuples()]
    return (cells.assign(cell=text, slice=[f"D = {_count(D)}" for D in cells.D])
            .pivot(index="N", columns="slice", values="cell")
            .reindex(columns=[f"D = {_count(D)}" for D in sorted(cells.D.unique())])
            .rename(index=_count).rename_axis("N", axis=0).fillna(""))


def knee_table(measured: Measured) -> pd.DataFrame:
    """Per slice: the measured plateau, the threshold, N*, the sizes above N* that confirm the plateau, and
    whether the slice counts."""
    status = {"found": "counts", "below": "no: flat from the smallest size", "unconfirmed": "no: plateau not confirmed"}
    return pd.DataFrame([{"D (characters)": D, "plateau (nats)": k.plateau, "plateau + ε": k.threshold,
                          "N*": _count(k.n_star), "confirming sizes": k.confirming, "counts": status[k.status]}
                         for D, k in sorted(measured.main.knees.items())]).set_index("D (characters)")


def gamma_table(metrics: Mapping[str, float], measured: Measured) -> pd.DataFrame:
    """γ of the knees at ε, ε/2 and 2ε, and of the joint fit, each with its interval and the slices it rests on
    (no interval is shown without its point)."""
    variants = {"knees, ε/2": ("gamma_knee_half_eps", measured.variants["half"]),
                "knees, ε (headline)": ("gamma_knee", measured.main),
                "knees, 2ε": ("gamma_knee_double_eps", measured.variants["double"]),
                "joint fit (cross-check)": ("gamma_joint", measured.main)}
    rows = [{"definition": label, "ε (nats)": result.eps, "γ": metrics[key],
             "95 % CI": _interval(metrics[key], metrics[f"{key}.ci_low"], metrics[f"{key}.ci_high"]),
             "slices": sum(k.counted for k in result.knees.values())} for label, (key, result) in variants.items()]
    return pd.DataFrame(rows).set_index("definition")


def _interval(point: float | None, low: float | None, high: float | None) -> str:
    return "—" if _missing(point) or _missing(low) or _missing(high) else f"[{low:.2f}, {high:.2f}]"


def additive_table(law: AdditiveLaw) -> pd.DataFrame:
    """The additive law's constants with and without E, and the band the paper's relation makes of each β̂."""
    rows = []
    for label, fit in (("with E", law.with_E), ("without E", law.without_E)):
        low, high = law.band(fit)
        rows.append({"fit": label, "Ê": fit.E if fit is law.with_E else 0.0, "α̂": fit.alpha, "β̂": fit.beta,
                     "1 − 2β̂": low, "1 − β̂": high})
    return pd.DataFrame(rows).set_index("fit")


def kgram_table(tokens: np.ndarray, sizes: Sequence[int], ks: Sequence[int]) -> pd.DataFrame:
    """Between neighbouring slices, the local slope of log(distinct k-grams) on log D, by k (rows)."""
    return pd.DataFrame({k: {f"{_count(a)}–{_count(b)}": s for a, b, s in
                             zip(sizes, sizes[1:], local_exponents(np.asarray(sizes), distinct_kgrams(tokens, k, sizes)))}
                         for k in ks}).T.rename_axis("k")


# ---------------------------------------------------------------------------------------------------------------
# Figures


LEGIBLE_SIDE_BY_SIDE = 11.5  # points: tick and legend text of panels set side by side


def _legend_below(ax: Any, ncol: int = 3) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=ncol)


def plot_knees(frame: pd.DataFrame, measured: Measured) -> Figure:
    """One panel per slice: the runs' validation losses against N (dots), their seed means with ±1 SD, the
    monotone fit, the plateau + ε (dashed) and N* (a vertical line, solid when the slice counts)."""
    knees = measured.main.knees
    slices = sorted(knees)
    cols = min(3, len(slices))
    fig, axes = page_figure(math.ceil(len(slices) / cols), cols, row_height=3.4, sharey=False)
    axes = np.atleast_1d(axes).ravel()
    for i, (ax, D) in enumerate(zip(axes, slices)):
        k, here = knees[D], frame[(frame.D == D) & frame.learned]
        colour = f"C{i % 10}"
        ax.scatter(here.N, here.val_loss, s=8, color=colour, alpha=0.45)
        sd = here.groupby("N").val_loss.std().reindex(k.sizes).to_numpy()
        ax.errorbar(k.sizes, k.means, yerr=sd, fmt="o", color=colour, ms=4, capsize=2)
        ax.plot(k.sizes, k.fitted, color="k", lw=1)
        ax.axhline(k.threshold, color="k", ls="--", lw=0.8)
        ax.axvline(k.n_star, color=colour, ls="-" if k.counted else ":", lw=1.5)
        ax.set(xscale="log", title=f"D = {_count(D)}" + ("" if k.counted else " (does not count)"))
        ax.xaxis.set_major_locator(LogLocator(numticks=4))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _count(x)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(labelsize=LEGIBLE_SIDE_BY_SIDE)
    for ax in axes[len(slices):]:
        ax.set_visible(False)
    fig.supxlabel("non-embedding parameters N")
    fig.supylabel("validation loss (nats per character)")
    return fig


def plot_learning_curves(results: Mapping[RunKey, Mapping[str, Any]], design: Design) -> Figure:
    """Validation loss (the fixed subset) against passes for the smallest, a middle and the largest rung of each
    slice (first seed); a dot marks the best weights, a cross a censored run's end."""
    fig, axes = page_figure(1, 3, row_height=4.2, sharex=True)
    for ax, position, title in zip(np.atleast_1d(axes), (0, None, -1), ("smallest", "middle", "largest")):
        for i, D in enumerate(design.sizes):
            rungs = design.rungs_of(D)
            rung = rungs[len(rungs) // 2] if position is None else rungs[position]
            result = results[(D, design.seeds[0], rung)]
            h = pd.DataFrame(result["history"])
            passes = h.step / design.steps_per_pass(D)
            ax.plot(passes, h.val_loss, color=f"C{i % 10}", lw=1.2, label=f"D = {_count(D)}")
            best = h[h.step == result["best_step"]]
            ax.scatter(best.step / design.steps_per_pass(D), best.val_loss, color=f"C{i % 10}", s=25, zorder=3)
            if censored(result):
                ax.scatter(passes.iloc[-1], h.val_loss.iloc[-1], marker="x", color="k", s=50, zorder=3)
        ax.set(xscale="log", xlabel="passes over the slice", title=f"{title} size")
        ax.tick_params(labelsize=LEGIBLE_SIDE_BY_SIDE)  # three panels across: a point larger to stay legible at 420 px
    np.atleast_1d(axes)[0].set_ylabel("validation loss")
    fig.legend(*np.atleast_1d(axes)[0].get_legend_handles_labels(), loc="outside lower center", ncol=3,
               fontsize=LEGIBLE_SIDE_BY_SIDE)
    return fig


def plot_sizes(measured: Measured, metrics: Mapping[str, float]) -> Figure:
    """N* against D in log-log: each slice's knee (filled: counts; open: does not), the fitted γ, and the anchors
    as slopes through the counted knees' centre: the paper's [0.44, 0.72], Chinchilla's N ∝ D and Kaplan's onset
    of overfitting (D ∝ N^0.74)."""
    fig, ax = page_figure(1, row_height=4.8)
    knees = measured.main.knees
    used = [k for k in knees.values() if k.counted]
    others = [k for k in knees.values() if not k.counted]
    ax.scatter([k.D for k in used], [k.n_star for k in used], color="C0", s=36, zorder=3, label="N* (counts)")
    if others:
        ax.scatter([k.D for k in others], [k.n_star for k in others], facecolor="none", edgecolor="C3", s=36,
                   zorder=3, label="N* (does not count)")
    points = used or list(knees.values())
    x = np.geomspace(min(k.D for k in knees.values()), max(k.D for k in knees.values()), 20)
    cx, cy = np.mean([math.log(k.D) for k in points]), np.mean([math.log(k.n_star) for k in points])

    def through(slope: float) -> np.ndarray:
        return np.exp(cy + slope * (np.log(x) - cx))

    if not _missing(metrics["gamma_knee"]):
        ax.plot(x, through(metrics["gamma_knee"]), color="C0", lw=2,
                label=f"measured γ = {metrics['gamma_knee']:.2f} "
                      f"[{metrics['gamma_knee.ci_low']:.2f}, {metrics['gamma_knee.ci_high']:.2f}]")
    ax.fill_between(x, through(GAMMA_BAND[0]), through(GAMMA_BAND[1]), facecolor="none", edgecolor="grey",
                    hatch="//", lw=0, label=f"Kausik's γ ∈ [{GAMMA_BAND[0]}, {GAMMA_BAND[1]}]")
    ax.plot(x, through(CHINCHILLA_GAMMA), color="C2", ls="--", label="Chinchilla, N ∝ D (γ = 1)")
    ax.plot(x, through(KAPLAN_OVERFIT_GAMMA), color="C1", ls=":",
            label=f"Kaplan 2020, overfitting onset D ∝ N^0.74 (γ = {KAPLAN_OVERFIT_GAMMA:.2f})")
    ax.set(xscale="log", yscale="log", xlabel="D (training characters)", ylabel="N* (non-embedding parameters)",
           title="The fewest parameters within ε of the plateau")
    _legend_below(ax, ncol=2)
    return fig


def plot_additive_residuals(frame: pd.DataFrame, law: AdditiveLaw) -> Figure:
    """The additive law's residuals at each seed mean against N, one colour per slice, with ±2 seed SEs shaded:
    where the law fails on these runs."""
    fig, ax = page_figure(1, row_height=4.2)
    cells = additive_residuals(frame, law.with_E)
    for i, (D, here) in enumerate(cells.groupby("D")):
        ax.plot(here.N, here.residual, "o-", color=f"C{i % 10}", ms=4, label=f"D = {_count(D)}")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xscale="log", xlabel="non-embedding parameters N", ylabel="seed mean − additive law (nats)",
           title="Residuals of L = E + A·N^−α + B·D^−β")
    _legend_below(ax, ncol=5)
    return fig


def plot_kgrams(tokens: np.ndarray, sizes: Sequence[int], ks: Sequence[int]) -> Figure:
    """Context only: distinct k-grams against the slice length (log-log) for every k, and below, their local
    slopes between neighbouring slices."""
    fig, (top, bottom) = page_figure(2, row_height=3.8)
    grid = np.geomspace(sizes[0], sizes[-1], 25).astype(int)
    for i, k in enumerate(ks):
        colour = f"C{i % 10}"
        top.plot(grid, distinct_kgrams(tokens, k, grid), color=colour, label=f"k = {k}")
        slopes = local_exponents(np.asarray(sizes), distinct_kgrams(tokens, k, sizes))
        middles = np.sqrt(np.asarray(sizes[:-1], dtype=float) * np.asarray(sizes[1:]))
        bottom.plot(middles, slopes, "o-", color=colour, ms=3)
    top.set(xscale="log", yscale="log", xlabel="D (training characters)", ylabel="distinct k-grams",
            title="Distinct k-grams in the first D characters")
    bottom.set(xscale="log", xlabel="D (training characters)", ylabel="local slope", title="Their local slopes")
    _legend_below(bottom, ncol=5)
    return fig
