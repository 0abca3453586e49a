"""What the paper profile trains, chapter by chapter, and how long it should take on one GPU.

Each chapter's runs are its own plan (`runs(params)` of the chapter's module). Cost follows the paper's convention
with our complete count (`paperlib.models.flops`): a training sample costs three forward passes, an evaluated one
costs one. Minutes are FLOPs / (peak × MFU): the peak is the H200's dense bf16 rate as
measured on the workplace's machine, the MFU an assumption unless a measured throughput file gives it per run.

Runs are counted at their longest length and most steps ("at most"). Where the Note reports the samples a
run needed (copy and selective copy, Table 6), "expected" counts those instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from torch import nn

from paperlib.models import n_params
from paperlib.models.configs import build_model
from paperlib.paths import profiles_dir
from paperlib.training.plan import RunSpec

PEAK_FLOPS = 790e12  # H200 dense bf16: 769-798 TFLOP/s on an 8192^3 product (workplace device notes)
DEFAULT_MFU = 0.02  # assumed: the recurrence's many small windows leave a step bound by kernel launches
THROUGHPUT_FILE = profiles_dir() / "paper_throughput.json"  # {"source": ..., "mfu": {RUN_KEY or "default": fraction}}
CHECKPOINT_BYTES_PER_PARAM = 12  # fp32 weights and Adam's two moments


@dataclass(frozen=True)
class PlannedRun:
    """One training run of a chapter's plan, with the steps the Note expects it to take (`expected_steps`, its most
    where the Note gives no count); its FLOPs are its spec's (`RunSpec.flops`)."""

    spec: RunSpec
    expected_steps: int

    @property
    def key(self) -> str:
        """CHAPTER/RUN."""
        return f"{self.spec.chapter}/{self.spec.name}"

    def make(self) -> nn.Module:
        return build_model(self.spec.model)

    def flops(self, expected: bool = False) -> float:
        return self.spec.flops(self.expected_steps if expected else None)


def planned(specs: list[RunSpec], expected_samples: float | None = None) -> list[PlannedRun]:
    """The runs of a chapter's own plan (`runs(params)` of its module, `paperlib.training.plan`), keyed
    CHAPTER/RUN, counted at their most steps; "expected" at `expected_samples` where the Note reports them."""
    return [PlannedRun(spec, _expected_steps(spec, expected_samples)) for spec in specs]


def _expected_steps(spec: RunSpec, samples: float | None) -> int:
    return spec.steps if samples is None else min(spec.steps, math.ceil(samples / spec.batch))


@dataclass(frozen=True)
class Throughput:
    """Peak FLOP/s and the MFU per run key (with a default), and where the MFU came from."""

    peak: float = PEAK_FLOPS
    mfu: Mapping[str, float] = field(default_factory=dict)
    source: str = f"assumed MFU {DEFAULT_MFU:.0%}"

    def fraction(self, key: str) -> float:
        return self.mfu.get(key, self.mfu.get("default", DEFAULT_MFU))

    def minutes(self, run: PlannedRun, expected: bool = False) -> float:
        return run.flops(expected) / (self.peak * self.fraction(run.key)) / 60


def load_throughput(path: Path | None = None, mfu: float | None = None, peak: float = PEAK_FLOPS) -> Throughput:
    """`mfu` for every run if given; else the measured file (`THROUGHPUT_FILE` by default) if it exists; else
    the assumed `DEFAULT_MFU`."""
    if mfu is not None:
        if not 0 < mfu <= 1:
            raise ValueError(f"MFU must be in (0, 1], got {mfu}")
        return Throughput(peak, {"default": mfu}, f"MFU {mfu:.1%} (given)")
    path = path or THROUGHPUT_FILE
    if not path.is_file():
        return Throughput(peak)
    content = json.loads(path.read_text())
    table = content.get("mfu")
    if not isinstance(table, dict) or not all(isinstance(v, (int, float)) and 0 < v <= 1 for v in table.values()):
        raise ValueError(f"{path}: 'mfu' must map run keys (or 'default') to fractions in (0, 1]")
    return Throughput(peak, table, f"measured: {content.get('source', path.name)}")


def checkpoint_mib(run: PlannedRun) -> float:
    """About how large the run's checkpoint is (weights and Adam's moments in fp32)."""
    return n_params(run.make()) * CHECKPOINT_BYTES_PER_PARAM / 2**20


def step_mfu(seconds: pd.DataFrame, runs: list[PlannedRun], peak: float = PEAK_FLOPS) -> dict[str, float]:
    """The MFU of each run whose model the copy chapter's step table (seconds of one training step by sequence
    length and model kind, at the run's batch) timed at the run's longest length: three forward passes of a batch
    over a step's seconds at `peak`. The forget ablation is the paper's model with α held at 0: the same step."""
    mfu = {}
    for run in runs:
        kind = run.key.split("/")[-1].split("-")[1]
        column = "recurrent" if kind == "forget" else kind
        spec = run.spec
        if column in seconds.columns and spec.length in seconds.index and pd.notna(seconds.at[spec.length, column]):
            mfu[run.key] = 3 * spec.batch * spec.forward_flops / (seconds.at[spec.length, column] * peak)
    return mfu
