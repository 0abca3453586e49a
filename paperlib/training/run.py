"""A named run of a chapter: trained with the one checkpoint policy, and its history with training cost.

Checkpoints live under ``paths.checkpoints_dir() / CHAPTER / NAME-HASH.pt``, the hash taken over the
run's configuration (`meta`; for a run of a plan, its `RunSpec` and precision: `run_meta`), so runs of different
configurations never share a file. Training cost follows the paper's convention, *forward FLOPs per sample × samples seen*
(methods page, FLOPs), with our complete forward count.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from paperlib.book.metrics import execution_metrics
from paperlib.context import RunContext
from paperlib.models import n_params
from paperlib.models.configs import ModelConfig, build_model
from paperlib.paths import checkpoints_dir
from paperlib.training import checkpoint
from paperlib.training.deadline import Deadline, DeadlineReached, RunDeferred
from paperlib.training.device import DeviceSetup
from paperlib.training.loop import Callback, Evaluate, LossFn, Sampler, State, init, train
from paperlib.training.plan import RunSpec


@dataclass(frozen=True)
class Checkpointing:
    """Save every `every` steps and at the end (0: never); with `resume`, continue a saved run."""

    every: int = 0
    resume: bool = False

    def __post_init__(self) -> None:
        if self.every < 0:
            raise ValueError(f"checkpoint every must be >= 0, got {self.every}")
        if self.resume and not self.every:
            raise ValueError("resume needs checkpoints: set checkpoint_every to a positive number of steps")


DIGEST_CHARS = 12  # of the configuration's hash in a checkpoint's file name


def checkpoint_path(chapter: str, name: str, meta: Mapping[str, Any]) -> Path:
    """Where the run `name` of `chapter` configured by `meta` keeps its checkpoint."""
    digest = hashlib.sha256(json.dumps(dict(meta), sort_keys=True, default=str).encode()).hexdigest()[:DIGEST_CHARS]
    return checkpoints_dir() / chapter / f"{name}-{digest}.pt"


def train_resumable(state: State, sample: Sampler, loss_fn: LossFn, steps: int, *, chapter: str, name: str,
                    meta: Mapping[str, Any], checkpointing: Checkpointing, context: RunContext,
                    callbacks: Iterable[Callback] = (), **train_kwargs: Any) -> int | None:
    """`train` under `checkpointing`; returns the step the run resumed from (None: it started afresh).

    A run that still has steps to take obeys the run `context` (`paperlib.training.deadline`): deferred by
    its `only_runs`, it raises `RunDeferred` before its first step; before its `deadline` it saves its
    checkpoint (when checkpointing) and raises `DeadlineReached`.
    """
    path = checkpoint_path(chapter, name, meta)
    resumed = checkpoint.resume(path, state, meta) if checkpointing.resume else None
    if resumed is not None:
        print(f"{name}: resumed from step {resumed} of {path.name}", flush=True)
    if context.deferred(name) and state.step < steps and not state.stop:
        raise RunDeferred(f"{name}: deferred at step {state.step} of {steps} (the run context's only_runs, "
                          f"{','.join(context.only_runs)}, does not name it)")
    callbacks = [*callbacks]
    if checkpointing.every:
        callbacks.append(checkpoint.Checkpointer(path, checkpointing.every, meta))
    if context.deadline is not None:
        callbacks.append(Deadline(context.deadline, steps))
    try:
        train(state, sample, loss_fn, steps, callbacks=callbacks, **train_kwargs)
    except DeadlineReached as error:
        if not checkpointing.every:
            raise DeadlineReached(f"{name}: {error}; nothing saved (checkpoint_every is 0)") from None
        checkpoint.save(path, state, meta)
        raise DeadlineReached(f"{name}: {error}; checkpoint saved to {path}: run again with resume to continue"
                              ) from None
    if checkpointing.every:
        checkpoint.save(path, state, meta)
    return resumed


def eval_steps(steps: int, evals: int) -> list[int]:
    """`evals` evaluation steps spread evenly over `steps`, the last one at `steps`."""
    return sorted({max(1, round(steps * i / evals)) for i in range(1, evals + 1)})


@dataclass
class Run:
    """One trained run of a chapter's plan: its spec, final state and evaluation history (with samples seen and
    training FLOPs)."""

    spec: RunSpec
    state: State
    history: pd.DataFrame
    resumed_at: int | None  # the step a checkpoint resumed it from (None: it started afresh)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def cfg(self) -> ModelConfig:
        return self.spec.model

    @property
    def flops_per_sample(self) -> float:
        return self.spec.forward_flops

    @property
    def params(self) -> int:
        return n_params(self.state.model)

    def best(self, metric: str, mode: Literal["min", "max"] = "min") -> pd.Series:
        """The evaluation record where `metric` was lowest (or highest)."""
        column = self.history[metric]
        return self.history.loc[column.idxmin() if mode == "min" else column.idxmax()]


def fit(spec: RunSpec, setup: DeviceSetup, sample: Sampler, loss_fn: LossFn, *, evaluate: Evaluate,
        checkpointing: Checkpointing, context: RunContext, callbacks: Iterable[Callback] = (),
        show_progress: bool = True) -> Run:
    """Train the run `spec` describes on `setup` (its model, optimizer, seed, steps, evaluations, learning-rate
    schedule, length curriculum and stop rules: `RunSpec.callbacks`), its checkpoint keyed by the spec and the
    precision (`run_meta`), and return the `Run`; the chapter supplies `sample(state)`, `loss_fn`,
    `evaluate(state)` and any callbacks of its own."""
    state = _fresh_state(spec, setup)
    resumed = train_resumable(state, sample, loss_fn, spec.steps, chapter=spec.chapter, name=spec.name,
                              meta=run_meta(spec, setup), checkpointing=checkpointing, context=context,
                              callbacks=[*spec.callbacks(), *callbacks], eval_steps=spec.eval_steps,
                              evaluate=evaluate, show_progress=show_progress, desc=spec.name)
    history = pd.DataFrame(state.history)
    history["samples"] = history["step"] * spec.batch
    history["train_flops"] = history["samples"] * spec.forward_flops
    return Run(spec, state, history.assign(model=spec.name), resumed)


def run_meta(spec: RunSpec, setup: DeviceSetup) -> dict[str, str]:
    """What a run's checkpoint must have been written by: its spec (`RunSpec.checkpoint_key`) and the arithmetic
    of its steps (a bf16 run does not continue an fp32 one)."""
    return {"spec": spec.checkpoint_key, "precision": setup.precision}


def read_back(spec: RunSpec, setup: DeviceSetup) -> State:
    """The run `spec` as another process left it in its checkpoint (workers hand their runs back so)."""
    state, meta = _fresh_state(spec, setup), run_meta(spec, setup)
    path = checkpoint_path(spec.chapter, spec.name, meta)
    if checkpoint.resume(path, state, meta) is None:
        raise FileNotFoundError(f"{spec.name}: its checkpoint {path} is missing or unreadable")
    return state


def _fresh_state(spec: RunSpec, setup: DeviceSetup) -> State:
    """The run's state before its first step: its model and optimizer from the spec, seeded by its seed."""
    return init(lambda: build_model(spec.model), spec.optimizer, spec.seed, setup)


def execution(runs: Iterable[Run]) -> dict[str, float]:
    """What this execution trained and what it read back finished from checkpoints
    (`paperlib.book.metrics.execution_metrics`): a run resumed at its last step was loaded (its training seconds
    are those it took when trained); any other run was trained now, for its seconds since the step it resumed
    from."""
    trained, loaded = [], []
    for run in runs:
        if run.resumed_at is not None and run.resumed_at >= run.state.step:
            loaded.append(run.state.train_time)
            continue
        before = next((h["time"] for h in run.state.history if h["step"] == run.resumed_at), 0.0)
        trained.append(run.state.train_time - before)
    return execution_metrics(trained, loaded)

