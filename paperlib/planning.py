"""The dry run of a chapter: what it will train (its run plan, `paperlib.training.plan`) or compute, with FLOPs and
the CPU minutes predicted from a committed table of step times measured on two cores (`STEP_TIMES`), printed
before anything runs (``paperlib run NAME --plan``); and the measurement of that table
(``paperlib step-times``).

A run's minutes are its steps times the measured seconds of one training step (forward, backward, optimizer) of
its model at its batch and length, plus the samples its evaluations score times the measured seconds of one
evaluated sample. The table's steps are timed on one torch thread by the process's CPU time, which other
processes sharing the cores do not inflate (on two threads, OpenMP's barriers make a loaded machine's timings
meaningless). A forecast is calibrated to the CPU and the threads it runs on (`calibrate`): the plan's step kinds
that weigh most in its prediction are re-measured here, at the chapter's threads a process, and each kind's steps
and evaluations scaled by its own ratios (a kind not re-measured: by theirs together); the chapter's
processes (`workers`) share out its runs, the longest first (`makespan`).
A step not in the table is predicted from its FLOPs at the training FLOP rate measured for the same model (else
the chapter's, else the table's median), and marked ``≈``. A chapter that
trains nothing (scaling law, linear time) says what it computes and the minutes the table holds for that
profile's parameters. The minutes count training and evaluation only: loading data, fitting n-grams, figures
and the kernel's start come on top.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from paperlib.atomic import atomic_write_json
from paperlib.book.runner import PROFILES, RunPlan, plan_run, recorded_parameters
from paperlib.chapters import chapter
from paperlib.gpu.estimate import load_throughput
from paperlib.hardware import cpu_model, scoped_threads
from paperlib.models import n_params
from paperlib.models.configs import ModelConfig, build_model, example_batch
from paperlib.models.recurrent import RecurrentConfig
from paperlib.models.rnn import RNNConfig
from paperlib.models.weber_fechner import Net
from paperlib.paths import profiles_dir
from paperlib.progress import progress
from paperlib.sweep import machine_cores
from paperlib.training.device import resolve_setup
from paperlib.training.loop import forward_backward
from paperlib.training.losses import CRITERIA, model_loss
from paperlib.training.optim import OptimizerConfig, make_optimizer
from paperlib.training.plan import RunSpec

STEP_TIMES = profiles_dir() / "cpu_step_times.json"
MEASURED_PROFILES = ("quick", "cpu")  # the profiles whose steps the table holds (the paper profile: by FLOPs)
EVAL_BATCH = 64  # samples per evaluated batch when timing an evaluation
MIN_TIMED_S, MAX_STEPS = 2.0, 200  # time steps until this much CPU time has passed, or this many steps
PROBE_MAX_S = 0.5  # `calibrate` re-measures steps of at most this many seconds on the table's CPU where it can,
PROBE_KINDS, PROBE_COVER = 8, 0.8  # at most this many kinds, the heaviest first, until they cover this share
PROBE_TIMED_S = 0.5  # and times each for this much CPU time (several kinds average out a shared machine's noise)


@dataclass(frozen=True)
class Prediction:
    """Seconds of a run (or a step), and how they were found ("measured", or "≈ ..." from FLOPs)."""

    seconds: float
    basis: str


def load_step_times(path: Path = STEP_TIMES) -> dict[str, Any]:
    """The committed table (an empty one when there is none)."""
    return json.loads(path.read_text()) if path.is_file() else {"steps": {}, "chapters": {}}


def step_key(spec: RunSpec) -> str:
    """The table's key of a spec's training step: what its time depends on (model, batch, length, precision)."""
    digest = hashlib.sha256(repr(spec.model).encode()).hexdigest()[:10]
    precision = "" if spec.precision in ("fp32", "auto") else f" {spec.precision}"
    return f"{spec.chapter}/{spec.family} b{spec.batch} n{spec.length}{precision} {digest}"


def predict(spec: RunSpec, table: Mapping[str, Any], here: Calibration | None = None) -> Prediction:
    """The run's expected training and evaluation seconds on the table's machine (with `here`: on this CPU): each of
    its `stay_costs` (length, steps, samples evaluated) at the step and evaluation times measured at that length."""
    seconds, bases = 0.0, set()
    for at_length, steps, evaluated in _stays(spec):
        step_s, sample_s, basis = _step_seconds(at_length, table)
        step_factor, eval_factor = (1.0, 1.0) if here is None else here.factors(step_key(at_length))
        seconds += steps * step_s * step_factor + evaluated * sample_s * eval_factor
        bases.add(basis)
    return Prediction(seconds, "; ".join(sorted(bases)))


def _stays(spec: RunSpec) -> list[tuple[RunSpec, int, float]]:
    """The spec's `stay_costs` with the spec at each stay's length: (spec there, steps, samples evaluated)."""
    return [(replace(spec, length=length), steps, evaluated) for length, steps, evaluated in spec.stay_costs()]


def _step_seconds(spec: RunSpec, table: Mapping[str, Any]) -> tuple[float, float, str]:
    """(seconds of a training step, of an evaluated sample, how they were found) at the spec's length."""
    steps = table["steps"]
    entry = steps.get(step_key(spec))
    if entry is not None:
        return entry["step_s"], entry["eval_s"], "measured"
    rates = [_rate(e) for k, e in steps.items() if k.startswith(f"{spec.chapter}/{spec.family} ")]
    rates = rates or [_rate(e) for k, e in steps.items() if k.startswith(f"{spec.chapter}/")]
    rates = rates or [_rate(e) for e in steps.values()]
    if not rates:
        return math.nan, math.nan, "no step times measured"
    rate = statistics.median(rates)
    return (3 * spec.batch * spec.forward_flops / rate, spec.forward_flops / rate,
            f"≈ from FLOPs at {rate / 1e9:.2g} GFLOP/s")


