"""Chapter 'Copy and selective copy': the paper's model over seeds and its baselines over the same seeds, trained on
fresh batches under the author's length curriculum, every model of a task compared by one scoring rule; the
chapter's run plan, its record keys, the step's cost, tables, figures and the prose that depends on numbers.

Every model sees fresh batches from `paperlib.data.synthetic` at the length a `Curriculum` sets (methods
page, copy data and curriculum), is validated on fresh batches seeded by its seed and the step (so every model of
a seed meets the same ones) and can be checkpointed and resumed. Models by role:

    recurrent  the paper's model: alpha learnable (copy) or fixed at 0.5 (selective copy)
    forget     the same with alpha = 0, the ablation
    regular    a one-layer full-attention transformer of the same width
    rnn_total  a GRU or LSTM with the paper model's parameters (508,705)
    rnn_dense  one with its parameters outside the position table (112,417)

One scoring rule compares them (`ScoreAtStep`): every model of a task, each seed, is scored on the final
evaluation's fresh batches at the first length right after the task's `compare_steps`, and a comparison reads
the models' intervals over seeds. The paper's model ends at its limit by the end rules of `Settings`
(`StopAtCap`); regular and the RNNs train exactly the comparison's steps; forget trains as many steps as its
seed's paper model took to reach its final length (at least the comparison's). `run_plan` lists every run from
the notebook's parameters and `runs` declares them as the chapter's run plan (`paperlib.training.plan`), with the
steps per length the committed pilot expects (`expected_schedule`), which `--plan` and the page's forecast
read. Runs train in this process or as single-threaded worker processes (`paperlib.sweep`).
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
from paperlib.book.metrics import EXECUTION, Declaration, Metric
from paperlib.book.paper_numbers import (COPY_ACC_MIN, NOTE_COPY_ACC, NOTE_COPY_BATCH, NOTE_COPY_EVAL_EVERY,
                                         NOTE_COPY_SAMPLES, NOTE_SELECTIVE_COPY_SAMPLES,
                                         NOTE_COPY_NOISE, NOTE_TASK_SAMPLES, SELECTIVE_COPY_ACC_MIN)
from paperlib.book.page import configuration_words
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
Role = Literal["recurrent", "forget", "regular", "rnn_total", "rnn_dense"]
RnnCell = Literal["gru", "lstm"]
CurriculumName = Literal["feb2026", "july2025"]
COPY_TASKS: tuple[str, ...] = get_args(CopyTask)
TASK_CHOICES: dict[str, tuple[str, ...]] = {"both": COPY_TASKS, **{task: (task,) for task in COPY_TASKS}, "none": ()}
CLAIM_TASKS = {"copy_4128": "copy", "selective_copy_4128": "selective_copy", "rt_accumulate": "copy"}  # page order
AT_LENGTH_CLAIMS = ("copy_4128", "selective_copy_4128")  # the claims about length 4,128 itself
ROLES: tuple[str, ...] = get_args(Role)
BASELINES = ROLES[1:]
BUDGETS = {"recurrent": "own", "forget": "reach", "regular": "compare", "rnn_total": "compare", "rnn_dense": "compare"}
TASK_LABELS = {"copy": "copy", "selective_copy": "selective copy"}
ROLE_COLOURS = {"recurrent": "C0", "forget": "C1", "regular": "C2", "rnn_total": "C3", "rnn_dense": "C4"}
PAPER_PARAMS = 508_705  # the paper's copy model (methods page, parameter counts)
PAPER_POSITION_PARAMS = 4_128 * 96  # its position table: a row per position of the longest sequence
RNN_MATCHED = {"rnn_total": PAPER_PARAMS, "rnn_dense": PAPER_PARAMS - PAPER_POSITION_PARAMS}  # what each RNN matches
CHANCE = 1 / 14  # 14 data symbols
AT_CHANCE_BELOW = 2 * CHANCE  # a token accuracy below twice chance counts as not learned
TARGET_ACC = {"copy": COPY_ACC_MIN, "selective_copy": SELECTIVE_COPY_ACC_MIN}  # the registry's thresholds
NEAR_THRESHOLD = 2.0  # a validation loss within this factor of the threshold is "near" it (`val_loss_se_near`)
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
    # "noise" .n{noise}[.seed{k}])
    "acc": ("fraction", "token accuracy of the paper's model at the length every seed reached (mean over seeds)",
            ("", "seed")),
    "acc_own_length": ("fraction", "a seed of the paper's model at its own final length, on fresh batches", ("seed",)),
    "final_noise_len": ("tokens", "noise length reached (every seed: the shortest; a baseline: its longest)",
                        ("", "seed", "role")),
    "seeds": ("seeds", "seeds of each model", ("",)),
    "samples": ("samples", "training samples (first seed)", ("", "seed", "role_seed")),
    "samples_share": ("fraction", "the first seed's samples as a share of the Note's", ("",)),
    "samples_to_final_len": ("samples", "samples before the curriculum set the final length", ("seed",)),
    "steps_at_cap": ("steps", "training steps at the limit", ("seed",)),
    "reached_target": ("flag", "1 when the run's validation accuracy reached the registry's threshold at the limit",
                       ("seed",)),
    "validations_to_pass": ("validations", "validations at a noise length up to the one that passed it (mean over "
                            "the seeds that passed)", ("noise",)),
    "samples_to_pass": ("samples", "training samples at a noise length until it passed (as above)", ("noise",)),
    "train_s": ("seconds", "seconds in training steps (a model's seeds together)", ("", "role")),
    "val_loss_se": ("loss", "median standard error of a validation's loss over its batches (paper model)", ("",)),
    "val_loss_se_near": ("loss", "the same over the validations within a factor 2 of the threshold", ("",)),
    "compare_steps": ("steps", "training steps after which every model of the task is scored and compared", ("",)),
    "compared_noise_len": ("tokens", "the noise length of that comparison (the first length)", ("",)),
    "paper_acc_compared": ("fraction", "the paper's model there (mean over seeds)", ("",)),
    "acc_compared": ("fraction", "a baseline there (mean over seeds)", ("role", "role_seed")),
    "learned": ("flag", "1 when a model's mean accuracy where it is compared is at least twice chance", ("role",)),
    "acc_own_len": ("fraction", "a baseline at its own final length at the end of its budget (mean over seeds)",
                    ("role",)),
    "stalled": ("flag", "1 when every seed of a baseline left a length unpassed that its seed's paper model passed "
                "with the same samples", ("role",)),
    "params": ("parameters", "a model's parameters", ("role",)),
    "dense_params": ("parameters", "a model's parameters outside its position table", ("role",)),
    "macs": ("MACs/token", "a model's multiply-adds per token at the compared length", ("role",)),
    "lr": ("lr", "a model's Adam learning rate at the start", ("role",)),
}
_WITH_CI = {("acc", ""), ("paper_acc_compared", ""), ("acc_compared", "role"), ("acc_own_len", "role")}
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
    Metric("expected_min", "minutes", "minutes of training and evaluation `--plan` forecast before training"),
    Metric("train_wall_s", "seconds", "wall seconds of all the training"),
    *EXECUTION,
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


def model_config(task: CopyTask, role: Role, rnn: RnnCell = "gru", dropout: float | None = None) -> ModelConfig:
    """The config of the model in `role` for `task` (see the module docstring); `dropout` replaces the paper's 0.05
    in the transformers (the RNN has none)."""
    if task not in COPY_TASKS or role not in ROLES or rnn not in get_args(RnnCell):
        raise ValueError(f"task must be one of {COPY_TASKS}, role one of {ROLES} and rnn one of "
                         f"{get_args(RnnCell)}; got {task!r}, {role!r}, {rnn!r}")
    if role in RNN_MATCHED:
        return RNNConfig(rnn, hidden_for_params(RNN_MATCHED[role], rnn))
    overrides = {} if dropout is None else {"dropout": dropout}
    if role == "forget":
        return paper_config(task, "recurrent", alpha="forget", **overrides)
    return paper_config(task, role, **overrides)


def make_model(task: CopyTask, role: Role, rnn: RnnCell = "gru", dropout: float | None = None) -> nn.Module:
    """The model in `role` for `task` (`model_config`)."""
    return build_model(model_config(task, role, rnn, dropout))


def family(role: Role, rnn: RnnCell) -> str:
    """The model's name in the plan and the step table: its role, an RNN by its cell and what it matches
    (gru_total, gru_dense)."""
    return role.replace("rnn", rnn) if role in RNN_MATCHED else role


def role_label(role: Role, rnn: RnnCell) -> str:
    """The model in `role` as a reader names it."""
    return {"recurrent": "paper model", "forget": "forget (α = 0)", "regular": "regular transformer",
            "rnn_total": f"{rnn.upper()}, total parameters matched",
            "rnn_dense": f"{rnn.upper()}, dense parameters matched"}[role]


def model_facts(task: CopyTask, role: Role, rnn: RnnCell, noise_len: int) -> dict[str, float]:
    """What a comparison states about a model: its parameters, those outside its position table, and its
    multiply-adds per token at `noise_len` (half its forward FLOPs per token)."""
    config = model_config(task, role, rnn)
    model = build_model(config)
    position = sum(p.numel() for name, p in model.named_parameters() if name.startswith("wpe."))
    length = seq_len(noise_len)
    return {"params": n_params(model), "dense_params": n_params(model) - position,
            "macs": forward_flops(config, length) / 2 / length}


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
    """One training run: the model in `role` on `task` with `seed`, at most `steps` steps, its curriculum up to
    noise length `limit`; a forget run's steps are set from its seed's paper model once that has run (`budget`)."""

    task: CopyTask
    role: Role
    seed: int
    steps: int
    limit: int
    rnn: RnnCell = "gru"

    @property
    def budget(self) -> str:
        """own: its steps and end rules; compare: exactly the comparison's steps; reach: its seed's paper model's
        steps to reach its final length."""
        return BUDGETS[self.role]

    @property
    def family(self) -> str:
        return family(self.role, self.rnn)

    @property
    def name(self) -> str:
        return f"{self.task}-{self.family}-seed{self.seed}"


def compare_steps(values: Mapping[str, Any], task: str) -> int:
    """The steps after which every model of `task` is scored (`ScoreAtStep`), checked against the parameters: a
    validation step (a multiple of `eval_every`) within the paper model's steps."""
    steps = values["copy_compare_steps" if task == "copy" else "selective_compare_steps"]
    most = values["copy_steps" if task == "copy" else "selective_steps"]
    if steps > most or steps % values["eval_every"]:
        raise ValueError(f"{task}: the comparison's steps ({steps}) must be a multiple of eval_every "
                         f"({values['eval_every']}) and at most the paper model's steps ({most})")
    return steps


