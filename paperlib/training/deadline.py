"""Stop a named run cleanly: before a deadline, or when a plan defers it to a later stage.

The run context's deadline (`paperlib.context.RunContext`) ends every named resumable run
(`paperlib.training.run`) before that time: the run saves its checkpoint and raises `DeadlineReached`, so
the notebook fails cleanly, no page is written, and running it again with `resume` continues on the same
curve. A run its `only_runs` does not name, and that still has steps to take, raises `RunDeferred` before
its first step, so a plan can train a chapter's runs in stages.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from torch import Tensor

from paperlib.training.loop import Callback, State

MARGIN_S = 30.0  # kept free before the deadline: the checkpoint's save and the notebook's clean failure


class RunInterrupted(RuntimeError):
    """A named run stopped before its last step; where it checkpoints, `resume` continues it."""


class DeadlineReached(RunInterrupted):
    """The deadline left no time for the run's next step."""


class RunDeferred(RunInterrupted):
    """The run is not among those the run context's `only_runs` lets train now."""


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