def makespan(seconds: Sequence[float], workers: int) -> float:
    """The wall time of runs of `seconds` on `workers` processes, the longest first, each to the process free
    first."""
    loads = [0.0] * max(workers, 1)
    for cost in sorted(seconds, reverse=True):
        loads[loads.index(min(loads))] += cost
    return max(loads)


def _rate(entry: Mapping[str, float]) -> float:
    """The training FLOP rate of a measured step: three forward passes per sample."""
    return 3 * entry["batch"] * entry["forward_flops"] / entry["step_s"]


def processes(params: Mapping[str, Any]) -> tuple[int, int]:
    """(training processes, torch threads a process) of a chapter's parameters: ``workers`` single-threaded
    processes (0: one a core), else one process of ``threads`` threads (0: torch's default, every core)."""
    cores = machine_cores()
    workers = params.get("workers", 1) or cores
    return workers, 1 if workers > 1 else params.get("threads", 1) or cores


def describe(run: RunPlan, table: Mapping[str, Any] | None = None, calibrated: bool = True) -> str:
    """A notebook run's dry run as lines of text: the chapter's runs (grouped by stage and model) with steps, FLOPs
    and predicted minutes (`calibrated`: also on this CPU, `calibrate`), or what it computes; only the probe step
    runs."""
    table = load_step_times() if table is None else table
    name, profile, params = run.notebook, run.profile, run.parameters
    module = chapter(name)
    plan = module.runs(params)
    machine = f"{table.get('cpu', 'no machine')}, {table.get('cores', '?')} cores"
    if not plan:
        return _describe_work(name, profile, params, module.work(params), table, machine)
    predictions = [predict(spec, table) for spec in plan]
    workers, threads = processes(params)
    here = calibrate(plan, table, threads) if calibrated else None
    lines = [f"{name} ({profile}): {len(plan)} runs, {sum(s.steps for s in plan):,} steps at most, "
             f"{sum(s.flops() for s in plan):.2g} FLOPs at most",
             "  " + _forecast(plan, table, workers, here)[1],
             f"  {'stage':<16} {'model':<20} {'what':<22} {'seeds':>5} {'params':>9} {'steps':>8} {'batch':>5} "
             f"{'length':>6} {'FLOPs/run':>9} {'min/run':>7}  basis"]
    for group in _groups(plan):
        first, minutes = group[0], predictions[plan.index(group[0])].seconds / 60
        steps = f"≤{first.steps:,}" if first.ends_early else f"{first.steps:,}"
        length = f"≤{first.length}" if first.curriculum else f"{first.length}"
        lines.append(f"  {first.stage or '—':<16} {first.family:<20} {_model_words(first.model):<22} {len(group):>5} "
                     f"{n_params(build_model(first.model)):>9,} {steps:>8} {first.batch:>5} {length:>6} "
                     f"{first.flops():>9.2g} {minutes:>7.2f}  {predictions[plan.index(first)].basis}")
    lines += [f"  ≤: may end sooner ({why})" for why in sorted({s.ends_early for s in plan if s.ends_early})]
    lines += [f"  ≤ length: the longest of {c}" for c in sorted({str(s.curriculum) for s in plan if s.curriculum})]
    return "\n".join(lines) + "\n"


