"""Progress reporting that suits both an interactive session and a papermill run.

In Jupyter or a terminal the user gets a live tqdm bar. Under `paperlib run` a redrawn bar would be
stored in the executed notebook hundreds of times, so the same calls print a handful of plain lines to
stderr instead: `paperlib run` shows them live on its console and leaves them out of the page. The mode
is the process's, set once by the notebook's run context (`paperlib.context.run_context`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

LOG_LINES = 5
_log = False  # this process logs plain lines instead of drawing bars


def set_log_mode(log: bool) -> None:
    """Log a few plain lines per progress (`log`) or draw bars, for the rest of this process."""
    global _log
    _log = log


def _bar_class() -> type:
    """tqdm's widget bar where ipywidgets is installed, else its text bar (no 'IProgress not found' warning)."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm
    return tqdm


class progress:  # noqa: N801 - used like tqdm
    """``progress(iterable, total=None, desc="")``: iterate with a bar, or log a few lines.

    Also usable without an iterable as ``with progress(total=n) as bar: bar.update(k)``.
    ``set_postfix(**values)`` shows the latest values (loss, accuracy) either way.
    """

    def __init__(self, iterable: Iterable[T] | None = None, total: int | None = None, desc: str = ""):
        self.iterable = iterable
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.desc = desc
        self.count = 0
        self.postfix: dict[str, object] = {}
        self._next_log = 0
        self._logged = -1  # the count of the last line printed in log mode
        self._log = _log
        self._bar = None if self._log else _bar_class()(total=self.total, desc=desc, leave=True)

    def __iter__(self) -> Iterator[T]:
        assert self.iterable is not None, "progress() was created without an iterable"
        for item in self.iterable:
            yield item
            self.update(1)
        self.close()

    def __enter__(self) -> "progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_postfix(self, **values: object) -> None:
        self.postfix = values
        if self._bar is not None:
            self._bar.set_postfix(values, refresh=False)

    def update(self, n: int = 1) -> None:
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._log and self.total and self.count >= self._next_log:
            self._print_line()
            self._next_log = self.count + max(1, self.total // LOG_LINES)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._log and self.total and self.count >= self.total and self._logged != self.count:
            self._print_line()  # the final count, unless the last line already showed it

    def _print_line(self) -> None:
        self._logged = self.count
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.postfix.items())
        print(f"{self.desc}: {self.count}/{self.total}" + (f" ({shown})" if shown else ""), file=sys.stderr, flush=True)
