"""Callbacks shared by the chapters: keep the best weights, stop early (below a loss, or when a metric stalls),
schedule the learning rate."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Literal

from torch import Tensor, nn

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


class EarlyStop(Callback):
    """Early stopping with patience: a *plateau* is `patience` evaluations in a row without a new lowest
    `metric`. At each of the first `cuts` plateaus the learning rate is multiplied by `factor` (the peak of a
    `Schedule` too) and the count starts again; the next plateau ends the run. Pair it with `KeepBest` to keep
    the weights of the lowest. The lowest value, the count and the steps of the cuts live in `state.extra`,
    so a checkpoint carries them."""

    def __init__(self, metric: str, patience: int, cuts: int = 0, factor: float = 0.1):
        if patience < 1 or cuts < 0 or not 0 < factor < 1:
            raise ValueError(f"need patience >= 1 evaluation, cuts >= 0 and 0 < factor < 1; got {patience}, {cuts}, "
                             f"{factor}")
        self.metric, self.patience, self.cuts, self.factor = metric, patience, cuts, factor

    def on_eval(self, state: State, record: dict[str, float]) -> None:
        if self.metric not in record:
            return
        extra = state.extra
        if record[self.metric] < extra.get("lowest", math.inf):
            extra["lowest"], extra["stalled"] = record[self.metric], 0
        else:
            extra["stalled"] = extra.get("stalled", 0) + 1
        if extra["stalled"] < self.patience:
            return
        cuts = extra.setdefault("lr_cuts", [])
        if len(cuts) < self.cuts:
            cuts.append(state.step)
            state.lr *= self.factor
            if "peak_lr" in extra:
                extra["peak_lr"] *= self.factor
            extra["stalled"] = 0
        else:
            state.stop = True


def best_model(state: State) -> nn.Module:
    """A copy of the model with the weights `KeepBest` kept (the final weights if it kept none), in eval mode."""
    model = copy.deepcopy(state.model)
    if "best" in state.extra:
        model.load_state_dict(state.extra["best"]["weights"])
    return model.eval()


@dataclass(frozen=True)
class WarmupCosine:
    """nanoGPT's learning-rate schedule: linear warm-up over `warmup` steps to the peak, then a cosine decay to
    `min_ratio` of it at step `total`, and constant after."""

    warmup: int
    total: int
    min_ratio: float = 0.1  # nanoGPT's

    def __post_init__(self) -> None:
        if self.warmup < 0 or self.total < 1 or not 0 <= self.min_ratio <= 1:
            raise ValueError(f"need warmup >= 0, total >= 1 and 0 <= min_ratio <= 1; got {self}")

    def lr_at(self, step: int, peak: float) -> float:
        """The learning rate of the optimizer step taken after `step` steps."""
        if step < self.warmup:
            return peak * (step + 1) / (self.warmup + 1)
        if step >= self.total:
            return peak * self.min_ratio
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return _cosine(peak, peak * self.min_ratio, progress)


@dataclass(frozen=True)
class OneCycle:
    """The one-cycle schedule (PyTorch's OneCycleLR with cosine annealing, learning rate only): from peak/`div`
    up to the peak over the first `pct_start` of `total` steps, then down to peak/(`div` · `final_div`)."""

    total: int
    pct_start: float = 0.3  # PyTorch's defaults, which the fast MNIST recipe keeps
    div: float = 25.0
    final_div: float = 1e4

    def __post_init__(self) -> None:
        if self.total < 2 or not 0 < self.pct_start < 1 or self.div <= 0 or self.final_div <= 0:
            raise ValueError(f"need total >= 2, 0 < pct_start < 1 and positive divisors; got {self}")

    def lr_at(self, step: int, peak: float) -> float:
        """The learning rate of the optimizer step taken after `step` steps."""
        start, end = peak / self.div, peak / self.div / self.final_div
        up = self.pct_start * self.total - 1
        if step <= up:
            return _cosine(start, peak, step / up)
        return _cosine(peak, end, min(1.0, (step - up) / (self.total - 1 - up)))


LRSchedule = WarmupCosine | OneCycle


class ScheduledLR(Callback):
    """Sets the learning rate before every step from the step count and the run's `peak` (the learning rate of
    its optimizer config, handed down once). The peak lives in `state.extra["peak_lr"]`, where `EarlyStop`'s cuts
    lower it, so a checkpoint carries it and a resumed run follows the same schedule."""

    def __init__(self, schedule: LRSchedule, peak: float):
        self.schedule, self.peak = schedule, peak

    def on_start(self, state: State) -> None:
        state.extra.setdefault("peak_lr", self.peak)
        state.lr = self.schedule.lr_at(state.step, state.extra["peak_lr"])

    def on_step(self, state: State, loss: Tensor) -> None:
        state.lr = self.schedule.lr_at(state.step, state.extra["peak_lr"])


def _cosine(start: float, end: float, fraction: float) -> float:
    """From `start` (fraction 0) to `end` (fraction 1) along half a cosine."""
    return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2
