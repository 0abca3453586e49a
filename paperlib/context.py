"""How a chapter is being run, passed explicitly from whoever runs it down to the code it affects.

A `RunContext` says when the run must stop (`deadline`: a named resumable run saves its checkpoint and
raises `DeadlineReached` before it), which of the chapter's runs may train now (`only_runs`: every other
one raises `RunDeferred` before its first step, so a plan can train a chapter in stages), where the
notebook's part of the run record goes (`record_part`), which Dask cluster the chapter's sweeps use
(`scheduler`) and whether progress is logged as a few plain lines (`log_progress`) rather than drawn.

The runner (`paperlib.book.runner`) builds one and hands it to papermill's kernel through the kernel's
environment: the only place these travel as environment variables. The notebook reads it once, at its
top (`run_context()`), and passes it on. A session outside the runner gets the context of the user's own
environment: ``PAPERLIB_DEADLINE`` (Unix seconds, or an ISO 8601 time; without a zone, UTC),
``PAPERLIB_ONLY_RUNS`` (comma-separated shell patterns of run names) and ``PAPERLIB_DASK_SCHEDULER``.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from paperlib.progress import set_log_mode

DEADLINE_ENV = "PAPERLIB_DEADLINE"
ONLY_RUNS_ENV = "PAPERLIB_ONLY_RUNS"
SCHEDULER_ENV = "PAPERLIB_DASK_SCHEDULER"
RECORD_PART_ENV = "PAPERLIB_RECORD_PART"
LOG_PROGRESS_ENV = "PAPERLIB_PROGRESS"


@dataclass(frozen=True)
class RunContext:
    """Deadline, run filter, record part, scheduler and progress mode of one chapter's run."""

    deadline: float | None = None  # Unix seconds (None: none)
    only_runs: tuple[str, ...] = ()  # shell patterns of the run names that may train now (empty: every run)
    record_part: Path | None = None  # where `record()` writes the notebook's part (None: nowhere, a session)
    scheduler: str = ""  # the Dask scheduler of the chapter's sweeps ("": a local cluster)
    log_progress: bool = False  # progress as a few plain lines on stderr (under the runner), not bars

    def deferred(self, name: str) -> bool:
        """Whether `only_runs` names patterns and none of them matches the run `name`."""
        return bool(self.only_runs) and not any(fnmatch.fnmatchcase(name, p) for p in self.only_runs)

    def environment(self) -> dict[str, str]:
        """The context as the environment variables of papermill's kernel (`from_environment` reads them)."""
        return {DEADLINE_ENV: "" if self.deadline is None else repr(self.deadline),
                ONLY_RUNS_ENV: ",".join(self.only_runs), SCHEDULER_ENV: self.scheduler,
                RECORD_PART_ENV: "" if self.record_part is None else str(self.record_part),
                LOG_PROGRESS_ENV: "log" if self.log_progress else ""}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> RunContext:
        """The context an environment describes (unset or empty variables: the defaults)."""
        deadline = environ.get(DEADLINE_ENV, "").strip()
        return cls(deadline=parse_deadline(deadline) if deadline else None,
                   only_runs=tuple(p.strip() for p in environ.get(ONLY_RUNS_ENV, "").split(",") if p.strip()),
                   record_part=Path(environ[RECORD_PART_ENV]) if environ.get(RECORD_PART_ENV) else None,
                   scheduler=environ.get(SCHEDULER_ENV, ""),
                   log_progress=environ.get(LOG_PROGRESS_ENV, "") == "log")


def run_context() -> RunContext:
    """The context of this process, read from its environment once, at the top of a notebook (the edge):
    the runner's, or the user's own in a session. Sets the progress mode it names (`paperlib.progress`)."""
    context = RunContext.from_environment(os.environ)
    set_log_mode(context.log_progress)
    return context


def parse_deadline(text: str) -> float:
    """Unix seconds from ``1767225600`` or ``2026-01-01T00:00:00+00:00`` (no zone: UTC)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{DEADLINE_ENV}={text!r} is neither Unix seconds nor an ISO 8601 time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
