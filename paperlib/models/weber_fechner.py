"""Weber-Fechner heads for MNIST (Kausik, arXiv 2204.11834), under the readings of the reference.

Only the abstract is public: the law is imposed "via the logarithmic power series of their sorted
output". The preferred reading: a linear layer emits m units per class, ReLU, each class's units are
sorted in descending order and summed with the coefficients 1/k of -ln(1-x) = sum_k x^k/k. Every
other reading and every control differs only in that per-class reduction (`wf_pool`).

Also the chapter's experiment: every model trained over seeds on MNIST tensors (`run_seeds`) and the
paired comparisons against the best control that its verdicts read (`advantage`, `checkpoints_won`).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from paperlib.losses import LOSSES
from paperlib.progress import progress
from paperlib.stats import ci_table, paired_diff_ci
from paperlib.train import (classification, classification_metrics, eval_schedule, init, shuffled_batches,
                            steps_per_epoch, train)

READINGS = ("harmonic", "alternating", "log", "log_power", "learned")
CONTROLS = ("max", "mean", "sum", "unsorted", "scaled")
REDUCTIONS = READINGS + CONTROLS


def wf_pool(h: Tensor, reading: str = "harmonic", *, x: float = 1.0, weight: Tensor | None = None) -> Tensor:
    """Reduce the last axis of `h` (..., m) to (...).

    Readings (on values sorted descending, h_(1) >= ... >= h_(m)):
      harmonic     sum_k h_(k) x^k / k          (x = 1: the 1/k series; the preferred reading)
      alternating  sum_k (-1)^(k+1) h_(k) / k   (the ln(1+x) coefficients)
      log          ln(1 + sum_k h_k)            (plain log compression; no sort needed)
      log_power    sum_{k,p} weight[k,p] ln(1 + h_(k))^p   (weight: (m, P))
      learned      sum_k weight[k] h_(k)        (weight: (m,), initialised at 1/k by `WFHead`)
    Controls: max, mean, sum, unsorted (sum_k h_k / k in the original order), scaled (harmonic / H_m).
    """
    if reading not in REDUCTIONS:
        raise ValueError(f"unknown reading {reading!r}; expected one of {', '.join(REDUCTIONS)}")
    if reading in ("log_power", "learned") and weight is None:
        raise ValueError(f"reading {reading!r} needs a weight")
    k = torch.arange(1, h.shape[-1] + 1, device=h.device, dtype=h.dtype)
    if reading == "max":
        return h.amax(-1)
    if reading == "mean":
        return h.mean(-1)
    if reading == "sum":
        return h.sum(-1)
    if reading == "log":
        return torch.log1p(h.sum(-1))
    if reading == "unsorted":
        return h @ (1 / k)
    s = h.sort(dim=-1, descending=True, stable=True).values
    if reading == "harmonic":
        return s @ (x**k / k)
    if reading == "scaled":
        return s @ (1 / k / (1 / k).sum())
    if reading == "alternating":
        return s @ ((-1) ** (k + 1) / k)
    if reading == "learned":
        return s @ weight
    powers = torch.arange(1, weight.shape[-1] + 1, device=h.device, dtype=h.dtype)
    return (torch.log1p(s).unsqueeze(-1) ** powers * weight).sum((-2, -1))


class WFHead(nn.Module):
    """Linear -> n_classes*m units -> ReLU -> per-class groups of m -> `wf_pool` -> n_classes logits."""

    def __init__(self, in_features: int, n_classes: int = 10, m: int = 8, reading: str = "harmonic",
                 x: float = 1.0, powers: int = 3):
        super().__init__()
        if reading not in REDUCTIONS:
            raise ValueError(f"unknown reading {reading!r}; expected one of {', '.join(REDUCTIONS)}")
        self.n_classes, self.m, self.reading, self.x = n_classes, m, reading, x
        self.proj = nn.Linear(in_features, n_classes * m)
        inv_k = 1 / torch.arange(1, m + 1, dtype=torch.float32)
        self.weight = None
        if reading == "learned":
            self.weight = nn.Parameter(inv_k)
        elif reading == "log_power":  # starts as sum_k ln(1 + h_(k)) / k; higher powers start at 0
            self.weight = nn.Parameter(torch.cat([inv_k[:, None], torch.zeros(m, powers - 1)], 1))

    def units(self, f: Tensor) -> Tensor:
        """The head's ReLU units, grouped per class: (batch, n_classes, m)."""
        return F.relu(self.proj(f)).unflatten(-1, (self.n_classes, self.m))

    def forward(self, f: Tensor) -> Tensor:
        return wf_pool(self.units(f), self.reading, x=self.x, weight=self.weight)


