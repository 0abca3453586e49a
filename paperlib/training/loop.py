"""One small training loop for every chapter: an explicit evaluation schedule and callbacks.

The data lives in tensors; a *sampler* `sample(state) -> batch` draws a batch (no DataLoader), a
*loss* `loss_fn(model, batch) -> scalar` runs the model, and `evaluate(state) -> {name: value}` scores the
state's model (reading its step or curriculum where it needs to) at the steps listed in `eval_steps`. Everything a run changes lives in one `State`, so a callback can
change the learning rate or a sampler knob in `state.extra` (a curriculum), and a checkpoint only
has to save the state.

    setup = configure_device("auto")
    state = init(lambda: build(spec), OptimizerConfig(lr=1e-3), seed=0, setup=setup)
    train(state, shuffled_batches(x, y, 32), model_loss(), steps=1875, eval_steps=[10, 100, 1875],
          evaluate=lambda s: score(s.model, tensor_batches(x_test, y_test)).summary())
    state.history  # [{"step": 10, "time": ..., "lr": ..., "train_loss": ..., "acc": ..., "loss": ...}, ...]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from paperlib.progress import progress
from paperlib.training.device import DeviceSetup
from paperlib.training.optim import OptimizerConfig, make_optimizer

Batch = tuple[Tensor, ...]
Sampler = Callable[["State"], Batch]
LossFn = Callable[[nn.Module, Batch], Tensor]
Evaluate = Callable[["State"], dict[str, float]]


@dataclass
class State:
    """Everything a run changes: what a checkpoint saves and what callbacks may edit."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    setup: DeviceSetup
    seed: int
    generator: torch.Generator  # for samplers that draw random batches (CPU)
    step: int = 0  # optimizer steps taken
    train_time: float = 0.0  # seconds spent in training steps, evaluations excluded
    history: list[dict[str, float]] = field(default_factory=list)
    loss_sum: Tensor | float = 0.0  # training loss summed since the last evaluation (a tensor: no sync)
    loss_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # sampler knobs a callback may change
    stop: bool = False  # a callback sets it to end the run after the current step

    @property
    def device(self) -> torch.device:
        return self.setup.device

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = value


class Callback:
    """Hooks of `train`; override the ones you need. Each may edit `state` (lr, extra, stop)."""

    def on_start(self, state: State) -> None:
        """Before the first step of a `train` call (after any resume from a checkpoint)."""

    def on_step(self, state: State, loss: Tensor) -> None:
        """After each optimizer step; `loss` is the step's loss tensor (call .item() only if needed)."""

    def on_eval(self, state: State, record: dict[str, float]) -> None:
        """After each evaluation; `record` is the entry just appended to `state.history`."""


def forward_backward(model: nn.Module, loss_fn: LossFn, batch: Batch, setup: DeviceSetup) -> Tensor:
    """The loss of `batch` under the set-up's autocast, and its gradients in place of any earlier ones."""
    with setup.autocast():
        loss = loss_fn(model, batch)
    model.zero_grad(set_to_none=True)
    loss.backward()
    return loss


def init(make_model: Callable[[], nn.Module], optimizer: OptimizerConfig, seed: int, setup: DeviceSetup) -> State:
    """Seed torch, build the model on the device (the set-up's `prepare` may compile its layers) and its optimizer."""
    torch.manual_seed(seed)
    model = setup.prepare(make_model())
    return State(model, make_optimizer(model, optimizer, setup.device), setup, seed,
                 torch.Generator().manual_seed(seed))


def train(state: State, sample: Sampler, loss_fn: LossFn, steps: int, *, eval_steps: Iterable[int] = (),
          evaluate: Evaluate | None = None, callbacks: Iterable[Callback] = (), show_progress: bool = True,
          desc: str = "train") -> State:
    """Train from `state.step` up to `steps`, evaluating after the steps in `eval_steps` (0: before).

    A step already evaluated (a run resumed from a checkpoint saved after an evaluation) is not
    evaluated again. Returns `state` with its history.
    """
    evals, callbacks = set(eval_steps), list(callbacks)
    bar = progress(total=max(steps - state.step, 0), desc=desc) if show_progress else None

    def evaluation() -> None:
        record = {"step": state.step, "time": state.train_time, "lr": state.lr}
        if state.loss_count:
            record["train_loss"] = float(state.loss_sum) / state.loss_count
            state.loss_sum, state.loss_count = 0.0, 0
        if evaluate is not None:
            state.model.eval()
            with torch.no_grad(), state.setup.autocast():
                record |= evaluate(state)
            state.model.train()
        state.history.append(record)
        for cb in callbacks:
            cb.on_eval(state, record)
        if bar is not None:
            bar.set_postfix(**{k: v for k, v in record.items() if k not in ("step", "time", "lr")})

    for cb in callbacks:
        cb.on_start(state)
    state.model.train()
    if state.step in evals and not (state.history and state.history[-1]["step"] == state.step):
        evaluation()
    while state.step < steps and not state.stop:
        start = time.perf_counter()
        batch = tuple(t.to(state.device, non_blocking=True) for t in sample(state))
        loss = forward_backward(state.model, loss_fn, batch, state.setup)
        state.optimizer.step()
        if state.device.type == "cuda" and state.step + 1 in evals:
            torch.cuda.synchronize()
        state.train_time += time.perf_counter() - start
        state.step += 1
        state.loss_sum = state.loss_sum + loss.detach().float()
        state.loss_count += 1
        for cb in callbacks:
            cb.on_step(state, loss)
        if state.step in evals:
            evaluation()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return state