def run_plan(values: Mapping[str, Any]) -> list[RunConfig]:
    """Every run of the chapter from the notebook's parameter `values`: per task it trains (`tasks`: both, or one
    alone; a run's configuration is the same either way, so its checkpoint is too) the paper's model once per
    seed (`seeds` for copy, `selective_seeds` or else `seeds` for selective copy) up to noise `limit`, and, for the
    tasks `baselines` names, each baseline once per seed: forget with the paper model's steps at most (its own
    seed's are set once that has run), the others with the comparison's steps."""
    plan = []
    for task in TASK_CHOICES[values["tasks"]]:
        steps = values["copy_steps" if task == "copy" else "selective_steps"]
        seeds = values["seeds"] if task == "copy" else values["selective_seeds"] or values["seeds"]
        limit, compare, rnn = min(values["limit"], values["cap"]), compare_steps(values, task), values["rnn"]
        plan += [RunConfig(task, "recurrent", seed, steps, limit, rnn) for seed in range(seeds)]
        if task in TASK_CHOICES[values["baselines"]]:
            plan += [RunConfig(task, role, seed, steps if BUDGETS[role] == "reach" else compare, limit, rnn)
                     for seed in range(seeds) for role in BASELINES]
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
    task, family: the model), at its longest length and its most steps, with the steps per length it is expected
    to take (`expected_schedule`)."""
    pilot = load_pilot()
    return [_spec(config, params, pilot) for config in run_plan(params)]


def _spec(config: RunConfig, p: Mapping[str, Any], pilot: Mapping[str, Any] | None) -> RunSpec:
    batch = p["batch_size"]
    curriculum = LengthCurriculum(p["curriculum"], curriculum_start(p["curriculum"], p["cap"]), config.limit, p["cap"],
                                  p["threshold"], p["lr_rule"])
    task = (f"{TASK_LABELS[config.task]}: fresh batches, lengths {seq_len(curriculum.start):,} to "
            f"{seq_len(config.limit):,} by the {curriculum.name} curriculum")
    scorings = 3 if config.role == "recurrent" else 2  # where compared, at its own length (and where all seeds got)
    return RunSpec("copy_tasks", config.task, config.family, config.seed,
                   model_config(config.task, config.role, config.rnn, p["dropout"]), task, config.steps, batch,
                   seq_len(config.limit), OptimizerConfig(lr=p["lr"]), None,
                   tuple(validation_steps(config.steps, p["eval_every"])), p["eval_batches"] * batch,
                   scorings * p["final_batches"] * batch, _ends_early(config, p), curriculum,
                   expected_schedule(config, p, pilot), _precision(p))


def _precision(p: Mapping[str, Any]) -> str:
    """The arithmetic a CPU run's steps use: fp32 unless bf16 is asked for."""
    return "bf16" if p["precision"] == "bf16" else "fp32"