def mlp_trunk(hidden: int = 128, dropout: float = 0.2) -> nn.Sequential:
    """The Keras quickstart trunk: flatten 28x28 -> 128 ReLU -> dropout 0.2."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Dropout(dropout))


def cnn_trunk(channels: tuple[int, int] = (32, 64), dropout: float = 0.5) -> nn.Sequential:
    """The Keras simple convnet trunk: conv 32 3x3 -> pool 2 -> conv 64 3x3 -> pool 2 -> dropout 0.5."""
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(dropout),
    )


@dataclass(frozen=True)
class Spec:
    """One model of the chapter: a trunk, a head ("plain" or a `wf_pool` reduction) and a loss."""

    trunk: str
    head: str = "harmonic"
    m: int = 8
    x: float = 1.0
    loss: str = "ce"


def build(spec: Spec, cnn_channels: tuple[int, int] = (32, 64)) -> nn.Sequential:
    """The trunk followed by the plain Linear(., 10) head or a `WFHead`; input (batch, 1, 28, 28)."""
    if spec.trunk == "mlp":
        trunk, features = mlp_trunk(), 128
    else:
        # channels-last weights: a third less time per step and half the evaluation time on the CPU
        trunk, features = cnn_trunk(cnn_channels).to(memory_format=torch.channels_last), cnn_channels[1] * 5 * 5
    head = nn.Linear(features, 10) if spec.head == "plain" else WFHead(features, 10, spec.m, spec.head, spec.x)
    return nn.Sequential(trunk, head)


VARIANTS = {  # name suffix -> (head, m, x, loss); the prefix names the trunk
    "plain": ("plain", 8, 1.0, "ce"),
    "wf": ("harmonic", 8, 1.0, "ce"),
    "wf_x50": ("harmonic", 8, 0.5, "ce"),
    "wf_x90": ("harmonic", 8, 0.9, "ce"),
    "wf_m4": ("harmonic", 4, 1.0, "ce"),
    "wf_m16": ("harmonic", 16, 1.0, "ce"),
    "alt": ("alternating", 8, 1.0, "ce"),
    "log": ("log", 8, 1.0, "ce"),
    "logpow": ("log_power", 8, 1.0, "ce"),
    "learned": ("learned", 8, 1.0, "ce"),
    "max": ("max", 8, 1.0, "ce"),
    "mean": ("mean", 8, 1.0, "ce"),
    "sum": ("sum", 8, 1.0, "ce"),
    "unsorted": ("unsorted", 8, 1.0, "ce"),
    "scaled": ("scaled", 8, 1.0, "ce"),
    "l1": ("plain", 8, 1.0, "rank_class"),
    "l1b": ("plain", 8, 1.0, "rank_batch"),
    "l2": ("plain", 8, 1.0, "relative"),
    "l3": ("plain", 8, 1.0, "log_ce"),
}
MODELS = {f"{t}_{v}": Spec(t, *VARIANTS[v]) for t in ("mlp", "cnn") for v in VARIANTS}


def macs(model: nn.Module) -> int:
    """Multiply-adds of one forward pass on one 28x28 image (matmuls and convolutions)."""
    with FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(1, 1, 28, 28, device=next(model.parameters()).device))
    model.train()
    return counter.get_total_flops() // 2


def as_images(pixels: Tensor) -> Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [0, 1]: the author's x / 255."""
    return pixels.float().div(255).unsqueeze(1)


CHECKPOINTS = (10, 25, 50, 100, 200, 500)


