"""Callbacks shared by the chapters: keep the best weights, stop early."""

from __future__ import annotations

import copy
from typing import Literal

from torch import nn

from paperlib.training.loop import Callback, State


class KeepBest(Callback):
    """Keeps the evaluation record and a copy of the weights where `metric` was lowest (or highest).

    Both live in ``state.extra["best"]``, so a checkpoint of the state carries them.
    """

    def __init__(self, metric: str, mode: Literal["min", "max"] = "min"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be min or max, got {mode!r}")
        self.metric, self.sign = metric, 1.0 if mode == "min" else -1.0

    def on_eval(self, state: State, record: dict[str, float]) -> None:
        if self.metric not in record:
            return
        best = state.extra.get("best")
        if best is None or self.sign * record[self.metric] < self.sign * best["record"][self.metric]:
            weights = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
            state.extra["best"] = {"record": dict(record), "weights": weights}


class StopBelow(Callback):
    """Ends the run at an evaluation whose mean training loss since the last one is below `threshold`
    (the author's early stop for the image task)."""

    def __init__(self, threshold: float):
        self.threshold = threshold

    def on_eval(self, state: State, record: dict[str, float]) -> None:
        if record.get("train_loss", float("inf")) < self.threshold:
            state.stop = True


def best_model(state: State) -> nn.Module:
    """A copy of the model with the weights `KeepBest` kept (the final weights if it kept none), in eval mode."""
    model = copy.deepcopy(state.model)
    if "best" in state.extra:
        model.load_state_dict(state.extra["best"]["weights"])
    return model.eval()
