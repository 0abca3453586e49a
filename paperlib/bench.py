"""Time and peak memory of a model against sequence length, and power-law exponent fits.

Times are wall-clock (or, on a shared CPU, the process's CPU time) with warm-up and repeats
(`torch.cuda.synchronize` around each call on CUDA); summaries use medians. Peak memory is the most bytes held above the start of one call: on CUDA from
`torch.cuda.max_memory_allocated`, on CPU from the allocator's events recorded by the PyTorch
profiler (a tracking allocator: every allocation and free in order, so the peak is exact and
independent of other processes). `measure_series` stops a series before a length whose predicted time or
memory would exceed its budget, and says why.
"""

import math
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from paperlib.progress import progress
from paperlib.stats import PowerFit, fit_power


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(
    fn: Callable[[], object],
    device: torch.device,
    warmup: int,
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Seconds of each of `repeats` calls of fn by `clock`, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = clock()
        fn()
        synchronize(device)
        times.append(clock() - start)
    return times


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: the profiler prints stage lines there on every run."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _cpu_peak_bytes(fn: Callable[[], object]) -> int:
    activities = [torch.profiler.ProfilerActivity.CPU]
    with _quiet_stderr(), torch.profiler.profile(activities=activities, profile_memory=True) as prof:
        fn()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    sizes = [e.nbytes() for e in sorted(events, key=lambda e: e.start_ns())]
    return int(max(np.cumsum(sizes).max(initial=0), 0))


def peak_bytes(fn: Callable[[], object], device: torch.device) -> int:
    """The most bytes allocated at once during one call of fn, above what was allocated before it.

    On CPU, blocks allocated before the call and freed during it are not subtracted (the profiler
    never saw them allocated), so fn should free nothing it did not allocate."""
    if device.type != "cuda":
        return _cpu_peak_bytes(fn)
    synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    fn()
    synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


@dataclass
class Point:
    """Measurements at one length: repeat times (inference forward; forward+backward) and peak bytes."""

    n: int
    fwd_s: list[float]
    train_s: list[float]
    fwd_bytes: int | None
    train_bytes: int | None

    @property
    def fwd(self) -> float:
        return statistics.median(self.fwd_s)

    @property
    def train(self) -> float:
        return statistics.median(self.train_s)


@dataclass
class Series:
    """One model's sweep over lengths; `stopped` says why it ended before the last length, if it did."""

    label: str
    points: list[Point] = field(default_factory=list)
    stopped: str | None = None

    def column(self, name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in self.points], dtype=float)

    @property
    def ns(self) -> np.ndarray:
        return self.column("n")

    def exponent(self, name: str, n_min: float = 0) -> PowerFit | None:
        """`fit_power` of column `name` against n >= n_min; None with fewer than two such points."""
        if (self.ns >= n_min).sum() < 2:
            return None
        return fit_power(self.ns, self.column(name), n_min)


def measure(
    model: nn.Module,
    n: int,
    *,
    vocab_size: int,
    batch: int = 1,
    device: str | torch.device = "cpu",
    warmup: int = 1,
    repeats: int = 3,
    bf16: bool = False,
    math_attention: bool = False,
    cpu_time: bool = False,
    memory: bool = True,
) -> Point:
    """Time and peak memory of model on random (batch, n) tokens: forward under no_grad, then a
    training forward+backward of the mean output (gradients reset before each call). With
    `memory` False the peak bytes are not measured (None).

    PyTorch picks the attention backend unless `math_attention` forces the reference math kernel,
    which materialises the T x T attention weights. `cpu_time` times with the process's CPU time
    instead of the wall clock: on a CPU with one torch thread it is the compute time, unaffected by
    other processes competing for the cores."""
    device = torch.device(device)
    if cpu_time and device.type != "cpu":
        raise ValueError("cpu_time measures CPU work; time a GPU with the wall clock")
    clock = time.process_time if cpu_time else time.perf_counter
    model = model.to(device)
    idx = torch.randint(vocab_size, (batch, n), device=device, generator=torch.Generator(device).manual_seed(n))

    def context() -> ExitStack:
        stack = ExitStack()
        if bf16:
            stack.enter_context(torch.autocast(device.type, dtype=torch.bfloat16))
        if math_attention:
            stack.enter_context(sdpa_kernel(SDPBackend.MATH))
        return stack

    def forward() -> None:
        model.eval()
        with torch.no_grad(), context():
            model(idx)

    def train_step() -> None:
        model.train()
        model.zero_grad(set_to_none=True)
        with context():
            out = model(idx)
        out.float().mean().backward()

    point = Point(n, time_call(forward, device, warmup, repeats, clock),
                  time_call(train_step, device, warmup, repeats, clock), None, None)
    if memory:
        point.fwd_bytes = peak_bytes(forward, device)
        model.zero_grad(set_to_none=True)
        point.train_bytes = peak_bytes(train_step, device)
    return point


