"""Chapter 'Copy and selective copy': the paper's model over seeds and its baselines, trained on fresh batches
under the author's length curriculum and scored at the lengths they trained at; the chapter's run plan, its
record keys, the step's cost and the time it predicts, tables, figures and the prose that depends on numbers.

Every model sees fresh batches from `paperlib.data.synthetic` at the length a `Curriculum` sets (methods
page, copy data and curriculum), is validated on fresh batches seeded by its seed and the step (so a baseline
with the paper model's seed meets the same ones) and can be checkpointed and resumed. Models by role:

    recurrent  the paper's model: alpha learnable (copy) or fixed at 0.5 (selective copy); one run per seed
    forget     the same with alpha = 0, the ablation
    regular    a one-layer full-attention transformer of the same width
    rnn        a GRU or LSTM sized to the paper model's parameter count

`run_plan` lists every run from the notebook's parameters, and `runs` declares them as the chapter's run plan
(`paperlib.training.plan`). The paper's model ends at the cap by the budget
rules of `Settings` (`StopAtCap`); a baseline takes, on the first seed's batches, exactly the steps the paper
model's first seed took in all (`baseline_budget` full) or to pass the first length (first_pass), and never
stops early. Runs train in this process or as single-threaded worker processes (`paperlib.sweep`).
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
from paperlib.models.configs import ModelConfig, build_model
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
ModelKind = Literal["recurrent", "forget", "regular", "gru", "lstm"]
Role = Literal["recurrent", "forget", "regular", "rnn"]
CurriculumName = Literal["feb2026", "july2025"]
BaselineBudget = Literal["full", "first_pass"]
COPY_TASKS: tuple[str, ...] = get_args(CopyTask)
TASK_CHOICES: dict[str, tuple[str, ...]] = {"both": COPY_TASKS, **{task: (task,) for task in COPY_TASKS}}  # `tasks`
CLAIM_TASKS = {"copy_4128": "copy", "selective_copy_4128": "selective_copy", "rt_accumulate": "copy"}  # page order
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)
BASELINES = ("forget", "regular", "rnn")
TASK_LABELS = {"copy": "copy", "selective_copy": "selective copy"}
ROLE_COLOURS = {"recurrent": "C0", "forget": "C1", "regular": "C2", "rnn": "C3"}
PAPER_PARAMS = 508_705  # the paper's copy model (methods page, parameter counts)
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

_PER_TASK = {  # metric: (unit, meaning, forms: "" plain, "seed" .seed{k}, "role" _{role}, "noise" .n{noise}[.seed{k}])
    "acc": ("fraction", "token accuracy of the paper's model at the length every seed reached (mean over seeds)",
            ("", "seed")),
    "final_noise_len": ("tokens", "noise length reached (every seed: the shortest)", ("", "seed", "role")),
    "seeds": ("seeds", "seeds of the paper's model", ("",)),
    "samples": ("samples", "training samples (first seed)", ("", "seed", "role")),
    "samples_to_final_len": ("samples", "samples before the curriculum set the final length", ("seed",)),
    "steps_at_cap": ("steps", "training steps at the cap", ("seed",)),
    "reached_target": ("flag", "1 when the run's validation accuracy reached the registry's threshold at the cap",
                       ("seed",)),
    "validations_to_pass": ("validations", "validations at a noise length up to the one that passed it (mean over "
                            "the seeds that passed)", ("noise",)),
    "samples_to_pass": ("samples", "training samples at a noise length until it passed (as above)", ("noise",)),
    "train_s": ("seconds", "seconds in training steps (the paper model's seeds together)", ("", "role")),
    "acc_own_len": ("fraction", "a baseline's accuracy at its own final length", ("role",)),
    "acc_compared": ("fraction", "a baseline's accuracy where it is compared with the paper's model", ("role",)),
    "paper_acc_compared": ("fraction", "the paper's model there, with the same samples", ("role",)),
    "compared_noise_len": ("tokens", "the noise length of that comparison", ("role",)),
    "stalled": ("flag", "1 when a baseline did not pass a length the paper's model passed with the same samples",
                ("role",)),
    "learned": ("flag", "1 when a baseline's accuracy at its own length is at least twice chance", ("role",)),
    "reached": ("flag", "1 when a baseline trained at the paper model's final length", ("role",)),
    "acc_at_paper_len": ("fraction", "a baseline's accuracy at the paper model's final length, when it trained there",
                         ("role",)),
}
_WITH_CI = {("acc", ""), ("acc_compared", "role")}
_FORMS = {"": "{task}_%s", "seed": "{task}_%s.seed{seed}", "role": "{task}_%s_{role}",
          "noise": "{task}_%s.n{noise}"}
METRICS = Declaration("copy_tasks", [
    *(Metric(_FORMS[form] % name, unit, meaning, headline=(name, form) == ("acc", ""), ci=(name, form) in _WITH_CI)
      for name, (unit, meaning, forms) in _PER_TASK.items() for form in forms),
    *(Metric(f"{{task}}_{name}.n{{noise}}.seed{{seed}}", unit, meaning + ", one seed")
      for name, (unit, meaning, forms) in _PER_TASK.items() if "noise" in forms),
    Metric("alpha", "α", "the learnable α of the first copy seed at the end (clamped)"),
    Metric("alpha_raw", "α", "its raw value"),
    Metric("step_s_paper", "seconds", "seconds of the paper model's fp32 step with dropout"),
    Metric("step_s_run", "seconds", "seconds of this run's step"),
    Metric("expected_min", "minutes", "training minutes expected before training"),
    Metric("expected_max_min", "minutes", "training minutes at most, expected before training"),
    Metric("train_wall_s", "seconds", "wall seconds of all the training"),
], fields={"task": ["copy", "selective_copy"], "role": ["forget", "regular", "rnn"], "seed": r"\d+",
           "noise": r"\d+"})


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
    the transformers (the RNN has none)."""
    if task not in COPY_TASKS or kind not in MODEL_KINDS:
        raise ValueError(f"task must be one of {COPY_TASKS} and kind one of {MODEL_KINDS}; got {task!r}, {kind!r}")
    if kind in ("gru", "lstm"):
        return RNNConfig(kind, hidden_for_params(PAPER_PARAMS, kind))
    overrides = {} if dropout is None else {"dropout": dropout}
    if kind == "forget":
        return paper_config(task, "recurrent", alpha="forget", **overrides)
    return paper_config(task, kind, **overrides)


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
    """One training run: a `kind` model in `role` on `task` with `seed`, at most `steps` steps, its curriculum
    up to noise length `limit`; a baseline's steps are set from the paper model's first seed (`budget`)."""

    task: CopyTask
    role: Role
    kind: ModelKind
    seed: int
    steps: int
    limit: int
    budget: Literal["own"] | BaselineBudget = "own"

    @property
    def name(self) -> str:
        return f"{self.task}-{self.kind}-seed{self.seed}"


