"""Chapter 'Copy and selective copy': the paper's model over seeds and its baselines over seeds, trained on fresh
batches under the author's length curriculum; the chapter's run plan, its record keys, the step's cost, tables,
figures and the prose that depends on numbers.

Every model sees fresh batches from `paperlib.data.synthetic` at the length a `Curriculum` sets (methods
page, copy data and curriculum), is validated on fresh batches seeded by its seed and the step (so models with
one seed meet the same ones) and can be checkpointed and resumed. Models by role:

    recurrent  the paper's model: alpha learnable (copy) or fixed at 0.5 (selective copy)
    forget     the same with alpha = 0, the ablation
    regular    a one-layer full-attention transformer of the same width
    rnn_total  a GRU or LSTM with the paper model's total parameters
    rnn_dense  one with its parameters outside the position table (its dense parameters)

Every role trains once per seed. The comparison of a task is one scoring rule for every model: accuracy at the
curriculum's first length on the same fresh batches after `compare` steps of the same curriculum (`ScoreAtStep`),
so every model has seen the same samples. The paper's model trains on to its end rules at the cap (`StopAtCap`);
a baseline trains the comparison's steps, except forget, which takes the steps its seed's paper model needed to
reach its final length (is accumulating needed to get there?). Runs train in this process or as single-threaded
worker processes (`paperlib.sweep`).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from paperlib.atomic import atomic_write_text
from paperlib.bench import time_call
from paperlib.book.metrics import Declaration, Metric
from paperlib.book.paper_numbers import (COPY_ACC_MIN, NOTE_COPY_ACC, NOTE_COPY_BATCH, NOTE_COPY_EVAL_EVERY,
                                         NOTE_COPY_NOISE, NOTE_TASK_SAMPLES, SELECTIVE_COPY_ACC_MIN)
from paperlib.book.render import plural
from paperlib.book.verdicts import not_comparable
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.context import RunContext
from paperlib.data.synthetic import N_DATA, copy_batch, copy_batches, seq_len
from paperlib.hardware import scoped_threads
from paperlib.models import n_params
from paperlib.models.configs import ModelConfig, build_model, forward_flops
from paperlib.models.paper_configs import paper_config
from paperlib.models.rnn import RNNConfig, hidden_for_params
from paperlib.paths import profiles_dir
from paperlib.plots import page_figure
from paperlib.progress import progress
from paperlib.stats import mean_ci
from paperlib.sweep import run_tasks
from paperlib.training import checkpoint
from paperlib.training.curriculum import Curriculum, LrRule, StopAtCap, block_for, step_reaching
from paperlib.training.device import DeviceSetup, configure_device, resolve_setup
from paperlib.training.evaluation import score
from paperlib.training.loop import Batch, Callback, State, forward_backward, init
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig
from paperlib.training.plan import RunSpec
from paperlib.training.run import Checkpointing, checkpoint_path, train_resumable

CopyTask = Literal["copy", "selective_copy"]
ModelKind = Literal["recurrent", "forget", "regular", "gru_total", "gru_dense", "lstm_total", "lstm_dense"]
Role = Literal["recurrent", "forget", "regular", "rnn_total", "rnn_dense"]
CurriculumName = Literal["feb2026", "july2025"]
Budget = Literal["own", "compare", "reach"]  # the paper model's steps; the comparison's; its seed's steps to its length
COPY_TASKS: tuple[str, ...] = get_args(CopyTask)
TASK_CHOICES: dict[str, tuple[str, ...]] = {"both": COPY_TASKS, **{task: (task,) for task in COPY_TASKS}}  # `tasks`
CLAIM_TASKS = {"copy_4128": "copy", "selective_copy_4128": "selective_copy", "rt_accumulate": "copy"}  # page order
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)
BASELINES = ("forget", "regular", "rnn_total", "rnn_dense")
ROLES = ("recurrent", *BASELINES)
TASK_LABELS = {"copy": "copy", "selective_copy": "selective copy"}
ROLE_COLOURS = {"recurrent": "C0", "forget": "C1", "regular": "C2", "rnn_total": "C3", "rnn_dense": "C4"}
PAPER_PARAMS = 508_705  # the paper's copy model (methods page, parameter counts)
POSITION_TABLES = ("wpe.weight",)  # the parameters a transformer reads by position (not dense)
NEAR_THRESHOLD = (0.15, 0.6)  # validation losses whose standard error the record reports (the pass rule reads 0.3)
CHANCE = 1 / 14  # 14 data symbols
AT_CHANCE_BELOW = 2 * CHANCE  # a token accuracy below twice chance counts as not learned
TARGET_ACC = {"copy": COPY_ACC_MIN, "selective_copy": SELECTIVE_COPY_ACC_MIN}  # the registry's thresholds
# The author's two curricula (methods page, curriculum): first noise length, and K = min(L // 2, cap)
# for July 2025 (None: the model's K = 32 at every length, Feb 2026).
CURRICULA: dict[str, tuple[int, int | None]] = {"feb2026": (128, None), "july2025": (32, 32)}
MEASURED = "measured"  # the folder of step tables kept per device, beside the checkpoints (`measured_once`)
PILOT_FILE = profiles_dir() / "copy_tasks_pilot.json"  # the committed pilot (`pilot`, scripts/copy_tasks_pilot.py)
CAP_STOPS = {"accuracy": "accuracy reached the threshold", "plateau": "loss stopped falling",
             "steps": "step budget there used"}
_PURPOSES = {"validation": 0, "final": 1}
_STEP_BITS, _SEED_BITS = 23, 7  # validations up to step 8,388,607; seeds 0..127


# --- record keys: every metric the chapter records, built here and nowhere else ---------------------------

_PER_TASK = {  # metric: (unit, meaning, forms: "" plain, "seed" .seed{k}, "role" _{role}, "role_seed" _{role}.seed{k},
    #                      "noise" .n{noise}[.seed{k}])
    "acc": ("fraction", "token accuracy of the paper's model at the length every seed reached (mean over seeds)",
            ("", "seed")),
    "acc_own_length": ("fraction", "a seed's token accuracy at its own final length, on fresh batches", ("seed",)),
    "final_noise_len": ("tokens", "noise length reached (of several seeds: the shortest)", ("", "seed", "role")),
    "seeds": ("seeds", "seeds of a model", ("", "role")),
    "samples": ("samples", "training samples (of several seeds: the first's)", ("", "seed", "role", "role_seed")),
    "samples_to_final_len": ("samples", "samples before the curriculum set the final length", ("seed",)),
    "steps_at_cap": ("steps", "training steps at the cap", ("seed",)),
    "reached_target": ("flag", "1 when the run's validation accuracy reached the registry's threshold at the cap",
                       ("seed",)),
    "validations_to_pass": ("validations", "validations at a noise length up to the one that passed it (mean over "
                            "the seeds that passed)", ("noise",)),
    "samples_to_pass": ("samples", "training samples at a noise length until it passed (as above)", ("noise",)),
    "train_s": ("seconds", "seconds in training steps (a model's seeds together)", ("", "role")),
    "val_loss_se": ("nats", "median standard error over its batches of the paper model's validation loss, at "
                    "validations whose loss is near the threshold", ("",)),
    "compared_noise_len": ("tokens", "the noise length every model of the comparison is scored at", ("",)),
    "compare_samples": ("samples", "the training samples after which every model of the comparison is scored", ("",)),
    "acc_compared": ("fraction", "a model's accuracy in the comparison (mean over seeds)", ("role", "role_seed")),
    "learned": ("flag", "1 when a model's mean accuracy in the comparison is at least twice chance", ("role",)),
    "stalled": ("flag", "1 when every seed of a baseline failed to pass a length its seed's paper model passed with "
                "the same samples", ("role",)),
    "params": ("parameters", "a model's parameters", ("role",)),
    "dense_params": ("parameters", "its parameters outside position tables", ("role",)),
    "macs": ("multiply-adds", "its forward multiply-adds per token at the comparison's length", ("role",)),
    "lr": ("learning rate", "its Adam learning rate at the start", ("role",)),
}
_WITH_CI = {("acc", ""), ("acc_compared", "role")}
_FORMS = {"": "{task}_%s", "seed": "{task}_%s.seed{seed}", "role": "{task}_%s_{role}",
          "role_seed": "{task}_%s_{role}.seed{seed}", "noise": "{task}_%s.n{noise}"}
METRICS = Declaration("copy_tasks", [
    *(Metric(_FORMS[form] % name, unit, meaning, headline=(name, form) == ("acc", ""), ci=(name, form) in _WITH_CI)
      for name, (unit, meaning, forms) in _PER_TASK.items() for form in forms),
    *(Metric(f"{{task}}_{name}.n{{noise}}.seed{{seed}}", unit, meaning + ", one seed")
      for name, (unit, meaning, forms) in _PER_TASK.items() if "noise" in forms),
    Metric("alpha", "α", "the learnable α of the first copy seed at the end (clamped)"),
    Metric("alpha_raw", "α", "its raw value"),
    Metric("step_s_paper", "seconds", "seconds of the paper model's fp32 step with dropout"),
    Metric("step_s_run", "seconds", "seconds of this run's step"),
    Metric("expected_min", "minutes", "wall minutes of training the cost model forecast before training"),
    Metric("train_wall_s", "seconds", "wall seconds of all the training"),
], fields={"task": ["copy", "selective_copy"], "role": list(ROLES), "seed": r"\d+", "noise": r"\d+"})


def key(task: str, metric: str, role: str = "", noise: int | None = None, seed: int | None = None) -> str:
    """The record key of `metric` (declared in `METRICS`): {task}_{metric}[_{role}][.n{noise}][.seed{seed}]."""
    name = (f"{task}_{metric}" + (f"_{role}" if role else "") + ("" if noise is None else f".n{noise}")
            + ("" if seed is None else f".seed{seed}"))
    METRICS.check([name])
    return name


# --- models, evaluation seeds, scores ----------------------------------------------------------------------

def eval_seed(seed: int, purpose: Literal["validation", "final"], step: int = 0) -> int:
    """Seed of the validation batches at `step`, or of the final evaluation's: one integer per (seed, purpose,
    step), inside the 32 bits torch's CPU generator keeps (it drops higher bits, so seeds 2**32 + k and k draw
    the same batches), and at or above 2**31, so never a training stream's seed (the run's seed, below 128)."""
    if not 0 <= seed < 2**_SEED_BITS or not 0 <= step < 2**_STEP_BITS:
        raise ValueError(f"eval_seed needs 0 <= seed < {2**_SEED_BITS} and 0 <= step < {2**_STEP_BITS}; "
                         f"got seed {seed}, step {step}")
    return 2**31 + ((seed << 1 | _PURPOSES[purpose]) << _STEP_BITS) + step


def model_config(task: CopyTask, kind: ModelKind, dropout: float | None = None) -> ModelConfig:
    """The config of a `kind` model for `task` (see the module docstring); `dropout` replaces the paper's 0.05 in
    the transformers (the RNN has none). An RNN `{cell}_total` has the paper model's parameters, `{cell}_dense`
    its dense parameters (`dense_params`)."""
    if task not in COPY_TASKS or kind not in MODEL_KINDS:
        raise ValueError(f"task must be one of {COPY_TASKS} and kind one of {MODEL_KINDS}; got {task!r}, {kind!r}")
    if kind.endswith(("_total", "_dense")):
        cell, match = kind.split("_")
        target = PAPER_PARAMS if match == "total" else dense_params(build_model(paper_config(task, "recurrent")))
        return RNNConfig(cell, hidden_for_params(target, cell))
    overrides = {} if dropout is None else {"dropout": dropout}
    if kind == "forget":
        return paper_config(task, "recurrent", alpha="forget", **overrides)
    return paper_config(task, kind, **overrides)


def role_kind(role: Role, rnn: str) -> ModelKind:
    """The model kind of a role (`rnn`: the RNN's cell, gru or lstm)."""
    return f"{rnn}_{role.removeprefix('rnn_')}" if role.startswith("rnn_") else role  # type: ignore[return-value]


def dense_params(model: nn.Module) -> int:
    """Parameters outside position tables (`POSITION_TABLES`): what a model computes with at every position."""
    return sum(p.numel() for name, p in model.named_parameters() if name not in POSITION_TABLES)


def macs_per_token(config: ModelConfig, noise_len: int) -> float:
    """Forward multiply-adds per token of a sequence at `noise_len` (half its forward FLOPs per token)."""
    return forward_flops(config, seq_len(noise_len)) / seq_len(noise_len) / 2


def make_model(task: CopyTask, kind: ModelKind, dropout: float | None = None) -> nn.Module:
    """A model of `kind` for `task` (`model_config`)."""
    return build_model(model_config(task, kind, dropout))


def alpha_of(model: nn.Module) -> float | None:
    """The clamped alpha of a recurrent transformer, None for other models."""
    alpha = getattr(model, "alpha", None)
    return None if alpha is None else alpha.item()


def per_batch(model: nn.Module, task: CopyTask, noise_len: int, n_batches: int, batch_size: int,
              seed: int) -> tuple[list[float], list[float]]:
    """(loss, token accuracy) of each of `n_batches` fresh batches at `noise_len` (call under no_grad)."""
    batches = copy_batches(n_batches, batch_size, noise_len, selective=task == "selective_copy",
                           generator=torch.Generator().manual_seed(seed))
    scores = score(model, batches)
    return scores.batch_losses.tolist(), scores.per_group(scores.correct(), n_batches).tolist()


@contextmanager
def scoring_at(model: nn.Module, noise_len: int, block_cap: int | None) -> Iterator[nn.Module]:
    """The model in eval mode, without gradients, with the block K the curriculum's rule gives at `noise_len`
    (July 2025: min(L // 2, 32); else its own); its mode and K are restored after."""
    block, training = getattr(model, "block", None), model.training
    if block is not None and block_for(noise_len, block_cap) is not None:
        model.block = block_for(noise_len, block_cap)
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(training)
        if block is not None:
            model.block = block


def accuracy_ci(accs: Sequence[float]) -> tuple[float, float, float]:
    """(mean, low, high): the 95 % Student-t interval of the mean accuracy clipped to [0, 1] (NaN bounds
    for one value)."""
    mean, low, high = mean_ci(accs)
    return mean, max(low, 0.0), min(high, 1.0)  # max(nan, 0.0) is nan


# --- the run plan --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunConfig:
    """One training run: a `kind` model in `role` on `task` with `seed`, at most `steps` steps, its curriculum up to
    noise length `limit`, scored for the comparison after `compare` steps; a `reach` run's steps are set from its
    seed's paper model (`baseline_steps`)."""

    task: CopyTask
    role: Role
    kind: ModelKind
    seed: int
    steps: int
    limit: int
    compare: int
    budget: Budget = "own"

    @property
    def name(self) -> str:
        return f"{self.task}-{self.kind}-seed{self.seed}"


def run_plan(values: Mapping[str, Any]) -> list[RunConfig]:
    """Every run of the chapter from the notebook's parameter `values`: per task it trains (`tasks`: both, or one
    alone; a run's configuration is the same either way, so its checkpoint is too) the paper's model once per seed
    (`seeds` for copy, `selective_seeds` or else `seeds` for selective copy) and, with `baselines`, every baseline
    once per seed: forget to the cap with the steps its seed's paper model takes to reach its final length, the
    others for the comparison's steps (`copy_compare_steps`, `selective_compare_steps`), their curriculum up to
    `baseline_cap`."""
    plan = []
    for task in TASK_CHOICES[values["tasks"]]:
        steps = values["copy_steps" if task == "copy" else "selective_steps"]
        compare = values["copy_compare_steps" if task == "copy" else "selective_compare_steps"]
        if compare > steps:
            raise ValueError(f"{task}: the comparison's {compare:,} steps exceed the paper model's {steps:,}")
        seeds = values["seeds"] if task == "copy" else values["selective_seeds"] or values["seeds"]
        plan += [RunConfig(task, "recurrent", "recurrent", seed, steps, values["cap"], compare) for seed in range(seeds)]
        if values["baselines"]:
            limit = min(values["baseline_cap"], values["cap"])
            plan += [RunConfig(task, "forget", "forget", seed, steps, values["cap"], compare, "reach")
                     for seed in range(seeds)]
            plan += [RunConfig(task, role, role_kind(role, values["rnn"]), seed, compare, limit, compare, "compare")
                     for role in BASELINES[1:] for seed in range(seeds)]
    return plan


def curriculum_start(curriculum: str, cap: int) -> int:
    """The curriculum's first noise length (never past the cap)."""
    return min(CURRICULA[curriculum][0], cap)


def validation_steps(steps: int, every: int) -> list[int]:
    """The steps after which a run is validated: every `every` steps from 0, and after its last."""
    return [*range(0, steps, every), steps]


@dataclass(frozen=True)
class LengthCurriculum:
    """A run's length curriculum, described (`Settings.callbacks` sets it up): the author's `name`d start (noise
    `start`), doubling below `threshold` up to noise `limit`, the learning rate by `lr_rule` with divisor `cap`."""

    name: CurriculumName
    start: int
    limit: int
    cap: int
    threshold: float
    lr_rule: LrRule

    def __str__(self) -> str:
        return (f"the {self.name} curriculum from length {seq_len(self.start):,} to {seq_len(self.limit):,}, doubling "
                f"below validation loss {self.threshold:g}")


def runs(params: Mapping[str, Any]) -> list[RunSpec]:
    """The chapter's plan from its parameters: one spec per `run_plan` entry, named as it trains (stage: the
    task, family: the model's kind), at its longest length and its most steps, with the steps it is expected to
    take at each length (`expected_schedule`), which the cost model reads."""
    pilot = load_pilot()
    return [_spec(config, params, pilot) for config in run_plan(params)]


def _spec(config: RunConfig, p: Mapping[str, Any], pilot: Mapping[str, Any] | None) -> RunSpec:
    batch = p["batch_size"]
    curriculum = LengthCurriculum(p["curriculum"], curriculum_start(p["curriculum"], p["cap"]), config.limit, p["cap"],
                                  p["threshold"], p["lr_rule"])
    task = (f"{TASK_LABELS[config.task]}: fresh batches, lengths {seq_len(curriculum.start):,} to "
            f"{seq_len(config.limit):,} by the {curriculum.name} curriculum")
    schedule = tuple((seq_len(n), steps) for n, steps in expected_schedule(config, p, pilot).items())
    return RunSpec("copy_tasks", config.task, config.kind, config.seed,
                   model_config(config.task, config.kind, p["dropout"]), task, config.steps, batch,
                   seq_len(config.limit), OptimizerConfig(lr=p["lr"]), None,
                   tuple(validation_steps(config.steps, p["eval_every"])), p["eval_batches"] * batch,
                   _final_scorings(config) * p["final_batches"] * batch, _ends_early(config, p), curriculum,
                   schedule, p["precision"])


def expected_schedule(config: RunConfig, p: Mapping[str, Any], pilot: Mapping[str, Any] | None) -> dict[int, int]:
    """The steps a run is expected to take at each noise length: the pilot's mean steps to pass each length (and at
    the cap) rounded up to whole validation intervals (a length can change only at a validation), one interval
    where the pilot has none, within the run's steps and the cap's step budget; a baseline is expected to stay at
    the first length (forget for its seed's paper model's steps to the cap)."""
    start, every = curriculum_start(p["curriculum"], p["cap"]), p["eval_every"]
    paper = _pilot_schedule(pilot, config.task, p["curriculum"])
    lengths = doublings(start, p["cap"] if config.role in ("recurrent", "forget") else config.limit)
    intervals = {n: every * max(1, math.ceil(paper.get(n, every) / every)) for n in lengths}
    if config.budget == "compare":
        return {start: config.steps}
    if config.budget == "reach":
        return {start: min(max(sum(intervals[n] for n in lengths[:-1]), config.compare), config.steps)}
    schedule, left = {}, config.steps
    for n in lengths:
        steps = intervals[n] if n < config.limit else (p["cap_steps"] or left)
        if n == config.limit and (p["stop_at_target"] or p["cap_patience"]):
            steps = min(steps, intervals[n])
        schedule[n] = min(steps, left)
        left -= schedule[n]
        if not left:
            break
    return schedule


def _final_scorings(config: RunConfig) -> int:
    """Final scorings of a run at most: the comparison's, the paper model's at its own length and at the length
    every seed reached."""
    return 3 if config.role == "recurrent" else 1


def _ends_early(config: RunConfig, p: Mapping[str, Any]) -> str:
    """Why a run may take fewer than its steps: the paper model's end rules at the cap, forget's budget."""
    if config.budget == "reach":
        return "forget takes the steps its seed's paper model took to reach its final length"
    if config.role != "recurrent":
        return ""
    rules = [f"at the registry's threshold of validation accuracy ({100 * COPY_ACC_MIN:g} % copy, "
             f"{100 * SELECTIVE_COPY_ACC_MIN:g} % selective copy)" if p["stop_at_target"] else "",
             f"after {p['cap_patience']} validations without a new lowest loss" if p["cap_patience"] else "",
             f"{p['cap_steps']:,} steps after it got there" if p["cap_steps"] else ""]
    rules = [rule for rule in rules if rule]
    return f"at length {seq_len(p['cap']):,} the paper model ends at the first of: " + "; ".join(rules) if rules else ""


@dataclass
class Settings:
    """How every run of a chapter is trained, validated and ended (from the notebook's parameters:
    `settings_from`)."""

    setup: DeviceSetup
    batch_size: int
    lr: float
    curriculum: CurriculumName  # the author's start and block rule (see CURRICULA)
    cap: int  # the target noise length
    threshold: float  # validation loss below which the length doubles
    lr_rule: LrRule  # see `paperlib.training.curriculum`
    eval_every: int  # steps between validations
    eval_batches: int  # fresh batches per validation
    final_batches: int  # fresh batches of a final score (and of the paper model's score where it passes)
    dropout: float | None  # None keeps the paper's 0.05
    cap_steps: int | None  # end a paper-model run this many steps after it reached its limit (None: no such end)
    cap_patience: int | None  # ... or after this many validations there without a new lowest loss
    stop_at_target: bool  # ... or at a validation there that reaches the registry's threshold
    checkpointing: Checkpointing
    context: RunContext  # the run's deadline and run filter (`paperlib.context`)

    def __post_init__(self) -> None:
        if self.curriculum not in CURRICULA:
            raise ValueError(f"curriculum must be one of {sorted(CURRICULA)}, got {self.curriculum!r}")

    @property
    def start(self) -> int:
        """The curriculum's first noise length (never past the cap)."""
        return curriculum_start(self.curriculum, self.cap)

    def callbacks(self, config: RunConfig) -> list[Callback]:
        """The curriculum up to the run's limit, the comparison's score after its steps and, for the paper's
        model, the end rules at that limit."""
        curriculum = Curriculum(self.start, self.cap, self.threshold, self.lr_rule, N_DATA,
                                block_cap=CURRICULA[self.curriculum][1], limit=config.limit, label=config.name)
        score = ScoreAtStep(config.task, config.compare, self.start, self.final_batches, self.batch_size,
                            CURRICULA[self.curriculum][1])
        if config.role != "recurrent":
            return [curriculum, score]
        stop = StopAtCap(config.limit, self.cap_steps, TARGET_ACC[config.task] if self.stop_at_target else None,
                         self.cap_patience)
        return [curriculum, stop, score]

    def meta(self, config: RunConfig) -> dict[str, Any]:
        """What identifies a run's checkpoint: everything that changes its numbers (not its most steps)."""
        rules = (self.cap_steps, self.cap_patience, self.stop_at_target) if config.role == "recurrent" else None
        return {"task": config.task, "kind": config.kind, "curriculum": self.curriculum, "start": self.start,
                "cap": self.cap, "limit": config.limit, "seed": config.seed, "batch_size": self.batch_size,
                "lr": self.lr, "lr_rule": self.lr_rule, "threshold": self.threshold, "eval_every": self.eval_every,
                "eval_batches": self.eval_batches, "dropout": self.dropout, "precision": self.setup.precision,
                "end_rules": rules, "compare": (config.compare, self.final_batches)}


class ScoreAtStep(Callback):
    """Scores a model on the final evaluation's batches at the first length right after step `step`, whatever
    length its curriculum has reached: the comparison's one scoring rule, the same for every model of a task."""

    def __init__(self, task: CopyTask, step: int, start: int, n_batches: int, batch_size: int, block_cap: int | None):
        self.task, self.step, self.start, self.n_batches, self.batch_size = task, step, start, n_batches, batch_size
        self.block_cap = block_cap

    def on_step(self, state: State, loss: torch.Tensor) -> None:
        if state.step != self.step:
            return
        with scoring_at(state.model, self.start, self.block_cap) as model, state.setup.autocast():
            losses, accs = per_batch(model, self.task, self.start, self.n_batches, self.batch_size,
                                     eval_seed(state.seed, "final"))
        state.extra["compared"] = {"step": state.step, "noise_len": self.start, "accs": accs, "losses": losses}


# --- a trained run -----------------------------------------------------------------------------------------

@dataclass
class LengthStay:
    """What a run did at one noise length: when it got there, its steps and validations there, and how it
    left (passed: the curriculum doubled; limit: it ended at its limit by a rule or its budget; budget: its
    steps ran out before it passed)."""

    noise_len: int
    set_at: int
    steps: int
    validations: int
    best_loss: float
    best_acc: float
    outcome: Literal["passed", "limit", "budget"]
    seconds: float  # in training steps there
    cap_stop: str | None = None  # at the limit: the rule that ended the run (CAP_STOPS), None for its budget


@dataclass
class CopyRun:
    """One trained model: its plan entry, its state (history, curriculum log in `state.extra`) and its cost."""

    config: RunConfig
    state: State
    batch_size: int
    wall_s: float  # this session's seconds in training, validations included
    block_cap: int | None = None  # the curriculum's block rule (CURRICULA), which scoring at a length follows
    resumed_at: int | None = None  # the step a checkpoint resumed from
    scores: dict[tuple[int, int, int], tuple[float, float, float]] = field(default_factory=dict, repr=False)

    @property
    def task(self) -> CopyTask:
        return self.config.task

    @property
    def kind(self) -> ModelKind:
        return self.config.kind

    @property
    def seed(self) -> int:
        return self.state.seed

    @property
    def label(self) -> str:
        """The run as a reader names it."""
        return f"{role_label(self.config.role, self.kind)}, seed {self.seed}"

    @property
    def history(self) -> pd.DataFrame:
        """One row per validation, with the training samples seen by then."""
        df = pd.DataFrame(self.state.history)
        return df.assign(samples=df["step"] * self.batch_size)

    @property
    def final_len(self) -> int:
        """The longest noise length this model trained and was validated at (the length reached)."""
        return int(self.state.history[-1]["noise_len"])

    def trained_at(self, noise_len: int) -> bool:
        """Whether the curriculum trained this model at `noise_len` (a length it passed through or reached)."""
        return any(int(h["noise_len"]) == noise_len and h["step"] > 0 for h in self.state.history)

    @property
    def samples(self) -> int:
        return self.state.step * self.batch_size

    @property
    def step_to_final_len(self) -> int:
        """The step at which the curriculum first set the final length (0: it started there)."""
        return step_reaching(self.state, self.final_len) or 0

    @property
    def samples_to_final_len(self) -> int:
        """Training samples before the curriculum first set the final length."""
        return self.step_to_final_len * self.batch_size

    @property
    def cap_stop(self) -> str | None:
        """The rule that ended the run at its limit (a key of CAP_STOPS), None when its budget ended it."""
        return self.state.extra.get("cap_stop", {}).get("reason")

    @property
    def stays(self) -> list[LengthStay]:
        """Per noise length trained at, in order: its `LengthStay` (the curriculum's log)."""
        passed = {c["from"]: c["step"] for c in self.state.extra["length_changes"]}
        h = self.history
        clock = dict(zip(h["step"], h["time"]))  # training seconds by the step of each validation
        stays = []
        for length, g in h[h["step"] > 0].groupby("noise_len", sort=True):
            length, set_at = int(length), step_reaching(self.state, int(length)) or 0
            left = passed.get(length, int(g["step"].iloc[-1]))
            outcome = "passed" if length in passed else "limit" if length == self.config.limit else "budget"
            there = g[g["step"] <= left]
            stays.append(LengthStay(length, set_at, left - set_at, len(there), float(there["val_loss"].min()),
                                    float(there["val_acc"].max()), outcome, clock[left] - clock[set_at],
                                    self.cap_stop if outcome == "limit" else None))
        return stays

    @property
    def steps_at_limit(self) -> int:
        """Training steps at the run's limit (0 when it never got there)."""
        return next((s.steps for s in self.stays if s.noise_len == self.config.limit), 0)

    @property
    def compared(self) -> float:
        """Its mean token accuracy in the comparison (`ScoreAtStep`)."""
        if "compared" not in self.state.extra:
            raise ValueError(f"{self.config.name} ended at step {self.state.step:,}, before the comparison's "
                             f"{self.config.compare:,}")
        return float(np.mean(self.state.extra["compared"]["accs"]))

    def stalled_beside(self, paper: CopyRun) -> bool:
        """Whether it failed to pass a length `paper` passed within its steps (and it ended short of its limit)."""
        passed = {s.noise_len for s in paper.stays if s.outcome == "passed" and s.set_at + s.steps <= self.state.step}
        own = {s.noise_len for s in self.stays if s.outcome == "passed"}
        return bool(passed - own) and self.final_len < self.config.limit

    @property
    def n_params(self) -> int:
        return n_params(self.state.model)

    def final_eval(self, noise_len: int, n_batches: int, batch_size: int) -> tuple[float, float, float]:
        """Token accuracy on fresh batches at `noise_len`: (mean, 95 % CI low, high) over the batches,
        the Student-t interval clipped to [0, 1]. Kept in `scores`, so asking again costs nothing."""
        key_ = (noise_len, n_batches, batch_size)
        if key_ not in self.scores:
            with scoring_at(self.state.model, noise_len, self.block_cap) as model, self.state.setup.autocast():
                _, acc = per_batch(model, self.task, noise_len, n_batches, batch_size, eval_seed(self.seed, "final"))
            self.scores[key_] = accuracy_ci(acc)
        return self.scores[key_]


def _new_state(config: RunConfig, settings: Settings) -> State:
    return init(lambda: make_model(config.task, config.kind, settings.dropout), OptimizerConfig(lr=settings.lr),
                config.seed, settings.setup)


def train_copy(config: RunConfig, settings: Settings, *, show_progress: bool = True) -> CopyRun:
    """Train the run `config` under `settings` (resuming it from its checkpoint when asked)."""
    s, state = settings, _new_state(config, settings)
    task = config.task

    def validate(model: nn.Module) -> dict[str, float]:
        losses, accs = per_batch(model, task, state.extra["noise_len"], s.eval_batches, s.batch_size,
                                 eval_seed(config.seed, "validation", state.step))
        alpha = alpha_of(model)
        spread = {"val_loss_se": float(np.std(losses, ddof=1) / math.sqrt(len(losses)))} if len(losses) > 1 else {}
        return {"val_loss": float(np.mean(losses)), "val_acc": float(np.mean(accs)), **spread,
                **({} if alpha is None else {"alpha": alpha})}

    def sample(st: State) -> Batch:
        return copy_batch(s.batch_size, st.extra["noise_len"], selective=task == "selective_copy",
                          generator=st.generator)

    began = time.perf_counter()
    resumed = train_resumable(state, sample, model_loss(), config.steps, chapter="copy_tasks", name=config.name,
                              meta=s.meta(config), checkpointing=s.checkpointing, context=s.context,
                              callbacks=s.callbacks(config),
                              eval_steps=validation_steps(config.steps, s.eval_every), evaluate=validate,
                              show_progress=show_progress, desc=f"{TASK_LABELS[task]} {config.kind} seed {config.seed}")
    return CopyRun(config, state, s.batch_size, time.perf_counter() - began, CURRICULA[s.curriculum][1], resumed)


def train_in_worker(config: RunConfig, settings: Settings) -> dict[str, Any]:
    """`train_copy` in a worker process on the worker's threads; the run comes back through its checkpoint."""
    here = configure_device(settings.setup.device.type, 0, settings.setup.precision, settings.setup.compile_layers)
    run = train_copy(config, replace(settings, setup=here), show_progress=False)
    return {"wall_s": run.wall_s, "resumed_at": run.resumed_at, "step": run.state.step, "where": here.description}


def load_run(config: RunConfig, settings: Settings, wall_s: float, resumed_at: int | None) -> CopyRun:
    """The run a worker trained, read back from its checkpoint."""
    state = _new_state(config, settings)
    path = checkpoint_path("copy_tasks", config.name, settings.meta(config))
    if checkpoint.resume(path, state, settings.meta(config)) is None:
        raise FileNotFoundError(f"{config.name}: the worker's checkpoint {path} is missing or unreadable")
    return CopyRun(config, state, settings.batch_size, wall_s, CURRICULA[settings.curriculum][1], resumed_at)


def role_label(role: str, kind: str) -> str:
    """A role as a reader names it."""
    if role.startswith("rnn_"):
        return f"{kind.split('_')[0].upper()} ({'total' if role == 'rnn_total' else 'dense'} parameters matched)"
    return {"recurrent": "paper model", "forget": "forget (α = 0)", "regular": "regular transformer"}[role]


@dataclass
class Experiment:
    """Every run of the chapter by task and role, each role once per seed."""

    runs: dict[str, dict[str, list[CopyRun]]]
    wall_s: float = 0.0  # wall seconds of all the training (the runs overlap on several processes)

    def paper(self, task: str) -> list[CopyRun]:
        return self.runs[task]["recurrent"]

    def reached(self, task: str) -> int:
        """The noise length every seed of the paper's model reached: where its headline is scored."""
        return min(run.final_len for run in self.paper(task))

    def roles(self, task: str) -> dict[str, list[CopyRun]]:
        """Every role trained on `task` and its seeds, the paper's model first."""
        return self.runs[task]

    def all_runs(self) -> list[CopyRun]:
        return [run for task in self.runs.values() for runs in task.values() for run in runs]


def baseline_steps(config: RunConfig, paper: CopyRun) -> int:
    """A `reach` run's steps: those its seed's paper model took to reach its final length, at least the
    comparison's."""
    return max(paper.step_to_final_len, config.compare)


def train_all(settings: Settings, plan: Sequence[RunConfig], workers: int = 1) -> Experiment:
    """Train every run of `plan`, a `reach` run once its seed's paper model has run: in this process (`workers` 1)
    or on a local cluster of `workers` single-threaded processes (0: one per core), the paper model's copy runs
    first (the longest), each run read back from its checkpoint (which parallel training needs). The runs the run
    context's `only_runs` names train first, the others after them (where the first still to train raises
    `RunDeferred`), so a plan's stage trains all its own runs before it stops."""
    if workers != 1 and not settings.checkpointing.every:
        raise ValueError("training in worker processes needs checkpoint_every > 0: the runs come back through "
                         "their checkpoints")
    own = sorted((c for c in plan if c.budget != "reach"),
                 key=lambda c: (c.role != "recurrent", c.task != "copy", c.seed))
    later = [c for c in plan if c.budget == "reach"]
    runs: dict[RunConfig, CopyRun] = {}
    postponed: list[RunConfig] = []

    def follow_up(done: RunConfig, run: CopyRun) -> list[RunConfig]:
        if done.role != "recurrent":
            return []
        return [replace(c, steps=baseline_steps(c, run)) for c in later if (c.task, c.seed) == (done.task, done.seed)]

    def admitted(configs: list[RunConfig]) -> list[RunConfig]:
        """The runs the run filter lets train now; the others wait until these are trained."""
        postponed.extend(c for c in configs if settings.context.deferred(c.name))
        return [c for c in configs if not settings.context.deferred(c.name)]

    def read_back(config: RunConfig, result: dict[str, Any]) -> CopyRun:
        return load_run(config, settings, result["wall_s"], result["resumed_at"])

    began = time.perf_counter()
    _train_runs(admitted(own), lambda c, r: admitted(follow_up(c, r)), runs, settings, workers, read_back, len(plan))
    _train_runs(postponed, follow_up, runs, settings, workers, read_back, len(plan))
    experiment = Experiment({}, time.perf_counter() - began)
    for config, run in sorted(runs.items(), key=lambda item: (COPY_TASKS.index(item[0].task),
                                                                ROLES.index(item[0].role), item[0].seed)):
        experiment.runs.setdefault(config.task, {}).setdefault(config.role, []).append(run)
    return experiment


def _train_runs(configs: list[RunConfig], then: Callable[[RunConfig, CopyRun], list[RunConfig]],
                runs: dict[RunConfig, CopyRun], settings: Settings, workers: int,
                read_back: Callable[[RunConfig, dict[str, Any]], CopyRun], total: int) -> None:
    """Train `configs` in order, and what `then` adds as each finishes, into `runs`: here (`workers` 1) or on a
    local cluster (`total`: the runs its progress counts)."""
    if not configs:
        return
    if workers == 1:
        queue = list(configs)
        while queue:
            config = queue.pop(0)
            runs[config] = train_copy(config, settings)
            queue += then(config, runs[config])
        return

    def done(config: RunConfig, result: dict[str, Any]) -> list[RunConfig]:
        runs[config] = read_back(config, result)
        return then(config, runs[config])

    run_tasks(partial(train_in_worker, settings=settings), configs, done, workers=workers, desc="copy runs",
              total=total)


# --- what a step costs, and the minutes it predicts -----------------------------------------------------------

@dataclass(frozen=True)
class StepVariant:
    """One way to run the copy model's training step: a device set-up and a dropout rate."""

    name: str
    setup: DeviceSetup
    dropout: float


def step_variants(device: str, run: DeviceSetup, dropout: float) -> list[StepVariant]:
    """The levers of a faster step, one at a time from the eager fp32 step with the paper's dropout, and this
    run's own step (its precision, compilation and dropout): the lever it equals, named so, or a last row. The
    set-ups leave torch's threads alone (`step_benchmark` times them on the threads it is given)."""
    paper_dropout = paper_config("copy", "recurrent").dropout
    fp32 = resolve_setup(device, "fp32")
    variants = [StepVariant(f"fp32, dropout {paper_dropout:g} (the paper's model)", fp32, paper_dropout),
                StepVariant("fp32, dropout off", fp32, 0.0),
                StepVariant("bf16 autocast, dropout off", resolve_setup(device, "bf16"), 0.0)]
    own = (run.device, run.precision, run.compile_layers, dropout)
    same = [i for i, v in enumerate(variants) if (v.setup.device, v.setup.precision, v.setup.compile_layers,
                                                  v.dropout) == own]
    if same:
        variants[same[0]] = replace(variants[same[0]], name=f"{variants[same[0]].name} = this run's step")
    else:
        variants.append(StepVariant("this run's step", resolve_setup(device, run.precision, run.compile_layers),
                                    dropout))
    return variants


def _step_fn(model: nn.Module, setup: DeviceSetup, batch: Batch) -> partial:
    x, y = (t.to(setup.device) for t in batch)
    return partial(forward_backward, model, model_loss(), (x, y), setup)


def step_clock(threads: int) -> tuple[Callable[[], float], str]:
    """How a step is timed on `threads` threads: one thread's CPU time (what other load on the cores does not
    change) or, for several threads, wall-clock time; and its name for the page."""
    return (time.process_time, "CPU seconds") if threads == 1 else (time.perf_counter, "wall seconds")


def step_benchmark(variants: Sequence[StepVariant], noise_len: int, batch_size: int, threads: int,
                   repeats: int = 2) -> pd.DataFrame:
    """Seconds per training step on `threads` threads (by `step_clock`) of the paper's copy model at `noise_len`
    for each variant, from the same weights on the same batch, and each one's speed against this run's step (the
    variant named "this run's step"); and how far each step's loss and gradients are from the first's with
    dropout off (eval mode), where only the precision differs."""
    torch.manual_seed(0)
    weights = make_model("copy", "recurrent").state_dict()
    batch = copy_batch(batch_size, noise_len, generator=torch.Generator().manual_seed(0))
    rows, reference, (clock, _) = [], None, step_clock(threads)
    with scoped_threads(threads):
        for variant in progress(variants, desc="step variants"):
            model = variant.setup.prepare(make_model("copy", "recurrent", variant.dropout))
            model.load_state_dict(weights)
            step = _step_fn(model, variant.setup, batch)
            model.eval()
            loss = step().item()
            grad = torch.cat([p.grad.flatten().float().cpu() for p in model.parameters()])
            reference = reference or (loss, grad)
            model.train()
            seconds = min(time_call(step, variant.setup.device, warmup=1, repeats=repeats, clock=clock))
            rows.append({"step": variant.name, "seconds per step": seconds, "|Δ loss|": abs(loss - reference[0]),
                         "max |Δ grad| / max |grad|": float((grad - reference[1]).abs().max()
                                                            / reference[1].abs().max())})
    table = pd.DataFrame(rows).set_index("step")
    own = table["seconds per step"][table.index.str.contains("this run's step")].iloc[0]
    table.insert(1, "speed against this run's step", own / table["seconds per step"])
    return table


def step_seconds(setup: DeviceSetup, lengths: Mapping[str, Sequence[int]], batch_size: int, dropout: float,
                 threads: int) -> pd.DataFrame:
    """Seconds of one selective-copy training step on `threads` threads (by `step_clock`) of each model kind at
    each of its noise lengths, one warm-up and one timed step each: a table by sequence length and model, NaN
    where a model was not timed."""
    rows, (clock, _) = [], step_clock(threads)
    with scoped_threads(threads):
        for kind, noises in lengths.items():
            model = setup.prepare(make_model("selective_copy", kind, dropout)).train()
            for noise in progress(noises, desc=f"step time, {kind}"):
                step = _step_fn(model, setup, copy_batch(batch_size, noise, selective=True,
                                                         generator=torch.Generator().manual_seed(0)))
                seconds = time_call(step, setup.device, warmup=1, repeats=1, clock=clock)[0]
                rows.append({"model": kind, "length": seq_len(noise), "seconds": seconds})
    return pd.DataFrame(rows).pivot(index="length", columns="model", values="seconds")


def measured_once(measure: partial, reuse: bool) -> pd.DataFrame:
    """The table `measure()` returns (a series as a one-column table), kept beside the chapter's checkpoints under
    the hash of the call (the device set-up is among its arguments) and torch's version; with `reuse` (a resumed
    run), the kept table when there is one, so a plan's stages and later commands measure once per device."""
    name = measure.func.__name__
    key = {"args": measure.args, "keywords": measure.keywords, "torch": torch.__version__}
    path = checkpoint_path("copy_tasks", f"{MEASURED}/{name}", key).with_suffix(".json")
    if reuse and path.is_file():
        print(f"{name}: reused the table measured on this device ({path.name})", file=sys.stderr, flush=True)
        return read_measured(path)
    measured = measure()
    table = measured.to_frame() if isinstance(measured, pd.Series) else measured
    atomic_write_text(path, json.dumps({"frame": table.to_dict(orient="split"), "index": table.index.name,
                                        "columns": table.columns.name}))
    return table


def read_measured(path: Path) -> pd.DataFrame:
    """A table `measured_once` kept."""
    kept = json.loads(path.read_text())
    return pd.DataFrame(**kept["frame"]).rename_axis(index=kept["index"], columns=kept["columns"])


def step_breakdown(setup: DeviceSetup, noise_len: int, batch_size: int, dropout: float, threads: int) -> pd.Series:
    """Where one training step of the paper's model goes at `noise_len` on `threads` threads: its CPU seconds in
    matrix products, attention, and everything else (torch's profiler, self time of each operator, three steps
    averaged)."""
    model = setup.prepare(make_model("selective_copy", "recurrent", dropout)).train()
    step = _step_fn(model, setup, copy_batch(batch_size, noise_len, selective=True,
                                             generator=torch.Generator().manual_seed(0)))
    with scoped_threads(threads):
        step()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                step()
    groups = {"matrix products": 0.0, "attention": 0.0, "everything else": 0.0}
    for event in prof.key_averages():
        group = ("matrix products" if event.key in ("aten::mm", "aten::bmm", "aten::addmm") else
                 "attention" if "scaled_dot_product" in event.key else "everything else")
        groups[group] += event.self_cpu_time_total / 1e6 / 3
    return pd.Series(groups, name=f"CPU seconds per step at length {seq_len(noise_len)}")


def load_pilot(path: Path = PILOT_FILE) -> dict[str, Any] | None:
    """The committed pilot (see `pilot`), None when there is none."""
    return json.loads(path.read_text()) if path.is_file() else None


def doublings(start: int, limit: int) -> list[int]:
    """The noise lengths a curriculum from `start` trains at up to `limit`."""
    lengths = [start]
    while lengths[-1] < limit:
        lengths.append(min(2 * lengths[-1], limit))
    return lengths


def _pilot_schedule(pilot: Mapping[str, Any] | None, task: str, curriculum: str) -> dict[int, float]:
    """Mean steps at each noise length over the pilot's runs of `task` under `curriculum` (lengths every run
    of the longest stage passed, and the steps at the cap where the pilot trained there)."""
    if pilot is None:
        return {}
    runs = [r for r in pilot["runs"] if r["task"] == task and r["curriculum"] == curriculum]
    if not runs:
        return {}
    longest = max(r["limit"] for r in runs)
    runs = [r for r in runs if r["limit"] == longest]
    steps: dict[int, list[float]] = {}
    for r in runs:
        for stay in r["stays"]:
            if stay["outcome"] == "passed" or stay["cap_stop"] not in (None, "steps"):
                steps.setdefault(stay["noise_len"], []).append(stay["steps"])
    return {n: float(np.mean(s)) for n, s in steps.items() if len(s) == len(runs)}


# --- the pilot that chose the cpu profile's start -------------------------------------------------------------

PILOT_SEEDS = (100, 101)  # apart from the chapter's seeds 0, 1, 2
PILOT_DECIDES_AT = 256  # the start is judged by the samples to reach this noise length (past the hard first one)


def pilot(settings: Settings, steps: int, workers: int, to_cap: bool = True) -> dict[str, Any]:
    """The start of the curriculum, decided once: both starts (`CURRICULA`), two seeds each, up to noise
    `PILOT_DECIDES_AT` on both tasks; the start that got selective copy there with fewer samples (mean over
    seeds; a seed that did not get there within `steps` counts all its samples) wins; a later start's runs stop at
    as many steps as the seeds of the best start so far took together, past which it cannot win (one seed there
    puts its mean at or above that start's). Then the winner's seeds
    again up to the cap (unless not `to_cap`), for the chapter's estimate of its minutes: selective copy until it
    reaches the cap, copy under the end rules of `settings`. Returns the pilot's record."""
    decides_at, first, reach = min(PILOT_DECIDES_AT, settings.cap), [], {}
    for curriculum in CURRICULA:
        budget = steps if not reach else min(steps, math.ceil(len(PILOT_SEEDS) * min(reach.values())
                                                              / settings.batch_size))
        first += _pilot_stage(settings, budget, workers, decides_at, [curriculum])
        runs = [run for c, run in first if c == curriculum and run.task == "selective_copy"]
        reach[curriculum] = float(np.mean([(step_reaching(run.state, decides_at) or run.state.step)
                                           * run.batch_size for run in runs]))
    chosen = min(reach, key=reach.get)
    second = _pilot_stage(settings, steps, workers, settings.cap, [chosen]) if to_cap else []
    return {"decides_at_noise": decides_at, "to_cap": to_cap, "samples_to_decide": reach, "chosen": chosen,
            "settings": {f.name: getattr(settings, f.name) for f in fields(settings)
                         if f.name not in ("setup", "checkpointing", "curriculum", "context")}
                        | {"steps": steps, "precision": settings.setup.precision, "workers": workers},
            "runs": [{"curriculum": c, "task": run.task, "seed": run.seed, "limit": run.config.limit,
                      "steps": run.state.step, "train_s": run.state.train_time, "final_noise_len": run.final_len,
                      "stays": [asdict(stay) for stay in run.stays]} for c, run in first + second]}


def _pilot_stage(settings: Settings, steps: int, workers: int, limit: int, curricula: Sequence[str]
                 ) -> list[tuple[str, CopyRun]]:
    """The pilot's seeds of the paper's model on both tasks under each curriculum, up to `limit`: ended when they
    reach it, except copy at the cap, which keeps the end rules of `settings`."""
    out = []
    for curriculum in curricula:
        for task in COPY_TASKS:
            ours = replace(settings, curriculum=curriculum)
            if limit < settings.cap or task == "selective_copy":
                ours = replace(ours, cap_steps=0, cap_patience=None, stop_at_target=False)
            plan = [RunConfig(task, "recurrent", "recurrent", seed, steps, limit, steps) for seed in PILOT_SEEDS]
            out += [(curriculum, run) for run in train_all(ours, plan, workers).all_runs()]
    return out


def settings_from(values: Mapping[str, Any], setup: DeviceSetup, context: RunContext) -> Settings:
    """The chapter's `Settings` from its notebook parameters (`values`), device set-up and run context."""
    return Settings(setup, batch_size=values["batch_size"], lr=values["lr"], curriculum=values["curriculum"],
                    cap=values["cap"], threshold=values["threshold"], lr_rule=values["lr_rule"],
                    eval_every=values["eval_every"], eval_batches=values["eval_batches"],
                    final_batches=values["final_batches"], dropout=values["dropout"],
                    cap_steps=values["cap_steps"] or None, cap_patience=values["cap_patience"] or None,
                    stop_at_target=values["stop_at_target"],
                    checkpointing=Checkpointing(values["checkpoint_every"], values["resume"]), context=context)


# --- results and record -------------------------------------------------------------------------------------

def results(experiment: Experiment, final_batches: int, batch_size: int, lr: float) -> dict[str, float]:
    """The chapter's metrics (keys from `key`): the paper's model scored at the length every seed reached, with a
    95 % t-interval over seeds, each seed at its own final length, its per-length accounting and validation noise;
    every role in the comparison (`role_metrics`)."""
    metrics: dict[str, float] = {}
    for task in experiment.runs:
        paper, reached = experiment.paper(task), experiment.reached(task)
        accs = [run.final_eval(reached, final_batches, batch_size)[0] for run in paper]
        mean, low, high = accuracy_ci(accs)
        metrics |= {key(task, "acc"): mean, f"{key(task, 'acc')}.ci_low": low, f"{key(task, 'acc')}.ci_high": high,
                    key(task, "final_noise_len"): reached, key(task, "seeds"): len(paper),
                    key(task, "samples"): paper[0].samples,
                    key(task, "train_s"): sum(r.state.train_time for r in paper)}
        for run, acc in zip(paper, accs):
            s = run.seed
            metrics |= {key(task, "acc", seed=s): acc,
                        key(task, "acc_own_length", seed=s): run.final_eval(run.final_len, final_batches,
                                                                            batch_size)[0],
                        key(task, "final_noise_len", seed=s): run.final_len,
                        key(task, "samples", seed=s): run.samples,
                        key(task, "samples_to_final_len", seed=s): run.samples_to_final_len,
                        key(task, "steps_at_cap", seed=s): run.steps_at_limit,
                        key(task, "reached_target", seed=s): float(run.cap_stop == "accuracy")}
        metrics |= pass_metrics(task, paper, batch_size)
        se = validation_se(paper)
        if se is not None:
            metrics[key(task, "val_loss_se")] = se
        for role, role_runs in experiment.roles(task).items():
            metrics |= role_metrics(task, role, role_runs, paper, lr)
        metrics |= {key(task, "compared_noise_len"): paper[0].state.extra["compared"]["noise_len"],
                    key(task, "compare_samples"): paper[0].config.compare * batch_size}
    if "copy" in experiment.runs:
        copy_model = experiment.paper("copy")[0].state.model
        metrics |= {"alpha": alpha_of(copy_model), "alpha_raw": copy_model.alpha_raw.item()}
    return metrics


def validation_se(runs: Sequence[CopyRun]) -> float | None:
    """The median standard error over batches of the runs' validation losses near the threshold
    (`NEAR_THRESHOLD`), None when no validation was there."""
    near = [h["val_loss_se"] for run in runs for h in run.state.history
            if "val_loss_se" in h and NEAR_THRESHOLD[0] <= h["val_loss"] <= NEAR_THRESHOLD[1]]
    return float(np.median(near)) if near else None


def role_metrics(task: CopyTask, role: str, runs: Sequence[CopyRun], paper: Sequence[CopyRun],
                 lr: float) -> dict[str, float]:
    """A role's comparison over its seeds (mean accuracy with a 95 % t-interval over seeds, each seed's), whether
    it learned (mean at least twice chance), its size, multiply-adds and learning rate, its samples and length; a
    baseline's stall beside its seed's paper model."""
    accs = [run.compared for run in runs]
    mean, low, high = accuracy_ci(accs)
    model, noise = runs[0].state.model, runs[0].state.extra["compared"]["noise_len"]
    metrics = {key(task, "acc_compared", role): mean, f"{key(task, 'acc_compared', role)}.ci_low": low,
               f"{key(task, 'acc_compared', role)}.ci_high": high,
               key(task, "learned", role): float(mean >= AT_CHANCE_BELOW), key(task, "seeds", role): len(runs),
               key(task, "params", role): n_params(model), key(task, "dense_params", role): dense_params(model),
               key(task, "macs", role): macs_per_token(model_config(task, runs[0].kind), noise),
               key(task, "lr", role): lr, key(task, "samples", role): runs[0].samples,
               key(task, "final_noise_len", role): min(run.final_len for run in runs),
               key(task, "train_s", role): sum(run.state.train_time for run in runs)}
    for run, acc in zip(runs, accs):
        metrics |= {key(task, "acc_compared", role, seed=run.seed): acc,
                    key(task, "samples", role, seed=run.seed): run.samples}
    if role != "recurrent":
        by_seed = {run.seed: run for run in paper}
        metrics[key(task, "stalled", role)] = float(all(run.stalled_beside(by_seed[run.seed]) for run in runs
                                                        if run.seed in by_seed))
    return metrics


def pass_metrics(task: str, runs: Sequence[CopyRun], batch_size: int) -> dict[str, float]:
    """Per noise length the curriculum passed: the validations and samples each seed needed there, and their
    means over the seeds that passed it."""
    metrics: dict[str, float] = {}
    passed: dict[int, list[LengthStay]] = {}
    for run in runs:
        for stay in run.stays:
            if stay.outcome == "passed":
                passed.setdefault(stay.noise_len, []).append(stay)
                metrics[key(task, "validations_to_pass", noise=stay.noise_len, seed=run.seed)] = stay.validations
                metrics[key(task, "samples_to_pass", noise=stay.noise_len, seed=run.seed)] = stay.steps * batch_size
    for noise, stays in passed.items():
        metrics[key(task, "validations_to_pass", noise=noise)] = float(np.mean([s.validations for s in stays]))
        metrics[key(task, "samples_to_pass", noise=noise)] = float(np.mean([s.steps for s in stays])) * batch_size
    return metrics


def not_comparable_reasons(metrics: Mapping[str, float], profile: str, tasks: str) -> dict[str, str]:
    """A claim about length 4,128 of a task trained (`tasks`, the notebook's) is not comparable (budget) when a seed
    did not get there, or ended below the registry's threshold before the Note's samples (so its budget stopped
    short of the paper's stopping point)."""
    reasons: dict[str, str] = {}
    for claim_id, task in CLAIM_TASKS.items():
        if task not in TASK_CHOICES[tasks]:
            continue
        seeds = int(metrics[key(task, "seeds")])
        why = []
        for s in range(seeds):
            reached = int(metrics[key(task, "final_noise_len", seed=s)])
            samples, acc = metrics[key(task, "samples", seed=s)], metrics[key(task, "acc", seed=s)]
            if reached < NOTE_COPY_NOISE:
                why.append(f"seed {s} reached length {seq_len(reached)} in {samples:,.0f} samples")
            elif (acc is None or acc < TARGET_ACC[task]) and samples < NOTE_TASK_SAMPLES[task]:
                why.append(f"seed {s} ended below {100 * TARGET_ACC[task]:g} % after {samples:,.0f} samples")
        if why:
            reasons |= not_comparable([claim_id], f"budget ({profile} profile): " + "; ".join(why)
                                      + f", short of the Note's {NOTE_TASK_SAMPLES[task]:,.0f} samples")
    return reasons


def claims_not_run(tasks: str) -> dict[str, str]:
    """The claims of the tasks an execution with the notebook's `tasks` did not train, each with why (its record's
    `not_run`): empty for both tasks."""
    trained = TASK_CHOICES[tasks]
    why = (f"this execution trained {' and '.join(TASK_LABELS[t] for t in trained)} only (tasks: {tasks}); a run of "
           "the whole chapter judges it")
    return {claim_id: why for claim_id, task in CLAIM_TASKS.items() if task not in trained}


# --- tables -------------------------------------------------------------------------------------------------

def seed_table(experiment: Experiment, task: str, final_batches: int, batch_size: int) -> pd.DataFrame:
    """Per seed of the paper's model: its accuracy where every seed is scored, the length it reached and its accuracy
    there, its samples, its steps at the cap and what ended it there."""
    reached = experiment.reached(task)
    rows = [{"seed": run.seed, "accuracy": _shown(run.final_eval(reached, final_batches, batch_size)),
             "reached": seq_len(run.final_len), "accuracy there": _shown(run.final_eval(run.final_len, final_batches,
                                                                                       batch_size)),
             "samples": run.samples, f"steps at {seq_len(run.config.limit)}": run.steps_at_limit,
             "ended because": ending(run)} for run in experiment.paper(task)]
    return pd.DataFrame(rows).set_index("seed")


def ending(run: CopyRun) -> str:
    """Why a run ended, in words: the rule at its limit, or its step budget (where it stood then)."""
    if run.cap_stop is not None:
        return CAP_STOPS[run.cap_stop]
    where = "at its limit" if run.final_len == run.config.limit else f"at {seq_len(run.final_len)}"
    return f"{run.state.step:,} steps ran out ({where})"


def comparison_table(experiment: Experiment, record: Record, task: str) -> pd.DataFrame:
    """Per role of the comparison: its parameters (all and dense), multiply-adds per token, learning rate, seeds,
    accuracy (mean and 95 % interval over seeds, then each seed's) and the lengths its seeds reached."""
    m, rows = record["metrics"], []
    for role, runs in experiment.roles(task).items():
        acc = key(task, "acc_compared", role)
        rows.append({"model": role_label(role, runs[0].kind), "parameters": int(m[key(task, "params", role)]),
                     "dense": int(m[key(task, "dense_params", role)]), "MACs/token": m[key(task, "macs", role)],
                     "lr": m[key(task, "lr", role)], "seeds": len(runs),
                     "accuracy": _shown((m[acc], m[f"{acc}.ci_low"], m[f"{acc}.ci_high"])),
                     "per seed": ", ".join(f"{100 * run.compared:.1f}" for run in runs),
                     "samples": runs[0].samples,
                     "reached": ", ".join(str(seq_len(run.final_len)) for run in runs)})
    return pd.DataFrame(rows).set_index("model")


def pass_table(experiment: Experiment) -> pd.DataFrame:
    """Per task and length the paper's model passed: validations and samples to pass it, mean over the seeds that
    passed it (how many, of how many), beside the steps a validation is apart here and in the Note."""
    rows = []
    for task in experiment.runs:
        runs = experiment.paper(task)
        by_length: dict[int, list[LengthStay]] = {}
        for run in runs:
            for stay in run.stays:
                if stay.outcome == "passed":
                    by_length.setdefault(stay.noise_len, []).append(stay)
        for noise, stays in sorted(by_length.items()):
            rows.append({"task": TASK_LABELS[task], "length": seq_len(noise),
                         "validations": float(np.mean([s.validations for s in stays])),
                         "samples": float(np.mean([s.steps for s in stays])) * runs[0].batch_size,
                         "seeds": f"{len(stays)} of {len(runs)}"})
    return pd.DataFrame(rows, columns=["task", "length", "validations", "samples", "seeds"]).set_index(["task", "length"])


def length_log(experiment: Experiment) -> pd.DataFrame:
    """The curriculum's log of every run, named: per length trained at, the steps there, the best validation
    loss and accuracy reached there and how the run left it (passed, or what ended it there)."""
    rows = []
    for run in experiment.all_runs():
        for stay in run.stays:
            left = {"passed": f"passed ({stay.validations} validation{'s' * (stay.validations != 1)})",
                    "limit": "ended: " + (CAP_STOPS[stay.cap_stop] if stay.cap_stop else "steps ran out"),
                    "budget": "steps ran out"}[stay.outcome]
            rows.append({"task": TASK_LABELS[run.task], "model": run.label, "length": seq_len(stay.noise_len),
                         "steps": stay.steps, "best loss": stay.best_loss, "best acc": stay.best_acc, "left": left})
    return pd.DataFrame(rows)


def _shown(acc: tuple[float, float, float]) -> str:
    """An accuracy and its CI, in percent."""
    return f"{100 * acc[0]:.2f} [{100 * acc[1]:.2f}, {100 * acc[2]:.2f}] %"


# --- figures -----------------------------------------------------------------------------------------------

def plot_curves(experiment: Experiment, threshold: float) -> Figure:
    """Per task: validation loss, then validation accuracy, of every seed of the paper's model against
    samples, with the curriculum's sequence length (first seed) on a second axis (the Note's Fig. 4)."""
    fig, axes = page_figure(2 * len(experiment.runs), row_height=3.0)
    for i, task in enumerate(experiment.runs):
        ax_loss, ax_acc = axes[2 * i], axes[2 * i + 1]
        for j, run in enumerate(experiment.paper(task)):
            h = run.history
            ax_loss.plot(h["samples"], h["val_loss"], color=f"C{j}", label=f"seed {run.seed}")
            ax_acc.plot(h["samples"], h["val_acc"], color=f"C{j}", label=f"seed {run.seed}")
        ax_loss.axhline(threshold, color="grey", lw=0.8, ls="--", label=f"threshold {threshold}")
        ax_loss.set(yscale="log", ylabel="validation loss", title=f"{TASK_LABELS[task]}: loss")
        ax_acc.axhline(CHANCE, color="grey", lw=0.8, ls=":", label="chance 1/14")
        ax_acc.axhline(TARGET_ACC[task], color="grey", lw=0.8, ls="--",
                       label=f"registry's threshold {100 * TARGET_ACC[task]:g} %")
        ax_acc.set(xlabel="training samples", ylabel="validation token accuracy", ylim=(0, 1.02),
                   title=f"{TASK_LABELS[task]}: accuracy")
        first = experiment.paper(task)[0].history
        for ax in (ax_loss, ax_acc):
            _length_axis(ax, first["samples"], seq_len(first["noise_len"]))
        ax_loss.legend(loc="lower left")
    return fig


def _length_axis(ax: Axes, samples: pd.Series, lengths: pd.Series) -> None:
    twin = ax.twinx()
    twin.step(samples, lengths, where="pre", color="black", lw=1, alpha=0.5, label="sequence length")
    twin.set(yscale="log", ylabel="length")
    twin.set_yticks(sorted(lengths.unique()), [str(n) for n in sorted(lengths.unique())])
    twin.minorticks_off()
    twin.grid(False)


def plot_by_length(experiment: Experiment, task: CopyTask, threshold: float) -> Figure:
    """The paper model's validation loss at each length against the steps spent at that length (one panel
    per seed): how fast each length is learned, and where a run stalls above the threshold."""
    runs = experiment.paper(task)
    fig, axes = page_figure(len(runs), row_height=2.8, squeeze=False)
    for ax, run in zip(axes[:, 0], runs):
        h = run.history[run.history["step"] > 0]
        for k, (length, g) in enumerate(h.groupby("noise_len", sort=True)):
            first = step_reaching(run.state, int(length)) or 0
            ax.plot(g["step"] - first, g["val_loss"], marker=".", color=f"C{k}", label=f"{seq_len(int(length))}")
        ax.axhline(threshold, color="grey", lw=0.8, ls="--")
        ax.set(yscale="log", xlabel="steps at this length", ylabel="validation loss",
               title=f"{TASK_LABELS[task]}, seed {run.seed}: loss at each length (dashed: threshold {threshold})")
        ax.legend(title="length", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_comparison(experiment: Experiment) -> Figure:
    """Per task, every model's accuracy in the comparison: each seed a dot, the mean a bar with its 95 % interval
    over seeds, beside chance and twice chance."""
    fig, axes = page_figure(len(experiment.runs), row_height=3.0, squeeze=False)
    for ax, task in zip(axes[:, 0], experiment.runs):
        roles = experiment.roles(task)
        for i, (role, runs) in enumerate(roles.items()):
            accs = [run.compared for run in runs]
            mean, low, high = accuracy_ci(accs)
            err = None if math.isnan(low) else [[mean - low], [high - mean]]
            ax.barh(i, mean, xerr=err, color=ROLE_COLOURS[role], alpha=0.5, capsize=3)
            ax.plot(accs, [i] * len(accs), "o", color="black", ms=3)
        ax.axvline(CHANCE, color="grey", lw=0.8, ls=":", label="chance")
        ax.axvline(AT_CHANCE_BELOW, color="grey", lw=0.8, ls="--", label="twice chance")
        ax.set_yticks(range(len(roles)), [role_label(role, runs[0].kind) for role, runs in roles.items()])
        first = experiment.paper(task)[0]
        ax.set(xlim=(0, 1.02), xlabel=f"token accuracy at length {seq_len(first.state.extra['compared']['noise_len'])}"
               f" after {first.config.compare * first.batch_size:,} samples", title=TASK_LABELS[task])
        ax.invert_yaxis()
        ax.legend(loc="lower right")
    return fig


def plot_alpha(experiment: Experiment) -> Figure:
    """α of the paper's model (first seed) against samples: learnable on copy, fixed on selective copy."""
    fig, ax = page_figure(row_height=3.4)
    for task in experiment.runs:
        h = experiment.paper(task)[0].history
        ax.plot(h["samples"], h["alpha"], label=f"{TASK_LABELS[task]} ({'learnable' if task == 'copy' else 'fixed'})")
    ax.set(xlabel="training samples", ylabel="α (clamped)", ylim=(-0.02, 1.02), title="α of the paper's model")
    ax.legend()
    return fig


# --- words ------------------------------------------------------------------------------------------------

def this_run_words(values: Mapping[str, Any], settings: Settings, plan: Sequence[RunConfig], workers: int,
                   pilot: Mapping[str, Any] | None) -> str:
    """The chapter's "This run" box: the settings, the validation cadence, how a paper-model run ends at the cap,
    the baselines' samples, curriculum and learning rate, and the pilot that chose the start."""
    v, s = values, settings
    paper_dropout = paper_config("copy", "recurrent").dropout
    seeds = {task: sum(c.task == task and c.role == "recurrent" for c in plan) for task in COPY_TASKS}
    steps = {task: max((c.steps for c in plan if c.task == task), default=0) for task in COPY_TASKS}
    full = seq_len(s.cap)
    where = s.setup.description + (f", {workers} training processes of one thread each" if workers > 1 else "")
    words = [f"**This run** ({v['profile']} profile, {where}): batch {s.batch_size}, dropout {s.dropout:g}"
             + ("" if s.dropout == paper_dropout else f" (**the paper's is {paper_dropout:g}**)")
             + f", Adam from lr {s.lr:g} with the {s.lr_rule} rule, the {s.curriculum} curriculum from length "
             f"{seq_len(s.start)} to {full:,}, validated every {s.eval_every} steps on {s.eval_batches} fresh "
             f"batch{'es' * (s.eval_batches != 1)} (the Note: every 100 steps on 100; the Feb-2026 code: every 500 "
             f"on 500), so a length can double at most once every {s.eval_every} steps."]
    rules = [f"at its first validation there that reaches the registry's threshold ({100 * COPY_ACC_MIN:g} % copy, "
             f"{100 * SELECTIVE_COPY_ACC_MIN:g} % selective copy)" if s.stop_at_target else "",
             f"after {s.cap_patience} validations there without a new lowest loss" if s.cap_patience else "",
             f"{s.cap_steps:,} steps after it got there" if s.cap_steps is not None else ""]
    rules = [r for r in rules if r]
    ends = (f"at length {full:,} a run ends " + ", ".join(rules[:-1]) + (" or " if len(rules) > 1 else "") + rules[-1]
            + " (an end rule of ours: the author's code trains on to its step count)" if rules else
            f"at length {full:,} a run trains on to its step count, as the author's code does")
    trained = [task for task in COPY_TASKS if seeds[task]]
    if len(trained) == len(COPY_TASKS):
        words.append(f"The paper's model: {seeds['copy']} seeds on copy and {seeds['selective_copy']} on selective "
                     f"copy, at most {steps['copy']:,} and {steps['selective_copy']:,} steps; {ends}.")
    else:
        only = TASK_LABELS[trained[0]]
        words.append(f"This execution trains **{only} only** (its claims are judged; the others are not run). The "
                     f"paper's model: {plural(seeds[trained[0]], 'seed')} on {only}, at most {steps[trained[0]]:,} "
                     f"steps; {ends}.")
    words.append(baseline_setup_words(plan, s, v["rnn"]))
    words.append(pilot_words(pilot, s.curriculum))
    return " ".join(words)


def baseline_setup_words(plan: Sequence[RunConfig], settings: Settings, rnn: str) -> str:
    """How the comparison is run: its one scoring rule, the baselines' seeds, samples, curriculum and learning
    rate, and the author's regular model beside ours."""
    baselines = [c for c in plan if c.role != "recurrent"]
    if not baselines:
        return "No baselines."
    limit, full = max(c.limit for c in baselines if c.role != "forget"), seq_len(settings.cap)
    compare = {c.task: c.compare for c in baselines}
    steps = " and ".join(f"{compare[t] * settings.batch_size:,} samples ({compare[t]:,} steps) on {TASK_LABELS[t]}"
                         for t in compare)
    cap = (f"their curriculum stops at length {seq_len(limit):,} but keeps the paper model's learning-rate rule "
           f"(its divisor stays {settings.cap:,})" if limit < settings.cap else
           f"their curriculum runs to {full:,} like the paper model's")
    return (f"**The comparison** has one scoring rule for every model: token accuracy at the first length "
            f"({seq_len(settings.start)}) on the same {settings.final_batches} fresh batches after {steps}, the same "
            f"curriculum for all, every model over the same seeds (a seed's batches are the same for every model), "
            f"each at lr {settings.lr:g} (the paper's; not tuned per model). The paper's model is scored at that step "
            f"of its own run. The regular transformer, a {rnn.upper()} with the paper model's total parameters and one "
            f"with its dense parameters (those outside the position table) train those steps; {cap}. Forget (α = 0) "
            "trains as many steps as its seed's paper model took to reach its final length, on the paper model's "
            "curriculum to the cap, and is also scored at the comparison's step. The author's code trains its "
            "regular model at the full length from the start, with no curriculum (and reports no numbers for it); "
            "here it gets the same curriculum, so that it is compared at the same length.")


def pilot_words(pilot: Mapping[str, Any] | None, curriculum: str) -> str:
    """Which start the committed pilot chose, from what, and whether this run uses it."""
    if pilot is None:
        return "No pilot file: the start is the profile's choice."
    reach = pilot["samples_to_decide"]
    uses = "this run uses it" if curriculum == pilot["chosen"] else f"this run uses {curriculum} instead"
    return (f"The start was decided once by a pilot ({PILOT_FILE.name} beside the profiles, made by "
            f"`{pilot['command']}`): selective copy reached noise {pilot['decides_at_noise']} after "
            + " and ".join(f"{reach[c]:,.0f} samples from the {c} start" for c in reach)
            + f" (mean of {len(PILOT_SEEDS)} seeds each); it chose {pilot['chosen']}, and {uses}.")


def speed_words(record: Record, bench: pd.DataFrame) -> str:
    """How this run's step compares with the paper model's eager fp32 step with dropout (rule ``ratio`` on
    ``step_s_run`` over ``step_s_paper``), and how to read the table's speeds."""
    m = record["metrics"]
    run, paper = m["step_s_run"], m["step_s_paper"]
    same = "this run's step" in bench.index[0]
    told = f"This run's step takes {run:.2f} s, the paper model's fp32 step with dropout {paper:.2f} s"
    sentence = decided("ratio", record, ["step_s_run", "step_s_paper"], {
        "below": f"{told}: this run's is {paper / run:.2f}× as fast (faster).",
        "above": f"{told}: this run's is {paper / run:.2f}× as fast (slower).",
        "about even": "This run's step is the paper model's fp32 step with dropout." if same else
                      f"{told}: within 10 %, about as fast."})
    return (sentence + " A lever whose speed against this run's step is below 1 takes longer than the step this run "
            "takes.")


def results_words(experiment: Experiment, record: Record) -> str:
    """Per task: how far the paper's seeds got against the paper's length (rule ``reference``), the accuracy where
    all of them are scored against twice chance (``reference``: the mean, as the chapter's criterion reads it) and
    the Note's, and the claim's verdict (``verdict``)."""
    m, words = record["metrics"], []
    for task in experiment.runs:
        lengths = sorted({seq_len(run.final_len) for run in experiment.paper(task)})
        reached = seq_len(int(m[key(task, "final_noise_len")]))
        got = (f"every seed reached length {reached:,}" if len(lengths) == 1 else
               f"the seeds reached lengths {', '.join(f'{n:,}' for n in lengths)}, so all are scored at {reached:,}")
        paper_len = f"the paper's length {seq_len(NOTE_COPY_NOISE):,}"
        words.append(f"On **{TASK_LABELS[task]}** {got}, " + decided(
            "reference", record, [f"={key(task, 'final_noise_len')}", f"={NOTE_COPY_NOISE}"],
            {"lower": f"short of {paper_len}.", "not separated": f"{paper_len}.", "higher": f"beyond {paper_len}."}))
        acc, low, high = (m[f"{key(task, 'acc')}{p}"] for p in ("", ".ci_low", ".ci_high"))
        ci = "" if _missing(low) else f" (95 % CI over seeds {100 * low:.2f}–{100 * high:.2f} %)"
        chance = f"twice chance ({100 * AT_CHANCE_BELOW:.1f} %)"
        words.append(f"There the paper model's token accuracy is {100 * acc:.2f} %{ci} over "
                     f"{int(m[key(task, 'seeds')])} seeds, after {int(m[key(task, 'samples')]):,} training samples "
                     f"(first seed), against the Note's {100 * NOTE_COPY_ACC[task]:g} % after "
                     f"{NOTE_TASK_SAMPLES[task]:,.0f}; " + decided(
                         "reference", record, [f"={key(task, 'acc')}", f"={AT_CHANCE_BELOW!r}"],
                         {"higher": f"its mean is above {chance}.",
                          "lower": f"its mean is below {chance}: the model did not learn, so this is no finding.",
                          "not separated": f"its mean is exactly {chance}, the least the chapter counts as learned."}))
        claim = f"{task}_4128"
        words.append(decided_verdict(record, claim, {
            "reproduced": f"The claim at length {seq_len(NOTE_COPY_NOISE):,} is {{words}}.",
            "not reproduced": f"The claim at length {seq_len(NOTE_COPY_NOISE):,} is {{words}}.",
            "not comparable": f"The claim at length {seq_len(NOTE_COPY_NOISE):,} is not comparable: {{reason}}.",
            "not run": "The claim gets no verdict: {reason}."}))
    return " ".join(words)


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def accounting_words(experiment: Experiment, record: Record, eval_every: int) -> str:
    """The samples the paper model's first seed used against the Note's count, in the unit that compares (rule
    ``reference``): on copy, validations (the curriculum can only double at a validation, every length passed at
    its first validations, so the cadence sets the count); on selective copy, samples (its seeds spend thousands of
    steps at a length, far more than one validation interval, so the samples limit it, not the cadence)."""
    words = []
    for task in experiment.runs:
        runs = experiment.paper(task)
        passed = [[s for s in run.stays if s.outcome == "passed"] for run in runs]
        firsts = [p[0].validations for p in passed if p]
        later = [s for p in passed for s in p[1:]]
        samples = int(record["metrics"][key(task, "samples")])
        first = (f"needed {', '.join(map(str, firsts))} validations to pass their first length"
                 if firsts else "passed no length")
        quick = (f", and passed {sum(s.validations == 1 for s in later)} of the {len(later)} later lengths they passed "
                 "at the first validation there" if later else "")
        if task == "selective_copy":
            words.append(f"On {TASK_LABELS[task]} the paper model's seeds {first}{quick}. Counted in samples (the "
                         f"unit that limits this task): its first seed trained on {samples:,}, " + decided(
                             "reference", record, [f"={key(task, 'samples')}", f"={NOTE_TASK_SAMPLES[task]:.17g}"],
                             {"lower": f"{samples / NOTE_TASK_SAMPLES[task]:.1%} of the Note's "
                                       f"{NOTE_TASK_SAMPLES[task]:,.0f}.",
                              "not separated": f"as many as the Note's {NOTE_TASK_SAMPLES[task]:,.0f}.",
                              "higher": f"more than the Note's {NOTE_TASK_SAMPLES[task]:,.0f}."}))
            continue
        note = NOTE_TASK_SAMPLES[task] / NOTE_COPY_BATCH / NOTE_COPY_EVAL_EVERY
        total = int((runs[0].history["step"] > 0).sum())
        per_validation = runs[0].batch_size * eval_every  # samples between two validations here
        at_note = (f"the Note's {note:,.4g} (its {NOTE_TASK_SAMPLES[task]:,.0f} samples at a validation every "
                   f"{NOTE_COPY_EVAL_EVERY} steps of {NOTE_COPY_BATCH})")
        intervals = f"{samples / per_validation:,.4g} validation interval{'s' * (samples != per_validation)}"
        words.append(f"On {TASK_LABELS[task]} the paper model's seeds {first}{quick}. Counted in validations (the "
                     f"unit that compares across cadences here): its first seed validated {total} "
                     f"time{'s' * (total != 1)} in training (every {eval_every} "
                     f"steps of {runs[0].batch_size}, {samples:,} samples): " + decided(
                         "reference", record, [f"={key(task, 'samples')}", f"={note * per_validation:.17g}"],
                         {"lower": f"{intervals}, fewer than {at_note}.",
                          "not separated": f"{intervals}, as many as {at_note}.",
                          "higher": f"{intervals}, more than {at_note}."}))
    return " ".join(words)


def comparison_words(experiment: Experiment, record: Record) -> str:
    """Per task and baseline: its size, its accuracy over seeds beside the paper model's in the comparison (rule
    ``equal_samples``: 'higher' or 'lower' only where the two 95 % intervals over seeds do not overlap, and only
    when both learned, rule ``check``), and whether it stalled (``check``)."""
    metrics, words = record["metrics"], []
    for task in experiment.runs:
        paper = key(task, "acc_compared", "recurrent")
        samples, length = int(metrics[key(task, "compare_samples")]), seq_len(int(metrics[key(task, "compared_noise_len")]))
        words.append(f"**{TASK_LABELS[task].capitalize()}**, every model after {samples:,} samples, scored at length "
                     f"{length}: the paper model {_shown_ci(metrics, paper)}.")
        for role, runs in experiment.roles(task).items():
            if role == "recurrent":
                continue
            name = role_label(role, runs[0].kind)
            size = (f"{int(metrics[key(task, 'params', role)]):,} parameters, "
                    f"{int(metrics[key(task, 'dense_params', role)]):,} dense, "
                    f"{metrics[key(task, 'macs', role)]:,.0f} multiply-adds per token")
            told = f"{name} ({size}): {_shown_ci(metrics, key(task, 'acc_compared', role))}"
            both = metrics[key(task, "learned", role)] == 1 and metrics[key(task, "learned", "recurrent")] == 1
            if both:
                words.append(told + ", " + decided("equal_samples", record, [key(task, "acc_compared", role), paper], {
                    "higher": "higher than the paper model's.", "lower": "lower than the paper model's.",
                    "not separated": "not separated from the paper model's (the seeds' intervals overlap)."}))
            else:
                words.append(told + "; " + decided("check", record, [key(task, "learned", role)], {
                    "holds": "the paper model's mean is below twice chance, so no comparison is drawn.",
                    "fails": f"its mean is below twice chance ({100 * AT_CHANCE_BELOW:.1f} %): it did not learn in "
                             "these samples, so no comparison is drawn."}))
            if metrics[key(task, "stalled", role)]:
                words.append(decided("check", record, [key(task, "stalled", role)], {
                    "holds": "Every seed of it failed to pass a length its seed's paper model passed with the same "
                             "samples (it stalled).",
                    "fails": "It did not stall."}))
    return " ".join(words)


def _shown_ci(metrics: Mapping[str, float], name: str) -> str:
    """A recorded accuracy with its 95 % interval over seeds, in percent."""
    return _shown((metrics[name], metrics[f"{name}.ci_low"], metrics[f"{name}.ci_high"])) + " (95 % CI over seeds)"


def deviations(values: Mapping[str, Any], settings: Settings) -> pd.DataFrame:
    """What this run does that the Note or the author's code does not: every setting a verdict depends on."""
    s, paper_dropout = settings, paper_config("copy", "recurrent").dropout
    ends = [f"{100 * COPY_ACC_MIN:g} / {100 * SELECTIVE_COPY_ACC_MIN:g} % validation accuracy" if s.stop_at_target
            else "", f"{s.cap_patience} validations without a new lowest loss" if s.cap_patience else "",
            f"{s.cap_steps:,} steps" if s.cap_steps else ""]
    rows = [("validation", f"every {s.eval_every} steps on {s.eval_batches} fresh batches",
             "Note: every 100 steps on 100; Feb-2026 code: every 500 on 500"),
            ("dropout", f"{s.dropout:g}", f"{paper_dropout:g}"),
            ("precision", s.setup.precision, "not stated (a GPU)"),
            ("step budget", f"copy {values['copy_steps']:,}, selective copy {values['selective_steps']:,} steps of "
                            f"{s.batch_size}", f"Note: {NOTE_TASK_SAMPLES['copy']:,.0f} and "
                                               f"{NOTE_TASK_SAMPLES['selective_copy']:,.0f} samples"),
            ("end at the cap", "first of: " + "; ".join(e for e in ends if e) if any(ends) else "none",
             "none: the code trains on to its step count"),
            ("start length", f"{seq_len(s.start)} ({s.curriculum})", "Feb-2026 code 160; July-2025 code 64"),
            ("learning rate", f"{s.lr:g} for every model, the {s.lr_rule} rule", "5e-4, the code's rule"),
            ("baselines", "forget, regular, GRU/LSTM (two matchings), ours", "none reported")]
    return pd.DataFrame(rows, columns=["setting", "this run", "the paper"]).set_index("setting")
