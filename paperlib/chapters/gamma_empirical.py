"""Chapter 'Measuring γ': the paper's relation γ ∈ [1 − 2β, 1 − β] tested on its own terms at toy scale
(methods page, measuring γ).

A static grid of character transformers (model sizes × corpus slices, a second seed at some slices) is trained
to convergence: validation at least once per pass, early stopping with patience after one cut of the learning
rate, the best weights kept, a cap on the passes. Every run is one task of a `paperlib.sweep.Sweep`
(`train_run`: a JSON config to the run's result). On the early-stopped validation losses the chapter fits
L(N, D) = E + A·N^−α + B·D^−β (Huber loss on log L), measures γ as the exponent of N*_f(D), the fewest
parameters within a fraction f of each slice's own asymptote, and tests whether it lies in [1 − 2β̂, 1 − β̂]
computed from the same runs, with a paired bootstrap over runs and a table of the other reasonable
definitions and ladder subsets. Every record key is declared once, in `METRICS` (`paperlib.book.metrics`); the
grid's runs are the chapter's run plan (`runs`, `paperlib.training.plan`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import Tensor

from paperlib.bench import local_exponents
from paperlib.book.claims import CLAIMS_BY_ID
from paperlib.book.metrics import CI_SUFFIXES, Declaration, DeclaredMetrics, Metric
from paperlib.book.paper_numbers import GAMMA_BAND
from paperlib.book.render import plural
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.data.text import CharData, load_shakespeare
from paperlib.models import n_params
from paperlib.models.ngram import NGram
from paperlib.models.transformer import Transformer, TransformerConfig
from paperlib.paths import notebooks_dir
from paperlib.plots import page_figure
from paperlib.progress import progress
from paperlib.scaling.efficient import (Asymptote, Crossing, exponent, first_crossing, fit_asymptotes,
                                        lowest_rung)
from paperlib.scaling.fit import ChinchillaFit, fit_huber_least_squares, start_grid
from paperlib.scaling.kgrams import distinct_kgrams
from paperlib.scaling.published import PUBLISHED_FITS
from paperlib.stats import percentile_interval
from paperlib.sweep import Sweep
from paperlib.training.batches import fixed_windows, random_windows, tiled_windows, window_batches
from paperlib.training.callbacks import EarlyStop, KeepBest, ScheduledLR, WarmupCosine, best_model
from paperlib.training.device import configure_device
from paperlib.training.evaluation import score
from paperlib.training.loop import init, train
from paperlib.training.losses import model_loss
from paperlib.training.optim import nanogpt_adamw
from paperlib.training.plan import RunSpec

HEADS = 2  # attention heads of every rung (widths are even)
CHUNK = 1024  # the training split is cut into chunks of this many characters and shuffled once before slicing
CHUNK_SEED = 0  # the one shuffle of the chunks (the same for every run and seed, so slices nest)
RUN_FORMAT = 2  # part of every run's config: raise it when `train_run` changes, so cached runs are not reused
WARMUP_STEPS = 100  # linear warm-up of the learning rate (a tenth of the cap if shorter), then constant
EVAL_MAX_STEPS = 100  # validation after every pass, and at least every this many steps on long slices
LR_CUTS = 1  # plateaus that cut the learning rate tenfold before the next one ends the run
CENSOR_LAST = 2  # a run that hit its cap with its best validation loss in its last this-many evaluations is censored
LEARNED_MARGIN = 0.25  # nats a run's validation loss must end below the slice's 1-gram validation loss
FRACTIONS = (0.1, 0.25, 0.5)  # the f of N*_f
HEADLINE_F = 0.25  # the f the verdict reads (fixed before any run)
EPSILON_SEEDS = 2.0  # Hestness's ε is this many seed standard deviations
FIT_STARTS = {"alpha": (0.0, 0.5, 1.0), "beta": (0.0, 0.5, 1.0), "e": (-1.0, 0.0, 1.0), "a": (0.0, 5.0, 10.0),
              "b": (0.0, 5.0, 10.0)}  # starts of the global fit: 243 points of (α, β, ln E, ln A, ln B)
SUBSETS: dict[str, slice] = {"all rungs": slice(None), "without the top rung": slice(None, -1),
                             "without the bottom rung": slice(1, None)}
PILOT = notebooks_dir() / "pilots" / "gamma_empirical_lr.json"  # the committed learning-rate pilot
PILOT_COMMAND = "PAPERLIB_CHECKPOINTS=... python -m paperlib.chapters.gamma_lr_pilot"
RunKey = tuple[int, int, int]  # corpus size D, seed, rung
CLAIM = CLAIMS_BY_ID["gamma_empirical"]


# ---------------------------------------------------------------------------------------------------------------
# The grid: rungs, slices, the static list of runs, one run


@dataclass(frozen=True)
class Rung:
    """One model size: a GPT of `layers` blocks of `width` with `HEADS` heads."""

    width: int
    layers: int

    def config(self, vocab_size: int, context: int) -> TransformerConfig:
        return TransformerConfig(vocab_size, self.width, HEADS, self.layers, n_positions=context)

    def params(self, vocab_size: int, context: int) -> int:
        """All parameters: the blocks, the final norm, the (tied) token and the position embeddings."""
        return n_params(Transformer(self.config(vocab_size, context)))

    def non_embedding(self, vocab_size: int, context: int) -> int:
        """Parameters less the token and position embeddings (Kaplan's N, the one the fits use)."""
        return self.params(vocab_size, context) - (vocab_size + context) * self.width

    @property
    def name(self) -> str:
        return f"{self.width}x{self.layers}"


def parse_rungs(text: str) -> list[Rung]:
    """Rungs from "16x2,20x2,..." (width x layers, even widths)."""
    rungs = []
    for item in text.split(","):
        width, _, layers = item.strip().partition("x")
        if not (width.isdigit() and layers.isdigit()) or int(width) % HEADS or not int(width) or not int(layers):
            raise ValueError(f"ladder entry {item!r} must be WIDTHxLAYERS with a width that is a multiple of {HEADS}")
        rungs.append(Rung(int(width), int(layers)))
    return rungs


def parse_ladder(text: str, vocab_size: int, context: int) -> list[Rung]:
    """The ladder: at least four rungs whose non-embedding sizes grow."""
    rungs = parse_rungs(text)
    sizes = [r.non_embedding(vocab_size, context) for r in rungs]
    if len(rungs) < 4 or any(a >= b for a, b in pairwise(sizes)):
        raise ValueError(f"the ladder needs at least four sizes in increasing order of non-embedding parameters, "
                         f"got {sizes}")
    return rungs


def corpus_sizes(d_min: int, n_sizes: int, available: int) -> list[int]:
    """`n_sizes` slice lengths doubling from `d_min`; the largest must fit in the `available` characters."""
    sizes = [d_min * 2 ** i for i in range(n_sizes)]
    if sizes[-1] > available:
        raise ValueError(f"the largest slice, {sizes[-1]:,} characters, exceeds the {available:,} of the training split")
    return sizes


def second_seed_sizes(sizes: Sequence[int], positions: str) -> tuple[int, ...]:
    """The slices that get a second seed, from their positions in `sizes` ("1,3"; negative counts from the end)."""
    try:
        picked = {sizes[int(p)] for p in positions.split(",") if p.strip()}
    except (ValueError, IndexError):
        raise ValueError(f"second-seed positions must be indices of the {len(sizes)} slices, got {positions!r}") from None
    if len(picked) < 2:
        raise ValueError("a second seed is needed at two slices at least, to measure the seed noise")
    return tuple(sorted(picked))


@dataclass(frozen=True)
class Design:
    """What every run shares, and the grid: slices, rungs, the seeds, each rung's learning rate."""

    sha256: str
    sizes: tuple[int, ...]
    ladder: tuple[Rung, ...]
    lrs: tuple[float, ...]  # one per rung
    seed: int
    seed_sizes: tuple[int, ...]  # slices with a second seed (seed + 1)
    context: int
    batch: int
    patience: int
    pass_cap: float
    eval_windows: int
    device: str

    def steps_per_pass(self, D: int) -> int:
        return math.ceil(D / (self.batch * self.context))

    def eval_every(self, D: int) -> int:
        return min(self.steps_per_pass(D), EVAL_MAX_STEPS)

    def max_steps(self, D: int) -> int:
        """The cap: `pass_cap` passes, rounded up to a whole evaluation interval."""
        every = self.eval_every(D)
        return math.ceil(self.pass_cap * self.steps_per_pass(D) / every) * every

    def config(self, D: int, seed: int, rung: int) -> dict[str, Any]:
        """The JSON config of one run: everything `train_run` needs, and so the key of its cached result."""
        r = self.ladder[rung]
        return {"format": RUN_FORMAT, "sha256": self.sha256, "chunk": CHUNK, "D": D, "seed": seed, "width": r.width,
                "layers": r.layers, "heads": HEADS, "context": self.context, "batch": self.batch, "lr": self.lrs[rung],
                "warmup": min(WARMUP_STEPS, self.max_steps(D) // 10), "eval_every": self.eval_every(D), "patience": self.patience, "cuts": LR_CUTS,
                "max_steps": self.max_steps(D), "eval_windows": self.eval_windows, "device": self.device}


def run_plan(design: Design) -> list[RunKey]:
    """The static grid, in the order it is trained: every rung at every slice with the first seed, then every
    rung again with the second seed at the slices that have one."""
    first = [(D, design.seed, i) for D in design.sizes for i in range(len(design.ladder))]
    second = [(D, design.seed + 1, i) for D in design.seed_sizes for i in range(len(design.ladder))]
    return first + second


def design_from(params: Mapping[str, Any], vocab_size: int, available: int, sha256: str, device: str) -> Design:
    """The grid from the notebook's parameters, the text's vocabulary, its training stream's length (`available`)
    and sha256, and the committed pilot's learning rates; `device` goes into the runs' configs only."""
    p = params
    rungs = parse_ladder(p["ladder"], vocab_size, p["context"])
    sizes = corpus_sizes(p["d_min"], p["n_slices"], available)
    lrs = pilot_lrs(read_pilot(), [r.non_embedding(vocab_size, p["context"]) for r in rungs])
    return Design(sha256, tuple(sizes), tuple(rungs), tuple(lrs), p["seed"], second_seed_sizes(sizes, p["second_seed"]),
                  p["context"], p["batch"], p["patience"], p["pass_cap"], p["eval_windows"], device)


def runs(params: Mapping[str, Any]) -> list[RunSpec]:
    """The chapter's plan: the static grid (`run_plan`) on the canonical text, one spec per run named
    D{D}-{rung}-seed{seed} (e.g. ``D15625-16x2-seed0``), at most its cap's steps (`Design.max_steps`)."""
    text, provenance = load_shakespeare()
    data = CharData.from_text(text)
    stream = training_stream(data.train)
    design = design_from(params, data.vocab_size, len(stream), provenance.sha256, params["device"])
    scored = {D: len(tiled_windows(data.val, design.context)) + len(tiled_windows(stream[:D], design.context))
              for D in design.sizes}
    return [_spec(design, key, data.vocab_size, scored[key[0]]) for key in run_plan(design)]


def _spec(design: Design, key: RunKey, vocab_size: int, scored: int) -> RunSpec:
    """One run of the grid as `train_run` trains it from `Design.config` (`scored`: the windows its best weights
    are scored on, the whole validation split and the whole slice)."""
    D, seed, rung = key
    config, cap = design.config(*key), design.max_steps(D)
    early = (f"early stop: {LR_CUTS} plateau of {design.patience} validations without a new best cuts the learning "
             f"rate tenfold, the next ends the run (the cap is {design.pass_cap:g} passes)")
    return RunSpec("gamma_empirical", f"D{D}", design.ladder[rung].name, seed,
                   design.ladder[rung].config(vocab_size, design.context),
                   f"tiny Shakespeare: random windows of a {D:,}-character slice", cap, design.batch, design.context,
                   nanogpt_adamw(config["lr"]), WarmupCosine(config["warmup"], cap, min_ratio=1.0),
                   tuple(range(config["eval_every"], cap + 1, config["eval_every"])), design.eval_windows, scored, early)


def training_stream(train: Tensor, chunk: int = CHUNK) -> Tensor:
    """The training split cut into chunks of `chunk` characters (a shorter tail dropped) in one fixed shuffled
    order: a slice of D characters is the first D of it, so every slice contains the smaller ones and samples
    the whole split, as the validation split does (a prefix of the text would hold only its first play)."""
    chunks = train[:len(train) // chunk * chunk].reshape(-1, chunk)
    order = torch.randperm(len(chunks), generator=torch.Generator().manual_seed(CHUNK_SEED))
    return chunks[order].reshape(-1)


@lru_cache(maxsize=1)
def _corpus(sha256: str, chunk: int) -> tuple[CharData, Tensor]:
    """The text a worker trains on, checked against the one the notebook read, and its training stream."""
    text, provenance = load_shakespeare()
    if provenance.sha256 != sha256:
        raise ValueError(f"this worker reads tiny Shakespeare with sha256 {provenance.sha256[:12]}…, the sweep "
                         f"expects {sha256[:12]}…: point $PAPERLIB_SHAKESPEARE at the same file")
    data = CharData.from_text(text)
    return data, training_stream(data.train, chunk)


def train_run(config: dict[str, Any]) -> dict[str, Any]:
    """One run (the sweep's task): a model of the config's rung trained on random windows of the slice of D
    characters (`training_stream`) with nanoGPT's AdamW, warm-up then a constant learning rate, validated on
    fixed windows of the validation split every ``eval_every`` steps; `LR_CUTS` plateaus cut the rate, the next
    ends the run, and ``max_steps`` caps it. The best weights are then scored on the whole validation split
    (``val_loss``) and on the whole slice (``train_loss``)."""
    data, stream = _corpus(config["sha256"], config["chunk"])
    tokens, context, cap = stream[:config["D"]], config["context"], config["max_steps"]
    cfg = Rung(config["width"], config["layers"]).config(data.vocab_size, context)
    subset = fixed_windows(data.val, context, config["eval_windows"], seed=2)
    state = init(lambda: Transformer(cfg), nanogpt_adamw(config["lr"]), config["seed"], configure_device(config["device"]))
    train(state, random_windows(tokens, context, config["batch"]), model_loss(), cap,
          eval_steps=range(config["eval_every"], cap + 1, config["eval_every"]),
          callbacks=[ScheduledLR(WarmupCosine(config["warmup"], cap, min_ratio=1.0), config["lr"]),  # constant after warm-up
                     KeepBest("val_loss"), EarlyStop("val_loss", config["patience"], config["cuts"])],
          evaluate=lambda model: {"val_loss": score(model, window_batches(subset)).loss}, show_progress=False)
    best = best_model(state)
    history = [{k: h[k] for k in ("step", "val_loss", "train_loss", "lr") if k in h} for h in state.history]
    return {"params": n_params(state.model), "train_time": state.train_time, "steps": state.step,
            "capped": state.step >= cap, "lr_cuts": state.extra.get("lr_cuts", []),
            "best_step": state.extra["best"]["record"]["step"], "history": history,
            "val_loss": score(best, window_batches(tiled_windows(data.val, context))).loss,
            "train_loss": score(best, window_batches(tiled_windows(tokens, context))).loss}


def censored(result: Mapping[str, Any]) -> bool:
    """A run still improving at its cap: it hit the cap with its best validation in its last `CENSOR_LAST`
    evaluations."""
    steps = [h["step"] for h in result["history"]]
    return bool(result["capped"]) and result["best_step"] in steps[-CENSOR_LAST:]


# ---------------------------------------------------------------------------------------------------------------
# The learning rate of each rung, from the committed pilot


def read_pilot(path: Path = PILOT) -> dict[str, Any]:
    """The committed learning-rate pilot (`paperlib.chapters.gamma_lr_pilot` writes it)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"the learning-rate pilot {path} is missing: run `{PILOT_COMMAND}` once") from None


def pilot_lrs(pilot: Mapping[str, Any], sizes: Sequence[int]) -> list[float]:
    """Each size's peak learning rate: the pilot's best rates of its two rungs, interpolated linearly in log lr
    against log N between them and held constant beyond them."""
    best = {run["non_embedding"]: pilot["best_lr"][run["rung"]] for run in pilot["runs"]}
    (n0, lr0), (n1, lr1) = min(best.items()), max(best.items())
    if n0 == n1:
        return [lr0] * len(sizes)
    position = np.clip((np.log(sizes) - math.log(n0)) / (math.log(n1) - math.log(n0)), 0, 1)
    return [float(v) for v in np.exp(math.log(lr0) + position * (math.log(lr1) - math.log(lr0)))]


def pilot_table(pilot: Mapping[str, Any]) -> pd.DataFrame:
    """Validation loss of the pilot's runs: rung (rows) by learning rate (columns)."""
    frame = pd.DataFrame(pilot["runs"])
    frame["rung"] = [f"{r} ({_count(n)})" for r, n in zip(frame.rung, frame.non_embedding)]
    return frame.pivot(index="rung", columns="lr", values="val_loss").rename(columns=lambda lr: f"lr {lr:g}")


# ---------------------------------------------------------------------------------------------------------------
# The runs as a table


def unigram_losses(data: CharData, stream: Tensor, sizes: Sequence[int]) -> dict[int, float]:
    """Each slice's 1-gram model scored on the validation split (nats per character): what knowing only the
    slice's character frequencies gives."""
    return {D: NGram(1, data.vocab_size).fit(stream[:D].numpy()).loss(data.val.numpy()) for D in sizes}


def runs_frame(design: Design, results: Mapping[RunKey, Mapping[str, Any]], vocab_size: int,
               unigram: Mapping[int, float]) -> pd.DataFrame:
    """One row per run: its slice, seed, rung, non-embedding and total size, losses of the best weights, steps,
    passes, whether it hit the cap, whether it is censored and whether it learned."""
    rows = []
    for (D, seed, rung), result in results.items():
        r = design.ladder[rung]
        rows.append({"D": D, "seed": seed, "rung": rung, "N": r.non_embedding(vocab_size, design.context),
                     "N_total": result["params"], "lr": design.lrs[rung], "val_loss": result["val_loss"],
                     "train_loss": result["train_loss"], "steps": result["steps"],
                     "passes": result["steps"] / design.steps_per_pass(D),
                     "best_passes": result["best_step"] / design.steps_per_pass(D), "capped": bool(result["capped"]),
                     "censored": censored(result), "learned": result["val_loss"] <= unigram[D] - LEARNED_MARGIN,
                     "train_time": result["train_time"]})
    return pd.DataFrame(rows).sort_values(["D", "seed", "rung"]).reset_index(drop=True)


def seed_std(frame: pd.DataFrame) -> float:
    """The seed noise of a validation loss: √(mean d²/2) over the (slice, rung) cells run with two seeds, d the
    difference between their losses; NaN without such a cell."""
    pairs = frame[frame.learned].pivot_table(index=["D", "rung"], columns="seed", values="val_loss").dropna()
    if pairs.shape[1] < 2 or pairs.empty:
        return math.nan
    return float(np.sqrt(np.mean((pairs.iloc[:, 0] - pairs.iloc[:, 1]) ** 2) / 2))


# ---------------------------------------------------------------------------------------------------------------
# The definitions of N* and γ


@dataclass(frozen=True)
class Definition:
    """One way to define N*(D) from the runs at a slice: the loss compared and the threshold it must meet, as a
    function of the slice's asymptote, the global Ê and the settings; or the lowest-loss size."""

    name: str  # the record's suffix: gamma_NAME
    label: str
    kind: Literal["primary", "Hestness", "control"]
    column: Literal["val_loss", "train_loss"]
    threshold: Callable[[Asymptote, float], float] | None  # (asymptote, Ê) -> the loss to reach; None: the lowest

    def crossing(self, sizes: Sequence[float], losses: Sequence[float], asymptote: Asymptote, E: float) -> Crossing:
        if self.threshold is None:
            return lowest_rung(sizes, losses)
        return first_crossing(sizes, losses, self.threshold(asymptote, E))


def fraction_definition(f: float) -> Definition:
    """N*_f: the fewest parameters whose loss is within a fraction f of the data-limited loss,
    L − L∞(D) ≤ f·(L∞(D) − Ê)."""
    return Definition(f"f{f:g}", f"primary: N*_f, f = {f:g}", "primary", "val_loss",
                      lambda asymptote, E: asymptote.L_inf + f * (asymptote.L_inf - E))


def definitions(epsilon: float, absolute: float) -> list[Definition]:
    """Every definition the chapter measures: N*_f for each f of `FRACTIONS`; Hestness's within ε of the
    asymptote and his lowest-loss size; the controls, a fixed absolute validation loss and the same on the
    training loss (memorisation)."""
    return [*(fraction_definition(f) for f in FRACTIONS),
            Definition("hestness", f"Hestness: within ε = {epsilon:.3f} of L∞(D)", "Hestness", "val_loss",
                       lambda asymptote, E: asymptote.L_inf + epsilon),
            Definition("lowest", "Hestness: the lowest-loss size", "Hestness", "val_loss", None),
            Definition("abs", f"control: validation loss ≤ {absolute:g}", "control", "val_loss", lambda a, E: absolute),
            Definition("train", f"control: training loss ≤ {absolute:g}", "control", "train_loss", lambda a, E: absolute)]


@dataclass(frozen=True)
class Cell:
    """N* of one (slice, seed) under one definition; `censored_run` when a run that defines it is censored."""

    D: int
    seed: int
    crossing: Crossing
    censored_run: bool

    @property
    def usable(self) -> bool:
        return self.crossing.status == "found" and not self.censored_run


@dataclass
class Analysis:
    """Everything measured on one set of runs: the global fit, each slice's asymptote, each definition's cells
    and γ, and the balance exponent β̂/α̂."""

    fit: ChinchillaFit
    asymptotes: dict[int, Asymptote]
    cells: dict[str, list[Cell]]
    gammas: dict[str, float]

    @property
    def balance(self) -> float:
        """β̂/α̂ (NaN when α̂ is 0: no model term was found)."""
        return self.fit.beta / self.fit.alpha if self.fit.alpha else math.nan

    @property
    def band(self) -> tuple[float, float]:
        """[1 − 2β̂, 1 − β̂]: the paper's relation applied to this fit's β̂."""
        return 1 - 2 * self.fit.beta, 1 - self.fit.beta


def global_fit(frame: pd.DataFrame, start: ChinchillaFit | None = None) -> ChinchillaFit:
    """L = E + A·N^−α + B·D^−β on the runs' validation losses (Huber loss on log L): from the `FIT_STARTS` grid,
    or, for a bootstrap refit, from `start` alone."""
    starts = start_grid(FIT_STARTS) if start is None else [start.theta]
    return fit_huber_least_squares(frame.N.to_numpy(float), frame.D.to_numpy(float), frame.val_loss.to_numpy(float),
                                   starts)


def analyse(frame: pd.DataFrame, defs: Sequence[Definition], start: Analysis | None = None) -> Analysis:
    """The global fit, every slice's asymptote (a slice with fewer than three sizes has none), every
    definition's cells and γ (from the usable cells; NaN from fewer than three slices). A bootstrap refit starts
    every fit from the point estimate's (`start`)."""
    fit = global_fit(frame, start and start.fit)
    enough = frame.groupby("D").N.transform("nunique") >= 3
    asymptotes = fit_asymptotes(frame.N[enough], frame.D[enough], frame.val_loss[enough], start and start.asymptotes)
    cells = measure_cells(frame, defs, asymptotes, fit.E)
    return Analysis(fit, asymptotes, cells, {name: cells_gamma(found) for name, found in cells.items()})


def measure_cells(frame: pd.DataFrame, defs: Sequence[Definition], asymptotes: Mapping[int, Asymptote],
                  E: float) -> dict[str, list[Cell]]:
    """Every definition's N* at every (slice, seed) whose slice has an asymptote."""
    cells: dict[str, list[Cell]] = {d.name: [] for d in defs}
    for (D, seed), runs in frame[frame.D.isin(list(asymptotes))].groupby(["D", "seed"]):
        runs = runs.drop_duplicates("rung").sort_values("N")
        for d in defs:
            crossing = d.crossing(runs.N.tolist(), runs[d.column].tolist(), asymptotes[int(D)], E)
            defining = runs.iloc[list(crossing.pair)] if crossing.status == "found" else runs.iloc[:0]
            cells[d.name].append(Cell(int(D), int(seed), crossing, bool(defining.censored.any())))
    return cells


def cells_gamma(found: Sequence[Cell]) -> float:
    """γ from the usable cells (NaN from fewer than three slices)."""
    usable = [c for c in found if c.usable]
    return exponent([c.D for c in usable], [c.crossing.size for c in usable]) if usable else math.nan


def gamma_curve(frame: pd.DataFrame, point: Analysis, fractions: Sequence[float]) -> list[float]:
    """γ of N*_f for each f, on the point estimate's asymptotes and Ê."""
    defs = [fraction_definition(f) for f in fractions]
    cells = measure_cells(frame, defs, point.asymptotes, point.fit.E)
    return [cells_gamma(cells[d.name]) for d in defs]


def band_distance(gamma: float, beta: float) -> float:
    """How far γ lies outside [1 − 2β, 1 − β]: negative below, positive above, 0 inside (NaN for NaN)."""
    if math.isnan(gamma):
        return math.nan
    low, high = 1 - 2 * beta, 1 - beta
    return gamma - high if gamma > high else gamma - low if gamma < low else 0.0


def resample(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The runs resampled with replacement within each slice (every slice keeps its number of runs)."""
    picks = [rng.choice(index, size=len(index)) for index in frame.groupby("D").indices.values()]
    return frame.iloc[np.concatenate(picks)]


@dataclass
class Bootstrap:
    """The bootstrap distributions of one ladder subset: α̂, β̂, Ê, β̂/α̂ and every definition's γ, one row per
    resample (the same resamples, so γ and β̂ are paired); `failed` counts resamples that could not be fitted."""

    samples: pd.DataFrame
    failed: int

    def interval(self, column: str) -> tuple[float, float]:
        values = self.samples[column].dropna()
        return percentile_interval(values) if len(values) > 1 else (math.nan, math.nan)


def bootstrap(frame: pd.DataFrame, defs: Sequence[Definition], point: Analysis, n: int, seed: int) -> Bootstrap:
    """`n` resamples of the runs (`resample`), each refitted from the point estimate."""
    rng, rows, failed = np.random.default_rng(seed), [], 0
    for _ in range(n):
        try:
            a = analyse(resample(frame, rng), defs, start=point)
        except (ValueError, np.linalg.LinAlgError):
            failed += 1
            continue
        rows.append({"alpha": a.fit.alpha, "beta": a.fit.beta, "E": a.fit.E, "balance": a.balance,
                     **{f"gamma_{k}": v for k, v in a.gammas.items()},
                     **{f"distance_{k}": band_distance(v, a.fit.beta) for k, v in a.gammas.items()}})
    return Bootstrap(pd.DataFrame(rows), failed)


# ---------------------------------------------------------------------------------------------------------------
# The record: every key, once


METRICS = Declaration("gamma_empirical", [
    Metric("n_runs", "runs", "runs trained, every seed"),
    Metric("not_learned_runs", "runs", "runs whose validation loss did not end LEARNED_MARGIN below the 1-gram loss"),
    Metric("capped_runs", "runs", "runs that reached the pass cap"),
    Metric("censored_runs", "runs", "runs still improving at the cap (best in the last CENSOR_LAST evaluations)"),
    Metric("censored_headline", "runs", "censored runs among those that define the headline N*_0.25", headline=True),
    Metric("alpha_hat", "exponent", "α̂ of the global fit", ci=True),
    Metric("beta_hat", "exponent", "β̂ of the global fit", headline=True, ci=True),
    Metric("E_hat", "nats/char", "Ê of the global fit", ci=True),
    Metric("gamma_balance", "exponent", "β̂/α̂, the balance exponent of the global fit", ci=True),
    Metric("gamma_pred_{end}", "exponent", "an end of the band [1 − 2β̂, 1 − β̂]", headline=True, ci=True),
    Metric("gamma_f{f}", "exponent", "γ of N*_f, the fewest parameters within a fraction f of the data-limited loss",
           headline=True, ci=True),
    Metric("gamma_hestness", "exponent", "γ of Hestness's N*, within ε of the asymptote", ci=True),
    Metric("gamma_lowest", "exponent", "γ of the lowest-loss size", ci=True),
    Metric("gamma_abs", "exponent", "control: γ of a fixed absolute validation loss", ci=True),
    Metric("gamma_train", "exponent", "control: γ of a fixed absolute training loss", ci=True),
    Metric(f"distance_f{HEADLINE_F:g}", "exponent", "how far γ_f0.25 lies outside [1 − 2β̂, 1 − β̂] (0 inside), "
           "paired bootstrap", headline=True, ci=True),
    Metric(f"cells_f{HEADLINE_F:g}", "cells", "(slice, seed) cells with a usable N*_0.25"),
    Metric(f"slices_f{HEADLINE_F:g}", "slices", "slices with a usable N*_0.25 (γ needs three)"),
    Metric(f"above_ladder_f{HEADLINE_F:g}", "cells", "(slice, seed) cells where even the largest rung misses the "
           "N*_0.25 threshold"),
    Metric(f"below_ladder_f{HEADLINE_F:g}", "cells", "(slice, seed) cells where even the smallest rung meets it"),
    Metric("slices_below_E", "slices", "slices whose own asymptote L∞(D) lies at or below the global Ê, where "
           "f·(L∞(D) − Ê) is not positive and no size can meet N*_f's threshold"),
    Metric("seed_std", "nats/char", "seed standard deviation of a validation loss"),
    Metric("epsilon", "nats/char", "Hestness's ε"),
    Metric("sensitivity_cells", "cells", "cells of the sensitivity table with a γ"),
    Metric("sensitivity_inside", "cells", "cells of the sensitivity table whose γ lies in their own [1 − 2β̂, 1 − β̂]"),
    Metric("gamma_spread_{end}", "exponent", "the lowest (low) and highest (high) γ of the sensitivity table"),
    Metric("bootstrap_failed", "resamples", "bootstrap resamples that could not be fitted"),
], fields={"end": ["low", "high"], "f": [f"{f:g}" for f in FRACTIONS]})
HEADLINE = f"f{HEADLINE_F:g}"
SENSITIVITY_ROWS = (*(f"f{f:g}" for f in FRACTIONS), "balance", "hestness")


def declared_keys() -> list[str]:
    """Every key the record holds: each metric of `METRICS` (each value of its fields), and its interval's bounds
    where it has one."""
    names = dict.fromkeys(m.pattern.format(end=end, f=f) for m in METRICS.metrics for end in ("low", "high")
                          for f in (f"{f:g}" for f in FRACTIONS))
    return [name + suffix for name in names for suffix in ("", *(CI_SUFFIXES if METRICS.metric(name).ci else ()))]


def _with_ci(name: str, value: float, interval: tuple[float, float]) -> dict[str, float]:
    return {name: value, f"{name}.ci_low": interval[0], f"{name}.ci_high": interval[1]}


def run_counts(frame: pd.DataFrame) -> DeclaredMetrics:
    """The record's counts of how the runs ended: trained, not learned, capped, censored."""
    return METRICS.new() | {"n_runs": len(frame), "not_learned_runs": int((~frame.learned).sum()),
                            "capped_runs": int(frame.capped.sum()), "censored_runs": int(frame.censored.sum())}


def chapter_metrics(frame: pd.DataFrame, analyses: Mapping[str, Analysis], boots: Mapping[str, Bootstrap],
                    epsilon: float, noise: float) -> DeclaredMetrics:
    """The record's metrics (exactly `declared_keys`) from the runs, each subset's analysis and bootstrap."""
    point, boot = analyses["all rungs"], boots["all rungs"]
    fit = point.fit
    metrics = METRICS.new() | run_counts(frame)
    metrics |= {"censored_headline": sum(c.censored_run for c in point.cells[HEADLINE]),
               "seed_std": noise, "epsilon": epsilon, "bootstrap_failed": boot.failed,
               f"cells_{HEADLINE}": sum(c.usable for c in point.cells[HEADLINE]),
               f"slices_{HEADLINE}": len({c.D for c in point.cells[HEADLINE] if c.usable}),
               f"above_ladder_{HEADLINE}": sum(c.crossing.status == "above" for c in point.cells[HEADLINE]),
               f"below_ladder_{HEADLINE}": sum(c.crossing.status == "below" for c in point.cells[HEADLINE]),
               "slices_below_E": sum(a.L_inf <= fit.E for a in point.asymptotes.values())}
    metrics |= _with_ci("alpha_hat", fit.alpha, boot.interval("alpha"))
    metrics |= _with_ci("beta_hat", fit.beta, boot.interval("beta"))
    metrics |= _with_ci("E_hat", fit.E, boot.interval("E"))
    metrics |= _with_ci("gamma_balance", point.balance, boot.interval("balance"))
    low, high = boot.interval("beta")
    metrics |= _with_ci("gamma_pred_low", 1 - 2 * fit.beta, (1 - 2 * high, 1 - 2 * low))
    metrics |= _with_ci("gamma_pred_high", 1 - fit.beta, (1 - high, 1 - low))
    for name, gamma in point.gammas.items():
        metrics |= _with_ci(f"gamma_{name}", gamma, boot.interval(f"gamma_{name}"))
    metrics |= _with_ci(f"distance_{HEADLINE}", band_distance(point.gammas[HEADLINE], fit.beta),
                        boot.interval(f"distance_{HEADLINE}"))
    table = sensitivity_values(analyses)
    values = [v for v, _ in table.values() if not math.isnan(v)]
    metrics |= {"sensitivity_cells": len(values), "sensitivity_inside": sum(inside for v, inside in table.values()),
                "gamma_spread_low": min(values, default=math.nan), "gamma_spread_high": max(values, default=math.nan)}
    if sorted(metrics) != sorted(declared_keys()):
        raise KeyError(f"the record's keys differ from METRICS: {sorted(set(metrics) ^ set(declared_keys()))}")
    return metrics


def _gamma_of(a: Analysis, row: str) -> float:
    return a.balance if row == "balance" else a.gammas[row]


def sensitivity_values(analyses: Mapping[str, Analysis]) -> dict[tuple[str, str], tuple[float, bool]]:
    """Every (definition, ladder subset): its γ and whether it lies in that subset's [1 − 2β̂, 1 − β̂]."""
    out = {}
    for subset, a in analyses.items():
        for row in SENSITIVITY_ROWS:
            gamma = _gamma_of(a, row)
            out[(row, subset)] = (gamma, not math.isnan(gamma) and band_distance(gamma, a.fit.beta) == 0)
    return out


# ---------------------------------------------------------------------------------------------------------------
# The verdict and the sentences that state directions (generated from the metrics, never typed)


def inconclusive_reason(metrics: Mapping[str, float]) -> str | None:
    """Why the internal test is inconclusive (the record then marks the claim not comparable), or None: a
    censored run defines the headline N*, too few slices give one, or the headline is not inside its band while
    some definition of the sensitivity table is."""
    m = metrics
    if m["censored_headline"]:
        return (f"inconclusive: {plural(m['censored_headline'], 'run')} that define the headline N*_{HEADLINE_F:g} "
                "were still improving at the pass cap")
    if _missing(m[f"gamma_{HEADLINE}"]):
        return (f"inconclusive: N*_{HEADLINE_F:g} lies inside the ladder at {plural(m[f'slices_{HEADLINE}'], 'slice')} "
                f"(γ needs three); in {plural(m[f'above_ladder_{HEADLINE}'], 'cell')} even the largest size misses "
                f"it ({plural(m['slices_below_E'], 'slice')} with an asymptote at or below Ê, where no size can meet "
                f"it) and in {plural(m[f'below_ladder_{HEADLINE}'], 'cell')} even the smallest meets it: the ladder "
                "does not reach the data-limited regime of the larger slices")
    if not CLAIM.rule(m) and m["sensitivity_inside"]:
        return (f"inconclusive: γ_f{HEADLINE_F:g} is not shown inside its band, but {m['sensitivity_inside']:.0f} of the "
                f"{m['sensitivity_cells']:.0f} cells of the sensitivity table lie inside theirs")
    return None


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def verdict_words(record: Record) -> str:
    """The test in a few sentences: where γ_f0.25 lies against [1 − 2β̂, 1 − β̂] and what the paired interval of its
    distance says (rule ``reference``, against 0), the spread over the sensitivity table, whether β̂/α̂ agrees
    (``reference``), the verdict (``verdict``), and that toy scale cannot decide the LLM value."""
    m, h = record["metrics"], HEADLINE
    low, high = m["gamma_pred_low"], m["gamma_pred_high"]
    if _missing(m[f"gamma_{h}"]):
        text = f"**In words.** No γ could be measured: {inconclusive_reason(m).removeprefix('inconclusive: ')}. "
    else:
        gamma, d_low, d_high = m[f"gamma_{h}"], m[f"distance_{h}.ci_low"], m[f"distance_{h}.ci_high"]
        grows = (f"The fewest parameters within a quarter of the data-limited loss grow as D^{gamma:.2f}"
                 + ("" if _missing(m[f"gamma_{h}.ci_low"]) else
                    f" (95 % CI [{m[f'gamma_{h}.ci_low']:.2f}, {m[f'gamma_{h}.ci_high']:.2f}])"))
        band = (f"the band [{low:.2f}, {high:.2f}] that the paper's relation gives for this data's "
                f"β̂ = {m['beta_hat']:.2f}")
        text = "**In words.** " + decided("reference", record, [f"=distance_{h}", "=0"], {
            "not separated": f"{grows}, inside {band}.", "lower": f"{grows}, below {band}.",
            "higher": f"{grows}, above {band}."}) + " "
        interval = f"The paired 95 % interval of its distance to the band, [{d_low:+.2f}, {d_high:+.2f}],"
        text += ("Its distance to the band has no paired interval (too few bootstrap resamples gave a γ). "
                 if _missing(d_low) else decided("reference", record, [f"distance_{h}", "=0"], {
                     "not separated": f"{interval} includes 0.", "lower": f"{interval} excludes 0: below it.",
                     "higher": f"{interval} excludes 0: above it."}) + " ")
        text += (f"Across the sensitivity table γ ranges from {m['gamma_spread_low']:.2f} to "
                 f"{m['gamma_spread_high']:.2f}, and {m['sensitivity_inside']:.0f} of its "
                 f"{m['sensitivity_cells']:.0f} cells lie inside their band. ")
        text += _balance_sentence(record) + " "
    text += decided_verdict(record, "gamma_empirical", {
        "reproduced": "Under the chapter's rule the internal test is {words}.",
        "not reproduced": "Under the chapter's rule the internal test is {words}.",
        "not comparable": "Under the chapter's rule the internal test gets no verdict: {reason}.",
        "not run": "Under the chapter's rule the internal test gets no verdict: {reason}."})
    return text + (" This is a test of the paper's relation at toy scale, character-level models of thousands to "
                   "about a hundred thousand parameters on slices of one small corpus: it cannot decide the value of "
                   "γ for LLMs.")


def _balance_sentence(record: Record) -> str:
    """Whether the two measurements of γ, N*_f's slope and the fit's β̂/α̂, agree (a check of the additive law):
    rule ``reference``, the slope's interval against β̂/α̂ read as a point."""
    m = record["metrics"]
    gamma, balance = m[f"gamma_{HEADLINE}"], m["gamma_balance"]
    told = f"The global fit's balance exponent β̂/α̂ = {balance:.2f}"
    if _missing(m[f"gamma_{HEADLINE}.ci_low"]) or _missing(balance):
        return f"{told}; the slope of N* ({gamma:.2f}) has no interval to compare it with."
    disagree = (f"{told} lies outside that interval: the slope of N* ({gamma:.2f}) and β̂/α̂ disagree, so the "
                "additive law does not describe these runs exactly.")
    return decided("reference", record, [f"gamma_{HEADLINE}", "=gamma_balance"], {
        "not separated": f"{told} lies inside that interval: the two measurements agree, as the additive law says "
                         "they should.", "lower": disagree, "higher": disagree})


def published_table() -> pd.DataFrame:
    """The same arithmetic on the published fits that give α: β/α (what N* at a fixed fraction f grows with
    under their law) beside the paper's interval [1 − 2β, 1 − β]."""
    rows = [{"fit": fit.name, "α": fit.alpha, "β": fit.beta, "β/α": fit.beta / fit.alpha,
             "1 − 2β": 1 - 2 * fit.beta, "1 − β": 1 - fit.beta,
             "β/α in [1 − 2β, 1 − β]": "yes" if band_distance(fit.beta / fit.alpha, fit.beta) == 0 else "no"}
            for fit in PUBLISHED_FITS if fit.alpha is not None]
    return pd.DataFrame(rows).set_index("fit")


def published_words(table: pd.DataFrame) -> str:
    """Whether the paper's interval and its own loss law agree, fit by fit, before any training."""
    outside = table[table["β/α in [1 − 2β, 1 − β]"] == "no"]
    parts = [f"{name} gives β/α = {row['β/α']:.2f} against [{row['1 − 2β']:.2f}, {row['1 − β']:.2f}]"
             for name, row in table.iterrows()]
    verdict = ("none of them puts β/α inside the paper's interval" if len(outside) == len(table) else
               "every one puts β/α inside the paper's interval" if outside.empty else
               f"β/α lies inside the paper's interval for {len(table) - len(outside)} of the {len(table)} fits")
    return f"**Before any training.** {'; '.join(parts)}: {verdict}."


# ---------------------------------------------------------------------------------------------------------------
# Tables


def _count(n: float) -> str:
    """12,345 as 12.3K; 1,234,567 as 1.23M."""
    return f"{n / 1e6:.3g}M" if n >= 1e6 else f"{n / 1e3:.3g}K" if n >= 1e3 else f"{n:.0f}"


def ladder_table(design: Design, vocab_size: int) -> pd.DataFrame:
    """Per rung: layers, width, heads, non-embedding and total parameters, the step from the rung below, and
    its learning rate."""
    sizes = [r.non_embedding(vocab_size, design.context) for r in design.ladder]
    return pd.DataFrame([{"rung": r.name, "layers": r.layers, "width": r.width, "heads": HEADS,
                          "non-embedding N": n, "total N": r.params(vocab_size, design.context),
                          "× the rung below": n / sizes[i - 1] if i else math.nan, "learning rate": lr}
                         for i, (r, n, lr) in enumerate(zip(design.ladder, sizes, design.lrs))]).set_index("rung")


def slices_table(design: Design, unigram: Mapping[int, float]) -> pd.DataFrame:
    """Per slice: steps per pass, the validation interval, the cap, the seeds, the 1-gram validation loss."""
    return pd.DataFrame([{"D (characters)": D, "steps per pass": design.steps_per_pass(D),
                          "validated every": design.eval_every(D), "cap (steps)": design.max_steps(D),
                          "seeds": 2 if D in design.seed_sizes else 1, "1-gram loss (nats)": unigram[D]}
                         for D in design.sizes]).set_index("D (characters)")


def runs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The first seed's validation losses (best weights, whole split), rung (rows) by slice (columns); a dagger
    marks a censored run, "not learned" one that stayed near its 1-gram loss."""
    first = frame[frame.seed == frame.seed.min()]
    text = [f"{r.val_loss:.3f}" + (" †" if r.censored else "") if r.learned else "not learned"
            for r in first.itertuples()]
    return (first.assign(cell=text, size=[_count(n) for n in first.N], slice=[f"D = {_count(D)}" for D in first.D])
            .pivot(index=["rung", "size"], columns="slice", values="cell").droplevel("rung")
            .reindex(columns=[f"D = {_count(D)}" for D in sorted(first.D.unique())]).rename_axis("N", axis=0))


def training_words(record: Record, frame: pd.DataFrame) -> str:
    """How the runs ended (the record's counts): stopped on a plateau or at the cap, censored (rule
    ``budget_bound``), not learned, and their passes (from the runs)."""
    m = record["metrics"]
    runs, capped, censored = m["n_runs"], m["capped_runs"], m["censored_runs"]
    return (f"Of the {plural(runs, 'run')}, {runs - capped:.0f} stopped on a plateau and {capped:.0f} reached the pass "
            "cap. " + decided("budget_bound", record, ["censored_runs"], {
                "budget-bound": f"{plural(censored, 'run')} {'was' if censored == 1 else 'were'} still improving there "
                                "(censored): their losses hold within this cap only.",
                "settled": "None was still improving there: no run is censored."})
            + f" {plural(m['not_learned_runs'], 'run')} did not learn. The best weights came after "
            f"{frame.best_passes.min():.1f} to {frame.best_passes.max():.1f} passes over the slice "
            f"(median {frame.best_passes.median():.1f}).")


def fit_table(metrics: Mapping[str, float]) -> pd.DataFrame:
    """The global fit and what the paper's relation makes of it, with bootstrap intervals."""
    rows = {"Ê (nats)": "E_hat", "α̂": "alpha_hat", "β̂": "beta_hat", "β̂/α̂ (balance)": "gamma_balance",
            "1 − 2β̂ (slow rate)": "gamma_pred_low", "1 − β̂ (fast rate)": "gamma_pred_high"}
    return pd.DataFrame([{"": label, "estimate": metrics[key],
                          "95 % CI": _interval(metrics[f"{key}.ci_low"], metrics[f"{key}.ci_high"])}
                         for label, key in rows.items()]).set_index("")


def _interval(low: float | None, high: float | None) -> str:
    return "—" if _missing(low) or _missing(high) else f"[{low:.2f}, {high:.2f}]"


def asymptote_table(point: Analysis) -> pd.DataFrame:
    """Per slice: its asymptote L∞, the fit's a and b, the data-limited excess L∞ − Ê and the headline
    threshold L∞ + f·(L∞ − Ê)."""
    E, threshold = point.fit.E, f"threshold, f = {HEADLINE_F:g}"
    return pd.DataFrame([{"D (characters)": D, "L∞ (nats)": a.L_inf, "a": a.a, "b": a.b, "L∞ − Ê": a.L_inf - E,
                          threshold: a.L_inf + HEADLINE_F * (a.L_inf - E)} for D, a in sorted(point.asymptotes.items())],
                        columns=["D (characters)", "L∞ (nats)", "a", "b", "L∞ − Ê", threshold]).set_index("D (characters)")


def size_table(point: Analysis, defs: Sequence[Definition], top: float) -> pd.DataFrame:
    """N* by definition (rows) and slice (columns): each seed's value, "≤ smallest" or "> largest" where the
    ladder does not bracket it, a dagger where a censored run defines it."""
    sizes = sorted(point.asymptotes)
    return pd.DataFrame({d.label: {f"D = {_count(D)}": " / ".join(_cell_text(c, top) for c in point.cells[d.name]
                                                                   if c.D == D) for D in sizes} for d in defs}).T


def _cell_text(cell: Cell, top: float) -> str:
    c = cell.crossing
    text = {"found": _count(c.size), "below": f"≤ {_count(c.size)}", "above": f"> {_count(top)}"}[c.status]
    return text + (" †" if cell.censored_run else "")


def size_note(design: Design, vocab_size: int) -> str:
    """What the N* table's marks mean, for this ladder."""
    small, large = (r.non_embedding(vocab_size, design.context) for r in (design.ladder[0], design.ladder[-1]))
    return (f"Each cell lists one N* per seed. \"≤ {_count(small)}\": even the smallest rung meets the threshold; "
            f"\"> {_count(large)}\": not even the largest does; †: a run that defines it was censored. None of these "
            "enters a fit.")


def definitions_table(point: Analysis, metrics: Mapping[str, float], defs: Sequence[Definition]) -> pd.DataFrame:
    """γ under every definition with its bootstrap interval and how many cells it rests on."""
    rows = []
    for d in defs:
        found = point.cells[d.name]
        rows.append({"definition": d.label, "γ": metrics[f"gamma_{d.name}"],
                     "95 % CI": _interval(metrics[f"gamma_{d.name}.ci_low"], metrics[f"gamma_{d.name}.ci_high"]),
                     "cells used": sum(c.usable for c in found),
                     "≤ smallest": sum(c.crossing.status == "below" for c in found),
                     "> largest": sum(c.crossing.status == "above" for c in found),
                     "censored run": sum(c.censored_run for c in found)})
    rows.append({"definition": "primary: β̂/α̂ of the global fit", "γ": metrics["gamma_balance"],
                 "95 % CI": _interval(metrics["gamma_balance.ci_low"], metrics["gamma_balance.ci_high"])})
    return pd.DataFrame(rows).set_index("definition")


SENSITIVITY_LABELS = {**{f"f{f:g}": f"N*_f, f = {f:g}" for f in FRACTIONS}, "balance": "β̂/α̂",
                      "hestness": "Hestness (within ε)"}


def sensitivity_table(analyses: Mapping[str, Analysis], boots: Mapping[str, Bootstrap]) -> pd.DataFrame:
    """γ by definition (rows) and ladder subset (columns) with its bootstrap interval, "in" or "out" of that
    subset's [1 − 2β̂, 1 − β̂], and the band itself in the last row."""
    values = sensitivity_values(analyses)
    table = {}
    for subset, a in analyses.items():
        column = {}
        for row in SENSITIVITY_ROWS:
            gamma, inside = values[(row, subset)]
            key = "balance" if row == "balance" else f"gamma_{row}"
            column[SENSITIVITY_LABELS[row]] = ("—" if math.isnan(gamma) else
                                               f"{gamma:.2f} {_interval(*boots[subset].interval(key))} "
                                               + ("in" if inside else "out"))
        column["band [1 − 2β̂, 1 − β̂]"] = _interval(*a.band)
        table[subset] = column
    return pd.DataFrame(table)


def kgram_table(tokens: np.ndarray, sizes: Sequence[int], ks: Sequence[int]) -> pd.DataFrame:
    """Between neighbouring slices, the local slope of log(distinct k-grams) on log D, by k (rows)."""
    return pd.DataFrame({k: {f"{_count(a)}–{_count(b)}": s for a, b, s in
                             zip(sizes, sizes[1:], local_exponents(np.asarray(sizes), distinct_kgrams(tokens, k, sizes)))}
                         for k in ks}).T.rename_axis("k")


# ---------------------------------------------------------------------------------------------------------------
# Figures


def _legend_below(ax: Any, ncol: int = 3) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=ncol)


def plot_losses(frame: pd.DataFrame, point: Analysis) -> Figure:
    """Validation loss against non-embedding N, one colour per slice: the runs (open: second seed; ×: censored),
    each slice's own fit L∞ + a·N^−b (solid) and the global fit E + A·N^−α + B·D^−β (dashed)."""
    fig, ax = page_figure(1, row_height=5.0)
    grid = np.geomspace(frame.N.min(), frame.N.max(), 40)
    for i, (D, here) in enumerate(frame.groupby("D")):
        colour = f"C{i % 10}"
        for seed, runs in here.groupby("seed"):
            ax.scatter(runs.N, runs.val_loss, s=22, color=colour, facecolor=colour if seed == frame.seed.min() else "none",
                       label=f"D = {_count(D)}" if seed == frame.seed.min() else None)
        ax.scatter(here.N[here.censored], here.val_loss[here.censored], marker="x", s=60, color="k")
        if D in point.asymptotes:
            ax.plot(grid, point.asymptotes[D].loss(grid), color=colour, lw=1.2)
        ax.plot(grid, point.fit.loss(grid, np.full_like(grid, D)), color=colour, lw=1, ls="--")
    ax.plot([], [], "k-", label="fit at this D")
    ax.plot([], [], "k--", label="global fit")
    ax.set(xscale="log", xlabel="non-embedding parameters N", ylabel="validation loss (nats per character)",
           title="Early-stopped validation loss")
    _legend_below(ax, ncol=4)
    return fig


LEGIBLE_SIDE_BY_SIDE = 11.5  # points: tick and legend text of panels set side by side


def plot_learning_curves(results: Mapping[RunKey, Mapping[str, Any]], design: Design, vocab_size: int) -> Figure:
    """Validation loss (the fixed subset) against passes for the smallest, a middle and the largest rung at
    every slice (first seed); a dot marks the best weights, a cross a censored run's end."""
    rungs = sorted({0, len(design.ladder) // 2, len(design.ladder) - 1})
    fig, axes = page_figure(1, len(rungs), row_height=4.2, sharex=True)
    for ax, rung in zip(np.atleast_1d(axes), rungs):
        for i, D in enumerate(design.sizes):
            result = results[(D, design.seed, rung)]
            h = pd.DataFrame(result["history"])
            passes = h.step / design.steps_per_pass(D)
            ax.plot(passes, h.val_loss, color=f"C{i % 10}", lw=1.2, label=f"D = {_count(D)}")
            best = h[h.step == result["best_step"]]
            ax.scatter(best.step / design.steps_per_pass(D), best.val_loss, color=f"C{i % 10}", s=25, zorder=3)
            if censored(result):
                ax.scatter(passes.iloc[-1], h.val_loss.iloc[-1], marker="x", color="k", s=50, zorder=3)
        r = design.ladder[rung]
        ax.set(xscale="log", xlabel="passes over the slice",
               title=f"{r.name} (N = {_count(r.non_embedding(vocab_size, design.context))})")
        ax.tick_params(labelsize=LEGIBLE_SIDE_BY_SIDE)  # three panels across: a point larger to stay legible at 420 px
    np.atleast_1d(axes)[0].set_ylabel("validation loss")
    fig.legend(*np.atleast_1d(axes)[0].get_legend_handles_labels(), loc="outside lower center", ncol=3,
               fontsize=LEGIBLE_SIDE_BY_SIDE)
    return fig


def _through_centre(ax: Any, D: Sequence[float], N: Sequence[float], slopes: tuple[float, float], **style: Any) -> None:
    """Lines of the given slopes through the points' log means, shaded between them."""
    x = np.geomspace(min(D), max(D), 20)
    cx, cy = np.mean(np.log(D)), np.mean(np.log(N))
    low, high = (np.exp(cy + g * (np.log(x) - cx)) for g in slopes)
    ax.fill_between(x, low, high, lw=0, **style)


def plot_sizes(point: Analysis, metrics: Mapping[str, float], top: float) -> Figure:
    """N*_0.25 against D in log-log: each (slice, seed) (filled: used; ×: a censored run defines it; triangles:
    beyond an end of the ladder), the fitted line, the band [1 − 2β̂, 1 − β̂] and the paper's [0.44, 0.72], both
    as slopes through the used points' centre."""
    fig, ax = page_figure(1, row_height=4.8)
    cells = point.cells[HEADLINE]
    used = [c for c in cells if c.usable]
    ax.scatter([c.D for c in used], [c.crossing.size for c in used], color="C0", s=30, zorder=3, label="N*_0.25 (used)")
    for test, marker, label in ((lambda c: c.censored_run, "x", "a censored run defines it"),
                                (lambda c: c.crossing.status == "below", "v", "≤ the smallest rung"),
                                (lambda c: c.crossing.status == "above", "^", "> the largest rung")):
        mine = [c for c in cells if test(c)]
        if mine:
            ax.scatter([c.D for c in mine], [top if c.crossing.status == "above" else c.crossing.size for c in mine],
                       marker=marker, color="C3", s=45, zorder=3, label=label)
    gamma = metrics[f"gamma_{HEADLINE}"]
    if not _missing(gamma):
        D, N = [c.D for c in used], [c.crossing.size for c in used]
        x = np.geomspace(min(D), max(D), 20)
        cx, cy = np.mean(np.log(D)), np.mean(np.log(N))
        ax.plot(x, np.exp(cy + gamma * (np.log(x) - cx)), color="C0", lw=1.8, label=f"measured γ = {gamma:.2f}")
        band = (metrics["gamma_pred_low"], metrics["gamma_pred_high"])
        _through_centre(ax, D, N, band, color="C1", alpha=0.3,
                        label=f"[1 − 2β̂, 1 − β̂] = [{band[0]:.2f}, {band[1]:.2f}]")
        _through_centre(ax, D, N, GAMMA_BAND, facecolor="none", edgecolor="grey", hatch="//",
                        label=f"paper's [{GAMMA_BAND[0]}, {GAMMA_BAND[1]}]")
    ax.set(xscale="log", yscale="log", xlabel="D (training characters)", ylabel="N*_0.25 (non-embedding parameters)",
           title="The fewest parameters within a quarter of the data-limited loss")
    _legend_below(ax, ncol=2)
    return fig


def plot_gamma_vs_f(fractions: Sequence[float], curve: Sequence[float], metrics: Mapping[str, float]) -> Figure:
    """γ of N*_f against f (the line: point estimates on a fine grid; the points: the chapter's f with their
    bootstrap intervals), beside the band [1 − 2β̂, 1 − β̂], β̂/α̂ and the paper's interval."""
    fig, ax = page_figure(1, row_height=4.2)
    ax.plot(fractions, curve, color="C0", lw=1.5, label="γ of N*_f")
    for f in FRACTIONS:
        key = f"gamma_f{f:g}"
        if not _missing(metrics[key]) and not _missing(metrics[f"{key}.ci_low"]):
            ax.errorbar([f], [metrics[key]], yerr=[[metrics[key] - metrics[f"{key}.ci_low"]],
                                                   [metrics[f"{key}.ci_high"] - metrics[key]]], fmt="o", color="C0", capsize=4)
    ax.axhspan(metrics["gamma_pred_low"], metrics["gamma_pred_high"], color="C1", alpha=0.3,
               label=f"[1 − 2β̂, 1 − β̂] = [{metrics['gamma_pred_low']:.2f}, {metrics['gamma_pred_high']:.2f}]")
    ax.axhspan(*GAMMA_BAND, facecolor="none", edgecolor="grey", hatch="//", label=f"paper's [{GAMMA_BAND[0]}, {GAMMA_BAND[1]}]")
    ax.axhline(metrics["gamma_balance"], color="C2", ls="--", label=f"β̂/α̂ = {metrics['gamma_balance']:.2f}")
    ax.set(xlabel="f (fraction of the data-limited loss)", ylabel="γ", title="How γ depends on the fraction f")
    _legend_below(ax, ncol=2)
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


# ---------------------------------------------------------------------------------------------------------------
# Orchestration: the grid through the sweep, the analysis of every ladder subset


def run_grid(sweep: Sweep, design: Design) -> dict[RunKey, dict[str, Any]]:
    """Every run of `run_plan`, through the sweep (cached runs are read, the others trained)."""
    plan = run_plan(design)
    return dict(zip(plan, sweep.run([design.config(*key) for key in plan], desc="runs")))


def analyse_subsets(frame: pd.DataFrame, defs: Sequence[Definition], n_bootstrap: int, seed: int
                    ) -> tuple[dict[str, Analysis], dict[str, Bootstrap]]:
    """For each ladder subset of `SUBSETS`, the analysis of its learned runs and its bootstrap."""
    analyses, boots = {}, {}
    rungs = sorted(frame.rung.unique())
    for name in progress(SUBSETS, desc="fits and bootstraps of the ladder subsets"):
        sub = frame[frame.learned & frame.rung.isin(rungs[SUBSETS[name]])]
        analyses[name] = analyse(sub, defs)
        boots[name] = bootstrap(sub, defs, analyses[name], n_bootstrap, seed)
    return analyses, boots