def run_plan(values: Mapping[str, Any]) -> list[RunConfig]:
    """Every run of the chapter from the notebook's parameter `values`: per task it trains (`tasks`: both, or one
    alone; a run's configuration is the same either way, so its checkpoint is too) the paper's model once per
    seed (`seeds` for copy, `selective_seeds` or else `seeds` for selective copy), then, with `baselines`, the
    forget ablation, the regular transformer and the RNN with the first seed, their curriculum up to
    `baseline_cap`, their steps set by `baseline_budget` once the paper model's first seed has run."""
    plan = []
    for task in TASK_CHOICES[values["tasks"]]:
        steps = values["copy_steps" if task == "copy" else "selective_steps"]
        seeds = values["seeds"] if task == "copy" else values["selective_seeds"] or values["seeds"]
        plan += [RunConfig(task, "recurrent", "recurrent", seed, steps, values["cap"]) for seed in range(seeds)]
        if values["baselines"]:
            limit = min(values["baseline_cap"], values["cap"])
            plan += [RunConfig(task, role, kind, 0, steps, limit, values["baseline_budget"])
                     for role, kind in (("forget", "forget"), ("regular", "regular"), ("rnn", values["rnn"]))]
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
    task, family: the model's kind), at its longest length and its most steps (a baseline's: the paper model's,
    of which its budget takes some once the first seed has run)."""
    return [_spec(config, params) for config in run_plan(params)]


def _spec(config: RunConfig, p: Mapping[str, Any]) -> RunSpec:
    batch = p["batch_size"]
    curriculum = LengthCurriculum(p["curriculum"], curriculum_start(p["curriculum"], p["cap"]), config.limit, p["cap"],
                                  p["threshold"], p["lr_rule"])
    task = (f"{TASK_LABELS[config.task]}: fresh batches, lengths {seq_len(curriculum.start):,} to "
            f"{seq_len(config.limit):,} by the {curriculum.name} curriculum")
    return RunSpec("copy_tasks", config.task, config.kind, config.seed,
                   model_config(config.task, config.kind, p["dropout"]), task, config.steps, batch,
                   seq_len(config.limit), OptimizerConfig(lr=p["lr"]), None,
                   tuple(validation_steps(config.steps, p["eval_every"])), p["eval_batches"] * batch,
                   _final_scorings(config, p) * p["final_batches"] * batch, _ends_early(config, p), curriculum)


def _final_scorings(config: RunConfig, p: Mapping[str, Any]) -> int:
    """Final scorings of a run at most: the paper model's where it first passes a length and at the length every
    seed reached (and where each baseline with the full budget is compared); a baseline's at its own length,
    where it is compared and at the paper model's length."""
    if config.role != "recurrent":
        return 3
    return 2 + (len(BASELINES) if p["baselines"] and p["baseline_budget"] == "full" else 0)


