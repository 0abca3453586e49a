"""Timing, peak memory, budgets and exponent fits of paperlib.bench (no assertion on wall time)."""

import itertools
import math

import numpy as np
import pytest
import torch

from paperlib import bench
from paperlib.bench import (
    crossover,
    local_exponents,
    measure,
    measure_series,
    peak_bytes,
    predict_next,
    time_call,
)
from paperlib.models.paper_configs import paper_model

CPU = torch.device("cpu")


def copy_model(arch: str, n: int, **kw) -> torch.nn.Module:
    return paper_model("copy", arch, n_positions=n, dropout=0.0, **kw)


def test_time_call_warms_up_then_times_each_repeat():
    calls, ticks = [], iter([0.0, 1.0, 10.0, 12.0, 20.0, 23.0])  # a clock read before and after each repeat
    times = time_call(lambda: calls.append(1), CPU, warmup=2, repeats=3, clock=lambda: next(ticks))
    assert len(calls) == 5 and times == [1.0, 2.0, 3.0]


def test_cpu_time_times_with_the_process_clock(monkeypatch):
    ticks = itertools.count()
    monkeypatch.setattr(bench.time, "process_time", lambda: float(next(ticks)))
    point = measure(copy_model("regular", 64), 64, vocab_size=16, warmup=0, repeats=2, cpu_time=True, memory=False)
    assert point.fwd_s == point.train_s == [1.0, 1.0] and point.fwd_bytes is None
    with pytest.raises(ValueError, match="cpu_time"):
        measure(copy_model("regular", 64), 64, vocab_size=16, device="meta", cpu_time=True)


def test_cpu_peak_bytes_tracks_allocations_and_frees():
    def fn():
        a = torch.empty(250_000)  # 1 MB
        b = torch.empty(500_000)  # 2 MB: peak 3 MB
        del a
        c = torch.empty(100)
        return b, c

    assert peak_bytes(fn, CPU) == pytest.approx(3_000_000, rel=1e-3)
    assert peak_bytes(lambda: None, CPU) == 0


def test_measure_reports_times_and_memory():
    point = measure(copy_model("recurrent", 256), 256, vocab_size=16, warmup=1, repeats=2)
    assert point.n == 256 and len(point.fwd_s) == 2 and len(point.train_s) == 2
    assert point.fwd > 0 and point.train > 0
    assert 0 < point.fwd_bytes < point.train_bytes


def test_training_memory_is_linear_for_recurrent_and_quadratic_for_math_attention():
    """Peak bytes are deterministic: for memory a + bN the increments per doubling double."""
    ns = [512, 1024, 2048]
    rec = [measure(copy_model("recurrent", n), n, vocab_size=16, warmup=0, repeats=1).train_bytes for n in ns]
    reg = [
        measure(copy_model("regular", n), n, vocab_size=16, warmup=0, repeats=1, math_attention=True).train_bytes
        for n in ns
    ]
    assert (rec[2] - rec[1]) / (rec[1] - rec[0]) == pytest.approx(2.0, rel=0.05)
    assert (reg[2] - reg[1]) / (reg[1] - reg[0]) > 3.0


def copy_series(arch: str, lengths: list[int], **kw):
    """A series of the copy model with no budget pressure and one timed call unless told otherwise."""
    kw = {"time_budget_s": math.inf, "memory_budget_bytes": math.inf, "warmup": 0, "repeats": 1, **kw}
    return measure_series(lambda n: copy_model(arch, n), lengths, label=arch, vocab_size=16, **kw)


def test_series_stops_before_a_length_over_the_memory_budget():
    first = measure(copy_model("recurrent", 256), 256, vocab_size=16, warmup=0, repeats=1)
    series = copy_series("recurrent", [256, 512, 1024], memory_budget_bytes=1.5 * first.train_bytes)
    assert [p.n for p in series.points] == [256]
    assert series.stopped.startswith("stopped before N = 512")


def test_series_stops_after_a_length_that_exceeded_the_time_budget():
    series = copy_series("regular", [128, 256], time_budget_s=0.0)
    assert [p.n for p in series.points] == [128] and "after N = 128" in series.stopped


def test_series_without_budget_pressure_runs_every_length():
    series = copy_series("recurrent", [64, 128])
    assert series.ns.tolist() == [64, 128] and series.stopped is None


def test_series_rounds_add_samples_without_remeasuring_memory(monkeypatch):
    measured = []
    monkeypatch.setattr(bench, "peak_bytes", lambda fn, device: measured.append(1) or 1000 * len(measured))
    series = copy_series("recurrent", [64, 128], rounds=3, repeats=2)
    assert all(len(p.fwd_s) == 6 and len(p.train_s) == 6 for p in series.points)
    assert len(measured) == 4  # forward and training peak once per length, in the first round only
    assert [(p.fwd_bytes, p.train_bytes) for p in series.points] == [(1000, 2000), (3000, 4000)]


def test_predict_next_uses_the_last_local_slope_at_least_linear():
    assert predict_next([100], [1.0], 200) == pytest.approx(4.0)
    assert predict_next([100, 200], [1.0, 8.0], 400) == pytest.approx(64.0)
    assert predict_next([100, 200], [1.0, 1.1], 400) == pytest.approx(2.2)


def test_local_exponents_and_crossover():
    ns = np.array([256, 512, 1024, 2048])
    np.testing.assert_allclose(local_exponents(ns, ns**2.0), [2, 2, 2])
    fast, slow = 1e-3 * ns, 1e-6 * ns**2.0  # equal at n = 1000
    assert crossover(ns, fast, slow) == pytest.approx(1000)
    assert crossover(ns, slow, slow * 2) == 256
    assert math.isnan(crossover(ns, slow * 2, slow))