def chapter_forecast(run: RunPlan) -> tuple[float, str] | None:
    """What a notebook run is expected to take, said before it runs: `forecast_words` of its chapter's plan on the
    chapter's processes and threads (`processes`); None for a chapter that trains nothing."""
    plan = chapter(run.notebook).runs(run.parameters)
    if not plan:
        return None
    workers, threads = processes(run.parameters)
    return forecast_words(plan, workers, threads=threads)


def forecast_words(plan: Sequence[RunSpec], workers: int, table: Mapping[str, Any] | None = None,
                   calibrated: bool = True, threads: int = 1) -> tuple[float, str]:
    """The wall seconds `plan` is expected to take on this CPU on `workers` processes of `threads` torch threads (the
    committed table's step times, `predict`, scheduled by `makespan`, and with `calibrated` scaled to this CPU and
    these threads by `calibrate`), and a sentence with it, the time on the table's CPU and the expected time on one
    GPU (expected FLOPs at the GPU's peak and MFU, `paperlib.gpu.estimate`)."""
    table = load_step_times() if table is None else table
    return _forecast(plan, table, workers, calibrate(plan, table, threads) if calibrated else None)


@dataclass(frozen=True)
class Calibration:
    """This CPU against the step table's: the plan's heaviest step kinds re-measured here at the chapter's threads,
    and for each the ratio of its step's and its evaluated sample's times here to the table's."""

    cpu: str
    ratios: Mapping[str, tuple[float, float]]  # step key -> (step seconds, eval seconds) here over the table's
    overall: tuple[float, float]  # the same for every other kind: the measured kinds' ratios, weighted as the plan
    cover: float  # the share of the plan's predicted seconds (on the table's CPU) the measured kinds make up
    threads: int = 1  # torch threads they were re-measured on (the table's: one)

    def factors(self, key: str) -> tuple[float, float]:
        """(step, evaluation) ratio of the step kind `key`: its own if it was re-measured, else `overall`."""
        return self.ratios.get(key, self.overall)


def calibrate(plan: Sequence[RunSpec], table: Mapping[str, Any], threads: int = 1) -> Calibration | None:
    """How much slower (or faster) this CPU on `threads` torch threads runs the plan's steps and evaluations than
    the table's CPU on one: the measured step kinds (`measure_step`) that weigh most in the plan's prediction among
    those of at most `PROBE_MAX_S` on the table's CPU (else its quickest), at most `PROBE_KINDS` of them until they
    cover `PROBE_COVER` of it, re-measured here (by CPU time on one thread, by the clock on more). None on the
    table's CPU at one thread, or when the table measured none of the plan's steps."""
    here = cpu_model()
    if table.get("cpu") == here and threads == 1:
        return None
    steps = table["steps"]
    weight: dict[str, tuple[float, float]] = {}  # step key -> the plan's predicted (step, eval) seconds of that kind
    probes: dict[str, RunSpec] = {}
    for spec in plan:
        for probe, n_steps, evaluated in _stays(spec):
            key = step_key(probe)
            if key in steps:
                before = weight.get(key, (0.0, 0.0))
                weight[key] = (before[0] + n_steps * steps[key]["step_s"], before[1] + evaluated * steps[key]["eval_s"])
                probes[key] = probe
    if not weight:
        return None
    total = sum(map(sum, weight.values()))
    heaviest = sorted((k for k in weight if steps[k]["step_s"] <= PROBE_MAX_S), key=lambda k: -sum(weight[k]))
    chosen: list[str] = []
    for key in heaviest or [min(weight, key=lambda k: steps[k]["step_s"])]:
        if len(chosen) == PROBE_KINDS or sum(sum(weight[k]) for k in chosen) >= PROBE_COVER * total:
            break
        chosen.append(key)
    clock = "_s" if threads == 1 else "_wall_s"
    ratios = {}
    for key in progress(chosen, desc="calibrating"):
        found = measure_step(probes[key], threads, PROBE_TIMED_S)
        ratios[key] = (found["step" + clock] / steps[key]["step_s"], found["eval" + clock] / steps[key]["eval_s"])
    step, evaluation = (_weighted([weight[k][i] for k in chosen], [ratios[k][i] for k in chosen]) for i in (0, 1))
    overall = (step, step if math.isnan(evaluation) else evaluation)  # kinds that evaluate nothing: as their steps
    return Calibration(here, ratios, overall, sum(sum(weight[k]) for k in chosen) / total, threads)


