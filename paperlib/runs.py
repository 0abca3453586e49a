"""What the chapters that train several models share: selection, early stopping, resumable runs,
training cost, the device, and how a configuration departs from the paper's.

Training cost follows the paper's convention, *forward FLOPs per sample × samples seen*, with our
complete forward count (`paperlib.flops.count_flops`) instead of the paper's formula; a model that
draws its block length at random per step is charged the mean over the lengths it draws.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from paperlib import checkpoint
from paperlib.flops import count_flops
from paperlib.models.recurrent import RecurrentConfig
from paperlib.models.transformer import TransformerConfig
from paperlib.paths import cache_dir
from paperlib.train import Batch, Callback, State, pick_device, train


class KeepBest(Callback):
    """Keeps the evaluation record and a copy of the weights where `metric` was lowest (or highest).

    Both live in ``state.extra["best"]``, so a checkpoint of the state carries them.
    """

    def __init__(self, metric: str, mode: str = "min"):
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
    """A copy of the model with the weights `KeepBest` kept (the final weights if it kept none)."""
    model = copy.deepcopy(state.model)
    if "best" in state.extra:
        model.load_state_dict(state.extra["best"]["weights"])
    return model.eval()


def train_flops_per_sample(cfg: TransformerConfig, n: int) -> float:
    """Forward FLOPs of one training sample of length n: the mean over a random block range, if any."""
    if isinstance(cfg, RecurrentConfig) and cfg.block_range is not None:
        blocks = range(cfg.block_range[0], cfg.block_range[1] + 1)
        return sum(count_flops(replace(cfg, block=k, block_range=None), n) for k in blocks) / len(blocks)
    return float(count_flops(cfg, n))


def history_frame(state: State, batch_size: int, flops_per_sample: float, **columns: Any) -> pd.DataFrame:
    """The run's evaluation records with samples seen and training FLOPs, plus constant `columns`."""
    frame = pd.DataFrame(state.history)
    frame["samples"] = frame["step"] * batch_size
    frame["train_flops"] = frame["samples"] * flops_per_sample
    return frame.assign(**columns)


def checkpoint_path(notebook: str, name: str) -> Path:
    """Where a chapter's resumable run of model `name` keeps its checkpoint (in the data cache)."""
    return cache_dir() / "checkpoints" / notebook / f"{name}.pt"


def resumable_train(state: State, sample: Callable[[State], Batch], loss_fn: Callable[[nn.Module, Batch], torch.Tensor],
                    steps: int, *, path: Path | None, every: int, meta: Mapping[str, Any],
                    callbacks: Iterable[Callback] = (), **kwargs: Any) -> State:
    """`paperlib.train.train`, resumed from the checkpoint at `path` when it holds a run of the same
    configuration (`meta`), and saving one every `every` steps (`path` None or `every` 0: neither)."""
    callbacks = list(callbacks)
    if path is not None and every > 0:
        if path.is_file():
            saved = torch.load(path, map_location="cpu", weights_only=False)["meta"]
            if saved == dict(meta):
                checkpoint.load(path, state)
                print(f"resumed {path.name} at step {state.step}")
            else:
                warnings.warn(f"{path} holds another configuration; starting afresh", stacklevel=2)
        callbacks.append(checkpoint.Checkpointer(path, every, meta))
    return train(state, sample, loss_fn, steps, callbacks=callbacks, **kwargs)


@dataclass
class Run:
    """One trained model of a chapter: its config, final state and evaluation history (with samples
    seen and training FLOPs)."""

    name: str
    cfg: TransformerConfig
    state: State
    history: pd.DataFrame
    flops_per_sample: float

    @property
    def params(self) -> int:
        return sum(p.numel() for p in self.state.model.parameters())

    def best(self, metric: str, mode: str = "min") -> pd.Series:
        """The evaluation record where `metric` was lowest (or highest)."""
        column = self.history[metric]
        return self.history.loc[column.idxmin() if mode == "min" else column.idxmax()]


def eval_steps(steps: int, evals: int) -> list[int]:
    """`evals` evaluation steps spread evenly over `steps`, the last one at `steps`."""
    return sorted({max(1, round(steps * i / evals)) for i in range(1, evals + 1)})


def fit(name: str, cfg: TransformerConfig, state: State, sample: Callable[[State], Batch],
        loss_fn: Callable[[nn.Module, Batch], torch.Tensor], *, steps: int, batch_size: int, seq_len: int,
        evals: int, evaluate: Callable[[nn.Module], dict[str, float]], callbacks: Iterable[Callback] = (),
        notebook: str = "", checkpoint_every: int = 0) -> Run:
    """Train `state` for `steps` with `evals` evaluations and return the `Run`.

    With `checkpoint_every` > 0 the run saves a checkpoint in the cache every so many steps, and a
    rerun of the same configuration resumes from it.
    """
    path = checkpoint_path(notebook, name) if checkpoint_every else None
    meta = {"name": name, "config": repr(cfg), "batch_size": batch_size, "seed": state.seed, "lr": state.lr}
    resumable_train(state, sample, loss_fn, steps, path=path, every=checkpoint_every, meta=meta,
                    callbacks=callbacks, eval_steps=eval_steps(steps, evals), evaluate=evaluate, desc=name)
    flops = train_flops_per_sample(cfg, seq_len)
    return Run(name, cfg, state, history_frame(state, batch_size, flops, model=name), flops)


def setup(device: str = "auto", threads: int = 0) -> tuple[torch.device, str]:
    """Set torch's CPU threads (0 leaves the default) and pick the device ("auto": CUDA when available);
    returns the device and a description of it for the page."""
    if threads:
        torch.set_num_threads(threads)
    dev = pick_device(device)
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"the CPU ({torch.get_num_threads()} threads)"
    return dev, where


def deviations(ours: Mapping[str, Any], paper: Mapping[str, Any]) -> str:
    """"name value (paper value), ..." for each setting that differs from the paper's; "" if none does."""
    return ", ".join(f"{name} {value} (paper {paper[name]})" for name, value in ours.items() if value != paper[name])