def _ends_early(config: RunConfig, p: Mapping[str, Any]) -> str:
    """Why a run may take fewer than its steps: the paper model's end rules at the cap, a baseline's budget."""
    if config.role != "recurrent":
        what = "to pass its first length" if config.budget == "first_pass" else "in all"
        return f"a baseline takes the steps the paper model's first seed took {what}"
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
        """The curriculum up to the run's limit; for the paper's model, the end rules at that limit and its
        score where it passes the first length (the baselines' comparison)."""
        curriculum = Curriculum(self.start, self.cap, self.threshold, self.lr_rule, N_DATA,
                                block_cap=CURRICULA[self.curriculum][1], limit=config.limit, label=config.name)
        if config.role != "recurrent":
            return [curriculum]
        stop = StopAtCap(config.limit, self.cap_steps, TARGET_ACC[config.task] if self.stop_at_target else None,
                         self.cap_patience)
        return [curriculum, stop, ScoreAtFirstPass(config.task, self.start, self.final_batches, self.batch_size,
                                                   CURRICULA[self.curriculum][1])]

    def meta(self, config: RunConfig) -> dict[str, Any]:
        """What identifies a run's checkpoint: everything that changes its numbers (not its most steps)."""
        rules = (self.cap_steps, self.cap_patience, self.stop_at_target) if config.role == "recurrent" else None
        return {"task": config.task, "kind": config.kind, "curriculum": self.curriculum, "start": self.start,
                "cap": self.cap, "limit": config.limit, "seed": config.seed, "batch_size": self.batch_size,
                "lr": self.lr, "lr_rule": self.lr_rule, "threshold": self.threshold, "eval_every": self.eval_every,
                "eval_batches": self.eval_batches, "dropout": self.dropout, "precision": self.setup.precision,
                "end_rules": rules, "first_pass_batches": self.final_batches if rules else None}