def _weighted(weights: Sequence[float], ratios: Sequence[float]) -> float:
    """The mean of `ratios` weighted by `weights` (NaN when they weigh nothing)."""
    total = sum(weights)
    return sum(w * r for w, r in zip(weights, ratios)) / total if total else math.nan


def _forecast(plan: Sequence[RunSpec], table: Mapping[str, Any], workers: int,
              here: Calibration | None) -> tuple[float, str]:
    """`forecast_words` of `plan` from `table`, scaled to this CPU by `here` where given."""
    machine = f"{table.get('cpu', 'no machine')}, {table.get('cores', '?')} cores"
    cpu_s = [predict(spec, table).seconds for spec in plan]
    wall = makespan(cpu_s, workers)
    gpu = load_throughput()
    flops = sum(spec.expected_flops() for spec in plan)
    gpu_s = flops / (gpu.peak * gpu.fraction("default"))
    on = f"on {workers} single-threaded processes" if workers > 1 else "on one thread"
    cpu_words = f"{_duration(wall)} of training and evaluation {on} of the step table's CPU ({machine})"
    if workers > 1:
        cpu_words += f", {_duration(sum(cpu_s))} on one"
    if here is not None:
        here_wall = makespan([predict(spec, table, here).seconds for spec in plan], workers)
        threads = "" if here.threads == 1 else f" on {here.threads} threads"
        where = on if here.threads == 1 else f"on one process of {here.threads} threads"
        kinds = [factor for pair in here.ratios.values() for factor in pair]
        cpu_words = (f"{_duration(here_wall)} {where} of this CPU ({here.cpu}: the plan's {len(here.ratios)} "
                     f"heaviest step kinds, {here.cover:.0%} of its predicted time, re-measured here{threads}, take "
                     f"{here_wall / wall:.2f}× their time in the table, each kind's step or evaluation between "
                     f"{min(kinds):.2f}× and {max(kinds):.2f}×), {cpu_words}")
        wall = here_wall
    elif not machine.startswith(this_cpu := cpu_model()):
        cpu_words += f"; this machine is {this_cpu}, which was not measured against it"
    return wall, (f"Expected: about {cpu_words}, and about {_duration(gpu_s)} on one GPU ({flops:.2g} FLOPs at "
                  f"{gpu.peak / 1e12:.0f} TFLOP/s, {gpu.source}).")


def _groups(plan: Sequence[RunSpec]) -> list[list[RunSpec]]:
    """The plan's runs that differ only in their seed, together, in the plan's order."""
    groups: dict[tuple[str, str], list[RunSpec]] = {}
    for spec in plan:
        groups.setdefault((spec.stage, spec.family), []).append(spec)
    return list(groups.values())


def _model_words(model: ModelConfig) -> str:
    """The model in a few characters: a trunk and head, or layers × width (and K for a recurrence)."""
    if isinstance(model, Net):
        return f"{model.spec.trunk}, {model.spec.head} head"
    if isinstance(model, RNNConfig):
        return f"{model.cell.upper()}, {model.n_layer}×{model.hidden}"
    kind = f"recurrent K {model.block}" if isinstance(model, RecurrentConfig) else "regular"
    return f"{kind}, {model.n_layer}×{model.n_embd}"


def _describe_work(name: str, profile: str, params: Mapping[str, Any], work: Sequence[str],
                   table: Mapping[str, Any], machine: str) -> str:
    """What a chapter that trains nothing computes, and the minutes the table holds for these parameters."""
    known = table.get("chapters", {}).get(name, {})
    same = [entry for p, entry in known.items() if _without_profile(plan_run(name, p).parameters)
            == _without_profile(params)]
    if same:
        minutes = f"about {_duration(same[0]['seconds'])} ({machine}; {same[0]['source']})"
    else:
        minutes = "no measured time for these parameters" + "".join(
            f"; the {p} profile took {_duration(e['seconds'])}" for p, e in known.items())
    return "\n".join([f"{name} ({profile}): trains nothing; {minutes}", *[f"  - {line}" for line in work]]) + "\n"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.2g} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:,.0f} h"


def _without_profile(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != "profile"}


