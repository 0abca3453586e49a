"""The paper profile on one GPU: chapters in priority order, each resumed from its checkpoints, stopped cleanly
before a deadline, and packed so that what a command made comes back and can be carried into the next one.

Priority: copy at 4,128, Shakespeare, the long-range image task on its substitute, selective copy. Copy and
selective copy are one notebook; the plan runs it in two stages: first with its parameter ``tasks`` copy, which
trains copy's runs and writes a page and record that judge copy's claims and list selective copy's as not run
(the record's ``not_run``), and last in full, which resumes copy's finished runs (a run's checkpoint does not
depend on ``tasks``), trains selective copy's and writes the chapter's whole page in their place. A stage is done
when the chapter's record judges the claims it decides. A stage interrupted by the deadline (`DeadlineReached`)
has saved its checkpoint; the next command resumes it. A notebook that did not complete never becomes a page.

Folders, relative to the project: the device writes everything into OUTPUT (executed notebooks, results/,
checkpoints/, the plan's status and log); a returned pack is unpacked here into CARRY, which the next command
carries and which seeds OUTPUT there with whatever OUTPUT lacks (a warm machine still has its own, newer one).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paperlib.atomic import atomic_write_json
from paperlib.book.paper_numbers import NOTE_TASK_SAMPLES
from paperlib.book.runner import NotebookFailed, execute, plan_run
from paperlib.chapters import chapter
from paperlib.context import RunContext
from paperlib.gpu.estimate import PlannedRun, planned, step_mfu
from paperlib.gpu.pack import MIB

WHEELS, DATA, OUTPUT, CARRY = ".whl", ".gpu-data", "gpu-run", "gpu-carry"
STATUS, LOG, SUMMARY, THROUGHPUT = "plan.json", "log.txt", "summary.txt", "paper_throughput.json"
DEVICE_TREE_LIMIT = 64 * MIB  # the working tree and carried paths that travel to the device
RETURN_FILES, RETURN_FILE_BYTES, RETURN_TOTAL = 8, 16 * MIB, 64 * MIB  # what comes back from $OUT
SUMMARY_ROOM = MIB // 4  # kept for the summary beside the parts
TREE_MARGIN = 2 * MIB  # files the estimate of the travelling tree may miss
NOT_TRAVELLING = {".git", ".venv", "__pycache__", ".pytest_cache", "_build", OUTPUT, CARRY}
MIN_STAGE_S = 90.0  # a stage is not started with less time than this before the deadline


@dataclass(frozen=True)
class Stage:
    """A notebook run under the paper profile with `parameters` over the profile's (none: the whole chapter), ending
    in a page and record that judge the claims `decides`; `runs` lists what it trains, for the estimate."""

    notebook: str
    title: str
    runs: Callable[[Mapping[str, Any]], list[PlannedRun]]
    decides: tuple[str, ...]  # ids of the claims (paperlib.book.claims) its page judges
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.notebook}:{','.join(f'{k}={v}' for k, v in self.parameters.items()) or 'page'}"

    @property
    def call(self) -> str:
        """The notebook and its parameters as `paperlib run` takes them: ``copy_tasks -p tasks copy``."""
        return " ".join([self.notebook, *(f"-p {k} {v}" for k, v in self.parameters.items())])


def copy_task(task: str) -> Callable[[Mapping[str, Any]], list[PlannedRun]]:
    """One copy task's runs of the chapter's plan (its stage), expected at the Note's samples (Table 6)."""
    return lambda v: planned([s for s in chapter("copy_tasks").runs(v) if s.stage == task], NOTE_TASK_SAMPLES[task])


STAGES = (
    Stage("copy_tasks", "copy at 4,128", copy_task("copy"), ("copy_4128", "rt_accumulate"), {"tasks": "copy"}),
    Stage("shakespeare", "Shakespeare: K 1 (Note), K 16 (Feb-2026), regular 1 and 6 layers",
          lambda v: planned(chapter("shakespeare").runs(v)), ("shakespeare_val_loss", "shakespeare_forget")),
    Stage("long_range_image", "long-range image on the substitute",
          lambda v: planned(chapter("long_range_image").runs(v)), ("lra_image",)),
    Stage("copy_tasks", "selective copy at 4,128, then the chapter's page", copy_task("selective_copy"),
          ("selective_copy_4128",)),
)
COMMAND_MINUTES = 9  # a device command: 10 minutes at most, less the machine's start
PACK_S = 40  # the last seconds of a command, kept for the pack (scripts/paper_on_gpu.sh)
START_S = 30  # the wheels' offline install and the first notebook's start