def _ends_early(config: RunConfig, p: Mapping[str, Any]) -> str:
    """Why a run may take fewer than its steps: the paper model's end rules at its limit, forget's budget."""
    if config.budget == "reach":
        return "forget takes the steps its seed's paper model took to reach its final length"
    if config.budget == "compare":
        return ""
    rules = [f"at the registry's threshold of validation accuracy ({100 * COPY_ACC_MIN:g} % copy, "
             f"{100 * SELECTIVE_COPY_ACC_MIN:g} % selective copy)" if p["stop_at_target"] else "",
             f"after {p['cap_patience']} validations without a new lowest loss" if p["cap_patience"] else "",
             f"{p['cap_steps']:,} steps after it got there" if p["cap_steps"] else ""]
    rules = [rule for rule in rules if rule]
    limit = seq_len(min(p["limit"], p["cap"]))
    return f"at length {limit:,} the paper model ends at the first of: " + "; ".join(rules) if rules else ""


def expected_schedule(config: RunConfig, p: Mapping[str, Any], pilot: Mapping[str, Any] | None
                      ) -> tuple[tuple[int, int], ...]:
    """(sequence length, steps) a run is expected to take: at each length below the limit the committed pilot's mean
    steps to pass it under this curriculum, rounded up to whole validation intervals (one interval where the pilot
    has none); at the limit one interval when a validation there may end it (`stop_at_target`), else the steps
    left; all cut at the run's steps. Forget is expected to stay at its first length for its seed's paper model's
    steps below the limit (the ablation cannot carry a token past its block)."""
    every, start = p["eval_every"], curriculum_start(p["curriculum"], p["cap"])
    passed = _pilot_schedule(pilot, config.task, p["curriculum"])
    lengths = doublings(start, config.limit)
    stays = [(noise, every * max(1, math.ceil(passed.get(noise, every) / every))) for noise in lengths[:-1]]
    if config.budget == "reach":
        return ((seq_len(start), max(sum(s for _, s in stays), compare_steps(p, config.task))),)
    left = config.steps - sum(s for _, s in stays)
    stays.append((config.limit, min(every, left) if p["stop_at_target"] and config.role == "recurrent" else left))
    schedule, total = [], 0
    for noise, steps in stays:
        steps = min(steps, config.steps - total)
        if steps > 0:
            schedule.append((seq_len(noise), steps))
            total += steps
    return tuple(schedule)


@dataclass
class Settings:
    """How every run of a chapter is trained, validated, compared and ended (from the notebook's parameters:
    `settings_from`)."""

    setup: DeviceSetup
    batch_size: int
    lr: float
    curriculum: CurriculumName  # the author's start and block rule (see CURRICULA)
    cap: int  # the target noise length (the learning-rate rule's divisor)
    threshold: float  # validation loss below which the length doubles
    lr_rule: LrRule  # see `paperlib.training.curriculum`
    eval_every: int  # steps between validations
    eval_batches: int  # fresh batches per validation
    final_batches: int  # fresh batches of a final score (and of every model's where it is compared)
    compare_steps: Mapping[str, int]  # per task: the steps after which every model is compared (`ScoreAtStep`)
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
        """The curriculum up to the run's limit and the comparison's score (every run); the paper model's end
        rules at its limit."""
        block_cap = CURRICULA[self.curriculum][1]
        curriculum = Curriculum(self.start, self.cap, self.threshold, self.lr_rule, N_DATA, block_cap=block_cap,
                                limit=config.limit, label=config.name)
        compared = ScoreAtStep(config.task, self.compare_steps[config.task], self.start, self.final_batches,
                               self.batch_size, block_cap)
        if config.role != "recurrent":
            return [curriculum, compared]
        stop = StopAtCap(config.limit, self.cap_steps, TARGET_ACC[config.task] if self.stop_at_target else None,
                         self.cap_patience)
        return [curriculum, stop, compared]

    def meta(self, config: RunConfig) -> dict[str, Any]:
        """What identifies a run's checkpoint: everything that changes its numbers (not its most steps)."""
        rules = (self.cap_steps, self.cap_patience, self.stop_at_target) if config.role == "recurrent" else None
        return {"task": config.task, "family": config.family, "curriculum": self.curriculum, "start": self.start,
                "cap": self.cap, "limit": config.limit, "seed": config.seed, "batch_size": self.batch_size,
                "lr": self.lr, "lr_rule": self.lr_rule, "threshold": self.threshold, "eval_every": self.eval_every,
                "eval_batches": self.eval_batches, "dropout": self.dropout, "precision": self.setup.precision,
                "end_rules": rules, "compared": (self.compare_steps[config.task], self.final_batches)}


class ScoreAtStep(Callback):
    """The one scoring rule of a comparison: right after `step` training steps (a validation step), the model is
    scored on the final evaluation's fresh batches of its seed at the first length, wherever its curriculum has
    got to; every model of a task, each seed, is scored so."""

    def __init__(self, task: CopyTask, step: int, start: int, n_batches: int, batch_size: int, block_cap: int | None):
        self.task, self.step, self.start, self.n_batches, self.batch_size = task, step, start, n_batches, batch_size
        self.block_cap = block_cap

    def on_eval(self, state: State, record: dict[str, float]) -> None:
        if state.step != self.step or "compared" in state.extra:
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
    def seed(self) -> int:
        return self.state.seed

    @property
    def label(self) -> str:
        """The run as a reader names it."""
        return f"{role_label(self.config.role, self.config.rnn)}, seed {self.seed}"

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
        """Its mean accuracy where every model of its task is compared (`ScoreAtStep`), NaN when it stopped before."""
        scored = self.state.extra.get("compared")
        return math.nan if scored is None else float(np.mean(scored["accs"]))

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
    return init(lambda: make_model(config.task, config.role, config.rnn, settings.dropout),
                OptimizerConfig(lr=settings.lr), config.seed, settings.setup)