def predict_next(ns: list[int], ys: list[float], n_next: int, default_exponent: float = 2.0) -> float:
    """Extrapolate y to n_next with the last local log-log slope (at least 1; default from one point)."""
    slope = default_exponent
    if len(ns) >= 2 and ys[-2] > 0 and ys[-1] > 0:
        slope = max(math.log(ys[-1] / ys[-2]) / math.log(ns[-1] / ns[-2]), 1.0)
    return ys[-1] * (n_next / ns[-1]) ** slope


def measure_series(
    make_model: Callable[[int], nn.Module],
    lengths: list[int],
    *,
    label: str,
    time_budget_s: float,
    memory_budget_bytes: float,
    rounds: int = 1,
    **measure_kwargs,
) -> Series:
    """Measure make_model(n) at each length in order, stopping before a length whose predicted
    forward+backward time or training peak memory exceeds its budget, or after one that did.

    With `rounds` > 1 the lengths kept are timed again in `rounds - 1` further passes, adding their
    repeats to each length's samples: a burst of load on a shared machine then hits one pass of a
    length rather than all its repeats, and the median shrugs it off."""
    series = Series(label)
    with progress(total=len(lengths) * rounds, desc=label) as bar:
        for n in lengths:
            if series.points:
                done = series.points
                t_pred = predict_next([p.n for p in done], [p.train for p in done], n)
                m_pred = predict_next([p.n for p in done], [p.train_bytes for p in done], n)
                if t_pred > time_budget_s or m_pred > memory_budget_bytes:
                    series.stopped = (
                        f"stopped before N = {n}: predicted {t_pred:.3g} s per forward+backward and "
                        f"{m_pred / 2**20:.4g} MiB peak against budgets of {time_budget_s:g} s and "
                        f"{memory_budget_bytes / 2**20:.4g} MiB"
                    )
                    break
            point = measure(make_model(n), n, **measure_kwargs)
            series.points.append(point)
            bar.update(1)
            if point.train > time_budget_s or point.train_bytes > memory_budget_bytes:
                if n != lengths[-1]:
                    series.stopped = f"stopped after N = {n}: it exceeded the time or memory budget"
                break
        bar.update((len(lengths) - len(series.points)) * rounds)  # lengths skipped, in every pass
        for _ in range(rounds - 1):
            for point in series.points:
                again = measure(make_model(point.n), point.n, memory=False, **measure_kwargs)
                point.fwd_s += again.fwd_s
                point.train_s += again.train_s
                bar.update(1)
    return series


def local_exponents(ns: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Log-log slopes between consecutive points (one fewer than the points)."""
    return np.diff(np.log(np.asarray(ys, dtype=float))) / np.diff(np.log(np.asarray(ns, dtype=float)))


def crossover(ns: np.ndarray, fast: np.ndarray, slow: np.ndarray) -> float:
    """The smallest n at which `fast` drops below `slow`, interpolated in log-log between measured
    lengths; n[0] if it is already below, NaN if it never is. Both arrays are on the same lengths."""
    gap = np.log(np.asarray(fast, dtype=float)) - np.log(np.asarray(slow, dtype=float))
    if gap[0] <= 0:
        return float(ns[0])
    for i in range(1, len(gap)):
        if gap[i] <= 0:
            x0, x1 = math.log(ns[i - 1]), math.log(ns[i])
            return float(math.exp(x0 + (x1 - x0) * gap[i - 1] / (gap[i - 1] - gap[i])))
    return math.nan
