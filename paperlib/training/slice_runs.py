"""One run of a character transformer on a slice of tiny Shakespeare, stopped by a plateau counted in passes over
the slice: the task (`train_run`) that the chapter 'Measuring γ' (`paperlib.chapters.gamma_empirical`) sweeps over
its grid and its learning-rate pilot (`paperlib.chapters.gamma_lr_pilot`) over learning rates (methods page,
measuring γ).

A `Rung` is one model size (WIDTHxLAYERS, `HEADS` heads); a `Design` is what every run shares and the grid (slices,
the ladder, each slice's rungs, the seeds, each rung's learning rate), and `Design.config` one run's JSON config,
the key of its cached result. The training split is cut into chunks shuffled once (`training_stream`), so a slice
of D characters holds the smaller ones. A validation after every pass, a plateau of `patience` passes without a
new best cuts the learning rate tenfold (`LR_CUTS` times), the next ends the run, the best weights are kept, a
cap in passes; a run still improving at its cap is `censored`. `PILOT` is the committed pilot's file: the pilot
writes it, the chapter reads its learning rates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import Tensor

from paperlib.context import RunContext
from paperlib.data.text import CharData, load_shakespeare
from paperlib.models import n_params
from paperlib.models.transformer import Transformer, TransformerConfig
from paperlib.paths import notebooks_dir
from paperlib.training.batches import fixed_windows, random_windows, tiled_windows, window_batches
from paperlib.training.callbacks import WarmupCosine, best_model
from paperlib.training.device import configure_device
from paperlib.training.evaluation import score
from paperlib.training.losses import model_loss
from paperlib.training.optim import nanogpt_adamw
from paperlib.training.plan import RunSpec, Stop
from paperlib.training.run import Checkpointing, fit

HEADS = 2  # attention heads of every rung (widths are even)
CHUNK = 1024  # the training split is cut into chunks of this many characters and shuffled once before slicing
CHUNK_SEED = 0  # the one shuffle of the chunks (the same for every run and seed, so slices nest)
RUN_FORMAT = 3  # part of every run's config: raise it when `train_run` changes, so cached runs are not reused
WARMUP_PASSES = 2  # linear warm-up of the learning rate over this many passes, then constant until a plateau
LR_CUTS = 1  # plateaus that cut the learning rate tenfold before the next one ends the run
CENSOR_LAST = 2  # a run that hit its cap with its best validation loss in its last this-many evaluations is censored
PILOT = notebooks_dir() / "pilots" / "gamma_empirical_lr.json"  # the committed learning-rate pilot


# ---------------------------------------------------------------------------------------------------------------
# The rungs and the design every run shares


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


# ---------------------------------------------------------------------------------------------------------------
# One run


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


def run_spec(config: Mapping[str, Any], vocab_size: int, scored: int) -> RunSpec:
    """The run a config describes (`Design.config`): a model of its rung on random windows of the slice of D
    characters (`training_stream`) with nanoGPT's AdamW, warm-up then a constant learning rate, validated on fixed
    windows of the validation split every ``eval_every`` steps (one pass); `LR_CUTS` plateaus of ``patience``
    passes cut the rate, the next ends the run, ``max_steps`` caps it and the best weights are kept (`scored`: the
    windows they are scored on afterwards)."""
    rung, D, cap, every = Rung(config["width"], config["layers"]), config["D"], config["max_steps"], config["eval_every"]
    passes = "pass" if config["patience"] == 1 else "passes"
    early = (f"early stop: {config['cuts']} plateau of {config['patience']} {passes} without a new best cuts the "
             f"learning rate tenfold, the next ends the run (the cap is {cap // every} passes)")
    return RunSpec("gamma_empirical", f"D{D}", rung.name, config["seed"], rung.config(vocab_size, config["context"]),
                   f"tiny Shakespeare: random windows of a {D:,}-character slice", cap, config["batch"],
                   config["context"], nanogpt_adamw(config["lr"]), WarmupCosine(config["warmup"], cap, min_ratio=1.0),
                   tuple(range(every, cap + 1, every)), config["eval_windows"], scored, early,
                   stop=Stop(keep_best=True, patience=config["patience"], lr_cuts=config["cuts"]))


def train_run(config: dict[str, Any]) -> dict[str, Any]:
    """One run (the sweep's task): `run_spec` trained by `fit`, its best weights then scored on the whole
    validation split (``val_loss``) and on the whole slice (``train_loss``)."""
    data, stream = _corpus(config["sha256"], config["chunk"])
    tokens, context = stream[:config["D"]], config["context"]
    val_windows, slice_windows = tiled_windows(data.val, context), tiled_windows(tokens, context)
    spec = run_spec(config, data.vocab_size, len(val_windows) + len(slice_windows))
    subset = fixed_windows(data.val, context, config["eval_windows"], seed=2)
    run = fit(spec, configure_device(config["device"]), random_windows(tokens, context, spec.batch), model_loss(),
              evaluate=lambda state: {"val_loss": score(state.model, window_batches(subset)).loss},
              checkpointing=Checkpointing(), context=RunContext(), show_progress=False)
    state, best = run.state, best_model(run.state)
    history = [{k: h[k] for k in ("step", "val_loss", "train_loss", "lr") if k in h} for h in state.history]
    return {"params": n_params(state.model), "train_time": state.train_time, "steps": state.step,
            "capped": state.step >= spec.steps, "lr_cuts": state.extra.get("lr_cuts", []),
            "best_step": state.extra["best"]["record"]["step"], "history": history,
            "val_loss": score(best, window_batches(val_windows)).loss,
            "train_loss": score(best, window_batches(slice_windows)).loss}


# The sweep's cache key names the task; this one was first defined in the chapter's module, and keeps that name
# so that its cached runs stay valid (`paperlib.sweep.Sweep.path`).
train_run.cache_name = "paperlib.chapters.gamma_empirical.train_run"  # type: ignore[attr-defined]


def censored(result: Mapping[str, Any]) -> bool:
    """A run still improving at its cap: it hit the cap with its best validation in its last `CENSOR_LAST`
    evaluations."""
    steps = [h["step"] for h in result["history"]]
    return bool(result["capped"]) and result["best_step"] in steps[-CENSOR_LAST:]