def load_status(output: Path) -> dict[str, dict[str, Any]]:
    """The plan's record of each stage (key -> status, detail, minutes), from earlier commands."""
    path = output / STATUS
    return json.loads(path.read_text()) if path.is_file() else {}


def unjudged_claims(folder: Path, notebook: str) -> set[str] | None:
    """The claims the chapter's record in `folder` lists as not run (a page of part of the chapter); None without
    a record."""
    path = folder / "results" / f"{notebook}.json"
    return set(json.loads(path.read_text()).get("not_run", {})) if path.is_file() else None


def stage_done(stage: Stage, folder: Path) -> bool:
    """Done: the chapter's record in `folder` judges the claims the stage decides (its page is written)."""
    missing = unjudged_claims(folder, stage.notebook)
    return missing is not None and not missing & set(stage.decides)


def seed(output: Path, carry: Path) -> int:
    """Copy into `output` every file of `carry` it lacks; returns how many."""
    copied = 0
    for path in sorted(carry.rglob("*")) if carry.is_dir() else []:
        target = output / path.relative_to(carry)
        if path.is_file() and path.name != SUMMARY and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied += 1
    return copied


def run(output: Path, until: float, *, env: Mapping[str, str] | None = None, stages: tuple[Stage, ...] = STAGES,
        numbers: Collection[int] = (), run_notebook: Callable[..., Path] = execute) -> int:
    """Run the stages not yet done (those `numbers` names, all when it is empty), in order, until `until` (Unix
    seconds); 0 unless a stage failed.

    Every notebook runs with ``resume``, its checkpoints under ``output/checkpoints`` and the deadline `until`;
    a stage stopped by the deadline ends the command, a failed one (a cell's error, or one outside any cell such
    as a kernel that did not respond) is recorded and the next stage runs.
    """
    output.mkdir(parents=True, exist_ok=True)
    env = {**(env or {}), "PAPERLIB_CHECKPOINTS": str((output / "checkpoints").resolve())}
    status, code = load_status(output), 0
    for number, stage in enumerate(stages, 1):
        if stage_done(stage, output) or (numbers and number not in numbers):
            continue
        if time.time() > until - MIN_STAGE_S:
            print(f"plan: stage {number} ({stage.title}) not started: under {MIN_STAGE_S:.0f} s left", flush=True)
            break
        print(f"plan: stage {number}: {stage.title} ({stage.call})", flush=True)
        began = time.time()
        _note(output, status, stage, "running", "still running when the command ended: stopped hard", began)
        outcome, detail = run_stage(stage, output, until, env, run_notebook)
        if outcome == "failed":
            code = 1
        _note(output, status, stage, outcome, detail, began)
        print(f"plan: stage {number} {outcome}: {detail}", flush=True)
        if outcome == "stopped":
            break
    return code


def run_stage(stage: Stage, output: Path, until: float, env: Mapping[str, str],
              run_notebook: Callable[..., Path]) -> tuple[str, str]:
    """Run one stage's notebook; its outcome ("done", "stopped" or "failed") and why."""
    notebook_run = plan_run(stage.notebook, "paper", {"resume": True, **stage.parameters})
    try:
        run_notebook(notebook_run, output, context=RunContext(deadline=until), env=env)
    except NotebookFailed as error:
        first = str(error).splitlines()[0]
        return ("stopped", f"deadline: {first}") if error.ename == "DeadlineReached" else ("failed", str(error))
    except Exception as error:  # outside any cell: papermill, the kernel ("Kernel didn't respond"), the runner
        return "failed", f"outside the notebook's cells: {type(error).__name__}: {error}"
    return "done", f"the chapter's page and record are written; they judge {', '.join(stage.decides)}"


def _note(output: Path, status: dict[str, dict[str, Any]], stage: Stage, outcome: str, detail: str,
          began: float) -> None:
    """Record the stage's state in the status file (written at once: a hard stop may follow)."""
    status[stage.key] = {"status": outcome, "detail": detail, "minutes": round((time.time() - began) / 60, 2),
                         "at": datetime.now(UTC).isoformat(timespec="seconds")}
    atomic_write_json(output / STATUS, status)


