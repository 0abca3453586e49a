"""The copy chapter's run plan: every run from the notebook's parameters (`run_plan`), how each is trained (`Rules`,
built once from the parameters), declared as specs (`runs`) with the steps per length the committed pilot expects
(`expected_schedule`)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from paperlib.book.paper_numbers import COPY_ACC_MIN, SELECTIVE_COPY_ACC_MIN
from paperlib.data.synthetic import N_DATA, seq_len
from paperlib.training.curriculum import LengthCurriculum, LrRule, StopAtCap
from paperlib.training.optim import OptimizerConfig
from paperlib.training.plan import After, RunSpec
from paperlib.chapters.copy_tasks.metrics import (BASELINES, BUDGETS, COPY_TASKS, CURRICULA, CopyTask, CurriculumName,
                                                  PILOT_FILE, RnnCell, Role, TARGET_ACC, TASK_CHOICES, TASK_LABELS)
from paperlib.chapters.copy_tasks.models import family, model_config


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


@dataclass
class Rules:
    """How every run of the chapter is trained, validated, compared and ended, from the notebook's parameters
    (`rules_from`): what its runs' specs are built from (`spec`)."""

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

    def __post_init__(self) -> None:
        if self.curriculum not in CURRICULA:
            raise ValueError(f"curriculum must be one of {sorted(CURRICULA)}, got {self.curriculum!r}")

    @property
    def start(self) -> int:
        """The curriculum's first noise length (never past the cap)."""
        return curriculum_start(self.curriculum, self.cap)

    def length_curriculum(self, config: RunConfig) -> LengthCurriculum:
        """The run's curriculum up to its limit, with the paper model's end rules there."""
        at_limit = StopAtCap(config.limit, self.cap_steps, TARGET_ACC[config.task] if self.stop_at_target else None,
                             self.cap_patience) if config.role == "recurrent" else None
        return LengthCurriculum(self.curriculum, self.start, config.limit, self.cap, self.threshold, self.lr_rule,
                                N_DATA, CURRICULA[self.curriculum][1], self.eval_every, at_limit)

    def spec(self, config: RunConfig, schedule: tuple[tuple[int, int], ...] | None = None,
             precision: str = "fp32") -> RunSpec:
        """The run `config` as `fit` trains it (stage: the task, family: the model), at its longest length and its
        most steps; `schedule` and `precision` are its forecast's."""
        curriculum = self.length_curriculum(config)
        task = (f"{TASK_LABELS[config.task]}: fresh batches, lengths {seq_len(curriculum.start):,} to "
                f"{seq_len(config.limit):,} by the {curriculum.name} curriculum")
        scorings = 3 if config.role == "recurrent" else 2  # where compared, at its own length (and where all got)
        batch = self.batch_size
        return RunSpec("copy_tasks", config.task, config.family, config.seed,
                       model_config(config.task, config.role, config.rnn, self.dropout), task, config.steps, batch,
                       seq_len(config.limit), OptimizerConfig(lr=self.lr), None,
                       tuple(validation_steps(config.steps, self.eval_every)), self.eval_batches * batch,
                       scorings * self.final_batches * batch, self.ends_early(config), curriculum, schedule, precision,
                       compared_at=self.compare_steps[config.task], after=self.after(config))

    def after(self, config: RunConfig) -> After | None:
        """What a baseline waits for: its seed's paper model, whose steps to its final length forget takes."""
        if config.role == "recurrent":
            return None
        return After(replace(config, role="recurrent").name, steps_to_reach=config.budget == "reach")

    def ends_early(self, config: RunConfig) -> str:
        """Why a run may take fewer than its steps: the paper model's end rules at its limit, forget's budget."""
        if config.budget == "reach":
            return "forget takes the steps its seed's paper model took to reach its final length"
        rules = end_rules(self.stop_at_target, self.cap_patience, self.cap_steps)
        if config.budget == "compare" or not rules:
            return ""
        return f"at length {seq_len(config.limit):,} the paper model ends at the first of: " + "; ".join(rules)


def rules_from(values: Mapping[str, Any]) -> Rules:
    """The chapter's `Rules` from its notebook parameters (`values`)."""
    return Rules(batch_size=values["batch_size"], lr=values["lr"], curriculum=values["curriculum"], cap=values["cap"],
                 threshold=values["threshold"], lr_rule=values["lr_rule"], eval_every=values["eval_every"],
                 eval_batches=values["eval_batches"], final_batches=values["final_batches"],
                 compare_steps={task: compare_steps(values, task) for task in COPY_TASKS}, dropout=values["dropout"],
                 cap_steps=values["cap_steps"] or None, cap_patience=values["cap_patience"] or None,
                 stop_at_target=values["stop_at_target"])


def runs(params: Mapping[str, Any]) -> list[RunSpec]:
    """The chapter's plan from its parameters: one spec per `run_plan` entry (`Rules.spec`), with the steps per
    length it is expected to take (`expected_schedule`)."""
    pilot, rules = load_pilot(), rules_from(params)
    return [rules.spec(config, expected_schedule(config, params, pilot), _precision(params))
            for config in run_plan(params)]


def _precision(p: Mapping[str, Any]) -> str:
    """The arithmetic a CPU run's steps use: fp32 unless bf16 is asked for."""
    return "bf16" if p["precision"] == "bf16" else "fp32"


def end_rules(stop_at_target: bool, cap_patience: int | None, cap_steps: int | None) -> list[str]:
    """The paper model's end rules at its limit, in words, in the order `StopAtCap` tries them (patience or steps
    0 or None: no such rule)."""
    rules = [f"at its first validation there that reaches the registry's threshold ({100 * COPY_ACC_MIN:g} % copy, "
             f"{100 * SELECTIVE_COPY_ACC_MIN:g} % selective copy)" if stop_at_target else "",
             f"after {cap_patience} validations there without a new lowest loss" if cap_patience else "",
             f"{cap_steps:,} steps after it got there" if cap_steps else ""]
    return [rule for rule in rules if rule]


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
        return ((seq_len(start), min(config.steps, max(sum(s for _, s in stays), compare_steps(p, config.task)))),)
    left = config.steps - sum(s for _, s in stays)
    stays.append((config.limit, min(every, left) if p["stop_at_target"] and config.role == "recurrent" else left))
    schedule, total = [], 0
    for noise, steps in stays:
        steps = min(steps, config.steps - total)
        if steps > 0:
            schedule.append((seq_len(noise), steps))
            total += steps
    return tuple(schedule)


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