class ScoreAtFirstPass(Callback):
    """Scores the paper's model on the final evaluation's batches at the first length, at the validation where
    its curriculum first leaves it: the point a baseline given the same samples is compared with."""

    def __init__(self, task: CopyTask, start: int, n_batches: int, batch_size: int, block_cap: int | None):
        self.task, self.start, self.n_batches, self.batch_size = task, start, n_batches, batch_size
        self.block_cap = block_cap

    def on_eval(self, state: State, record: dict[str, float]) -> None:
        changes = state.extra["length_changes"]
        if "first_pass" in state.extra or not changes or changes[0]["step"] != state.step:
            return
        with scoring_at(state.model, self.start, self.block_cap) as model, state.setup.autocast():
            losses, accs = per_batch(model, self.task, self.start, self.n_batches, self.batch_size,
                                     eval_seed(state.seed, "final"))
        state.extra["first_pass"] = {"step": state.step, "noise_len": self.start, "accs": accs, "losses": losses}


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
        if self.config.role == "recurrent":
            return f"paper model, seed {self.seed}"
        return {"forget": "forget (α = 0)", "regular": "regular transformer"}.get(self.config.role, self.kind.upper())

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
    def first_pass(self) -> dict[str, Any] | None:
        """The paper model's score where it first passed a length (`ScoreAtFirstPass`), None if it never did."""
        return self.state.extra.get("first_pass")

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
        return {"val_loss": float(np.mean(losses)), "val_acc": float(np.mean(accs)),
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


@dataclass
class Experiment:
    """Every run of the chapter by task and role: the paper's model once per seed, each baseline once."""

    runs: dict[str, dict[str, list[CopyRun]]]
    baseline_budget: BaselineBudget = "full"
    wall_s: float = 0.0  # wall seconds of all the training (the runs overlap on several processes)

    def paper(self, task: str) -> list[CopyRun]:
        return self.runs[task]["recurrent"]

    def reached(self, task: str) -> int:
        """The noise length every seed of the paper's model reached: where its headline is scored."""
        return min(run.final_len for run in self.paper(task))

    def baselines(self, task: str) -> dict[str, CopyRun]:
        return {role: runs[0] for role, runs in self.runs[task].items() if role != "recurrent"}

    def all_runs(self) -> list[CopyRun]:
        return [run for task in self.runs.values() for runs in task.values() for run in runs]


def baseline_steps(config: RunConfig, first: CopyRun) -> int:
    """A baseline's steps: the paper model's first seed's steps in all, or to pass its first length (all of them
    when it never passed)."""
    if config.budget == "first_pass" and first.first_pass is not None:
        return first.first_pass["step"]
    return first.state.step


def train_all(settings: Settings, plan: Sequence[RunConfig], workers: int = 1) -> Experiment:
    """Train every run of `plan`, the baselines once their task's first paper-model seed has run: in this process
    (`workers` 1) or on a local cluster of `workers` single-threaded processes (0: one per core), the longest
    runs first, each run read back from its checkpoint (which parallel training needs). The runs the run
    context's `only_runs` names train first, the others after them (where the first still to train raises
    `RunDeferred`), so a plan's stage trains all its own runs before it stops."""
    if workers != 1 and not settings.checkpointing.every:
        raise ValueError("training in worker processes needs checkpoint_every > 0: the runs come back through "
                         "their checkpoints")
    own = sorted((c for c in plan if c.budget == "own"), key=lambda c: (c.task != "selective_copy", c.seed))
    later = [c for c in plan if c.budget != "own"]
    runs: dict[RunConfig, CopyRun] = {}
    postponed: list[RunConfig] = []

    def follow_up(done: RunConfig, run: CopyRun) -> list[RunConfig]:
        if done.role != "recurrent" or done.seed != own_first[done.task]:
            return []
        return [replace(c, steps=baseline_steps(c, run)) for c in later if c.task == done.task]

    def admitted(configs: list[RunConfig]) -> list[RunConfig]:
        """The runs the run filter lets train now; the others wait until these are trained."""
        postponed.extend(c for c in configs if settings.context.deferred(c.name))
        return [c for c in configs if not settings.context.deferred(c.name)]

    def read_back(config: RunConfig, result: dict[str, Any]) -> CopyRun:
        return load_run(config, settings, result["wall_s"], result["resumed_at"])

    own_first = {c.task: min(o.seed for o in own if o.task == c.task) for c in own}
    began = time.perf_counter()
    _train_runs(admitted(own), lambda c, r: admitted(follow_up(c, r)), runs, settings, workers, read_back, len(plan))
    _train_runs(postponed, follow_up, runs, settings, workers, read_back, len(plan))
    budget = next((c.budget for c in later), "full")
    experiment = Experiment({}, budget, time.perf_counter() - began)
    for config, run in sorted(runs.items(), key=lambda item: (COPY_TASKS.index(item[0].task),
                                                                ("recurrent", *BASELINES).index(item[0].role),
                                                                item[0].seed)):
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


def expected_minutes(plan: Sequence[RunConfig], settings: Settings, seconds: pd.DataFrame,
                     pilot: Mapping[str, Any] | None, workers: int) -> tuple[float, float, list[str]]:
    """(expected, at most, how) minutes of training for `plan` on `workers` processes, from each step's CPU
    seconds by length (`step_seconds`) and validations' forward passes (a third of a step per batch). Steps per
    length are the pilot's means for this task and curriculum, else one validation interval; at the cap, the
    pilot's steps there when it has them, else the budget there: "at most" always counts the budget. `how` says
    where the pilot had no steps to offer."""
    eval_share = 1 + settings.eval_batches / (3 * settings.eval_every)
    how, costs = [], []
    for config in plan:
        schedule = _pilot_schedule(pilot, config.task, settings)
        if config.budget != "own":
            first = schedule.get(settings.start, settings.eval_every)
            steps_at = {settings.start: first if config.budget == "first_pass" else config.steps}
            costs.append((_cost(steps_at, seconds, config.kind), _cost(steps_at, seconds, config.kind)))
            continue
        lengths = doublings(settings.start, config.limit)
        growing = {n: schedule.get(n, settings.eval_every) for n in lengths[:-1]}
        room = max(config.steps - sum(growing.values()), 0)
        budget = room if settings.cap_steps is None else min(room, settings.cap_steps)
        at_cap = min(schedule.get(config.limit, budget), budget)
        costs.append((_cost({**growing, config.limit: at_cap}, seconds, config.kind),
                      _cost({**growing, config.limit: budget}, seconds, config.kind)))
        if not all(n in schedule for n in lengths[:-1]):
            how.append(config.name)
    expected, most = (_schedule([c[i] * eval_share for c in costs], workers) / 60 for i in (0, 1))
    note = [f"the pilot did not measure every length of {plural(len(how), 'run')}, which count one validation "
            "interval there"]
    return expected, most, note if how else []


def doublings(start: int, limit: int) -> list[int]:
    lengths = [start]
    while lengths[-1] < limit:
        lengths.append(min(2 * lengths[-1], limit))
    return lengths


def _cost(steps_at: Mapping[int, float], seconds: pd.DataFrame, kind: str) -> float:
    column = seconds[kind if kind in seconds else "recurrent"].dropna()
    return sum(steps * float(np.interp(seq_len(n), column.index, column.values)) for n, steps in steps_at.items())


def _schedule(costs: Sequence[float], workers: int) -> float:
    """The makespan of `costs` on `workers` machines, the longest first, each to the machine free first."""
    loads = [0.0] * max(workers, 1)
    for cost in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += cost
    return max(loads)


def _pilot_schedule(pilot: Mapping[str, Any] | None, task: str, settings: Settings) -> dict[int, float]:
    """Mean steps at each noise length over the pilot's runs of `task` under this curriculum (lengths every run
    of the longest stage passed, and the steps at the cap where the pilot trained there)."""
    if pilot is None:
        return {}
    runs = [r for r in pilot["runs"] if r["task"] == task and r["curriculum"] == settings.curriculum]
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
            plan = [RunConfig(task, "recurrent", "recurrent", seed, steps, limit) for seed in PILOT_SEEDS]
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

def results(experiment: Experiment, final_batches: int, batch_size: int) -> dict[str, float]:
    """The chapter's metrics (keys from `key`): the paper's model scored at the length every seed reached, with a
    95 % t-interval over seeds, its per-length accounting; each baseline compared where `compared_at` says."""
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
            metrics |= {key(task, "acc", seed=s): acc, key(task, "final_noise_len", seed=s): run.final_len,
                        key(task, "samples", seed=s): run.samples,
                        key(task, "samples_to_final_len", seed=s): run.samples_to_final_len,
                        key(task, "steps_at_cap", seed=s): run.steps_at_limit,
                        key(task, "reached_target", seed=s): float(run.cap_stop == "accuracy")}
        metrics |= pass_metrics(task, paper, batch_size)
        for role, run in experiment.baselines(task).items():
            metrics |= _baseline_metrics(experiment, role, run, final_batches, batch_size)
    if "copy" in experiment.runs:
        copy_model = experiment.paper("copy")[0].state.model
        metrics |= {"alpha": alpha_of(copy_model), "alpha_raw": copy_model.alpha_raw.item()}
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


def compared_at(experiment: Experiment, role: str, run: CopyRun, final_batches: int, batch_size: int
                ) -> tuple[int, tuple[float, float, float], float]:
    """Where a baseline meets the paper's model with the same samples, and both scores there (the baseline's
    with its CI over batches): with the first-pass budget, at the first length, against the paper model's first
    seed scored where it passed it (same batches); with the full budget, at the longer of the two final lengths
    both trained at, against the paper seeds' final models."""
    paper = experiment.paper(run.task)
    first = paper[0].first_pass
    if experiment.baseline_budget == "first_pass" and first is not None:
        noise = first["noise_len"]
        return noise, run.final_eval(noise, final_batches, batch_size), float(np.mean(first["accs"]))
    noise = min(run.final_len, experiment.reached(run.task))
    theirs = float(np.mean([p.final_eval(noise, final_batches, batch_size)[0] for p in paper]))
    return noise, run.final_eval(noise, final_batches, batch_size), theirs


def _baseline_metrics(experiment: Experiment, role: str, run: CopyRun, final_batches: int,
                      batch_size: int) -> dict[str, float]:
    """A baseline's length and cost, whether it learned, whether it stalled (did not pass a length the paper's
    model passed with the same samples), and its comparison (`compared_at`)."""
    task, reached = run.task, experiment.reached(run.task)
    own = run.final_eval(run.final_len, final_batches, batch_size)
    noise, ours, theirs = compared_at(experiment, role, run, final_batches, batch_size)
    first_seed = experiment.paper(task)[0]
    paper_passed = {s.noise_len for s in first_seed.stays
                    if s.outcome == "passed" and s.set_at + s.steps <= run.state.step}
    own_passed = {s.noise_len for s in run.stays if s.outcome == "passed"}
    metrics = {key(task, "final_noise_len", role): run.final_len, key(task, "samples", role): run.samples,
               key(task, "train_s", role): run.state.train_time, key(task, "acc_own_len", role): own[0],
               key(task, "reached", role): float(run.trained_at(reached)),
               key(task, "stalled", role): float(bool(paper_passed - own_passed) and run.final_len < run.config.limit),
               key(task, "learned", role): float(own[0] >= AT_CHANCE_BELOW),
               key(task, "compared_noise_len", role): noise, key(task, "acc_compared", role): ours[0],
               f"{key(task, 'acc_compared', role)}.ci_low": ours[1],
               f"{key(task, 'acc_compared', role)}.ci_high": ours[2], key(task, "paper_acc_compared", role): theirs}
    if run.trained_at(reached):
        metrics[key(task, "acc_at_paper_len", role)] = run.final_eval(reached, final_batches, batch_size)[0]
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
    """Per seed of the paper's model: its accuracy where every seed is scored, the length it reached, its samples,
    its steps at the cap and what ended it there."""
    reached = experiment.reached(task)
    rows = [{"seed": run.seed, "accuracy": _shown(run.final_eval(reached, final_batches, batch_size)),
             "reached": seq_len(run.final_len), "samples": run.samples, f"steps at {seq_len(run.config.limit)}":
             run.steps_at_limit, "ended because": ending(run)} for run in experiment.paper(task)]
    return pd.DataFrame(rows).set_index("seed")


def ending(run: CopyRun) -> str:
    """Why a run ended, in words: the rule at its limit, or its step budget (where it stood then)."""
    if run.cap_stop is not None:
        return CAP_STOPS[run.cap_stop]
    where = "at its limit" if run.final_len == run.config.limit else f"at {seq_len(run.final_len)}"
    return f"{run.state.step:,} steps ran out ({where})"


def baseline_table(experiment: Experiment, task: str, final_batches: int, batch_size: int) -> pd.DataFrame:
    """Per baseline (first seed's batches): its accuracy where it is compared with the paper's model, the paper's
    model there with the same samples, the length, its samples and how far its curriculum got (every model has
    the paper model's size: `test_models_are_the_papers_size`)."""
    rows = []
    for role, run in experiment.baselines(task).items():
        noise, ours, theirs = compared_at(experiment, role, run, final_batches, batch_size)
        rows.append({"model": run.label, "accuracy": _shown(ours), "paper model": f"{100 * theirs:.2f} %",
                     "at length": seq_len(noise), "samples": run.samples, "reached": seq_len(run.final_len)})
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


def plot_validation_accuracy(experiment: Experiment) -> Figure:
    """Every model's validation accuracy against samples, each at its own curriculum length (first seed)."""
    fig, axes = page_figure(len(experiment.runs), row_height=3.4, squeeze=False)
    for ax, task in zip(axes[:, 0], experiment.runs):
        for role, runs in experiment.runs[task].items():
            h = runs[0].history
            ax.plot(h["samples"], h["val_acc"], color=ROLE_COLOURS[role],
                    label=f"{runs[0].label} (reached {seq_len(runs[0].final_len)})")
        ax.axhline(CHANCE, color="grey", lw=0.8, ls=":", label="chance 1/14")
        ax.set(xlabel="training samples", ylabel="validation token accuracy", ylim=(0, 1.02), title=TASK_LABELS[task])
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
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
             f"batch{'es' * (s.eval_batches != 1)} (the note: every 100 steps on 100; the Feb-2026 code: every 500 on 500), so a length can "
             f"double at most once every {s.eval_every} steps."]
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
    """How the baselines are trained: their samples, their curriculum's limit and learning rate, and the author's
    regular model beside ours."""
    baselines = [c for c in plan if c.role != "recurrent"]
    if not baselines:
        return "No baselines."
    limit, full = baselines[0].limit, seq_len(settings.cap)
    samples = ("the samples that seed needed to pass its first length" if baselines[0].budget == "first_pass"
               else "as many samples as that seed took in all")
    cap = (f"their curriculum stops at length {seq_len(limit):,} but keeps the paper model's learning-rate rule "
           f"(its divisor stays {settings.cap:,}), so their rate is the paper model's at every length they reach and "
           "the full-length decay never applies to them" if limit < settings.cap else
           f"their curriculum runs to {full:,} like the paper model's")
    return (f"Baselines (forget, regular, {rnn.upper()}): the first seed's batches and {samples}, and no end rule; "
            + cap + ". The author's code trains its regular model at the full length from the start, with no "
            "curriculum (and reports no numbers for it); here it gets the same curriculum, so that it is compared "
            "at the same lengths.")


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
    """The samples to reach the cap against the Note's count, told in validations (the comparable unit: the
    curriculum can only double at a validation, and the Note validated every 100 steps): the first seed's samples
    against those the Note's validations take at this run's cadence (rule ``reference``)."""
    words = []
    for task in experiment.runs:
        runs = experiment.paper(task)
        passed = [[s for s in run.stays if s.outcome == "passed"] for run in runs]
        firsts = [p[0].validations for p in passed if p]
        later = [s for p in passed for s in p[1:]]
        note = NOTE_TASK_SAMPLES[task] / NOTE_COPY_BATCH / NOTE_COPY_EVAL_EVERY
        total = int((runs[0].history["step"] > 0).sum())
        per_validation = runs[0].batch_size * eval_every  # samples between two validations here
        samples = int(record["metrics"][key(task, "samples")])
        first = (f"needed {', '.join(map(str, firsts))} validations to pass their first length"
                 if firsts else "passed no length")
        at_note = (f"the Note's {note:,.4g} (its {NOTE_TASK_SAMPLES[task]:,.0f} samples at a validation every "
                   f"{NOTE_COPY_EVAL_EVERY} steps of {NOTE_COPY_BATCH})")
        intervals = f"{samples / per_validation:,.4g} validation interval{'s' * (samples != per_validation)}"
        quick = (f", and passed {sum(s.validations == 1 for s in later)} of the {len(later)} later lengths they passed "
                 "at the first validation there" if later else "")
        words.append(f"On {TASK_LABELS[task]} the paper model's seeds {first}{quick}. Its first seed validated {total} "
                     f"time{'s' * (total != 1)} in training (every {eval_every} "
                     f"steps of {runs[0].batch_size}, {samples:,} samples): " + decided(
                         "reference", record, [f"={key(task, 'samples')}", f"={note * per_validation:.17g}"],
                         {"lower": f"{intervals}, fewer than {at_note}.",
                          "not separated": f"{intervals}, as many as {at_note}.",
                          "higher": f"{intervals}, more than {at_note}."}))
    return " ".join(words)


