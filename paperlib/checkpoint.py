"""Checkpoint and resume a `paperlib.train.State`: model, optimizer, counters, history, `extra`
(e.g. a curriculum's length and learning-rate base) and every random state a run draws from.

Files are written atomically, so an interrupted save leaves the previous checkpoint intact. A run
resumed from a checkpoint continues the same curve: on the CPU its next steps are bitwise those of
the uninterrupted run.
"""

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from paperlib.atomic import atomic_write_bytes
from paperlib.train import Callback, State


def save(path: str | os.PathLike, state: State, meta: Mapping[str, Any] | None = None) -> Path:
    """Write `state` (and `meta`, e.g. the run's configuration) to `path` atomically."""
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


def load(path: str | os.PathLike, state: State) -> dict[str, Any]:
    """Restore `state` (built the same way as the saved one) from `path`; return the saved `meta`."""
    payload = torch.load(path, map_location=state.device, weights_only=False)
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
    return payload["meta"]


class Checkpointer(Callback):
    """Save the state to `path` after every `every` optimizer steps."""

    def __init__(self, path: str | os.PathLike, every: int, meta: Mapping[str, Any] | None = None):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.path, self.every, self.meta = Path(path), every, meta

    def on_step(self, state: State, loss: torch.Tensor) -> None:
        if state.step % self.every == 0:
            save(self.path, state, self.meta)
