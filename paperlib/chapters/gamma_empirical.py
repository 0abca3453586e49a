"""Chapter 'Measuring γ': the paper's relation γ ∈ [1 − 2β, 1 − β] tested on its own terms at toy scale
(methods page, measuring γ).

A static grid of character transformers (model sizes × corpus slices, a second seed at some slices) is trained
to convergence: validation at least once per pass, early stopping with patience after one cut of the learning
rate, the best weights kept, a cap on the passes. Every run is one task of a `paperlib.sweep.Sweep`
(`train_run`: a JSON config to the run's result). On the early-stopped validation losses the chapter fits
L(N, D) = E + A·N^−α + B·D^−β (Huber loss on log L), measures γ as the exponent of N*_f(D), the fewest
parameters within a fraction f of each slice's own asymptote, and tests whether it lies in [1 − 2β̂, 1 − β̂]
computed from the same runs, with a paired bootstrap over runs and a table of the other reasonable
definitions and ladder subsets. Every record key is declared once, in `METRICS`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from paperlib.bench import local_exponents
from paperlib.book.paper_numbers import GAMMA_BAND
from paperlib.data.text import CharData, load_shakespeare
from paperlib.models import n_params
from paperlib.models.ngram import NGram
from paperlib.models.transformer import Transformer, TransformerConfig
from paperlib.paths import notebooks_dir
from paperlib.plots import page_figure
from paperlib.scaling.efficient import (Asymptote, Crossing, exponent, first_crossing, fit_asymptote,
                                        lowest_rung)
from paperlib.scaling.fit import ChinchillaFit, fit_huber_least_squares, start_grid
from paperlib.scaling.kgrams import distinct_kgrams
from paperlib.scaling.published import PUBLISHED_FITS
from paperlib.stats import percentile_interval
from paperlib.sweep import Sweep
from paperlib.training.batches import fixed_windows, random_windows, tiled_windows, window_batches
from paperlib.training.callbacks import EarlyStop, KeepBest, WarmupCosine, best_model
from paperlib.training.device import configure_device
from paperlib.training.evaluation import score
from paperlib.training.loop import init, train
from paperlib.training.losses import model_loss
from paperlib.training.optim import nanogpt_adamw

HEADS = 2  # attention heads of every rung (widths are even)
RUN_FORMAT = 2  # part of every run's config: raise it when `train_run` changes, so cached runs are not reused
WARMUP_STEPS = 100  # linear warm-up of the learning rate, then constant until a plateau cuts it
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
        return {"format": RUN_FORMAT, "sha256": self.sha256, "D": D, "seed": seed, "width": r.width,
                "layers": r.layers, "heads": HEADS, "context": self.context, "batch": self.batch, "lr": self.lrs[rung],
                "warmup": WARMUP_STEPS, "eval_every": self.eval_every(D), "patience": self.patience, "cuts": LR_CUTS,
                "max_steps": self.max_steps(D), "eval_windows": self.eval_windows, "device": self.device}


def run_plan(design: Design) -> list[RunKey]:
    """The static grid, in the order it is trained: every rung at every slice with the first seed, then every
    rung again with the second seed at the slices that have one."""
    first = [(D, design.seed, i) for D in design.sizes for i in range(len(design.ladder))]
    second = [(D, design.seed + 1, i) for D in design.seed_sizes for i in range(len(design.ladder))]
    return first + second


@lru_cache(maxsize=1)
def _corpus(sha256: str) -> CharData:
    """The text a worker trains on, checked against the one the notebook read."""
    text, provenance = load_shakespeare()
    if provenance.sha256 != sha256:
        raise ValueError(f"this worker reads tiny Shakespeare with sha256 {provenance.sha256[:12]}…, the sweep "
                         f"expects {sha256[:12]}…: point $PAPERLIB_SHAKESPEARE at the same file")
    return CharData.from_text(text)


def train_run(config: dict[str, Any]) -> dict[str, Any]:
    """One run (the sweep's task): a model of the config's rung trained on random windows of the first D
    characters of the training split with nanoGPT's AdamW, warm-up then a constant learning rate, validated on
    fixed windows of the validation split every ``eval_every`` steps; `LR_CUTS` plateaus cut the rate, the next
    ends the run, and ``max_steps`` caps it. The best weights are then scored on the whole validation split
    (``val_loss``) and on the whole slice (``train_loss``)."""
    data = _corpus(config["sha256"])
    tokens, context, cap = data.train[:config["D"]], config["context"], config["max_steps"]
    cfg = Rung(config["width"], config["layers"]).config(data.vocab_size, context)
    subset = fixed_windows(data.val, context, config["eval_windows"], seed=2)
    state = init(lambda: Transformer(cfg), nanogpt_adamw(config["lr"]), config["seed"], configure_device(config["device"]))
    train(state, random_windows(tokens, context, config["batch"]), model_loss(), cap,
          eval_steps=range(config["eval_every"], cap + 1, config["eval_every"]),
          callbacks=[WarmupCosine(config["warmup"], cap, min_ratio=1.0),  # min_ratio 1: constant after warm-up
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
