"""Chapter 'Measuring γ': the fewest parameters a character transformer needs for a growing slice of tiny
Shakespeare, under the paper's definition and Hestness's, the exponent γ of N* ∝ D^γ with a bootstrap
interval, and the distinct k-grams of the same slices as the theory's yardstick (methods page, measuring γ).

Every training run is one task of a `paperlib.sweep.Sweep`: `train_run` maps a JSON config to the run's
history. The size search (`measure`) runs the largest model at every corpus size and seed first (it sets the
relative targets), then bisects the size ladder for every target at once, one batch of runs per round.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from paperlib.book.paper_numbers import GAMMA_BAND
from paperlib.data.text import CharData, load_shakespeare
from paperlib.models import n_params
from paperlib.models.ngram import NGram
from paperlib.models.transformer import Transformer, TransformerConfig
from paperlib.plots import page_figure
from paperlib.scaling.efficient import Bisection, bisect_together, fit_exponent, interpolate_size
from paperlib.scaling.kgrams import distinct_kgrams
from paperlib.stats import fit_power
from paperlib.sweep import Sweep
from paperlib.training.batches import fixed_windows, random_windows, window_batches
from paperlib.training.callbacks import ScheduledLR, WarmupCosine
from paperlib.training.device import configure_device
from paperlib.training.evaluation import score
from paperlib.training.loop import init, train
from paperlib.training.losses import model_loss
from paperlib.training.optim import nanogpt_adamw
from paperlib.training.run import eval_steps

HEAD_DIM = 8  # every rung's attention heads have 8 dimensions
RUN_FORMAT = 1  # part of every run's config: raise it when `train_run` changes, so cached runs are not reused
WARMUP_FRACTION = 0.05  # of a run's steps, before the cosine decay
LEARNED_MARGIN = 0.25  # nats a run's training loss must end below its slice's 1-gram loss to count as learned
HEADLINE = "excess"  # the paper's-definition target the claim reads (fixed before any run)
METRIC_WORDS = {"train_eval_loss": "training loss", "val_loss": "validation loss"}
RunKey = tuple[int, int, int]  # corpus size D, seed, rung
CellKey = tuple[int, int, str]  # corpus size D, seed, target


@dataclass(frozen=True)
class Rung:
    """One model size of the ladder: a regular GPT of `layers` blocks of `width`, heads of `HEAD_DIM`."""

    width: int
    layers: int

    def config(self, vocab_size: int, context: int) -> TransformerConfig:
        return TransformerConfig(vocab_size, self.width, self.width // HEAD_DIM, self.layers, n_positions=context)

    def params(self, vocab_size: int, context: int) -> int:
        return n_params(Transformer(self.config(vocab_size, context)))


def parse_ladder(text: str, vocab_size: int, context: int) -> list[Rung]:
    """Rungs from "16x1,24x1,..." (width x layers); widths are multiples of `HEAD_DIM` and sizes grow."""
    rungs = []
    for item in text.split(","):
        width, _, layers = item.strip().partition("x")
        if not (width.isdigit() and layers.isdigit()) or int(width) % HEAD_DIM or int(width) < HEAD_DIM or not int(layers):
            raise ValueError(f"ladder entry {item!r} must be WIDTHxLAYERS with a width that is a multiple of {HEAD_DIM}")
        rungs.append(Rung(int(width), int(layers)))
    sizes = [r.params(vocab_size, context) for r in rungs]
    if len(rungs) < 2 or any(a >= b for a, b in pairwise(sizes)):
        raise ValueError(f"the ladder needs at least two sizes in increasing order of parameters, got {sizes}")
    return rungs


def corpus_sizes(d_min: int, n_sizes: int, available: int) -> list[int]:
    """`n_sizes` slice lengths doubling from `d_min`; the largest must fit in the `available` characters."""
    sizes = [d_min * 2 ** i for i in range(n_sizes)]
    if sizes[-1] > available:
        raise ValueError(f"the largest slice, {sizes[-1]:,} characters, exceeds the {available:,} of the training split")
    return sizes


def steps_for(D: int, tokens: int, epochs: float, batch: int, context: int) -> int:
    """Steps of a run on a slice of D characters: at least `tokens` characters and `epochs` passes."""
    return math.ceil(max(tokens, epochs * D) / (batch * context))


@dataclass(frozen=True)
class Design:
    """What every run shares, and the grid: corpus sizes, seeds and the size ladder."""

    sha256: str
    sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    ladder: tuple[Rung, ...]
    context: int
    batch: int
    tokens: int
    epochs: float
    lr: float
    evals: int
    eval_windows: int
    device: str

    def steps(self, D: int) -> int:
        return steps_for(D, self.tokens, self.epochs, self.batch, self.context)

    def config(self, D: int, seed: int, rung: int) -> dict[str, Any]:
        """The JSON config of one run: everything `train_run` needs, and so the key of its cached result."""
        steps = self.steps(D)
        return {"format": RUN_FORMAT, "sha256": self.sha256, "D": D, "seed": seed, "width": self.ladder[rung].width,
                "layers": self.ladder[rung].layers, "context": self.context, "batch": self.batch, "steps": steps,
                "warmup": round(WARMUP_FRACTION * steps), "lr": self.lr, "evals": self.evals,
                "eval_windows": self.eval_windows, "device": self.device}


def slices_table(design: Design, unigram: Mapping[int, float]) -> pd.DataFrame:
    """Per slice: its steps, the characters a run trains on, the passes over the slice, its 1-gram loss."""
    rows = [{"D (characters)": D, "steps": design.steps(D), "training characters": design.steps(D) * design.batch * design.context,
             "passes over the slice": design.steps(D) * design.batch * design.context / D, "1-gram loss (nats)": unigram[D]}
            for D in design.sizes]
    return pd.DataFrame(rows).set_index("D (characters)")


def ladder_table(design: Design, params: Sequence[int]) -> pd.DataFrame:
    """Per rung: width, layers, heads and parameters."""
    return pd.DataFrame([{"rung": i, "width": r.width, "layers": r.layers, "heads": r.width // HEAD_DIM, "parameters": p}
                         for i, (r, p) in enumerate(zip(design.ladder, params))]).set_index("rung")


@lru_cache(maxsize=1)
def _corpus(sha256: str) -> CharData:
    """The text a worker trains on, checked against the one the notebook read."""
    text, provenance = load_shakespeare()
    if provenance.sha256 != sha256:
        raise ValueError(f"this worker reads tiny Shakespeare with sha256 {provenance.sha256[:12]}…, the sweep "
                         f"expects {sha256[:12]}…: point $PAPERLIB_SHAKESPEARE at the same file")
    return CharData.from_text(text)


def train_run(config: dict[str, Any]) -> dict[str, Any]:
    """One run (the sweep's task): a model of the config's rung trained on the first D characters of the training
    split with nanoGPT's optimizer and warm-up plus cosine schedule, scored at every evaluation on fixed windows
    of its slice (``train_eval_loss``) and of the validation split (``val_loss``)."""
    data = _corpus(config["sha256"])
    tokens, context = data.train[:config["D"]], config["context"]
    cfg = Rung(config["width"], config["layers"]).config(data.vocab_size, context)
    windows = {"train_eval_loss": fixed_windows(tokens, context, config["eval_windows"], seed=1),
               "val_loss": fixed_windows(data.val, context, config["eval_windows"], seed=2)}
    state = init(lambda: Transformer(cfg), nanogpt_adamw(config["lr"]), config["seed"], configure_device(config["device"]))
    steps = config["steps"]
    train(state, random_windows(tokens, context, config["batch"]), model_loss(), steps,
          eval_steps=eval_steps(steps, config["evals"]),
          callbacks=[ScheduledLR(WarmupCosine(config["warmup"], steps), config["lr"])],
          evaluate=lambda model: {k: score(model, window_batches(w)).loss for k, w in windows.items()},
          show_progress=False)
    return {"params": n_params(state.model), "train_time": state.train_time, "history": state.history}


@dataclass(frozen=True)
class Target:
    """What "reaching the desired accuracy" means: the training loss at most an absolute `value`, or at most
    `value` nats above the best the ladder reaches at that D (the paper's definition); or the validation loss
    within a fraction `value` of the best at that D (Hestness's)."""

    name: str
    kind: Literal["absolute", "excess", "within"]
    value: float

    @property
    def metric(self) -> str:
        return "val_loss" if self.kind == "within" else "train_eval_loss"

    @property
    def definition(self) -> str:
        return "Hestness" if self.kind == "within" else "paper"

    @property
    def label(self) -> str:
        if self.kind == "absolute":
            return f"training loss ≤ {self.value:g}"
        if self.kind == "excess":
            return f"training loss ≤ best + {self.value:g}"
        return f"validation loss ≤ best × {1 + self.value:g}"

    def threshold(self, reference: Mapping[str, float]) -> float:
        """The loss to reach, given the best losses at that D (`reference`)."""
        if self.kind == "absolute":
            return self.value
        if self.kind == "excess":
            return reference["train_eval_loss"] + self.value
        return reference["val_loss"] * (1 + self.value)


def chapter_targets(absolute: str, excess: float, within: float) -> list[Target]:
    """The targets: one per absolute training loss in "1.6,1.9", the excess (the headline) and Hestness's."""
    try:
        values = sorted({float(v) for v in absolute.split(",") if v.strip()}, reverse=True)
    except ValueError:
        raise ValueError(f"absolute targets must be numbers separated by commas, got {absolute!r}") from None
    if any(v <= 0 for v in values) or excess <= 0 or within <= 0:
        raise ValueError("targets, the excess and the fraction must be positive")
    return [*(Target(f"abs{v:g}", "absolute", v) for v in values), Target(HEADLINE, "excess", excess),
            Target("hestness", "within", within)]


def summarise(result: Mapping[str, Any]) -> dict[str, Any]:
    """A run's best losses over its evaluations, its size, cost and history."""
    history = pd.DataFrame(result["history"])
    return {"params": result["params"], "train_time": result["train_time"], "history": history,
            "train_eval_loss": float(history.train_eval_loss.min()), "val_loss": float(history.val_loss.min())}


@dataclass
class Measurement:
    """Every run made (by D, seed, rung), each cell's threshold and boundary (by D, seed, target), the rounds."""

    runs: dict[RunKey, dict[str, Any]]
    thresholds: dict[CellKey, float]
    boundaries: dict[CellKey, int | None]
    rounds: int


def measure(sweep: Sweep, design: Design, targets: Sequence[Target]) -> Measurement:
    """Round 0 runs the largest model at every D and seed: its losses stand for the best at that D. Then every
    (D, seed, target) bisects the ladder, all together, one batch of sweep runs per round."""
    runs: dict[RunKey, dict[str, Any]] = {}

    def run(keys: Sequence[RunKey], desc: str) -> None:
        missing = sorted(set(keys) - runs.keys())
        results = sweep.run([design.config(*key) for key in missing], desc=desc)
        runs.update({key: summarise(result) for key, result in zip(missing, results)})

    top = len(design.ladder) - 1
    cells = [(D, seed) for D in design.sizes for seed in design.seeds]
    run([(D, seed, top) for D, seed in cells], "round 0: the largest model")
    thresholds = {(D, seed, t.name): t.threshold(runs[(D, seed, top)]) for D, seed in cells for t in targets}
    searches = {key: Bisection(len(design.ladder)) for key in thresholds}
    metric = {t.name: t.metric for t in targets}

    def passes(probes: dict[CellKey, int]) -> dict[CellKey, bool]:
        run([(D, seed, rung) for (D, seed, _), rung in probes.items()], f"round {len(rounds) + 1}: bisection")
        rounds.append(len(probes))
        return {key: runs[(key[0], key[1], rung)][metric[key[2]]] <= thresholds[key] for key, rung in probes.items()}

    rounds: list[int] = []
    bisect_together(searches, passes)
    return Measurement(runs, thresholds, {key: s.boundary for key, s in searches.items()}, len(rounds) + 1)


@dataclass(frozen=True)
class Cell:
    """N* of one (D, seed, target): found, or censored below the smallest rung or above the largest."""

    D: int
    seed: int
    target: str
    status: Literal["found", "below", "above"]
    size: float  # N* when found; else the rung it is censored at


def cells(m: Measurement, targets: Sequence[Target], params: Sequence[int]) -> list[Cell]:
    """Every (D, seed, target)'s N*, interpolated in log N between the last failing and the first passing rung."""
    metric = {t.name: t.metric for t in targets}
    found = []
    for (D, seed, name), boundary in m.boundaries.items():
        if boundary is None:
            found.append(Cell(D, seed, name, "above", params[-1]))
        elif boundary == 0:
            found.append(Cell(D, seed, name, "below", params[0]))
        else:
            losses = {r: m.runs[(D, seed, r)][metric[name]] for r in (boundary - 1, boundary)}
            size = interpolate_size(params, losses, m.thresholds[(D, seed, name)], boundary)
            found.append(Cell(D, seed, name, "found", size))
    return found


def gamma_table(found: Sequence[Cell], targets: Sequence[Target], n_bootstrap: int, seed: int
                ) -> tuple[pd.DataFrame, dict[str, float]]:
    """γ per target from its uncensored cells, with the bootstrap CI; metrics ``gamma_NAME`` (with ``.ci_low``,
    ``.ci_high``), ``censored_NAME``, ``points_NAME``, and ``gamma_paper`` / ``gamma_hestness`` for the claim."""
    rows, metrics = [], {}
    for t in targets:
        mine = [c for c in found if c.target == t.name]
        ok = [c for c in mine if c.status == "found"]
        fit = fit_exponent([c.D for c in ok], [c.size for c in ok], n_bootstrap, seed) if ok else None
        gamma, low, high = (fit.gamma, fit.ci_low, fit.ci_high) if fit else (math.nan,) * 3
        rows.append({"definition": t.definition, "target": t.label, "γ": gamma, "95 % CI": _interval(low, high),
                     "cells used": len(ok), "censored below": sum(c.status == "below" for c in mine),
                     "censored above": sum(c.status == "above" for c in mine),
                     "corpus sizes used": fit.n_sizes if fit else 0})
        metrics |= {f"gamma_{t.name}": gamma, f"gamma_{t.name}.ci_low": low, f"gamma_{t.name}.ci_high": high,
                    f"censored_{t.name}": len(mine) - len(ok), f"points_{t.name}": len(ok)}
    for claim_name, name in (("paper", HEADLINE), ("hestness", "hestness")):
        for suffix in ("", ".ci_low", ".ci_high"):
            metrics[f"gamma_{claim_name}{suffix}"] = metrics[f"gamma_{name}{suffix}"]
    return pd.DataFrame(rows).set_index(["definition", "target"]), metrics


def _interval(low: float, high: float) -> str:
    return "—" if math.isnan(low) else f"[{low:.2f}, {high:.2f}]"


def size_table(found: Sequence[Cell], targets: Sequence[Target]) -> pd.DataFrame:
    """N* by target (rows) and D (columns): the median over the seeds where it was found, then the censored
    seeds ("> 345K ×2": two seeds where even the largest model missed the target)."""
    sizes = sorted({c.D for c in found})
    return pd.DataFrame({t.label: {f"D = {_count(D)}": _size_cell([c for c in found if c.target == t.name and c.D == D])
                                   for D in sizes} for t in targets}).T


def _size_cell(here: Sequence[Cell]) -> str:
    sizes = [c.size for c in here if c.status == "found"]
    parts = [_count(float(np.median(sizes)))] if sizes else []
    for status, sign in (("below", "≤"), ("above", ">")):
        censored = [c for c in here if c.status == status]
        if censored:
            parts.append(f"{sign} {_count(censored[0].size)} ×{len(censored)}")
    return "; ".join(parts)


def _count(n: float) -> str:
    """12,345 as 12.3K; 1,234,567 as 1.23M."""
    return f"{n / 1e6:.3g}M" if n >= 1e6 else f"{n / 1e3:.3g}K" if n >= 1e3 else f"{n:.0f}"


def runs_table(m: Measurement, design: Design, params: Sequence[int], unigram: Mapping[int, float]
               ) -> tuple[pd.DataFrame, dict[str, float]]:
    """The first seed's runs: best training loss by rung (rows) and D (columns), blank where the search never
    ran that size; and the metrics ``runs_made``, ``runs_grid``, ``runs_not_learned`` and ``reference_beaten``
    (cells where a smaller model than the largest reached a lower loss than it)."""
    seed = design.seeds[0]
    frame = pd.DataFrame({f"D = {_count(D)}": {f"{_count(p)} ({r.width}x{r.layers})": m.runs.get((D, seed, i), {}).get(
        "train_eval_loss", math.nan) for i, (p, r) in enumerate(zip(params, design.ladder))} for D in design.sizes})
    top = len(design.ladder) - 1
    beaten = sum(any(run[k] < m.runs[(D, s, top)][k] for k in ("train_eval_loss", "val_loss"))
                 for (D, s, i), run in m.runs.items() if i != top)
    return frame, {"runs_made": len(m.runs), "runs_grid": len(design.sizes) * len(design.seeds) * len(design.ladder),
                   "runs_not_learned": len(not_learned(m, unigram)), "reference_beaten": beaten,
                   "search_rounds": m.rounds}


def not_learned(m: Measurement, unigram: Mapping[int, float]) -> list[RunKey]:
    """Runs whose best training loss did not end `LEARNED_MARGIN` below their slice's 1-gram loss."""
    return [key for key, run in m.runs.items() if run["train_eval_loss"] > unigram[key[0]] - LEARNED_MARGIN]


def unigram_losses(data: CharData, sizes: Sequence[int]) -> dict[int, float]:
    """Each slice's 1-gram loss on itself (nats per character): what knowing only character frequencies gives."""
    return {D: NGram(1, data.vocab_size).fit(data.train[:D].numpy()).loss(data.train[:D].numpy()) for D in sizes}


def kgram_table(tokens: np.ndarray, sizes: Sequence[int], ks: Sequence[int]) -> tuple[pd.DataFrame, dict[str, float]]:
    """Distinct k-grams of each slice, by k (rows) and D, with the log-log slope over the slices; and the
    metrics ``kgram_slope_kK`` with its t-interval (``.ci_low``, ``.ci_high``)."""
    rows, metrics = {}, {}
    for k in ks:
        counts = distinct_kgrams(tokens, k, sizes)
        fit = fit_power(np.asarray(sizes), counts)
        rows[k] = {**{f"D = {_count(D)}": int(c) for D, c in zip(sizes, counts)}, "slope": fit.exponent}
        metrics |= {f"kgram_slope_k{k}": fit.exponent, f"kgram_slope_k{k}.ci_low": fit.ci_low,
                    f"kgram_slope_k{k}.ci_high": fit.ci_high}
    return pd.DataFrame(rows).T.rename_axis("k"), metrics


def plot_sizes(found: Sequence[Cell], targets: Sequence[Target], metrics: Mapping[str, float],
               params: Sequence[int]) -> Figure:
    """N* against D in log-log, the paper's definition above and Hestness's below: each seed's N* (censored
    cells as triangles at the rung they are censored at), the fitted line, and the band of slopes
    [0.44, 0.72] through the middle of the headline's points."""
    fig, axes = page_figure(2, row_height=4.2)
    for ax, definition in zip(axes, ("paper", "Hestness")):
        for i, t in enumerate(t for t in targets if t.definition == definition):
            mine = [c for c in found if c.target == t.name]
            ok = [c for c in mine if c.status == "found"]
            colour = f"C{i}"
            gamma = metrics[f"gamma_{t.name}"]
            ax.scatter([c.D for c in ok], [c.size for c in ok], color=colour, s=18, alpha=0.8,
                       label=f"{t.label}: " + ("too few sizes to fit" if math.isnan(gamma) else f"γ = {gamma:.2f}"))
            for status, marker in (("below", "v"), ("above", "^")):
                censored = [c for c in mine if c.status == status]
                ax.scatter([c.D for c in censored], [c.size for c in censored], color=colour, marker=marker,
                           facecolor="none", s=40)
            if not math.isnan(gamma):
                _fit_line(ax, [c.D for c in ok], [c.size for c in ok], gamma, colour)
            if t.name in (HEADLINE, "hestness") and ok:
                _band(ax, [c.D for c in ok], [c.size for c in ok])
        ax.axhspan(params[0], params[-1], color="grey", alpha=0.06)
        ax.set(xscale="log", yscale="log", ylabel="N* (parameters)", xlabel="D (training characters)",
               title=f"{'The paper' if definition == 'paper' else 'Hestness'}'s definition")
        _legend_below(ax)
    return fig


def _legend_below(ax: Any, ncol: int = 2) -> None:
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol)


def _fit_line(ax: Any, D: Sequence[float], N: Sequence[float], gamma: float, colour: str) -> None:
    """The fitted power law through the points' log means, over their range of D."""
    x = np.geomspace(min(D), max(D), 20)
    centre_x, centre_y = np.mean(np.log(D)), np.mean(np.log(N))
    ax.plot(x, np.exp(centre_y + gamma * (np.log(x) - centre_x)), color=colour, lw=1.5)


def _band(ax: Any, D: Sequence[float], N: Sequence[float]) -> None:
    """The paper's slopes, GAMMA_BAND, through the points' log means: shaded between the two."""
    x = np.geomspace(min(D), max(D), 20)
    centre_x, centre_y = np.mean(np.log(D)), np.mean(np.log(N))
    low, high = (np.exp(centre_y + g * (np.log(x) - centre_x)) for g in GAMMA_BAND)
    ax.fill_between(x, low, high, color="grey", alpha=0.2, lw=0, label=f"slopes {GAMMA_BAND[0]}–{GAMMA_BAND[1]} (paper)")


def plot_boundary(m: Measurement, targets: Sequence[Target], params: Sequence[int], seed: int) -> Figure:
    """The runs on either side of the boundary at every D (one seed), for the headline target (training loss)
    and Hestness's (validation loss): the first passing size solid, the last failing one dashed."""
    fig, axes = page_figure(2, row_height=4.0)
    sizes = sorted({D for D, _, _ in m.runs})
    for ax, t in zip(axes, [t for t in targets if t.name in (HEADLINE, "hestness")]):
        for i, D in enumerate(sizes):
            boundary = m.boundaries[(D, seed, t.name)]
            for rung, style in ((boundary, "-"), (None if boundary is None else boundary - 1, "--")):
                if rung is None or rung < 0:
                    continue
                h = m.runs[(D, seed, rung)]["history"]
                ax.plot(h.step / h.step.max(), h[t.metric], style, color=f"C{i}",
                        label=f"D = {_count(D)}" if style == "-" else None)
            ax.axhline(m.thresholds[(D, seed, t.name)], color=f"C{i}", lw=0.8, alpha=0.5)
        ax.plot([], [], "k-", label="first size reaching it")
        ax.plot([], [], "k--", label="the size below")
        ax.set(xlabel="fraction of the run's steps", ylabel=f"{METRIC_WORDS[t.metric]} (nats)", title=t.label)
        _legend_below(ax, ncol=4)
    return fig


def plot_kgrams(tokens: np.ndarray, sizes: Sequence[int], ks: Sequence[int], metrics: Mapping[str, float]) -> Figure:
    """Distinct k-grams against the slice length (log-log) for every k; below, their slopes against k with the
    paper's band and our measured γ (headline and Hestness)."""
    fig, (top, bottom) = page_figure(2, row_height=4.0)
    grid = np.geomspace(sizes[0], sizes[-1], 25).astype(int)
    for i, k in enumerate(ks):
        top.plot(grid, distinct_kgrams(tokens, k, grid), color=f"C{i % 10}", label=f"k = {k}")
    top.set(xscale="log", yscale="log", xlabel="D (training characters)", ylabel="distinct k-grams",
            title="Distinct k-grams in the first D characters")
    _legend_below(top, ncol=5)
    slopes = [metrics[f"kgram_slope_k{k}"] for k in ks]
    bottom.plot(ks, slopes, "o-", color="C0", label="k-gram slope")
    bottom.axhspan(*GAMMA_BAND, color="grey", alpha=0.2, label=f"paper's [{GAMMA_BAND[0]}, {GAMMA_BAND[1]}]")
    for name, colour, label in (("gamma_paper", "C1", "γ measured, paper's definition"),
                                ("gamma_hestness", "C2", "γ measured, Hestness's")):
        if not math.isnan(metrics[name]):
            bottom.axhline(metrics[name], color=colour, ls="--", label=label)
    bottom.set(xlabel="k", ylabel="slope of log count on log D", title="How fast new k-grams appear", xticks=list(ks))
    _legend_below(bottom)
    return fig


def in_words(metrics: Mapping[str, float], targets: Sequence[Target], ks: Sequence[int]) -> str:
    """The result in a few sentences: the headline γ against the band, how it moves with the target, Hestness's,
    and which k-gram length grows at the same rate."""
    m = metrics
    low, high = GAMMA_BAND
    gammas = {t.label: m[f"gamma_{t.name}"] for t in targets if not math.isnan(m[f"gamma_{t.name}"])}
    headline = next(t for t in targets if t.name == HEADLINE)
    if math.isnan(m["gamma_paper"]):
        text = (f"**In words.** Under the paper's definition with the headline target ({headline.label}) fewer than "
                "three corpus sizes had an uncensored N*, so no exponent is fitted: the search range did not bracket it.")
    else:
        where = ("inside" if low <= m["gamma_paper"] <= high else "below" if m["gamma_paper"] < low else "above")
        overlap = m["gamma_paper.ci_low"] <= high and m["gamma_paper.ci_high"] >= low
        text = (f"**In words.** Under the paper's definition ({headline.label}) the fewest parameters grow as "
                f"D^{m['gamma_paper']:.2f}, {where} the paper's [{low}, {high}]; the 95 % interval "
                f"[{m['gamma_paper.ci_low']:.2f}, {m['gamma_paper.ci_high']:.2f}] "
                + ("overlaps it." if overlap else "does not reach it."))
    if len(gammas) > 1:
        text += (f" Across the targets γ ranges from {min(gammas.values()):.2f} to {max(gammas.values()):.2f}: the "
                 "exponent depends on what one calls the desired accuracy.")
    if not math.isnan(m["gamma_hestness"]):
        text += (f" Hestness's definition gives {m['gamma_hestness']:.2f} [{m['gamma_hestness.ci_low']:.2f}, "
                 f"{m['gamma_hestness.ci_high']:.2f}].")
    reference = m["gamma_paper"] if not math.isnan(m["gamma_paper"]) else m["gamma_hestness"]
    if not math.isnan(reference):
        k = min(ks, key=lambda k: abs(m[f"kgram_slope_k{k}"] - reference))
        text += (f" Distinct {k}-grams grow at the closest rate (slope {m[f'kgram_slope_k{k}']:.2f}). "
                 "All of this is at toy scale: models of thousands to hundreds of thousands of parameters and slices "
                 "of at most a million characters, far below the models the paper speaks of.")
    return text