def train_copy(config: RunConfig, settings: Settings, *, show_progress: bool = True) -> CopyRun:
    """Train the run `config` under `settings` (resuming it from its checkpoint when asked)."""
    s, state = settings, _new_state(config, settings)
    task = config.task

    def validate(model: nn.Module) -> dict[str, float]:
        losses, accs = per_batch(model, task, state.extra["noise_len"], s.eval_batches, s.batch_size,
                                 eval_seed(config.seed, "validation", state.step))
        alpha = alpha_of(model)
        se = float(np.std(losses, ddof=1) / math.sqrt(len(losses))) if len(losses) > 1 else math.nan
        return {"val_loss": float(np.mean(losses)), "val_loss_se": se, "val_acc": float(np.mean(accs)),
                **({} if alpha is None else {"alpha": alpha})}

    def sample(st: State) -> Batch:
        return copy_batch(s.batch_size, st.extra["noise_len"], selective=task == "selective_copy",
                          generator=st.generator)

    began = time.perf_counter()
    resumed = train_resumable(state, sample, model_loss(), config.steps, chapter="copy_tasks", name=config.name,
                              meta=s.meta(config), checkpointing=s.checkpointing, context=s.context,
                              callbacks=s.callbacks(config),
                              eval_steps=validation_steps(config.steps, s.eval_every), evaluate=validate,
                              show_progress=show_progress, desc=f"{TASK_LABELS[task]} {config.family} seed {config.seed}")
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
    """Every run of the chapter by task and role, each role once per seed."""

    runs: dict[str, dict[str, list[CopyRun]]]
    wall_s: float = 0.0  # wall seconds of all the training (the runs overlap on several processes)

    def paper(self, task: str) -> list[CopyRun]:
        return self.runs[task]["recurrent"]

    def reached(self, task: str) -> int:
        """The noise length every seed of the paper's model reached: where its headline is scored."""
        return min(run.final_len for run in self.paper(task))

    def baselines(self, task: str) -> dict[str, list[CopyRun]]:
        return {role: runs for role, runs in self.runs[task].items() if role != "recurrent"}

    def all_runs(self) -> list[CopyRun]:
        return [run for task in self.runs.values() for runs in task.values() for run in runs]


def baseline_steps(config: RunConfig, paper: CopyRun, compare: int) -> int:
    """A baseline's steps: forget's are its seed's paper model's steps to reach its final length, at least the
    comparison's `compare`; the others keep theirs (the comparison's)."""
    return max(compare, paper.step_to_final_len) if config.budget == "reach" else config.steps


def train_all(settings: Settings, plan: Sequence[RunConfig], workers: int = 1) -> Experiment:
    """Train every run of `plan`, each seed's baselines once its task's paper model of that seed has run: in this
    process (`workers` 1) or on a local cluster of `workers` single-threaded processes (0: one per core), each run
    read back from its checkpoint (which parallel training needs). The runs the run context's `only_runs` names
    train first, the others after them (where the first still to train raises `RunDeferred`), so a plan's stage
    trains all its own runs before it stops."""
    if workers != 1 and not settings.checkpointing.every:
        raise ValueError("training in worker processes needs checkpoint_every > 0: the runs come back through "
                         "their checkpoints")
    own = sorted((c for c in plan if c.role == "recurrent"), key=lambda c: (c.task != "selective_copy", c.seed))
    later = [c for c in plan if c.role != "recurrent"]
    runs: dict[RunConfig, CopyRun] = {}
    postponed: list[RunConfig] = []

    def follow_up(done: RunConfig, run: CopyRun) -> list[RunConfig]:
        if done.role != "recurrent":
            return []
        compare = settings.compare_steps[done.task]
        return [replace(c, steps=baseline_steps(c, run, compare)) for c in later
                if c.task == done.task and c.seed == done.seed]

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
            model = variant.setup.prepare(make_model("copy", "recurrent", dropout=variant.dropout))
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


def step_seconds(setup: DeviceSetup, lengths: Mapping[str, Sequence[int]], rnn: RnnCell, batch_size: int,
                 dropout: float, threads: int) -> pd.DataFrame:
    """Seconds of one selective-copy training step on `threads` threads (by `step_clock`) of the model in each role
    of `lengths` at each of its noise lengths, one warm-up and one timed step each: a table by sequence length and
    model (its `family`), NaN where a model was not timed."""
    rows, (clock, _) = [], step_clock(threads)
    with scoped_threads(threads):
        for role, noises in lengths.items():
            model = setup.prepare(make_model("selective_copy", role, rnn, dropout)).train()
            for noise in progress(noises, desc=f"step time, {family(role, rnn)}"):
                step = _step_fn(model, setup, copy_batch(batch_size, noise, selective=True,
                                                         generator=torch.Generator().manual_seed(0)))
                seconds = time_call(step, setup.device, warmup=1, repeats=1, clock=clock)[0]
                rows.append({"model": family(role, rnn), "length": seq_len(noise), "seconds": seconds})
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
    model = setup.prepare(make_model("selective_copy", "recurrent", dropout=dropout)).train()
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
    """The curriculum's noise lengths from `start`, doubling, up to `limit`."""
    lengths = [start]
    while lengths[-1] < limit:
        lengths.append(min(2 * lengths[-1], limit))
    return lengths


def _pilot_schedule(pilot: Mapping[str, Any] | None, task: str, curriculum: str) -> dict[int, float]:
    """Mean steps to pass each noise length over the committed pilot's runs of `task` under `curriculum` (the
    lengths every run of its longest stage passed)."""
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
            if stay["outcome"] == "passed":
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
            plan = [RunConfig(task, "recurrent", seed, steps, limit) for seed in PILOT_SEEDS]
            out += [(curriculum, run) for run in train_all(ours, plan, workers).all_runs()]
    return out


def settings_from(values: Mapping[str, Any], setup: DeviceSetup, context: RunContext) -> Settings:
    """The chapter's `Settings` from its notebook parameters (`values`), device set-up and run context."""
    return Settings(setup, batch_size=values["batch_size"], lr=values["lr"], curriculum=values["curriculum"],
                    cap=values["cap"], threshold=values["threshold"], lr_rule=values["lr_rule"],
                    eval_every=values["eval_every"], eval_batches=values["eval_batches"],
                    final_batches=values["final_batches"],
                    compare_steps={task: compare_steps(values, task) for task in COPY_TASKS}, dropout=values["dropout"],
                    cap_steps=values["cap_steps"] or None, cap_patience=values["cap_patience"] or None,
                    stop_at_target=values["stop_at_target"],
                    checkpointing=Checkpointing(values["checkpoint_every"], values["resume"]), context=context)


# --- results and record -------------------------------------------------------------------------------------