def measure_step(spec: RunSpec, threads: int = 1, timed_s: float = MIN_TIMED_S) -> dict[str, float]:
    """Seconds of one training step of the spec's model at its batch and length and of one evaluated sample
    (forward, no gradients), on `threads` torch threads, each timed for `timed_s` of CPU time: the process's CPU
    time (`step_s`, `eval_s`: what predicts on one thread) and the wall clock (`step_wall_s`, `eval_wall_s`: as the
    machine's load left it), medians."""
    with scoped_threads(threads):
        setup = resolve_setup("cpu", spec.precision)
        torch.manual_seed(0)
        model = setup.prepare(build_model(spec.model))
        optimizer = make_optimizer(model, spec.optimizer or OptimizerConfig(lr=1e-3), setup.device)
        loss_fn = model_loss(CRITERIA[spec.model.spec.loss]) if isinstance(spec.model, Net) else model_loss()
        generator = torch.Generator().manual_seed(0)
        batch = example_batch(spec.model, spec.batch, spec.length, generator)

        def step() -> None:
            forward_backward(model, loss_fn, batch, setup)
            optimizer.step()

        step_wall, step_cpu = _timed(step, timed_s)
        inputs = example_batch(spec.model, EVAL_BATCH, spec.length, generator)[0]

        def evaluate() -> None:
            with torch.no_grad():
                model.eval()(inputs)
            model.train()

        eval_wall, eval_cpu = _timed(evaluate, timed_s)
    return {"step_s": step_cpu, "step_wall_s": step_wall, "eval_s": eval_cpu / EVAL_BATCH,
            "eval_wall_s": eval_wall / EVAL_BATCH, "batch": spec.batch, "forward_flops": spec.forward_flops}


def _timed(fn: Any, timed_s: float) -> tuple[float, float]:
    """Median wall and CPU seconds of `fn` after two untimed calls, over at least three calls and until `timed_s`
    of CPU time (or `MAX_STEPS` calls)."""
    fn(), fn()
    walls, cpus = [], []
    while len(walls) < 3 or (sum(cpus) < timed_s and len(walls) < MAX_STEPS):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def chapter_times(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """The wall times of the records of chapters that train nothing, by chapter and profile, where the record ran
    its profile's own parameters."""
    times: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in records:
        name, profile, parameters = rec["notebook"], rec["profile"], recorded_parameters(rec)
        if profile not in PROFILES or chapter(name).runs(parameters):
            continue
        if _without_profile(plan_run(name, profile).parameters) == _without_profile(parameters):
            times.setdefault(name, {})[profile] = {
                "seconds": rec["wall_time_s"],
                "source": f"the whole notebook, run {rec['started_at']} on {rec['hardware']['where']}"}
    return times


def measure_table(names: Sequence[str], records: Sequence[Mapping[str, Any]] = (), profiles: Sequence[str] =
                  MEASURED_PROFILES, path: Path = STEP_TIMES) -> dict[str, Any]:
    """Measure every distinct training step of the chapters' plans under `profiles` on this machine (replacing
    those chapters' entries), take the chapter times of `records` (chapters that train nothing), and write the
    table atomically with how and where it was measured."""
    table = load_step_times(path)
    chapters = chapter_times(records)
    todo: dict[str, RunSpec] = {}
    for name in names:
        for profile in profiles:
            for spec in chapter(name).runs(plan_run(name, profile).parameters):
                for at_length, _, _ in _stays(spec):
                    todo.setdefault(step_key(at_length), at_length)
    load_before = os.getloadavg()
    steps = {key: measure_step(spec) for key, spec in progress(todo.items(), desc="step times")}
    table.update({
        "cpu": cpu_model(), "cores": os.cpu_count(), "torch": torch.__version__,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": {"before": [round(x, 2) for x in load_before],
                         "after": [round(x, 2) for x in os.getloadavg()]},
        "how": ("each distinct training step of the quick and cpu profiles' run plans (model, batch, length) on one "
                "torch thread: two untimed steps, then at least three timed ones until 2 s of process CPU time; the "
                "median CPU time per step (step_s) predicts, unaffected by other processes on the cores; the median "
                "wall-clock step (step_wall_s) shows how much they slowed it; an evaluated sample is a forward pass "
                f"without gradients in batches of {EVAL_BATCH} (eval_s, eval_wall_s)"),
        "steps": {**{k: e for k, e in table.get("steps", {}).items() if k.split("/")[0] not in names}, **steps},
        "chapters": {**table.get("chapters", {}), **chapters},
    })
    atomic_write_json(path, table)
    return table
