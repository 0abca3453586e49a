"""Run records: one JSON file per notebook run, written atomically.

A notebook calls `record(...)` once with what it measured. Under `paperlib run` that part is
written to the run context's `record_part` (`paperlib.context`); the runner then completes it with the
profile, parameters, hardware, wall time, versions and the source's git commit (`complete_record`) and
writes ``results/NAME.json``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import torch

from paperlib.atomic import atomic_write_json
from paperlib.book.metrics import DeclaredMetrics
from paperlib.context import RunContext
from paperlib.data.sources import Provenance
from paperlib.hardware import cpu_model, device_name
from paperlib.paths import project_root

SCHEMA_VERSION = 1


class Placement(Protocol):
    """Where a run computed (`paperlib.training.device.DeviceSetup` is one): its device and a line for the page."""

    device: torch.device
    description: str


class RecordError(ValueError):
    """A record that cannot be written as asked (a non-numeric metric, an unknown claim id)."""


def record(metrics: Mapping[str, float], datasets: Iterable[Provenance | Mapping[str, Any]] = (),
           not_comparable: Mapping[str, str] | None = None, notes: Mapping[str, Any] | None = None,
           setup: Placement | None = None, *, context: RunContext, not_run: Mapping[str, str] | None = None) -> None:
    """Record a notebook's results: flat numeric ``metrics``, dataset provenance, for each claim id
    measured on a substitute dataset or a scaled-down configuration the reason (``not_comparable``), for each
    claim id an execution of part of the chapter did not run the reason (``not_run``), and where it computed
    (`setup`; None: the CPU, as configured by torch's defaults). Metrics kept through the chapter's declaration
    (`paperlib.book.metrics`) must all be declared (`UndeclaredMetric`).

    Written to the run `context`'s record part; outside `paperlib run` (no record part) nothing is written.
    """
    from paperlib.book.claims import CLAIMS_BY_ID

    if isinstance(metrics, DeclaredMetrics):
        metrics.declaration.check(metrics)
    clean = {}
    for name, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise RecordError(f"metric {name!r} is not a number: {value!r}") from None
        clean[str(name)] = number if math.isfinite(number) else None
    for what, claims in (("not_comparable", not_comparable), ("not_run", not_run)):
        unknown = sorted(set(claims or {}) - set(CLAIMS_BY_ID))
        if unknown:
            raise RecordError(f"{what} names unknown claim ids: {unknown}")
    part = {
        "metrics": clean,
        "datasets": [d.as_dict() if isinstance(d, Provenance) else dict(d) for d in datasets],
        "not_comparable": dict(not_comparable or {}),
        "not_run": dict(not_run or {}),
        "notes": dict(notes or {}),
        "device": setup.device.type if setup else "cpu",
        "where": setup.description if setup else device_name(torch.device("cpu")),
    }
    if context.record_part is not None:
        atomic_write_json(context.record_part, part)


def complete_record(part: Mapping[str, Any], notebook: str, profile: str, parameters: Mapping[str, Any],
                    wall_time_s: float, started_at: datetime, forecast: tuple[float, str] | None = None
                    ) -> dict[str, Any]:
    """The full run record: the notebook's part plus what the runner knows (and the `forecast` it printed before
    the run: seconds of training and evaluation, and its sentence)."""
    return {
        "schema": SCHEMA_VERSION,
        "notebook": notebook,
        "profile": profile,
        "parameters": dict(parameters),
        "started_at": started_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(wall_time_s, 2),
        **({} if forecast is None else {"forecast": {"seconds": round(forecast[0], 1), "words": forecast[1]}}),
        "hardware": hardware(part.get("device", "cpu"), part.get("where", "")),
        "versions": versions(),
        "source": source_revision(),
        **part,
    }


def write_record(results_dir: Path, rec: Mapping[str, Any]) -> Path:
    return atomic_write_json(Path(results_dir) / f"{rec['notebook']}.json", rec)


def load_records(results_dir: Path) -> dict[str, dict[str, Any]]:
    """All records in ``results_dir`` by notebook name (unreadable files are reported, not hidden)."""
    records = {}
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            records[path.stem] = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise RecordError(f"{path} is not valid JSON: {error}") from None
    return records


def hardware(device: str = "cpu", where: str = "") -> dict[str, Any]:
    """CPU model and core count, the device used and how (`where`: threads, precision), and the GPU's
    name when one is present."""
    info: dict[str, Any] = {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "platform": platform.platform(),
                            "device": device, "where": where}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def versions() -> dict[str, str]:
    import paperlib

    found = {"python": sys.version.split()[0], "paperlib": paperlib.__version__}
    for module in ("torch", "numpy", "scipy", "papermill"):
        try:
            found[module] = __import__(module).__version__
        except ImportError:
            found[module] = "absent"
    return found


SOURCE_PATHS = ("paperlib", "notebooks", "pyproject.toml")  # what a run's numbers depend on


def source_revision() -> dict[str, Any]:
    """The checkout's git commit and whether the code a run depends on (`SOURCE_PATHS`) had uncommitted
    changes; ``{"commit": None, "dirty": None}`` outside a git checkout."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=project_root(), capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired, FileNotFoundError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--", *SOURCE_PATHS) if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}
