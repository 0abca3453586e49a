"""The pilot that chose the cpu profile's start of the curriculum (scripts/copy_tasks_pilot.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from typing import Any

import numpy as np

from paperlib.training.curriculum import step_reaching
from paperlib.chapters.copy_tasks.metrics import COPY_TASKS, CURRICULA
from paperlib.chapters.copy_tasks.plan import RunConfig
from paperlib.chapters.copy_tasks.train import CopyRun, Settings, train_all


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
