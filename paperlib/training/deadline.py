"""Stop a named run cleanly: before a deadline, or when a plan defers it to a later stage.

``PAPERLIB_DEADLINE`` (Unix seconds, or an ISO 8601 time; one without a zone is UTC) ends every named
resumable run (`paperlib.training.run`) before that time: the run saves its checkpoint and raises
`DeadlineReached`, so the notebook fails cleanly, no page is written, and running it again with `resume`
continues on the same curve. ``PAPERLIB_ONLY_RUNS`` (comma-separated shell patterns of run names) defers
every other run that still has steps to take: it raises `RunDeferred` before its first step, so a plan can
train a chapter's runs in stages.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from torch import Tensor

from paperlib.training.loop import Callback, State

DEADLINE_ENV = "PAPERLIB_DEADLINE"
ONLY_RUNS_ENV = "PAPERLIB_ONLY_RUNS"
MARGIN_S = 30.0  # kept free before the deadline: the checkpoint's save and the notebook's clean failure


class RunInterrupted(RuntimeError):
    """A named run stopped before its last step; where it checkpoints, `resume` continues it."""


class DeadlineReached(RunInterrupted):
    """The deadline left no time for the run's next step."""


class RunDeferred(RunInterrupted):
    """The run is not among those ``PAPERLIB_ONLY_RUNS`` lets train now."""


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


def deadline_from_env() -> float | None:
    """The deadline ``PAPERLIB_DEADLINE`` sets, in Unix seconds (None: unset or empty)."""
    raw = os.environ.get(DEADLINE_ENV, "")
    return parse_deadline(raw) if raw.strip() else None


def deferred(name: str) -> bool:
    """Whether ``PAPERLIB_ONLY_RUNS`` is set and none of its patterns matches the run `name`."""
    patterns = [p.strip() for p in os.environ.get(ONLY_RUNS_ENV, "").split(",") if p.strip()]
    return bool(patterns) and not any(fnmatch.fnmatchcase(name, p) for p in patterns)


class Deadline(Callback):
    """Raise `DeadlineReached` when the run still has steps to take and the next one might end later than
    `margin_s` before `at`: after the longest gap seen between two steps (evaluations included; the first
    step, which may include warm-up and compilation, is not counted)."""

    def __init__(self, at: float, steps: int, margin_s: float = MARGIN_S, clock: Callable[[], float] = time.time):
        self.at, self.steps, self.margin_s, self.clock = at, steps, margin_s, clock
        self.last: float | None = None
        self.longest = 0.0

    def _has_work(self, state: State) -> bool:
        return state.step < self.steps and not state.stop

    def _check(self, now: float, state: State) -> None:
        if now + self.longest >= self.at - self.margin_s:
            left = self.at - now
            raise DeadlineReached(f"the deadline is {left:.0f} s away at step {state.step} of {self.steps}: "
                                  f"no time for another step and {self.margin_s:.0f} s of margin")

    def on_start(self, state: State) -> None:
        self.last, self.longest = None, 0.0
        if self._has_work(state):
            self._check(self.clock(), state)

    def on_step(self, state: State, loss: Tensor) -> None:
        now = self.clock()
        if self.last is not None:
            self.longest = max(self.longest, now - self.last)
        self.last = now
        if self._has_work(state):
            self._check(now, state)