def results(experiment: Experiment, final_batches: int, batch_size: int, lr: float,
            threshold: float) -> dict[str, float]:
    """The chapter's metrics (keys from `key`): the paper's model scored at the length every seed reached, with a
    95 % t-interval over seeds, each seed at its own final length, its per-length accounting and validation noise;
    every model of a task where they are compared (`comparison_metrics`)."""
    metrics: dict[str, float] = {}
    for task in experiment.runs:
        paper, reached = experiment.paper(task), experiment.reached(task)
        accs = [run.final_eval(reached, final_batches, batch_size)[0] for run in paper]
        mean, low, high = accuracy_ci(accs)
        metrics |= {key(task, "acc"): mean, f"{key(task, 'acc')}.ci_low": low, f"{key(task, 'acc')}.ci_high": high,
                    key(task, "final_noise_len"): reached, key(task, "seeds"): len(paper),
                    key(task, "samples"): paper[0].samples,
                    key(task, "samples_share"): paper[0].samples / NOTE_TASK_SAMPLES[task],
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
        metrics |= pass_metrics(task, paper, batch_size) | validation_noise(task, paper, threshold)
        metrics |= comparison_metrics(experiment, task, final_batches, batch_size, lr)
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


def validation_noise(task: str, runs: Sequence[CopyRun], threshold: float) -> dict[str, float]:
    """The median standard error of a validation's loss over its batches, over every validation of the paper
    model's seeds after the first, and over those within a factor `NEAR_THRESHOLD` of the `threshold` (left out
    when none is: the seeds jumped past it between two validations)."""
    rows = pd.concat([run.history[run.history["step"] > 0] for run in runs])
    if "val_loss_se" not in rows or rows["val_loss_se"].isna().all():
        return {}
    near = rows[(rows["val_loss"] >= threshold / NEAR_THRESHOLD) & (rows["val_loss"] <= threshold * NEAR_THRESHOLD)]
    metrics = {key(task, "val_loss_se"): float(rows["val_loss_se"].median())}
    if near["val_loss_se"].notna().any():
        metrics[key(task, "val_loss_se_near")] = float(near["val_loss_se"].median())
    return metrics


def comparison_metrics(experiment: Experiment, task: str, final_batches: int, batch_size: int,
                       lr: float) -> dict[str, float]:
    """Every model of `task` where they are compared (`ScoreAtStep`): its mean accuracy over seeds with a 95 %
    t-interval, whether that mean is at least twice chance, its size and multiply-adds per token and its learning
    rate; each baseline's length, samples and cost, its accuracy at its own final length over seeds, and whether
    every seed stalled (left a length unpassed that its seed's paper model passed with the same samples)."""
    paper = {run.seed: run for run in experiment.paper(task)}
    some = next(iter(paper.values()))
    compare, start, rnn = some.state.extra.get("compared", {}).get("step"), some.history["noise_len"].iloc[0], \
        some.config.rnn
    if compare is None:
        return {}
    metrics = {key(task, "compare_steps"): compare, key(task, "compared_noise_len"): int(start)}
    mean, low, high = accuracy_ci([run.compared for run in paper.values()])
    metrics |= {key(task, "paper_acc_compared"): mean, f"{key(task, 'paper_acc_compared')}.ci_low": low,
                f"{key(task, 'paper_acc_compared')}.ci_high": high}
    for role, runs in {"recurrent": list(paper.values()), **experiment.baselines(task)}.items():
        means = [run.compared for run in runs]
        metrics |= {key(task, name, role): value for name, value in model_facts(task, role, rnn, int(start)).items()}
        metrics |= {key(task, "lr", role): lr, key(task, "learned", role): float(np.mean(means) >= AT_CHANCE_BELOW)}
        if role == "recurrent":
            continue
        mean, low, high = accuracy_ci(means)
        own = accuracy_ci([run.final_eval(run.final_len, final_batches, batch_size)[0] for run in runs])
        metrics |= {key(task, "acc_compared", role): mean, f"{key(task, 'acc_compared', role)}.ci_low": low,
                    f"{key(task, 'acc_compared', role)}.ci_high": high,
                    key(task, "acc_own_len", role): own[0], f"{key(task, 'acc_own_len', role)}.ci_low": own[1],
                    f"{key(task, 'acc_own_len', role)}.ci_high": own[2],
                    key(task, "final_noise_len", role): max(run.final_len for run in runs),
                    key(task, "train_s", role): sum(run.state.train_time for run in runs),
                    key(task, "stalled", role): float(all(stalled(run, paper[run.seed]) for run in runs))}
        for run in runs:
            metrics |= {key(task, "acc_compared", role, seed=run.seed): run.compared,
                        key(task, "samples", role, seed=run.seed): run.samples}
    return metrics


def stalled(run: CopyRun, paper: CopyRun) -> bool:
    """Whether a baseline left a length unpassed that its seed's paper model passed within the baseline's steps,
    and ended short of its limit."""
    paper_passed = {s.noise_len for s in paper.stays if s.outcome == "passed" and s.set_at + s.steps <= run.state.step}
    own_passed = {s.noise_len for s in run.stays if s.outcome == "passed"}
    return bool(paper_passed - own_passed) and run.final_len < run.config.limit


def not_comparable_reasons(metrics: Mapping[str, float], profile: str, tasks: str) -> dict[str, str]:
    """A claim about length 4,128 of a task trained (`tasks`, the notebook's) is not comparable (budget) when a seed
    did not get there, or ended below the registry's threshold before the Note's samples (so its budget stopped
    short of the paper's stopping point); accumulate against forget, when a seed of the paper model ended below
    the threshold before the Note's samples at the length it reached."""
    reasons: dict[str, str] = {}
    for claim_id, task in CLAIM_TASKS.items():
        if task not in TASK_CHOICES[tasks]:
            continue
        why = []
        for s in range(int(metrics[key(task, "seeds")])):
            reached = int(metrics[key(task, "final_noise_len", seed=s)])
            samples, acc = metrics[key(task, "samples", seed=s)], metrics[key(task, "acc", seed=s)]
            if reached < NOTE_COPY_NOISE and claim_id in AT_LENGTH_CLAIMS:
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
    """Per seed of the paper's model: its accuracy where every seed is scored and at its own final length, the
    length it reached, its samples, its steps at the limit and what ended it there."""
    reached = experiment.reached(task)
    rows = [{"seed": run.seed, f"accuracy at {seq_len(reached):,}": _shown(run.final_eval(reached, final_batches,
                                                                                            batch_size)),
             "reached": seq_len(run.final_len),
             "accuracy there": _shown(run.final_eval(run.final_len, final_batches, batch_size)),
             "samples": run.samples, f"steps at {seq_len(run.config.limit):,}": run.steps_at_limit,
             "ended because": ending(run)} for run in experiment.paper(task)]
    return pd.DataFrame(rows).set_index("seed")


def ending(run: CopyRun) -> str:
    """Why a run ended, in words: the rule at its limit, or its step budget (where it stood then)."""
    if run.cap_stop is not None:
        return CAP_STOPS[run.cap_stop]
    where = "at its limit" if run.final_len == run.config.limit else f"at {seq_len(run.final_len)}"
    return f"{run.state.step:,} steps ran out ({where})"


def comparison_table(record: Record, task: str, rnn: RnnCell) -> pd.DataFrame:
    """Every model of `task` where they are compared, from the record: its accuracy (mean and 95 % interval over
    seeds), its parameters in all and outside the position table, its multiply-adds per token, its learning rate,
    and a baseline's accuracy at its own final length at the end of its budget."""
    m, rows = record["metrics"], []
    for role in ROLES:
        if m.get(key(task, "params", role)) is None:
            continue
        acc = "paper_acc_compared" if role == "recurrent" else "acc_compared"
        name = key(task, acc) if role == "recurrent" else key(task, acc, role)
        own = key(task, "acc_own_len", role) if role != "recurrent" else None
        rows.append({"model": role_label(role, rnn), "accuracy where compared": _shown_metric(m, name),
                     "parameters": f"{int(m[key(task, 'params', role)]):,}",
                     "dense parameters": f"{int(m[key(task, 'dense_params', role)]):,}",
                     "MACs per token": f"{m[key(task, 'macs', role)]:,.0f}", "lr": f"{m[key(task, 'lr', role)]:g}",
                     "at its own final length": _shown_metric(m, own) if own else "see the seeds' table"})
    return pd.DataFrame(rows).set_index("model")


def pass_table(experiment: Experiment) -> pd.DataFrame:
    """Per task and length the paper's model passed: validations and samples to pass it, mean over the seeds that
    passed it (how many, of how many)."""
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


def deviations(values: Mapping[str, Any], settings: Settings) -> pd.DataFrame:
    """What this run does that the Note or the author's code does not (or says nothing of), beside what they do:
    validation, dropout, precision, step budget, end rules, start, length limit, learning rate, baselines."""
    s, v = settings, values
    paper_dropout = paper_config("copy", "recurrent").dropout
    rules = _end_rules(s) or "none: trains on to its step count"
    rows = [
        ("validation", f"every {NOTE_COPY_EVAL_EVERY} steps on 100 batches (Note); every 500 on 500 (Feb-2026 code)",
         f"every {s.eval_every} steps on {s.eval_batches} batches"),
        ("dropout", f"{paper_dropout:g}", f"{s.dropout:g}"),
        ("precision", "fp32 on a GPU (the code's default)", s.setup.precision),
        ("step budget", f"{NOTE_COPY_SAMPLES:,.0f} samples on copy, {NOTE_SELECTIVE_COPY_SAMPLES:,.0f} on selective "
                        "copy (Table 6)", f"{v['copy_steps']:,} steps on copy, {v['selective_steps']:,} on selective "
                                          f"copy, of {s.batch_size}"),
        ("end at the limit", "trains on to its step count", rules),
        ("start length", "noise 128, K 32 (Feb 2026); noise 32, K min(L/2, 32) (July 2025)",
         f"noise {s.start} ({s.curriculum})"),
        ("longest length", f"{seq_len(NOTE_COPY_NOISE):,}", f"{seq_len(min(v['limit'], s.cap)):,}"),
        ("learning rate", "5e-4 for the paper's model", f"{s.lr:g} for every model, not tuned per model"),
        ("baselines", "none reported (the code has a regular transformer without curriculum)",
         "forget, regular, GRU matched two ways, each over the paper model's seeds, with its curriculum"),
    ]
    return pd.DataFrame(rows, columns=["what", "the Note or the author's code", "this run"]).set_index("what")


def _shown(acc: tuple[float, float, float]) -> str:
    """An accuracy and its CI, in percent."""
    return f"{100 * acc[0]:.2f} [{100 * acc[1]:.2f}, {100 * acc[2]:.2f}] %"


def _shown_metric(m: Mapping[str, Any], name: str) -> str:
    """A recorded accuracy and its CI, in percent."""
    return _shown((m[name], m[f"{name}.ci_low"], m[f"{name}.ci_high"]))


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
    """Per task, every model where they are compared (`ScoreAtStep`): each seed's accuracy as a dot, the mean over
    seeds with its 95 % t-interval as a bar, chance and twice chance as lines."""
    fig, axes = page_figure(len(experiment.runs), row_height=2.6, squeeze=False)
    for ax, task in zip(axes[:, 0], experiment.runs):
        roles = list(experiment.runs[task])
        for y, role in enumerate(roles):
            runs = experiment.runs[task][role]
            accs = [run.compared for run in runs]
            mean, low, high = accuracy_ci(accs)
            ax.scatter(accs, [y] * len(accs), color=ROLE_COLOURS[role], alpha=0.6, s=18)
            if not math.isnan(low):
                ax.errorbar(mean, y, xerr=[[mean - low], [high - mean]], fmt="|", color=ROLE_COLOURS[role],
                            capsize=4, ms=14)
        ax.axvline(CHANCE, color="grey", lw=0.8, ls=":", label="chance 1/14")
        ax.axvline(AT_CHANCE_BELOW, color="grey", lw=0.8, ls="--", label="twice chance")
        first = experiment.paper(task)[0]
        ax.set_yticks(range(len(roles)), [role_label(r, first.config.rnn) for r in roles])
        ax.set(xlim=(0, 1.02), xlabel="token accuracy where compared (dots: seeds; bar: 95 % interval of the mean)",
               title=f"{TASK_LABELS[task]}: every model after {first.state.extra.get('compared', {}).get('step', '?')} "
                     f"steps, at length {seq_len(int(first.history['noise_len'].iloc[0]))}")
        ax.invert_yaxis()
        ax.legend(loc="lower right", fontsize="small")
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

def _end_rules(s: Settings) -> str:
    """The paper model's end rules at its limit, in words ("" when it has none)."""
    rules = [f"at its first validation there that reaches the registry's threshold ({100 * COPY_ACC_MIN:g} % copy, "
             f"{100 * SELECTIVE_COPY_ACC_MIN:g} % selective copy)" if s.stop_at_target else "",
             f"after {s.cap_patience} validations there without a new lowest loss" if s.cap_patience else "",
             f"{s.cap_steps:,} steps after it got there" if s.cap_steps is not None else ""]
    rules = [r for r in rules if r]
    return ", ".join(rules[:-1]) + (" or " if len(rules) > 1 else "") + rules[-1] if rules else ""


def this_run_words(values: Mapping[str, Any], settings: Settings, plan: Sequence[RunConfig], workers: int,
                   pilot: Mapping[str, Any] | None) -> str:
    """The chapter's "This run" box: the settings, the validation cadence, how a paper-model run ends at its
    limit, the comparison's rule and the baselines, and the pilot that chose the start."""
    v, s = values, settings
    paper_dropout = paper_config("copy", "recurrent").dropout
    seeds = {task: sum(c.task == task and c.role == "recurrent" for c in plan) for task in COPY_TASKS}
    steps = {task: max((c.steps for c in plan if c.task == task), default=0) for task in COPY_TASKS}
    limit = seq_len(min(v["limit"], s.cap))
    where = s.setup.description + (f", {workers} training processes of one thread each" if workers > 1 else "")
    words = [f"**This run** ({v['profile']} profile, {where}): batch {s.batch_size}, dropout {s.dropout:g}"
             + ("" if s.dropout == paper_dropout else f" (**the paper's is {paper_dropout:g}**)")
             + f", Adam from lr {s.lr:g} with the {s.lr_rule} rule, the {s.curriculum} curriculum from length "
             f"{seq_len(s.start)} to {limit:,}"
             + ("" if limit == seq_len(s.cap) else f" (**the paper's is {seq_len(s.cap):,}**; the learning-rate "
                                                   f"rule still divides by {s.cap:,})")
             + f", validated every {s.eval_every} steps on {s.eval_batches} fresh batch{'es' * (s.eval_batches != 1)}"
             f" (the Note: every {NOTE_COPY_EVAL_EVERY} steps on 100; the Feb-2026 code: every 500 on 500), so a "
             f"length can double at most once every {s.eval_every} steps."]
    rules = _end_rules(s)
    ends = (f"at length {limit:,} a run ends {rules} (an end rule of ours: the author's code trains on to its step "
            "count)" if rules else f"at length {limit:,} a run trains on to its step count, as the author's code does")
    trained = [task for task in COPY_TASKS if seeds[task]]
    words.append("The paper's model: " + "; ".join(f"{plural(seeds[t], 'seed')} on {TASK_LABELS[t]}, at most "
                                                   f"{steps[t]:,} steps" for t in trained) + f"; {ends}."
                 + ("" if len(trained) == len(COPY_TASKS) else
                    f" This execution trains **{TASK_LABELS[trained[0]]} only** (its claims are judged; the others "
                    "are not run)."))
    words.append(baseline_setup_words(plan, s))
    words.append(pilot_words(pilot, s.curriculum))
    return " ".join(words)


def baseline_setup_words(plan: Sequence[RunConfig], settings: Settings) -> str:
    """The comparison's one scoring rule, the baselines of each task, their samples and learning rate, and the
    author's regular model beside ours."""
    scored = "; ".join(f"{TASK_LABELS[task]} after {settings.compare_steps[task]:,} steps "
                       f"({settings.compare_steps[task] * settings.batch_size:,} samples)"
                       for task in COPY_TASKS if any(c.task == task for c in plan))
    words = [f"**One scoring rule**: every model of a task, on every seed, is scored on the same {settings.final_batches}"
             f" fresh batches of its seed at the first length (noise {settings.start}), right after the same number "
             f"of training steps ({scored}), wherever its curriculum has got to by then; a comparison reads the "
             "models' 95 % intervals over seeds."]
    baselines = [c for c in plan if c.role != "recurrent"]
    if not baselines:
        return words[0] + " No baselines are trained in this run."
    tasks = sorted({c.task for c in baselines}, key=COPY_TASKS.index)
    rnn = baselines[0].rnn.upper()
    words.append(f"Baselines on {' and '.join(TASK_LABELS[t] for t in tasks)}, one per seed of the paper's model "
                 f"and on its batches: the forget ablation (α = 0) for as many steps as its seed's paper model took to"
                 f" reach its final length (at least the comparison's); a one-layer regular transformer, a {rnn} "
                 f"matched on the paper model's {PAPER_PARAMS:,} parameters and one matched on its "
                 f"{RNN_MATCHED['rnn_dense']:,} parameters outside the position table, each for exactly the "
                 f"comparison's steps. Every model trains at lr {settings.lr:g} under the same curriculum, with no end "
                 "rule; the rate was not tuned per model. The author's code trains its regular model at the full "
                 "length from the start, with no curriculum (and reports no numbers for it).")
    return " ".join(words)


def pilot_words(pilot: Mapping[str, Any] | None, curriculum: str) -> str:
    """Which start the committed pilot chose, from what, and whether this run uses it."""
    if pilot is None:
        return "No pilot file: the start is the profile's choice."
    reach = pilot["samples_to_decide"]
    uses = "this run uses it" if curriculum == pilot["chosen"] else f"this run uses {curriculum} instead"
    return (f"The start was decided once by a pilot ({PILOT_FILE.name} beside the profiles, made by "
            f"`{pilot['command']}`): selective copy reached noise {pilot['decides_at_noise']} after "
            + " and ".join(f"{reach[c]:,.0f} samples from the {c} start" for c in reach)
            + f" (mean of {len(PILOT_SEEDS)} seeds each); it chose {pilot['chosen']}, and {uses}. Its steps per "
            "length are also what the forecast expects.")


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


def own_length_words(experiment: Experiment, record: Record) -> str:
    """Each seed of the paper's model at its own final length (numbers only; no direction is stated)."""
    m, words = record["metrics"], []
    for task in experiment.runs:
        told = [f"seed {run.seed} {100 * m[key(task, 'acc_own_length', seed=run.seed)]:.1f} % at "
                f"{seq_len(run.final_len):,}" for run in experiment.paper(task)]
        words.append(f"At its own final length, on fresh batches, each seed of the paper's model on "
                     f"{TASK_LABELS[task]} scores: {', '.join(told)}.")
    return " ".join(words)


def validation_words(record: Record, task: str, eval_batches: int) -> str:
    """The validation noise the pass rule reads: the median standard error of a validation's loss over its batches,
    overall and near the threshold (or that no validation fell near it)."""
    m = record["metrics"]
    if m.get(key(task, "val_loss_se")) is None:
        return ""
    near = m.get(key(task, "val_loss_se_near"))
    there = (f"{near:.4f} over the validations within a factor {NEAR_THRESHOLD:g} of the threshold" if near is not None
             else f"no validation fell within a factor {NEAR_THRESHOLD:g} of the threshold (the seeds passed it "
                  "between two validations)")
    return (f"On {TASK_LABELS[task]} a validation's loss over its {eval_batches} batches has a median standard error "
            f"of {m[key(task, 'val_loss_se')]:.4f}; {there}.")


def accounting_words(experiment: Experiment, record: Record, eval_every: int) -> str:
    """What the paper model's budget was against the Note's, in the unit that limits each task: copy in validations
    (the curriculum can only double at a validation, and it passes a length in a few, so the cadence sets its
    samples), selective copy in samples (it needs thousands of steps per length, far more than a validation
    interval, so the cadence hardly matters): rule ``reference`` against the Note's count."""
    words = []
    for task in experiment.runs:
        runs, m = experiment.paper(task), record["metrics"]
        passed = [[s for s in run.stays if s.outcome == "passed"] for run in runs]
        firsts = [p[0].validations for p in passed if p]
        later = [s for p in passed for s in p[1:]]
        samples = int(m[key(task, "samples")])
        first = (f"needed {', '.join(map(str, firsts))} validations to pass their first length"
                 if firsts else "passed no length")
        quick = (f", and passed {sum(s.validations == 1 for s in later)} of the {len(later)} later lengths they passed "
                 "at the first validation there" if later else "")
        head = f"On {TASK_LABELS[task]} the paper model's seeds {first}{quick}. "
        if task == "selective_copy":
            note = NOTE_TASK_SAMPLES[task]
            words.append(head + f"Selective copy is limited by samples, so it is counted in samples: its first seed "
                         f"trained on {samples:,} ({100 * m[key(task, 'samples_share')]:.1f} % of the Note's "
                         f"{note:,.0f}), " + decided("reference", record, [f"={key(task, 'samples')}", f"={note!r}"],
                                                     {"lower": "fewer than the Note's.",
                                                      "not separated": "as many as the Note's.",
                                                      "higher": "more than the Note's."}))
            continue
        note = NOTE_TASK_SAMPLES[task] / NOTE_COPY_BATCH / NOTE_COPY_EVAL_EVERY
        total = int((runs[0].history["step"] > 0).sum())
        per_validation = runs[0].batch_size * eval_every  # samples between two validations here
        at_note = (f"the Note's {note:,.4g} (its {NOTE_TASK_SAMPLES[task]:,.0f} samples at a validation every "
                   f"{NOTE_COPY_EVAL_EVERY} steps of {NOTE_COPY_BATCH})")
        intervals = f"{samples / per_validation:,.4g} validation interval{'s' * (samples != per_validation)}"
        words.append(head + f"Copy is counted in validations, the unit its cadence sets: its first seed validated "
                     f"{total} time{'s' * (total != 1)} in training (every {eval_every} steps of "
                     f"{runs[0].batch_size}, {samples:,} samples): " + decided(
                         "reference", record, [f"={key(task, 'samples')}", f"={note * per_validation:.17g}"],
                         {"lower": f"{intervals}, fewer than {at_note}.",
                          "not separated": f"{intervals}, as many as {at_note}.",
                          "higher": f"{intervals}, more than {at_note}."}))
    return " ".join(words)


def comparison_words(experiment: Experiment, record: Record) -> str:
    """Per task and baseline, where every model is compared: whether each learned (rule ``check`` on its flag: mean
    at least twice chance) and, only when both did, its accuracy against the paper model's (rule ``equal_samples``
    on their intervals over seeds: "higher" or "lower" only where they do not overlap); for forget, whether every
    seed stalled (``check``)."""
    m, words = record["metrics"], []
    chance = f"twice chance ({100 * AT_CHANCE_BELOW:.1f} %)"
    for task in experiment.runs:
        if m.get(key(task, "compare_steps")) is None or not experiment.baselines(task):
            continue
        paper_learned = m[key(task, "learned", "recurrent")] == 1
        steps, length = int(m[key(task, "compare_steps")]), seq_len(int(m[key(task, "compared_noise_len")]))
        paper = _interval_words(m, key(task, "paper_acc_compared"))
        words.append(f"**{TASK_LABELS[task].capitalize()}**, after {steps:,} steps at length {length:,}: the paper's "
                     f"model scores {paper} over {int(m[key(task, 'seeds')])} seeds; " + decided(
                         "check", record, [key(task, "learned", "recurrent")],
                         {"holds": f"its mean is at least {chance}.",
                          "fails": f"its mean is below {chance}: it has not learned by then, so no baseline is "
                                   "ordered against it."}))
        for role, runs in experiment.baselines(task).items():
            label = role_label(role, runs[0].config.rnn)
            told = f"{label.capitalize()}: {_interval_words(m, key(task, 'acc_compared', role))}"
            learned = decided("check", record, [key(task, "learned", role)], {
                "holds": f"{told}, at least {chance}",
                "fails": f"{told}, below {chance}: it has not learned by then"})
            if paper_learned and m[key(task, "learned", role)] == 1:
                words.append(learned + "; " + decided(
                    "equal_samples", record, [key(task, "acc_compared", role), key(task, "paper_acc_compared")],
                    {"higher": "higher than the paper's model.", "lower": "lower than the paper's model.",
                     "not separated": "not separated from the paper's model."}))
            else:
                words.append(learned + "; no ordering is stated.")
            if role == "forget":
                words.append(forget_words(runs, record, task))
    return " ".join(words)


def forget_words(runs: Sequence[CopyRun], record: Record, task: str) -> str:
    """Forget over its seeds, each given its seed's paper model's steps to reach that model's final length: where
    they ended, their accuracy there, and whether every seed stalled (rule ``check``)."""
    m = record["metrics"]
    steps = ", ".join(f"{run.state.step:,}" for run in runs)
    own = _interval_words(m, key(task, "acc_own_len", "forget"))
    return (f"Given its seed's paper-model steps to reach that model's final length ({steps} steps), forget reached "
            f"length {seq_len(int(m[key(task, 'final_noise_len', 'forget')])):,} at most and scores {own} at its own "
            "final length. " + decided("check", record, [key(task, "stalled", "forget")], {
                "holds": "Every seed stalled: it left a length unpassed that its seed's paper model passed with the "
                         "same samples.",
                "fails": "Not every seed stalled."}))


def _interval_words(m: Mapping[str, Any], name: str) -> str:
    """A recorded mean accuracy with its 95 % interval over seeds, in words."""
    low, high = m[f"{name}.ci_low"], m[f"{name}.ci_high"]
    ci = "" if _missing(low) else f" (95 % interval over seeds {100 * low:.1f}–{100 * high:.1f} %)"
    return f"{100 * m[name]:.1f} %{ci}"


def scaled_down_words(values: Mapping[str, Any]) -> str:
    """What this run scales down from the Note's runs, for the title paragraph (`configuration_words`)."""
    v, limit = values, min(values["limit"], values["cap"])
    cuts = [f"every model trains to length {seq_len(limit):,} at most, not {seq_len(NOTE_COPY_NOISE):,}"
            if limit < NOTE_COPY_NOISE else "",
            f"selective copy trains {v['selective_steps']:,} steps, {v['selective_steps'] * v['batch_size'] / NOTE_SELECTIVE_COPY_SAMPLES:.1%}"
            " of the Note's samples (the start of its curriculum)"
            if v["selective_steps"] * v["batch_size"] < NOTE_SELECTIVE_COPY_SAMPLES else "",
            f"batches of {v['batch_size']}, not {NOTE_COPY_BATCH}" if v["batch_size"] != NOTE_COPY_BATCH else "",
            "no baselines on " + " or ".join(TASK_LABELS[t] for t in COPY_TASKS if t not in TASK_CHOICES[v["baselines"]])
            if v["baselines"] != "both" else ""]
    return configuration_words("; ".join(c for c in cuts if c), "the Note's")
