"""Chapter 'Measuring γ': the paper's N* ∝ D^γ measured at toy scale as the knee of the measured loss curve
(methods page, measuring γ).

A grid of character transformers (a ladder of sizes per corpus slice, several seeds a cell) is trained with one
stopping rule at every slice, counted in passes over the slice: a validation after every pass, a plateau of
`patience` passes without a new best cuts the learning rate tenfold once, the next ends the run, the best weights
are kept, a cap in passes. Every run is one task of a `paperlib.sweep.Sweep` (`train_run`: a JSON config to the
run's result). N*(D) is the fewest parameters whose seed-mean loss is within ε of the plateau measured at that D
(`paperlib.scaling.knee`); γ is the slope of ln N* on ln D with a bootstrap over seeds within each cell. The
additive law L = E + A·N^−α + B·D^−β is fitted as context only, with its goodness of fit. Every record key is
declared once, in `METRICS`; the grid's runs are the chapter's run plan (`runs`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from scipy.stats import f as f_distribution
from torch import Tensor

from paperlib.bench import local_exponents
from paperlib.book.claims import CLAIMS_BY_ID
from paperlib.book.metrics import Declaration, DeclaredMetrics, Metric
from paperlib.book.paper_numbers import CHINCHILLA_GAMMA, GAMMA_BAND, KAPLAN_OVERFIT_GAMMA
from paperlib.book.render import plural
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.data.text import CharData, load_shakespeare
from paperlib.models import n_params
from paperlib.models.ngram import NGram
from paperlib.models.transformer import Transformer, TransformerConfig
from paperlib.paths import notebooks_dir
from paperlib.plots import page_figure
from paperlib.scaling.fit import ChinchillaFit, fit_huber_least_squares, fit_huber_without_E, start_grid
from paperlib.scaling.kgrams import distinct_kgrams
from paperlib.scaling.knee import KneeGamma, knee_epsilon, measure_gamma, pooled_seed_sd, simulate_runs
from paperlib.scaling.published import PUBLISHED_FITS
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
RUN_FORMAT = 3  # part of every run's config: raise it when `train_run` changes, so cached runs are not reused
WARMUP_PASSES = 2  # linear warm-up of the learning rate over this many passes, then constant until a plateau
LR_CUTS = 1  # plateaus that cut the learning rate tenfold before the next one ends the run
CENSOR_LAST = 2  # a run that hit its cap with its best validation loss in its last this-many evaluations is censored
LEARNED_MARGIN = 0.25  # nats a run's validation loss must end below the slice's 1-gram validation loss
EPSILON_SEMS = 2.0  # ε is this many standard errors of a cell's seed mean
EPSILON_MULTIPLES = {"half": 0.5, "double": 2.0}  # γ is also reported at ε times these
SIMULATED_GRIDS, SIMULATED_RESAMPLES = 50, 200  # synthetic grids (and resamples of each) that forecast γ's precision
FIT_STARTS = {"alpha": (0.0, 0.5, 1.0), "beta": (0.0, 0.5, 1.0), "e": (-1.0, 0.0, 1.0), "a": (0.0, 5.0, 10.0),
              "b": (0.0, 5.0, 10.0)}  # starts of the additive-law fit: 243 points of (α, β, ln E, ln A, ln B)
PILOT = notebooks_dir() / "pilots" / "gamma_empirical_lr.json"  # the committed learning-rate pilot
PILOT_COMMAND = "PAPERLIB_CHECKPOINTS=... python -m paperlib.chapters.gamma_lr_pilot"
RunKey = tuple[int, int, int]  # corpus size D, seed, rung
BELOW_ONE, IN_BAND = CLAIMS_BY_ID["gamma_below_one"], CLAIMS_BY_ID["gamma_empirical"]


# ---------------------------------------------------------------------------------------------------------------
# The grid: rungs, slices and their ladders, the static list of runs, one run


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
        """Parameters less the token and position embeddings (Kaplan's N, the one the analysis uses)."""
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


def slice_ladders(starts: str, per_slice: int, n_slices: int, n_rungs: int) -> tuple[tuple[int, ...], ...]:
    """Each slice's rungs: `per_slice` consecutive rungs of the ladder from the slice's start ("0,0,1,2,3", one
    position per slice, smallest slice first)."""
    try:
        first = [int(s) for s in starts.split(",")]
    except ValueError:
        raise ValueError(f"ladder_starts must be comma-separated rung positions, got {starts!r}") from None
    if len(first) != n_slices:
        raise ValueError(f"ladder_starts gives {len(first)} starts for {n_slices} slices: one per slice")
    if min(first) < 0 or max(first) + per_slice > n_rungs:
        raise ValueError(f"ladder_starts {starts!r} with {per_slice} rungs a slice runs past the ladder's "
                         f"{n_rungs} rungs")
    return tuple(tuple(range(s, s + per_slice)) for s in first)


@dataclass(frozen=True)
class Design:
    """What every run shares, and the grid: slices, the ladder, each slice's rungs, the seeds, each rung's
    learning rate. The stopping rule is counted in passes over the slice, the same at every slice."""

    sha256: str
    sizes: tuple[int, ...]
    ladder: tuple[Rung, ...]
    lrs: tuple[float, ...]  # one per rung
    ladders: tuple[tuple[int, ...], ...]  # per slice, the rungs it trains
    seeds: tuple[int, ...]
    context: int
    batch: int
    patience: int  # passes without a new best validation that make a plateau
    pass_cap: float
    eval_windows: int
    device: str

    def steps_per_pass(self, D: int) -> int:
        return math.ceil(D / (self.batch * self.context))

    def max_steps(self, D: int) -> int:
        """The cap: `pass_cap` passes, rounded up to a whole pass."""
        return math.ceil(self.pass_cap) * self.steps_per_pass(D)

    def rungs_of(self, D: int) -> tuple[int, ...]:
        return self.ladders[self.sizes.index(D)]

    def config(self, D: int, seed: int, rung: int) -> dict[str, Any]:
        """The JSON config of one run: everything `train_run` needs, and so the key of its cached result."""
        r, per_pass = self.ladder[rung], self.steps_per_pass(D)
        return {"format": RUN_FORMAT, "sha256": self.sha256, "chunk": CHUNK, "D": D, "seed": seed, "width": r.width,
                "layers": r.layers, "heads": HEADS, "context": self.context, "batch": self.batch, "lr": self.lrs[rung],
                "warmup": WARMUP_PASSES * per_pass, "eval_every": per_pass, "patience": self.patience,
                "cuts": LR_CUTS, "max_steps": self.max_steps(D), "eval_windows": self.eval_windows,
                "device": self.device}


def run_plan(design: Design) -> list[RunKey]:
    """The static grid, in the order it is trained: the largest slice first (its runs are the longest), each
    slice's rungs, every seed."""
    return [(D, seed, rung) for D in sorted(design.sizes, reverse=True) for rung in design.rungs_of(D)
            for seed in design.seeds]


def design_from(params: Mapping[str, Any], vocab_size: int, available: int, sha256: str, device: str) -> Design:
    """The grid from the notebook's parameters, the text's vocabulary, its training stream's length (`available`)
    and sha256, and the committed pilot's learning rates; `device` goes into the runs' configs only."""
    p = params
    rungs = parse_ladder(p["ladder"], vocab_size, p["context"])
    sizes = corpus_sizes(p["d_min"], p["n_slices"], available)
    ladders = slice_ladders(p["ladder_starts"], p["rungs_per_slice"], len(sizes), len(rungs))
    lrs = pilot_lrs(read_pilot(), [r.non_embedding(vocab_size, p["context"]) for r in rungs])
    return Design(sha256, tuple(sizes), tuple(rungs), tuple(lrs), ladders, tuple(p["seed"] + k for k in range(p["seeds"])),
                  p["context"], p["batch"], p["patience"], p["pass_cap"], p["eval_windows"], device)


def runs(params: Mapping[str, Any]) -> list[RunSpec]:
    """The chapter's plan: the static grid (`run_plan`) on the canonical text, one spec per run named
    D{D}-{rung}-seed{seed} (e.g. ``D15624-16x2-seed0``), at most its cap's steps (`Design.max_steps`)."""
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
    early = (f"early stop: {LR_CUTS} plateau of {plural(design.patience, 'pass', 'passes')} without a new best cuts "
             f"the learning rate tenfold, the next ends the run (the cap is {design.pass_cap:g} passes)")
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
    fixed windows of the validation split every ``eval_every`` steps (one pass); `LR_CUTS` plateaus cut the rate,
    the next ends the run, and ``max_steps`` caps it. The best weights are then scored on the whole validation
    split (``val_loss``) and on the whole slice (``train_loss``)."""
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
# The runs: a frame, the rows the record keeps, the sweep's cache


def unigram_losses(data: CharData, stream: Tensor, sizes: Sequence[int]) -> dict[int, float]:
    """Each slice's 1-gram model scored on the validation split (nats per character): what knowing only the
    slice's character frequencies gives."""
    return {D: NGram(1, data.vocab_size).fit(stream[:D].numpy()).loss(data.val.numpy()) for D in sizes}


RUN_COLUMNS = ("D", "seed", "rung", "N", "N_total", "lr", "val_loss", "train_loss", "steps", "passes", "best_passes",
               "stop", "capped", "censored", "learned", "train_time")  # the record's per-run rows


def runs_frame(design: Design, results: Mapping[RunKey, Mapping[str, Any]], vocab_size: int,
               unigram: Mapping[int, float]) -> pd.DataFrame:
    """One row per run (`RUN_COLUMNS`): its slice, seed, rung, non-embedding and total size, learning rate, losses
    of the best weights, steps, passes (all, and to the best weights), why it stopped, whether it is censored and
    whether it learned, and its training seconds."""
    rows = []
    for (D, seed, rung), result in results.items():
        per_pass = design.steps_per_pass(D)
        rows.append({"D": D, "seed": seed, "rung": design.ladder[rung].name,
                     "N": design.ladder[rung].non_embedding(vocab_size, design.context), "N_total": result["params"],
                     "lr": design.lrs[rung], "val_loss": result["val_loss"], "train_loss": result["train_loss"],
                     "steps": result["steps"], "passes": result["steps"] / per_pass,
                     "best_passes": result["best_step"] / per_pass, "stop": "cap" if result["capped"] else "plateau",
                     "capped": bool(result["capped"]), "censored": censored(result),
                     "learned": result["val_loss"] <= unigram[D] - LEARNED_MARGIN, "train_time": result["train_time"]})
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS)).sort_values(["D", "N", "seed"]).reset_index(drop=True)


