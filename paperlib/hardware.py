"""What this process computes on: the CPU's and the GPU's names, and torch's CPU threads.

torch's thread count is process-wide, so it has one owner per process: a chapter's device set-up
(`paperlib.training.device.configure_device`), a sweep's worker (`paperlib.sweep`) or the test session
(``tests/conftest.py``) calls `own_threads` once; a later call may only confirm that count. A benchmark
that measures at another count does so inside `scoped_threads`, which restores the owner's count after.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

_owned: int | None = None  # the count this process's owner set (None: nobody has yet)


class ThreadsOwned(RuntimeError):
    """torch's threads were already set to another count in this process."""


def own_threads(threads: int) -> int:
    """Set torch's CPU threads for the rest of this process (0: torch's default count, kept) and return the
    count; a process sets it once, and a later call asking for another count raises `ThreadsOwned`."""
    global _owned
    if threads < 0:
        raise ValueError(f"threads must be >= 0, got {threads}")
    if _owned is None:
        if threads:
            torch.set_num_threads(threads)
        _owned = torch.get_num_threads()
    elif threads and threads != _owned:
        raise ThreadsOwned(f"torch's CPU threads are set once per process and this one runs on {_owned}; "
                           f"{threads} was asked for: restart the kernel to change it, or measure a benchmark "
                           "inside `paperlib.hardware.scoped_threads`")
    return _owned


@contextmanager
def scoped_threads(threads: int) -> Iterator[int]:
    """torch's CPU threads at `threads` inside the block (a benchmark), the count in force before after it."""
    if threads < 1:
        raise ValueError(f"a benchmark needs at least one thread, got {threads}")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model with torch's thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    return f"{cpu_model()} ({threads} thread{'s' if threads != 1 else ''})"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo with its widest vector instructions (two CPUs of one name can
    differ there, and a bf16 step with them: "AMD EPYC (AVX2)"), else what the platform module knows."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    lines = info.splitlines()
    name = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.machine())
    flags = set(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))
    isa = next((label for flag, label in (("amx_bf16", "AMX"), ("avx512_bf16", "AVX-512 BF16"),
                                          ("avx512f", "AVX-512"), ("avx2", "AVX2")) if flag in flags), "")
    return f"{name} ({isa})" if isa else name
