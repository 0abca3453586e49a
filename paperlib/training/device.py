"""Where a run computes: the device, its precision, torch's CPU threads and whether the transformer
layers are compiled, set up once per chapter (and the threads once per process: `paperlib.hardware`).

Precision ``auto`` is bf16 autocast on CUDA and fp32 elsewhere (methods page, D4): the author's code
autocasts to fp16 on Apple MPS only. With ``compile_layers`` every transformer block is compiled by
`torch.compile` (TorchInductor: fused C++/OpenMP kernels on the CPU, Triton on CUDA). The recurrent
transformer calls its one layer once per window, so a compiled layer speeds up every window; the
parameters and a checkpoint's keys are those of the eager model, and a layer that cannot be compiled
runs eagerly with a warning (`torch._dynamo.config.suppress_errors`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ContextManager, Literal

import torch
from torch import nn

from paperlib.hardware import device_name, own_threads, scoped_threads
from paperlib.models.transformer import Block

DeviceName = Literal["auto", "cpu", "cuda"]
Precision = Literal["auto", "fp32", "bf16"]


@dataclass(frozen=True)
class DeviceSetup:
    """The device, the precision the training and evaluation code use there, and a line for the page."""

    device: torch.device
    precision: Literal["fp32", "bf16"]
    threads: int  # torch's CPU threads
    description: str
    compile_layers: bool  # compile every transformer block (see the module docstring)

    def autocast(self) -> ContextManager:
        """bf16 autocast for ``bf16``; a no-op context for ``fp32``."""
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def scoped_threads(self, threads: int) -> Iterator[DeviceSetup]:
        """This set-up at `threads` CPU threads for the block (a benchmark's), the process's own count after it."""
        with scoped_threads(threads):
            yield _setup(self.device, self.precision, self.compile_layers)

    def prepare(self, model: nn.Module) -> nn.Module:
        """Move `model` to the device and, with `compile_layers`, compile each transformer block in place."""
        model = model.to(self.device)
        if self.compile_layers:
            torch._dynamo.config.suppress_errors = True  # the eager fallback
            for module in model.modules():
                if isinstance(module, Block):
                    module.compile()
        return model


def configure_device(device: DeviceName | str = "auto", threads: int = 0, precision: Precision = "auto",
                     compile_layers: bool = False) -> DeviceSetup:
    """Own torch's CPU threads for this process (`paperlib.hardware.own_threads`; 0 keeps torch's default) and
    resolve the device and precision.

    ``auto`` means CUDA when available, else the CPU. Raises ValueError for CUDA without a GPU.
    """
    own_threads(threads)
    return resolve_setup(device, precision, compile_layers)


def resolve_setup(device: DeviceName | str = "auto", precision: Precision = "auto",
                  compile_layers: bool = False) -> DeviceSetup:
    """The device set-up (`configure_device`'s) at torch's thread count in force, leaving the threads alone: what a
    benchmark that compares set-ups inside `paperlib.hardware.scoped_threads` builds."""
    resolved = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but torch sees no CUDA GPU on this machine")
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    chosen = ("bf16" if resolved.type == "cuda" else "fp32") if precision == "auto" else precision
    return _setup(resolved, chosen, compile_layers)


def _setup(device: torch.device, precision: Literal["fp32", "bf16"], compile_layers: bool) -> DeviceSetup:
    """The set-up at torch's thread count in force, with its line for the page."""
    description = (f"{device_name(device)}, {'bf16 autocast' if precision == 'bf16' else 'fp32'}"
                   + (", compiled layers" if compile_layers else ""))
    return DeviceSetup(device, precision, torch.get_num_threads(), description, compile_layers)