def run_seeds(names: Sequence[str], seeds: Sequence[int], train_x: Tensor, train_y: Tensor, test_x: Tensor,
              test_y: Tensor, steps: int, batch_size: int = 32, lr: float = 1e-3,
              checkpoints: Sequence[int] = CHECKPOINTS, cnn_channels: tuple[int, int] = (32, 64)) -> pd.DataFrame:
    """Train each model of `MODELS` with each seed; one row per (model, seed, evaluation).

    Evaluations on all of (test_x, test_y) follow `checkpoints` and every epoch. Runs with the same seed
    see the same batches, so differences between models can be paired by seed.
    """
    sample = shuffled_batches(train_x, train_y, batch_size)
    schedule = eval_schedule(checkpoints, steps_per_epoch(len(train_x), batch_size), steps)
    rows = []
    with progress(total=len(names) * len(seeds), desc="runs") as bar:
        for name in names:
            spec = MODELS[name]
            for seed in seeds:
                state = init(lambda: build(spec, cnn_channels), lr=lr, seed=seed)
                train(state, sample, classification(LOSSES[spec.loss]), steps, eval_steps=schedule,
                      evaluate=lambda model: classification_metrics(model, test_x, test_y), show_progress=False)
                rows += [{"model": name, "seed": seed, **r} for r in state.history]
                bar.set_postfix(model=name)
                bar.update(1)
    return pd.DataFrame(rows)


def advantage(runs: pd.DataFrame, model: str, controls: Sequence[str], step: int) -> tuple[str, float, float, float]:
    """(control, mean, low, high): test accuracy of `model` minus that of the control with the highest
    mean accuracy at `step`, paired by seed, with its 95 % t-interval."""
    at = runs[runs.step == step].pivot(index="seed", columns="model", values="acc")
    best = at[list(controls)].mean().idxmax()
    return best, *paired_diff_ci(at[model], at[best])


def checkpoints_won(runs: pd.DataFrame, model: str, controls: Sequence[str], max_step: int = 200) -> int:
    """Checkpoints of at most `max_step` steps where the paired 95 % CI of `advantage` lies above 0.

    The reference's verdict rule: "accelerates" needs at least two.
    """
    return sum(advantage(runs, model, controls, s)[2] > 0 for s in sorted(runs.step.unique()) if s <= max_step)


CONTROL_VARIANTS = ("plain", "max", "mean", "sum", "unsorted")


def controls_for(name: str, available: Sequence[str]) -> list[str]:
    """What `name` is judged against: a loss variant against cross-entropy on the same model; a head
    against the controls of its trunk that were run (the same-size reductions and the plain head)."""
    trunk = MODELS[name].trunk
    if MODELS[name].loss != "ce":
        return [f"{trunk}_plain"]
    return [f"{trunk}_{c}" for c in CONTROL_VARIANTS if f"{trunk}_{c}" in available and f"{trunk}_{c}" != name]


def ablation_table(runs: pd.DataFrame, steps: Sequence[int]) -> pd.DataFrame:
    """Per model and step: test accuracy (%) as mean ± 95 % CI half-width, and the paired difference
    against the best of `controls_for` (* where its CI excludes 0)."""
    names = list(runs.model.unique())
    acc = ci_table(runs, ["model", "step"], "acc").set_index(["model", "step"])
    rows = []
    for name in names:
        row, controls = {"model": name}, controls_for(name, names)
        for step in steps:
            mean, low = acc.loc[(name, step), ["mean", "ci_low"]]
            row[f"acc @ {step}"] = f"{100 * mean:.2f} ± {100 * (mean - low):.2f}"
            if controls:
                control, diff, d_low, d_high = advantage(runs, name, controls, step)
                star = "*" if d_low > 0 or d_high < 0 else ""
                row[f"Δ @ {step}"] = f"{100 * diff:+.2f} ± {100 * (diff - d_low):.2f}{star} ({control})"
        rows.append(row)
    return pd.DataFrame(rows).set_index("model").fillna("")


def time_to(runs: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per model: the first evaluated step where the mean test accuracy over seeds reaches `threshold`,
    and the mean training seconds up to it (NaN if never; an upper bound between evaluations)."""
    mean = runs.groupby(["model", "step"], sort=False)[["acc", "time"]].mean().reset_index()
    rows = []
    for name, g in mean.groupby("model", sort=False):
        hit = g[g.acc >= threshold]
        rows.append({"model": name, "steps": hit.step.iloc[0] if len(hit) else math.nan,
                     "seconds": hit.time.iloc[0] if len(hit) else math.nan})
    return pd.DataFrame(rows).set_index("model")
