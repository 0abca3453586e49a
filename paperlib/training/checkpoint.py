"""Checkpoint and resume a `State`: model, optimizer, counters, history, `extra` (e.g. a curriculum's
length and learning-rate base) and every random state a run draws from.

Files are written atomically, so an interrupted save leaves the previous checkpoint intact. A run
resumed from a checkpoint continues the same curve: on the CPU its next steps are bitwise those of
the uninterrupted run.

The one resume policy (`resume`): a checkpoint that cannot be read, or that another configuration
wrote, is moved aside with a warning naming both files, and the run starts afresh; nothing is lost.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from paperlib.atomic import atomic_write_bytes
from paperlib.training.loop import Callback, State


def save(path: str | os.PathLike, state: State, meta: Mapping[str, Any] | None = None) -> Path:
    """Write `state` (and `meta`, the run's configuration) to `path` atomically."""
    payload = {
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "counters": {"step": state.step, "train_time": state.train_time, "loss_sum": state.loss_sum,
                     "loss_count": state.loss_count, "stop": state.stop, "seed": state.seed},
        "history": state.history,
        "extra": state.extra,
        "rng": {"generator": state.generator.get_state(), "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        "meta": dict(meta or {}),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def resume(path: str | os.PathLike, state: State, meta: Mapping[str, Any]) -> int | None:
    """Restore `state` (built as the saved one was) from `path` if it holds the run configured by `meta`.

    Returns the step resumed at, or None when the run starts afresh: no file, or one that cannot be
    read or was written by another configuration (that file is moved aside, with a warning).
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location=state.device, weights_only=False)
    except Exception as error:  # torch reports a truncated or corrupted file in several ways
        _set_aside(path, f"cannot be read ({type(error).__name__}: {str(error).splitlines()[0]})")
        return None
    if payload.get("meta") != dict(meta):
        _set_aside(path, f"was written by another configuration ({payload.get('meta')})")
        return None
    _restore(payload, state)
    return state.step


def _restore(payload: dict[str, Any], state: State) -> None:
    state.model.load_state_dict(payload["model"])
    state.optimizer.load_state_dict(payload["optimizer"])
    for name, value in payload["counters"].items():
        setattr(state, name, value)
    state.history, state.extra = payload["history"], payload["extra"]
    rng = payload["rng"]
    state.generator.set_state(rng["generator"].cpu())
    torch.set_rng_state(rng["torch"].cpu())
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in rng["cuda"]])


def _set_aside(path: Path, why: str) -> None:
    stamp = f"{path.name}.unusable-{datetime.now():%Y%m%dT%H%M%S}"
    aside, n = path.with_name(stamp), 1
    while aside.exists():  # another one set aside within the same second: keep both
        aside, n = path.with_name(f"{stamp}-{n}"), n + 1
    os.replace(path, aside)
    warnings.warn(f"checkpoint {path} {why}; moved it to {aside.name} and started afresh", stacklevel=3)


class Checkpointer(Callback):
    """Save the state to `path` after every `every` optimizer steps."""

    def __init__(self, path: str | os.PathLike, every: int, meta: Mapping[str, Any] | None = None):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.path, self.every, self.meta = Path(path), every, meta

    def on_step(self, state: State, loss: torch.Tensor) -> None:
        if state.step % self.every == 0:
            save(self.path, state, self.meta)
