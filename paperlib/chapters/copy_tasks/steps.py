"""What a copy training step costs: the levers of a faster step, the seconds at each length, where the time goes;
tables measured once per device."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from paperlib.atomic import atomic_write_text
from paperlib.bench import time_call
from paperlib.data.synthetic import copy_batch, seq_len
from paperlib.hardware import scoped_threads
from paperlib.models.paper_configs import paper_config
from paperlib.progress import progress
from paperlib.training.device import DeviceSetup, resolve_setup
from paperlib.training.loop import Batch, forward_backward
from paperlib.training.losses import model_loss
from paperlib.training.run import checkpoint_path
from paperlib.chapters.copy_tasks.metrics import MEASURED, RnnCell
from paperlib.chapters.copy_tasks.models import family, make_model


@dataclass(frozen=True)
class StepVariant:
    """One way to run the copy model's training step: a device set-up and a dropout rate."""

    name: str
    setup: DeviceSetup
    dropout: float


def step_variants(device: str, run: DeviceSetup, dropout: float) -> list[StepVariant]:
    """The levers of a faster step, one at a time from the eager fp32 step with the paper's dropout, and this
    run's own step (its precision, compilation and dropout): the lever it equals, named so, or a last row. The
    set-ups leave torch's threads alone (`step_benchmark` times them on the threads it is given)."""
    paper_dropout = paper_config("copy", "recurrent").dropout
    fp32 = resolve_setup(device, "fp32")
    variants = [StepVariant(f"fp32, dropout {paper_dropout:g} (the paper's model)", fp32, paper_dropout),
                StepVariant("fp32, dropout off", fp32, 0.0),
                StepVariant("bf16 autocast, dropout off", resolve_setup(device, "bf16"), 0.0)]
    own = (run.device, run.precision, run.compile_layers, dropout)
    same = [i for i, v in enumerate(variants) if (v.setup.device, v.setup.precision, v.setup.compile_layers,
                                                  v.dropout) == own]
    if same:
        variants[same[0]] = replace(variants[same[0]], name=f"{variants[same[0]].name} = this run's step")
    else:
        variants.append(StepVariant("this run's step", resolve_setup(device, run.precision, run.compile_layers),
                                    dropout))
    return variants


def _step_fn(model: nn.Module, setup: DeviceSetup, batch: Batch) -> partial:
    x, y = (t.to(setup.device) for t in batch)
    return partial(forward_backward, model, model_loss(), (x, y), setup)


def step_clock(threads: int) -> tuple[Callable[[], float], str]:
    """How a step is timed on `threads` threads: one thread's CPU time (what other load on the cores does not
    change) or, for several threads, wall-clock time; and its name for the page."""
    return (time.process_time, "CPU seconds") if threads == 1 else (time.perf_counter, "wall seconds")


def step_benchmark(variants: Sequence[StepVariant], noise_len: int, batch_size: int, threads: int,
                   repeats: int = 2) -> pd.DataFrame:
    """Seconds per training step on `threads` threads (by `step_clock`) of the paper's copy model at `noise_len`
    for each variant, from the same weights on the same batch, and each one's speed against this run's step (the
    variant named "this run's step"); and how far each step's loss and gradients are from the first's with
    dropout off (eval mode), where only the precision differs."""
    torch.manual_seed(0)
    weights = make_model("copy", "recurrent").state_dict()
    batch = copy_batch(batch_size, noise_len, generator=torch.Generator().manual_seed(0))
    rows, reference, (clock, _) = [], None, step_clock(threads)
    with scoped_threads(threads):
        for variant in progress(variants, desc="step variants"):
            model = variant.setup.prepare(make_model("copy", "recurrent", dropout=variant.dropout))
            model.load_state_dict(weights)
            step = _step_fn(model, variant.setup, batch)
            model.eval()
            loss = step().item()
            grad = torch.cat([p.grad.flatten().float().cpu() for p in model.parameters()])
            reference = reference or (loss, grad)
            model.train()
            seconds = min(time_call(step, variant.setup.device, warmup=1, repeats=repeats, clock=clock))
            rows.append({"step": variant.name, "seconds per step": seconds, "|Δ loss|": abs(loss - reference[0]),
                         "max |Δ grad| / max |grad|": float((grad - reference[1]).abs().max()
                                                            / reference[1].abs().max())})
    table = pd.DataFrame(rows).set_index("step")
    own = table["seconds per step"][table.index.str.contains("this run's step")].iloc[0]
    table.insert(1, "speed against this run's step", own / table["seconds per step"])
    return table


