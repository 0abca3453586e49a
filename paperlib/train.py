"""One small training loop for every chapter: Adam, an explicit evaluation schedule and callbacks.

The data lives in tensors; a *sampler* `sample(state) -> batch` indexes them (no DataLoader), a
*loss* `loss_fn(model, batch) -> scalar` runs the model, and `evaluate(model) -> {name: value}` runs
at the steps listed in `eval_steps`. Everything a run changes lives in one `State`, so a callback can
change the learning rate or a sampler knob in `state.extra` (a curriculum), and a checkpoint only
has to save the state.

    state = init(lambda: build(spec), lr=1e-3, seed=0)
    train(state, shuffled_batches(x, y, 32), classification(F.cross_entropy), steps=1875,
          eval_steps=[10, 100, 1875], evaluate=lambda m: classification_metrics(m, x_test, y_test))
    state.history  # [{"step": 10, "time": ..., "lr": ..., "train_loss": ..., "acc": ..., "loss": ...}, ...]
"""

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from paperlib.progress import progress

Batch = tuple[Tensor, ...]


@dataclass
class State:
    """Everything a run changes: what a checkpoint saves and what callbacks may edit."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    device: torch.device
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
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = value


class Callback:
    """Hooks of `train`; override the ones you need. Each may edit `state` (lr, extra, stop)."""

    def on_step(self, state: State, loss: Tensor) -> None:
        """After each optimizer step; `loss` is the step's loss tensor (call .item() only if needed)."""

    def on_eval(self, state: State, record: dict[str, float]) -> None:
        """After each evaluation; `record` is the entry just appended to `state.history`."""


def pick_device(device: str = "auto") -> torch.device:
    """"auto" means CUDA when available, else the CPU."""
    return torch.device(("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)


def init(make_model: Callable[[], nn.Module], lr: float = 1e-3, seed: int = 0, device: str = "auto") -> State:
    """Seed torch, build the model on the device and an Adam optimizer (betas 0.9, 0.999; the fused
    kernel on CPU and CUDA, which saves a third of a small model's step time on the CPU)."""
    torch.manual_seed(seed)
    dev = pick_device(device)
    model = make_model().to(dev)
    adam = torch.optim.Adam(model.parameters(), lr=lr, fused=dev.type in ("cpu", "cuda"))
    return State(model, adam, dev, seed, torch.Generator().manual_seed(seed))


def train(state: State, sample: Callable[[State], Batch], loss_fn: Callable[[nn.Module, Batch], Tensor],
          steps: int, *, eval_steps: Iterable[int] = (), evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
          callbacks: Iterable[Callback] = (), autocast: bool | None = None, show_progress: bool = True,
          desc: str = "train") -> State:
    """Train from `state.step` up to `steps`, evaluating after the steps in `eval_steps` (0: before).

    `autocast` (bf16) defaults to on for CUDA and off elsewhere. Returns `state` with its history.
    """
    evals, callbacks = set(eval_steps), list(callbacks)
    use_amp = state.device.type == "cuda" if autocast is None else autocast
    amp = torch.autocast(state.device.type, dtype=torch.bfloat16, enabled=use_amp)
    bar = progress(total=steps - state.step, desc=desc) if show_progress else None

    def checkpoint() -> None:
        record = {"step": state.step, "time": state.train_time, "lr": state.lr}
        if state.loss_count:
            record["train_loss"] = float(state.loss_sum) / state.loss_count
            state.loss_sum, state.loss_count = 0.0, 0
        if evaluate is not None:
            state.model.eval()
            with torch.no_grad(), amp:
                record |= evaluate(state.model)
            state.model.train()
        state.history.append(record)
        for cb in callbacks:
            cb.on_eval(state, record)
        if bar is not None:
            bar.set_postfix(**{k: v for k, v in record.items() if k not in ("step", "time", "lr")})

    state.model.train()
    if state.step in evals:
        checkpoint()
    while state.step < steps and not state.stop:
        start = time.perf_counter()
        batch = tuple(t.to(state.device, non_blocking=True) for t in sample(state))
        with amp:
            loss = loss_fn(state.model, batch)
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
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
            checkpoint()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return state


def classification(criterion: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy
                   ) -> Callable[[nn.Module, Batch], Tensor]:
    """The loss function `criterion(model(x), y)` for batches (x, y)."""
    return lambda model, batch: criterion(model(batch[0]), batch[1])


def classification_metrics(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1000) -> dict[str, float]:
    """Accuracy and mean cross-entropy of `model` on all of (x, y), in chunks of `batch_size`."""
    device = next(model.parameters()).device
    correct, loss = 0, 0.0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size].to(device), y[i:i + batch_size].to(device)
        logits = model(xb).float()
        correct += (logits.argmax(-1) == yb).sum().item()
        loss += F.cross_entropy(logits, yb, reduction="sum").item()
    return {"acc": correct / len(x), "loss": loss / len(x)}


def shuffled_batches(x: Tensor, y: Tensor, batch_size: int) -> Callable[[State], Batch]:
    """Epochs of shuffled batches without replacement, Keras style (the last batch may be short).

    The order depends only on `state.seed` and the epoch, so runs with one seed see the same batches
    (a paired design) and a resumed run continues the same order.
    """
    per_epoch = steps_per_epoch(len(x), batch_size)
    cache: dict[int, Tensor] = {}

    def sample(state: State) -> Batch:
        epoch, i = divmod(state.step, per_epoch)
        if epoch not in cache:
            cache.clear()
            g = torch.Generator().manual_seed(state.seed * 1_000_003 + epoch)
            cache[epoch] = torch.randperm(len(x), generator=g).to(x.device)
        idx = cache[epoch][i * batch_size:(i + 1) * batch_size]
        return x[idx], y[idx]

    return sample


def steps_per_epoch(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)


def eval_schedule(checkpoints: Iterable[int], every: int, steps: int) -> list[int]:
    """The sorted union of `checkpoints` and the multiples of `every` (e.g. each epoch), up to `steps`."""
    return sorted({s for s in checkpoints if s <= steps} | set(range(every, steps + 1, every)))
