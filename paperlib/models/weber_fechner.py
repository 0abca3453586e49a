"""Weber–Fechner heads and the two MNIST trunks (Kausik, arXiv 2204.11834), under our readings.

Only the abstract is public: the law is imposed "via the logarithmic power series of their sorted
output". The preferred reading (methods page, Weber–Fechner): a linear layer emits m units per class,
ReLU, each class's units are sorted in descending order and summed with the coefficients 1/k of
-ln(1-x) = sum_k x^k/k. Every other reading and every control differs only in that per-class
reduction (`wf_pool`).
"""

from dataclasses import dataclass
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

Reading = Literal["harmonic", "alternating", "log", "log_power", "learned"]
Control = Literal["max", "mean", "sum", "unsorted", "scaled"]
READINGS: tuple[str, ...] = get_args(Reading)
CONTROLS: tuple[str, ...] = get_args(Control)
REDUCTIONS = READINGS + CONTROLS


def wf_pool(h: Tensor, reading: Reading | Control = "harmonic", *, x: float = 1.0, weight: Tensor | None = None) -> Tensor:
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

    def __init__(self, in_features: int, n_classes: int = 10, m: int = 8, reading: Reading | Control = "harmonic",
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


def fast_trunk() -> nn.Sequential:
    """The small CNN of the fastest published simple MNIST recipe (train_mnist_fast; methods page,
    Weber–Fechner): conv 24 5x5 -> pool 2 -> ReLU -> conv 32 5x5 -> pool 2 -> ReLU -> FC 256 -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(1, 24, 5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(24, 32, 5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 256), nn.ReLU(),
    )


def keras_init(model: nn.Module) -> nn.Module:
    """Keras's default initialisation: Glorot-uniform weights and zero biases in every Linear and Conv2d
    (PyTorch's default is Kaiming-uniform with a scaled uniform bias)."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


@dataclass(frozen=True)
class Spec:
    """One model of the chapter: a trunk, a head ("plain" or a `wf_pool` reduction) and a loss."""

    trunk: Literal["mlp", "cnn", "fast"]
    head: str = "harmonic"  # "plain" (Linear(., 10)) or a `wf_pool` reduction
    m: int = 8
    x: float = 1.0
    loss: str = "ce"


def build(spec: Spec, cnn_channels: tuple[int, int] = (32, 64), keras: bool = False) -> nn.Sequential:
    """The trunk followed by the plain Linear(., 10) head or a `WFHead`; input (batch, 1, 28, 28). With
    `keras`, Keras's initialisation (`keras_init`) replaces PyTorch's."""
    if spec.trunk == "mlp":
        trunk, features = mlp_trunk(), 128
    elif spec.trunk == "fast":
        trunk, features = fast_trunk().to(memory_format=torch.channels_last), 256
    else:
        # channels-last weights: a third less time per step and half the evaluation time on the CPU
        trunk, features = cnn_trunk(cnn_channels).to(memory_format=torch.channels_last), cnn_channels[1] * 5 * 5
    head = nn.Linear(features, 10) if spec.head == "plain" else WFHead(features, 10, spec.m, spec.head, spec.x)
    model = nn.Sequential(trunk, head)
    return keras_init(model) if keras else model


@dataclass(frozen=True)
class Net:
    """A model as a run plan holds it: its `Spec`, the CNN trunk's two widths (the other trunks ignore them)
    and whether Keras's initialisation replaces PyTorch's."""

    spec: Spec
    cnn_channels: tuple[int, int]
    keras: bool

    def build(self) -> nn.Sequential:
        return build(self.spec, self.cnn_channels, self.keras)


def macs(model: nn.Module) -> int:
    """Multiply-adds of one forward pass on one 28x28 image (matmuls and convolutions)."""
    with FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(1, 1, 28, 28, device=next(model.parameters()).device))
    model.train()
    return counter.get_total_flops() // 2