def step_seconds(setup: DeviceSetup, lengths: Mapping[str, Sequence[int]], rnn: RnnCell, batch_size: int,
                 dropout: float, threads: int) -> pd.DataFrame:
    """Seconds of one selective-copy training step on `threads` threads (by `step_clock`) of the model in each role
    of `lengths` at each of its noise lengths, one warm-up and one timed step each: a table by sequence length and
    model (its `family`), NaN where a model was not timed."""
    rows, (clock, _) = [], step_clock(threads)
    with scoped_threads(threads):
        for role, noises in lengths.items():
            model = setup.prepare(make_model("selective_copy", role, rnn, dropout)).train()
            for noise in progress(noises, desc=f"step time, {family(role, rnn)}"):
                step = _step_fn(model, setup, copy_batch(batch_size, noise, selective=True,
                                                         generator=torch.Generator().manual_seed(0)))
                seconds = time_call(step, setup.device, warmup=1, repeats=1, clock=clock)[0]
                rows.append({"model": family(role, rnn), "length": seq_len(noise), "seconds": seconds})
    return pd.DataFrame(rows).pivot(index="length", columns="model", values="seconds")


def measured_once(measure: partial, reuse: bool) -> pd.DataFrame:
    """The table `measure()` returns (a series as a one-column table), kept beside the chapter's checkpoints under
    the hash of the call (the device set-up is among its arguments) and torch's version; with `reuse` (a resumed
    run), the kept table when there is one, so a plan's stages and later commands measure once per device."""
    name = measure.func.__name__
    key = {"args": measure.args, "keywords": measure.keywords, "torch": torch.__version__}
    path = checkpoint_path("copy_tasks", f"{MEASURED}/{name}", key).with_suffix(".json")
    if reuse and path.is_file():
        print(f"{name}: reused the table measured on this device ({path.name})", file=sys.stderr, flush=True)
        return read_measured(path)
    measured = measure()
    table = measured.to_frame() if isinstance(measured, pd.Series) else measured
    atomic_write_text(path, json.dumps({"frame": table.to_dict(orient="split"), "index": table.index.name,
                                        "columns": table.columns.name}))
    return table


def read_measured(path: Path) -> pd.DataFrame:
    """A table `measured_once` kept."""
    kept = json.loads(path.read_text())
    return pd.DataFrame(**kept["frame"]).rename_axis(index=kept["index"], columns=kept["columns"])


def step_breakdown(setup: DeviceSetup, noise_len: int, batch_size: int, dropout: float, threads: int) -> pd.Series:
    """Where one training step of the paper's model goes at `noise_len` on `threads` threads: its CPU seconds in
    matrix products, attention, and everything else (torch's profiler, self time of each operator, three steps
    averaged)."""
    model = setup.prepare(make_model("selective_copy", "recurrent", dropout=dropout)).train()
    step = _step_fn(model, setup, copy_batch(batch_size, noise_len, selective=True,
                                             generator=torch.Generator().manual_seed(0)))
    with scoped_threads(threads):
        step()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                step()
    groups = {"matrix products": 0.0, "attention": 0.0, "everything else": 0.0}
    for event in prof.key_averages():
        group = ("matrix products" if event.key in ("aten::mm", "aten::bmm", "aten::addmm") else
                 "attention" if "scaled_dot_product" in event.key else "everything else")
        groups[group] += event.self_cpu_time_total / 1e6 / 3
    return pd.Series(groups, name=f"CPU seconds per step at length {seq_len(noise_len)}")
