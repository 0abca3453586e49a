"""What the paper profile trains, chapter by chapter, and how long it should take on one GPU.

Each chapter's runs are listed from the profile's parameters with the models `paperlib.models` builds (the
chapters' own config functions produce the same ones: tests/gpu/test_estimate.py checks it). Cost follows the
paper's convention with our complete count (`paperlib.flops`): a training sample costs three forward passes,
an evaluated one costs one. Minutes are FLOPs / (peak × MFU): the peak is the H200's dense bf16 rate as
measured on the workplace's machine, the MFU an assumption unless a measured throughput file gives it per run.

Runs are counted at their longest length and most steps ("at most"). Where the Note reports the samples a
run needed (copy and selective copy, Table 6), "expected" counts those instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from torch import nn

from paperlib.book.paper_numbers import NOTE_COPY_SAMPLES
from paperlib.data.synthetic import N_DATA
from paperlib.flops import rnn_flops, train_flops_per_sample
from paperlib.models import n_params
from paperlib.models.paper_configs import build, paper_config, paper_model
from paperlib.models.rnn import GATES, RNNModel, hidden_for_params
from paperlib.models.transformer import TransformerConfig
from paperlib.paths import profiles_dir

PEAK_FLOPS = 790e12  # H200 dense bf16: 769-798 TFLOP/s on an 8192^3 product (workplace device notes)
DEFAULT_MFU = 0.02  # assumed: the recurrence's many small windows leave a step bound by kernel launches
THROUGHPUT_FILE = profiles_dir() / "paper_throughput.json"  # {"source": ..., "mfu": {RUN_KEY or "default": fraction}}
SHAKESPEARE_VOCAB = 65  # tiny Shakespeare's characters
CHECKPOINT_BYTES_PER_PARAM = 12  # fp32 weights and Adam's two moments


@dataclass(frozen=True)
class PlannedRun:
    """One training run of a chapter: `key` is CHAPTER/RUN, `make` builds its model."""

    key: str
    make: Callable[[], nn.Module]
    length: int  # tokens per sample (the longest it trains at)
    batch: int
    steps: int  # at most
    expected_steps: int  # the Note's count where it gives one, else `steps`
    forward_flops: float  # per sample at `length` (a random block range: its mean)
    eval_samples: int  # samples scored by every evaluation of the run together

    def flops(self, expected: bool = False) -> float:
        steps = self.expected_steps if expected else self.steps
        return self.forward_flops * (3 * steps * self.batch + self.eval_samples * steps / self.steps)


def copy_runs(values: Mapping[str, Any], task: str) -> list[PlannedRun]:
    """Runs of one copy task (`paperlib.chapters.copy_tasks.run_plan`): the paper's model once per seed, then
    its forget ablation, the regular transformer and the GRU/LSTM with the first seed, counted here at their
    longest length and at most the paper model's steps (the baselines' curriculum up to `baseline_cap`)."""
    batch, steps = values["batch_size"], values["copy_steps" if task == "copy" else "selective_steps"]
    length = values["cap"] + 2 * N_DATA
    expected = min(steps, math.ceil(NOTE_COPY_SAMPLES[task] / batch))
    evals = (steps // values["eval_every"] + 1) * values["eval_batches"] * batch + 3 * values["final_batches"] * batch
    recurrent = paper_config(task, "recurrent")
    hidden = hidden_for_params(n_params(paper_model("copy", "recurrent")), values["rnn"])
    short = min(values["baseline_cap"], values["cap"]) + 2 * N_DATA
    rnn_cost = rnn_flops(GATES[values["rnn"]], hidden, short, recurrent.vocab_size, recurrent.n_out)
    seeds = values["seeds"] if task == "copy" else values["selective_seeds"] or values["seeds"]
    runs = [_transformer(f"copy_tasks/{task}-recurrent-seed{seed}", recurrent, length, batch, steps, expected, evals)
            for seed in range(seeds)]
    if values["baselines"]:
        runs += [
            _transformer(f"copy_tasks/{task}-forget", replace(recurrent, alpha="forget"), short, batch, steps,
                         expected, evals),
            _transformer(f"copy_tasks/{task}-regular", paper_config(task, "regular"), short, batch, steps, expected,
                         evals),
            PlannedRun(f"copy_tasks/{task}-{values['rnn']}", lambda: RNNModel(values["rnn"], hidden=hidden), short,
                       batch, steps, expected, rnn_cost, evals),
        ]
    return runs


def shakespeare_runs(values: Mapping[str, Any]) -> list[PlannedRun]:
    """Runs of the Shakespeare chapter (`shakespeare_configs`, one per seed): forget at the profile's K with and
    without positions and at K = 16, learnable α at both, and the regular 1- and 6-layer models."""
    shape = {"vocab_size": SHAKESPEARE_VOCAB, "n_embd": values["n_embd"], "n_head": values["n_head"],
             "n_positions": values["context"], "dropout": values["dropout"]}
    k, learn = values["block"], {"alpha": "learn", "alpha_value": 0.5}
    configs = {
        "recurrent_pos": (paper_config("shakespeare", "recurrent", block=k, **shape), "batch_recurrent"),
        "recurrent_nopos": (paper_config("shakespeare", "recurrent", block=k, **{**shape, "n_positions": 0}),
                            "batch_recurrent"),
        "recurrent_k16": (paper_config("shakespeare", "recurrent", block=16, **shape), "batch_recurrent"),
        "recurrent_alpha": (paper_config("shakespeare", "recurrent", block=k, **learn, **shape), "batch_recurrent"),
        "recurrent_alpha_k16": (paper_config("shakespeare", "recurrent", block=16, **learn, **shape), "batch_recurrent"),
        "regular_1": (paper_config("shakespeare", "regular", **shape), "batch_regular_1"),
        "regular_6": (paper_config("shakespeare", "regular", n_layer=6, **shape), "batch_regular_6"),
    }
    steps, evals = values["steps"], values["evals"] * 2 * values["eval_windows"]
    return [_transformer(f"shakespeare/{name}-seed{seed}", cfg, values["context"], values[batch], steps, steps, evals)
            for seed in range(values["seed"], values["seed"] + values["seeds"]) for name, (cfg, batch) in configs.items()]


def image_runs(values: Mapping[str, Any]) -> list[PlannedRun]:
    """Runs of the long-range image chapter (`image_configs`, one per seed): the Note's recurrent model (K 16-48
    in training), learnable α and fixed K = 32, and the 4-layer regular model."""
    n = values["side"] ** 2
    shape = {"n_positions": n, "dropout": values["dropout"]}
    recurrent = {"recurrent": paper_config("image", "recurrent", block=32, block_range=(16, 48), alpha="forget", **shape),
                 "recurrent_alpha": paper_config("image", "recurrent", block=32, alpha="learn", **shape),
                 "recurrent_fixed": paper_config("image", "recurrent", block=32, alpha="forget", **shape)}
    regular = paper_config("image", "regular", **shape)
    r_steps, r_batch, g_batch = values["recurrent_steps"], values["recurrent_batch"], values["regular_batch"]
    g_steps = values["regular_steps"] or max(1, round(train_flops_per_sample(recurrent["recurrent"], n) * r_steps
                                                       * r_batch / (train_flops_per_sample(regular, n) * g_batch)))
    evals = values["evals"] * 2 * values["n_eval"] + (values["n_test"] or 10_000)
    runs = []
    for seed in range(values["seed"], values["seed"] + values["seeds"]):
        runs += [_transformer(f"long_range_image/{name}-seed{seed}", cfg, n, r_batch, r_steps, r_steps, evals)
                 for name, cfg in recurrent.items()]
        runs.append(_transformer(f"long_range_image/regular-seed{seed}", regular, n, g_batch, g_steps, g_steps, evals))
    return runs


def _transformer(key: str, cfg: TransformerConfig, length: int, batch: int, steps: int, expected: int,
                 eval_samples: int) -> PlannedRun:
    return PlannedRun(key, lambda: build(cfg), length, batch, steps, expected, train_flops_per_sample(cfg, length),
                      eval_samples)


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