def baseline_words(experiment: Experiment, record: Record) -> str:
    """Per task and baseline: its samples, its accuracy beside the paper model's at the same samples where they are
    compared (rule ``equal_samples``: 'higher' or 'lower' only when the baseline's interval over batches excludes
    the paper model's score, read as a point), whether it learned and whether it stalled (rule ``check``)."""
    metrics, words = record["metrics"], []
    for task in experiment.runs:
        for role, run in experiment.baselines(task).items():
            m = {name: metrics[key(task, name, role)] for name in ("samples", "compared_noise_len", "acc_compared",
                                                                   "paper_acc_compared")}
            low, high = (metrics[f"{key(task, 'acc_compared', role)}.ci_{p}"] for p in ("low", "high"))
            theirs, length = m["paper_acc_compared"], seq_len(int(m["compared_noise_len"]))
            told = (f"{TASK_LABELS[task].capitalize()}, {run.label}, with {int(m['samples']):,} samples: "
                    f"{100 * m['acc_compared']:.1f} % at length {length:,}")
            there = f"the paper model's {100 * theirs:.1f} % there with the same samples"
            if _missing(low):
                words.append(f"{told} (one batch: no interval), beside {there}; no comparison is drawn.")
            else:
                words.append(f"{told} (95 % CI over batches {100 * low:.1f}–{100 * high:.1f} %), " + decided(
                    "equal_samples", record, [key(task, "acc_compared", role), f"={key(task, 'paper_acc_compared', role)}"],
                    {"higher": f"higher than {there}.", "lower": f"lower than {there}.",
                     "not separated": f"not separated from {there}."}))
            words.append(decided("check", record, [key(task, "learned", role)], {
                "holds": f"At its own final length it scores at least twice chance ({100 * AT_CHANCE_BELOW:.1f} %).",
                "fails": f"At its own final length it stayed below twice chance ({100 * AT_CHANCE_BELOW:.1f} %): it "
                         "did not learn."}))
            if metrics[key(task, "stalled", role)]:
                words.append(decided("check", record, [key(task, "stalled", role)], {
                    "holds": "It did not pass a length the paper's model passed with those samples (it stalled).",
                    "fails": "It did not stall."}))
    return " ".join(words)
