"""Training the copy chapter's runs: how every run is trained, validated, compared and ended (`Settings`), a trained
run (`CopyRun`), and every run of the plan in dependency order (`train_all`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from paperlib.context import RunContext
from paperlib.data.synthetic import copy_batch
from paperlib.stats import standard_error
from paperlib.sweep import run_tasks
from paperlib.training.curriculum import final_length, step_reaching, step_to_final_length
from paperlib.training.device import DeviceSetup, configure_device
from paperlib.training.loop import Batch, Callback, State
from paperlib.training.losses import model_loss
from paperlib.training.plan import RunSpec
from paperlib.training.run import Checkpointing, fit, read_back
from paperlib.chapters.copy_tasks.metrics import COPY_TASKS, CopyTask, ROLES
from paperlib.chapters.copy_tasks.models import accuracy_ci, alpha_of, eval_seed, final_scores, per_batch, role_label
from paperlib.chapters.copy_tasks.plan import RunConfig, Rules, rules_from


@dataclass
class Settings(Rules):
    """The chapter's `Rules` and where and how its runs train: the device, checkpoints and the run context
    (`settings_from`)."""

    setup: DeviceSetup
    checkpointing: Checkpointing
    context: RunContext  # the run's deadline and run filter (`paperlib.context`)

    def run_spec(self, config: RunConfig) -> RunSpec:
        """The spec of `config` at this set-up's precision: what `fit` trains and `read_back` reads."""
        return self.spec(config, precision=self.setup.precision)

    def score_at_step(self, spec: RunSpec) -> ScoreAtStep:
        """The comparison's score of the run `spec` (at its `compared_at` step, at the curriculum's first length)."""
        return ScoreAtStep(spec.stage, spec.compared_at, spec.curriculum.start, self.final_batches, spec.batch,
                           spec.curriculum.block_cap)


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
        losses, accs = final_scores(state.model, state.setup, self.task, self.start, self.n_batches, self.batch_size,
                                    state.seed, self.block_cap)
        state.extra["compared"] = {"step": state.step, "noise_len": self.start, "accs": accs, "losses": losses}


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
        return final_length(self.state)

    @property
    def samples(self) -> int:
        return self.state.step * self.batch_size

    @property
    def step_to_final_len(self) -> int:
        """The step at which the curriculum first set the final length (0: it started there)."""
        return step_to_final_length(self.state)

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

    def final_eval(self, noise_len: int, n_batches: int, batch_size: int) -> tuple[float, float, float]:
        """Token accuracy on fresh batches at `noise_len`: (mean, 95 % CI low, high) over the batches,
        the Student-t interval clipped to [0, 1]. Kept in `scores`, so asking again costs nothing."""
        key_ = (noise_len, n_batches, batch_size)
        if key_ not in self.scores:
            _, accs = final_scores(self.state.model, self.state.setup, self.task, noise_len, n_batches, batch_size,
                                   self.seed, self.block_cap)
            self.scores[key_] = accuracy_ci(accs)
        return self.scores[key_]


def train_copy(config: RunConfig, settings: Settings, *, show_progress: bool = True) -> CopyRun:
    """Train the run `config` under `settings` through `fit` (resuming it from its checkpoint when asked): its
    spec (`Rules.spec`) carries the curriculum and end rules; the chapter supplies fresh batches at the
    curriculum's length, validation on fresh batches of the seed and step, and the comparison's score."""
    s, task, spec = settings, config.task, settings.run_spec(config)

    def validate(state: State) -> dict[str, float]:
        losses, accs = per_batch(state.model, task, state.extra["noise_len"], s.eval_batches, s.batch_size,
                                 eval_seed(config.seed, "validation", state.step))
        alpha = alpha_of(state.model)
        return {"val_loss": float(np.mean(losses)), "val_loss_se": standard_error(losses), "val_acc": float(np.mean(accs)),
                **({} if alpha is None else {"alpha": alpha})}

    def sample(state: State) -> Batch:
        return copy_batch(s.batch_size, state.extra["noise_len"], selective=task == "selective_copy",
                          generator=state.generator)

    began = time.perf_counter()
    run = fit(spec, s.setup, sample, model_loss(), evaluate=validate, checkpointing=s.checkpointing, context=s.context,
              callbacks=[s.score_at_step(spec)], show_progress=show_progress)
    return CopyRun(config, run.state, s.batch_size, time.perf_counter() - began, spec.curriculum.block_cap,
                   run.resumed_at)


def train_in_worker(config: RunConfig, settings: Settings) -> dict[str, Any]:
    """`train_copy` in a worker process on the worker's threads; the run comes back through its checkpoint."""
    here = configure_device(settings.setup.device.type, 0, settings.setup.precision, settings.setup.compile_layers)
    run = train_copy(config, replace(settings, setup=here), show_progress=False)
    return {"wall_s": run.wall_s, "resumed_at": run.resumed_at, "step": run.state.step, "where": here.description}


def load_run(config: RunConfig, settings: Settings, wall_s: float, resumed_at: int | None) -> CopyRun:
    """The run a worker trained, read back from its checkpoint."""
    spec = settings.run_spec(config)
    return CopyRun(config, read_back(spec, settings.setup), settings.batch_size, wall_s, spec.curriculum.block_cap,
                   resumed_at)


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


def train_all(settings: Settings, plan: Sequence[RunConfig], workers: int = 1) -> Experiment:
    """Train every run of `plan`, each once the run its spec waits for (`RunSpec.after`: a baseline, its seed's paper
    model) has trained, with the steps it takes from it (`RunSpec.after_trained`): in this process (`workers` 1) or
    on a local cluster of `workers` single-threaded processes (0: one per core), each run read back from its
    checkpoint (which parallel training needs). The runs the run context's `only_runs` names
    train first, the others after them (where the first still to train raises `RunDeferred`), so a plan's stage
    trains all its own runs before it stops."""
    if workers != 1 and not settings.checkpointing.every:
        raise ValueError("training in worker processes needs checkpoint_every > 0: the runs come back through "
                         "their checkpoints")
    specs = {c: settings.run_spec(c) for c in plan}
    own = sorted((c for c in plan if specs[c].after is None), key=lambda c: (c.task != "selective_copy", c.seed))
    runs: dict[RunConfig, CopyRun] = {}
    postponed: list[RunConfig] = []

    def follow_up(done: RunConfig, run: CopyRun) -> list[RunConfig]:
        return [replace(c, steps=spec.after_trained(run.state).steps) for c, spec in specs.items()
                if spec.after is not None and spec.after.run == done.name]

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


def settings_from(values: Mapping[str, Any], setup: DeviceSetup, context: RunContext) -> Settings:
    """The chapter's `Settings` from its notebook parameters (`values`), device set-up and run context."""
    return Settings(**vars(rules_from(values)), setup=setup,
                    checkpointing=Checkpointing(values["checkpoint_every"], values["resume"]), context=context)