def run_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The per-run rows the record keeps (JSON numbers and strings), so the grid can be refitted without
    retraining it."""
    return json.loads(frame.to_json(orient="records"))


def frame_from_rows(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The runs frame back from a record's per-run rows."""
    return pd.DataFrame(list(rows), columns=list(RUN_COLUMNS))


@dataclass(frozen=True)
class Cache:
    """What this execution trained and what it read from the sweep's cache, with the training seconds of each."""

    trained: int
    loaded: int
    trained_s: float
    loaded_s: float

    @classmethod
    def of(cls, results: Mapping[RunKey, Mapping[str, Any]], loaded: set[RunKey]) -> Cache:
        """The counts and training seconds of `results`, `loaded` the keys read from the cache."""
        seconds = {key: float(result["train_time"]) for key, result in results.items()}
        return cls(len(seconds) - len(loaded), len(loaded), sum(s for k, s in seconds.items() if k not in loaded),
                   sum(s for k, s in seconds.items() if k in loaded))


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


# ---------------------------------------------------------------------------------------------------------------
# The record: every key, once


METRICS = Declaration("gamma_empirical", [
    Metric("n_runs", "runs", "runs in the grid, every seed"),
    Metric("not_learned_runs", "runs", "runs whose validation loss did not end LEARNED_MARGIN below the 1-gram loss"),
    Metric("capped_runs", "runs", "runs that reached the pass cap"),
    Metric("censored_runs", "runs", "runs still improving at the cap (best in the last CENSOR_LAST evaluations)"),
    Metric("censored_counted", "runs", "censored runs in the slices that count", headline=True),
    Metric("runs_trained_now", "runs", "runs this execution trained"),
    Metric("runs_loaded", "runs", "runs this execution read from the sweep's cache"),
    Metric("trained_worker_min", "minutes", "training minutes of the runs trained now, summed over workers"),
    Metric("loaded_worker_min", "minutes", "training minutes the cached runs took when they were trained"),
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


def run_counts(frame: pd.DataFrame, cache: Cache) -> DeclaredMetrics:
    """The record's counts of how the runs ended, and what this execution trained and loaded."""
    return METRICS.new() | {
        "n_runs": len(frame), "not_learned_runs": int((~frame.learned).sum()), "capped_runs": int(frame.capped.sum()),
        "censored_runs": int(frame.censored.sum()), "runs_trained_now": cache.trained, "runs_loaded": cache.loaded,
        "trained_worker_min": cache.trained_s / 60, "loaded_worker_min": cache.loaded_s / 60}


def _with_ci(name: str, value: float, interval: tuple[float, float]) -> dict[str, float]:
    return {name: value, f"{name}.ci_low": interval[0], f"{name}.ci_high": interval[1]}


def chapter_metrics(frame: pd.DataFrame, cache: Cache, measured: Measured, law: AdditiveLaw,
                    precision: tuple[float, float]) -> DeclaredMetrics:
    """The record's metrics (exactly the declaration's keys) from the runs, the knees, the additive law and the
    simulated precision (`expected_precision`)."""
    knees, main = measured.main.knees, measured.main
    counted = [D for D, k in knees.items() if k.counted]
    metrics = run_counts(frame, cache)
    metrics |= {"censored_counted": int(frame[frame.D.isin(counted)].censored.sum()), "seed_sd": measured.sd,
                "gamma_knee_eps": measured.eps, "gamma_knee_seeds_min": measured.seeds,
                "gamma_knee_slices": len(counted),
                "gamma_knee_below": sum(k.status == "below" for k in knees.values()),
                "gamma_knee_unconfirmed": sum(k.status == "unconfirmed" for k in knees.values()),
                "gamma_knee_failed": main.failed, "gamma_knee_half_width": main.half_width,
                "simulated_half_width": precision[0], "simulated_coverage": precision[1],
                "joint_rms": main.joint.rms if main.joint else math.nan}
    metrics |= _with_ci("gamma_knee", main.gamma, main.ci)
    for name, variant in measured.variants.items():
        metrics |= _with_ci(f"gamma_knee_{name}_eps", variant.gamma, variant.ci)
    metrics |= _with_ci("gamma_joint", main.joint_gamma, main.joint_ci)
    metrics |= _with_ci("gamma_knee_minus_joint", main.gamma - main.joint_gamma, main.difference_ci)
    low, high = law.band(law.with_E)
    low_no_E, high_no_E = law.band(law.without_E)
    residuals = additive_residuals(frame, law.with_E).residual
    metrics |= {"alpha_hat": law.with_E.alpha, "beta_hat": law.with_E.beta, "E_hat": law.with_E.E,
                "beta_hat_no_E": law.without_E.beta, "gamma_pred_low": low, "gamma_pred_high": high,
                "gamma_pred_no_E_low": low_no_E, "gamma_pred_no_E_high": high_no_E, "additive_F": law.F,
                "additive_p": law.p, "additive_residual_low": residuals.min(), "additive_residual_high": residuals.max()}
    return metrics


def additive_residuals(frame: pd.DataFrame, fit: ChinchillaFit) -> pd.DataFrame:
    """Seed-mean loss minus the additive law's prediction, per (D, N) cell of the learned runs (nats)."""
    cells = frame[frame.learned].groupby(["D", "N"], as_index=False).val_loss.mean()
    return cells.assign(residual=cells.val_loss - fit.loss(cells.N.to_numpy(float), cells.D.to_numpy(float)))


# ---------------------------------------------------------------------------------------------------------------
# The verdicts and the sentences that state directions (generated from the metrics, never typed)


def inconclusive_reasons(metrics: Mapping[str, float | None]) -> dict[str, str]:
    """Why each claim gets no verdict (the record then marks it not comparable), by claim id: no γ (fewer than
    three confirmed slices), a censored run in a counted slice, or an interval that straddles the claim's bounds."""
    m = metrics
    if _missing(m["gamma_knee"]):
        why = (f"inconclusive: only {plural(m['gamma_knee_slices'], 'slice')} of the grid confirm a plateau (γ needs "
               f"three); {plural(m['gamma_knee_unconfirmed'], 'slice')} still fall at the top of the ladder and "
               f"{plural(m['gamma_knee_below'], 'slice')} are flat from the smallest size")
        return {BELOW_ONE.id: why, IN_BAND.id: why}
    if m["censored_counted"]:
        why = (f"inconclusive: {plural(m['censored_counted'], 'run')} in the counted slices were still improving at "
               "the pass cap")
        return {BELOW_ONE.id: why, IN_BAND.id: why}
    low, high = m["gamma_knee.ci_low"], m["gamma_knee.ci_high"]
    reasons = {}
    if low <= CHINCHILLA_GAMMA <= high:
        reasons[BELOW_ONE.id] = f"inconclusive: γ's 95 % interval [{low:.2f}, {high:.2f}] contains 1"
    if not (high < GAMMA_BAND[0] or low > GAMMA_BAND[1]) and not (GAMMA_BAND[0] <= low and high <= GAMMA_BAND[1]):
        reasons[IN_BAND.id] = (f"inconclusive: γ's 95 % interval [{low:.2f}, {high:.2f}] overlaps "
                               f"[{GAMMA_BAND[0]}, {GAMMA_BAND[1]}] without lying inside it")
    return reasons


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def training_words(record: Record, frame: pd.DataFrame) -> str:
    """How the runs ended (the record's counts): stopped on a plateau or at the cap, censored (rule
    ``budget_bound``), not learned, their passes, and what this execution trained and loaded."""
    m = record["metrics"]
    runs, capped, censored_runs = m["n_runs"], m["capped_runs"], m["censored_runs"]
    text = (f"Of the {plural(runs, 'run')}, {runs - capped:.0f} stopped on a plateau and {capped:.0f} reached the pass "
            "cap. " + decided("budget_bound", record, ["censored_runs"], {
                "budget-bound": f"{plural(censored_runs, 'run')} {'was' if censored_runs == 1 else 'were'} still "
                                "improving there (censored): their losses hold within this cap only.",
                "settled": "None was still improving there: no run is censored."})
            + f" {plural(m['not_learned_runs'], 'run')} did not learn. The best weights came after "
            f"{frame.best_passes.min():.1f} to {frame.best_passes.max():.1f} passes over the slice "
            f"(median {frame.best_passes.median():.1f}). ")
    return text + cache_words(m)


def cache_words(m: Mapping[str, float]) -> str:
    """What this execution trained and what it loaded, with the worker-minutes of each."""
    trained = (f"This execution trained {plural(m['runs_trained_now'], 'run')} "
               f"({m['trained_worker_min']:.1f} worker-minutes)")
    if not m["runs_loaded"]:
        return trained + " and loaded none from the cache."
    return (f"{trained} and loaded {plural(m['runs_loaded'], 'run')} from the cache, which took "
            f"{m['loaded_worker_min']:.1f} worker-minutes when they were trained: the wall time in the box above "
            "does not include them.")


def gamma_words(record: Record) -> str:
    """γ with its interval against 1 (rule ``reference``) and against the paper's band, the cross-check of the
    joint fit (``reference`` on the paired difference against 0), and the two verdicts."""
    m = record["metrics"]
    if _missing(m["gamma_knee"]):
        text = (f"**In words.** No γ could be measured: "
                f"{inconclusive_reasons(m)[IN_BAND.id].removeprefix('inconclusive: ')}. ")
    else:
        grows = (f"The fewest parameters within ε of the plateau grow as D^{m['gamma_knee']:.2f} "
                 f"(95 % CI [{m['gamma_knee.ci_low']:.2f}, {m['gamma_knee.ci_high']:.2f}], "
                 f"{plural(m['gamma_knee_slices'], 'slice')})")
        text = "**In words.** " + decided("reference", record, ["gamma_knee", "=1"], {
            "lower": f"{grows}: slower than N ∝ D.", "higher": f"{grows}: faster than N ∝ D.",
            "not separated": f"{grows}: not separated from N ∝ D."}) + " "
        text += _joint_sentence(record) + " "
    for claim, name in ((BELOW_ONE, "γ < 1"), (IN_BAND, "γ ∈ [0.44, 0.72]")):
        text += decided_verdict(record, claim.id, {
            "reproduced": f"{name} is {{words}}.", "not reproduced": f"{name} is {{words}}.",
            "not comparable": f"{name} gets no verdict ({{reason}}).",
            "not run": f"{name} gets no verdict ({{reason}})."}) + " "
    return text + ("Both are measured at toy scale, character-level models of thousands to a few hundred thousand "
                   "parameters on slices of one small corpus: they cannot decide the value of γ for LLMs.")


def _joint_sentence(record: Record) -> str:
    """Whether the joint fit's γ agrees with the knees' (rule ``reference``: the paired interval of their
    difference against 0)."""
    m = record["metrics"]
    if _missing(m["gamma_joint"]) or _missing(m["gamma_knee_minus_joint.ci_low"]):
        return "The joint fit gave no γ to compare."
    told = (f"The joint fit (one knee shape, a floor per slice) gives γ = {m['gamma_joint']:.2f}; the paired 95 % "
            f"interval of the difference, [{m['gamma_knee_minus_joint.ci_low']:+.2f}, "
            f"{m['gamma_knee_minus_joint.ci_high']:+.2f}],")
    return decided("reference", record, ["gamma_knee_minus_joint", "=0"], {
        "not separated": f"{told} contains 0: the two agree.",
        "lower": f"{told} lies below 0: they disagree.", "higher": f"{told} lies above 0: they disagree."})


def precision_words(m: Mapping[str, float]) -> str:
    """The precision the real runs gave beside what synthetic grids like them give."""
    real = (f"The real runs gave a 95 % interval {m['gamma_knee_half_width']:.2f} wide on each side"
            if not _missing(m["gamma_knee_half_width"]) else "The real runs gave no interval")
    if _missing(m["simulated_half_width"]):
        return real + "; without a joint fit there is no synthetic grid to compare it with."
    return (f"{real}. Synthetic grids of the same sizes, seeds and seed noise, drawn from the joint fit "
            f"({SIMULATED_GRIDS} of them, {SIMULATED_RESAMPLES} resamples each), give a mean half-width of "
            f"{m['simulated_half_width']:.2f}, and their intervals held the true γ in "
            f"{100 * m['simulated_coverage']:.0f} % of them.")


def additive_words(record: Record) -> str:
    """Where the additive law fails on these runs (rule ``reference``: the test's p against 0.05) and what the
    paper's relation makes of its β̂ under both conventions."""
    m = record["metrics"]
    test = (f"The additivity test gives F = {m['additive_F']:.2f}, p = {m['additive_p']:.2g}"
            if not _missing(m["additive_p"]) else "")
    shape = "" if not test else decided("reference", record, ["=additive_p", "=0.05"], {
        "lower": f"{test}: the curve in N changes with D, so no additive law describes these runs and its α̂, β̂ "
                 "and Ê are a summary, not a measurement.",
        "higher": f"{test}: these runs do not reject one curve in N shifted with D.",
        "not separated": f"{test}: at the 5 % level."}) + " "
    return (f"**In words.** {shape}With E the fit gives β̂ = {m['beta_hat']:.2f}, so [1 − 2β̂, 1 − β̂] = "
            f"[{m['gamma_pred_low']:.2f}, {m['gamma_pred_high']:.2f}]; without E, β̂ = {m['beta_hat_no_E']:.2f} and "
            f"[{m['gamma_pred_no_E_low']:.2f}, {m['gamma_pred_no_E_high']:.2f}]. Its residuals at a seed mean run "
            f"from {m['additive_residual_low']:+.3f} to {m['additive_residual_high']:+.3f} nats, against a seed SD of "
            f"{m['seed_sd']:.3f}. This band is the paper's relation applied to a fitted law, so it is context here: "
            "γ is measured from the knees, which assume no law.")


def published_table() -> pd.DataFrame:
    """The published fits' arithmetic: β/α (what N* at a fixed fraction of the data-limited loss grows with under
    their law) beside the paper's interval [1 − 2β, 1 − β]."""
    rows = [{"fit": fit.name, "α": fit.alpha, "β": fit.beta, "β/α": fit.beta / fit.alpha,
             "1 − 2β": 1 - 2 * fit.beta, "1 − β": 1 - fit.beta,
             "β/α in [1 − 2β, 1 − β]": "yes" if 1 - 2 * fit.beta <= fit.beta / fit.alpha <= 1 - fit.beta else "no"}
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


# ---------------------------------------------------------------------------------------------------------------
# Orchestration: the grid through the sweep


def run_grid(sweep: Sweep, design: Design) -> tuple[dict[RunKey, dict[str, Any]], Cache]:
    """Every run of `run_plan` through the sweep (cached runs are read, the others trained), and what was trained
    and what was loaded."""
    plan = run_plan(design)
    results = dict(zip(plan, sweep.run([design.config(*key) for key in plan], desc="runs")))
    return results, Cache.of(results, {key for key, cached in zip(plan, sweep.from_cache) if cached})