def write_throughput(output: Path, device: str) -> Path | None:
    """On the device: the MFU of the copy runs from the step table the copy notebook measured there (the newest),
    as a throughput file (`paperlib.gpu.estimate.load_throughput`) in `output`; None without a table."""
    copy = chapter("copy_tasks")
    tables = sorted((output / "checkpoints" / "copy_tasks" / copy.MEASURED).glob("step_seconds-*.json"),
                    key=lambda p: p.stat().st_mtime)
    if not tables:
        return None
    values = plan_run("copy_tasks", "paper").parameters
    mfu = step_mfu(copy.read_measured(tables[-1]), copy_task("copy")(values) + copy_task("selective_copy")(values))
    source = f"one timed training step of each copy run's model at its longest length on {device}, " \
             f"{datetime.now(UTC):%Y-%m-%d}; other runs at the assumed MFU"
    atomic_write_json(output / THROUGHPUT, {"source": source, "mfu": mfu})
    return output / THROUGHPUT


def pack_list(output: Path, stages: tuple[Stage, ...] = STAGES) -> list[tuple[Path, str]]:
    """What a pack holds, by priority: the plan's status and log, executed notebooks, records, the small tables
    kept beside the checkpoints (a chapter's step times measured on this device); then the checkpoints of chapters
    without a page: the newest first (the run a deadline interrupted), then by the chapter's next stage and newest
    first. Checkpoints of finished chapters are left behind."""
    light = [output / STATUS, output / LOG, output / THROUGHPUT, *sorted(output.glob("*.ipynb")),
             *sorted((output / "results").glob("*.json")), *sorted((output / "checkpoints").glob("*/*/*.json"))]
    pending = [s.notebook for s in stages if not stage_done(s, output)]
    rank = {name: pending.index(name) for name in pending}
    checkpoints = [p for p in (output / "checkpoints").glob("*/*.pt") if p.parent.name in rank]
    checkpoints.sort(key=lambda p: (rank[p.parent.name], -p.stat().st_mtime))
    if checkpoints:
        newest = max(checkpoints, key=lambda p: p.stat().st_mtime)
        checkpoints.remove(newest)
        checkpoints.insert(0, newest)
    return [(p, p.relative_to(output).as_posix()) for p in [*light, *checkpoints] if p.is_file()]


def travelling_bytes(root: Path) -> int:
    """About how much of `root` travels to the device: every file outside NOT_TRAVELLING (the device's own
    output, the carry folder the next pack replaces, caches and builds)."""
    total = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in NOT_TRAVELLING]
        total += sum((Path(folder) / f).stat().st_size for f in files if not (Path(folder) / f).is_symlink())
    return total


def pack_budget(root: Path) -> int:
    """Bytes a pack may hold: what comes back from the device, and what the next command can carry there
    beside the working tree (wheels and data included)."""
    carry_room = DEVICE_TREE_LIMIT - travelling_bytes(root) - TREE_MARGIN
    return max(0, min(RETURN_TOTAL - SUMMARY_ROOM, carry_room))


def summary(output: Path, packed_parts: list[Path], included: list[str], left_out: list[tuple[str, int]],
            device: str, stages: tuple[Stage, ...] = STAGES) -> str:
    """A few plain lines: each stage's state, what the pack holds and left out, and what to do next."""
    status = load_status(output)
    lines = [f"paper profile on {device}, packed {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "stages:"]
    for number, stage in enumerate(stages, 1):
        entry = status.get(stage.key)
        state = ("done (page written)" if stage_done(stage, output) else
                 f"{entry['status']} after {entry['minutes']} min: {entry['detail'].splitlines()[0]}" if entry else
                 "not started")
        lines.append(f"  {number}. {stage.title} [{stage.notebook}]: {state}")
    size = sum(p.stat().st_size for p in packed_parts) / MIB
    lines.append(f"pack: {len(packed_parts)} parts, {size:.1f} MiB, {len(included)} files")
    lines += [f"  left out (on the device while it stays warm): {name} ({n / MIB:.1f} MiB)" for name, n in left_out]
    lines += ["next: here, `bash scripts/paper_on_gpu.sh --unpack FILES_AT` puts this into gpu-carry/; then run",
              f"  `bash scripts/paper_on_gpu.sh --minutes 9` with carry [\"{WHEELS}\", \"{DATA}\", \"{CARRY}\"]"]
    return "\n".join(lines) + "\n"


def finished_chapters(folder: Path) -> list[str]:
    """Chapters whose whole page is in `folder`: a record that lists no claim as not run."""
    return sorted(p.stem for p in (folder / "results").glob("*.json") if not unjudged_claims(folder, p.stem))


def drop_finished_checkpoints(folder: Path) -> list[Path]:
    """Remove the checkpoints of chapters whose page is written (nothing will resume them); returns them."""
    dropped = [p for name in finished_chapters(folder) for p in sorted((folder / "checkpoints" / name).glob("*.pt"))]
    for path in dropped:
        path.unlink()
    return dropped
