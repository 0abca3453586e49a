"""The copy chapter's run plan: every run from the notebook's parameters (`run_plan`), declared as specs (`runs`)
with the steps per length the committed pilot expects (`expected_schedule`)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paperlib.book.paper_numbers import COPY_ACC_MIN, SELECTIVE_COPY_ACC_MIN
from paperlib.data.synthetic import seq_len
from paperlib.training.curriculum import LrRule
from paperlib.training.optim import OptimizerConfig
from paperlib.training.plan import RunSpec
from paperlib.chapters.copy_tasks.metrics import (BASELINES, BUDGETS, CURRICULA, CopyTask, CurriculumName, PILOT_FILE,
                                                  RnnCell, Role, TASK_CHOICES, TASK_LABELS)
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
    rules = end_rules(p["stop_at_target"], p["cap_patience"], p["cap_steps"])
    return f"at length {seq_len(config.limit):,} the paper model ends at the first of: " + "; ".join(rules) if rules \
        else ""


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
