"""Declared metrics: a chapter names once, in its module, every metric its record may hold (a name or a pattern,
its unit, its meaning, whether it is a headline), and whatever writes or reads the chapter's metrics goes
through that declaration.

A pattern names its variable parts in braces, and the declaration says which values each part takes: a list
(the chapter's model names) or a regular expression::

    METRICS = Declaration("shakespeare", [
        Metric("val_loss_{model}", "nats/char", "best validation loss, mean over seeds", ci=True),
        Metric("val_loss_ngram{n}", "nats/char", "validation loss of the n-gram model of order n"),
    ], fields={"model": MODEL_LABELS, "n": r"[1-9]"})

declares ``val_loss_regular_1``, its interval's bounds ``val_loss_regular_1.ci_low`` and ``.ci_high`` (`ci`),
and ``val_loss_ngram5``. `Declaration.new()` is the chapter's metrics: a dict that refuses to store or to read
an undeclared name (`UndeclaredMetric`); `Declaration.view` reads a mapping someone else built (a run record's)
the same way. The record writer (`paperlib.book.records.record`) refuses an undeclared name, `glue_metrics`
glues only what a declaration allows, the claims registry judges through it, and a chapter's in-words
function reads through it, so a renamed metric fails where it is read, not in the book build.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass

CI_SUFFIXES = (".ci_low", ".ci_high")  # the bounds of a metric's 95 % interval


class UndeclaredMetric(LookupError):
    """A metric name the chapter's declaration does not declare."""


@dataclass(frozen=True)
class Metric:
    """One metric, or a family of them (`pattern` with fields in braces): its unit, its meaning on the page,
    whether a claim or the page's summary leads with it (`headline`), and whether its interval's bounds come
    with it (`ci`: ``NAME.ci_low`` and ``NAME.ci_high``)."""

    pattern: str
    unit: str
    meaning: str
    headline: bool = False
    ci: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.pattern) if name)


EXECUTION = (  # what an execution trained and what it read back finished: every chapter with a cache declares them
    Metric("runs_trained_now", "runs", "runs this execution trained (in full or from a checkpoint on)"),
    Metric("runs_loaded", "runs", "runs this execution read back finished from a checkpoint or cache"),
    Metric("trained_worker_min", "minutes", "training minutes of the runs trained now, summed over processes"),
    Metric("loaded_worker_min", "minutes", "training minutes the loaded runs took when they were trained"),
)


def with_ci(name: str, value: float, interval: tuple[float, float]) -> dict[str, float]:
    """Metric `name` with the bounds of its 95 % interval (``NAME.ci_low``, ``NAME.ci_high``)."""
    low, high = interval
    return {name: value, f"{name}{CI_SUFFIXES[0]}": low, f"{name}{CI_SUFFIXES[1]}": high}


def execution_metrics(trained_s: Sequence[float], loaded_s: Sequence[float]) -> dict[str, float]:
    """The `EXECUTION` metrics from each run trained now (its seconds of training in this execution) and each run
    read back finished (its seconds of training when it was trained)."""
    return {"runs_trained_now": len(trained_s), "runs_loaded": len(loaded_s),
            "trained_worker_min": sum(trained_s) / 60, "loaded_worker_min": sum(loaded_s) / 60}


class Declaration:
    """A chapter's metrics: each name or pattern once, with the values each pattern's field takes (a list of
    values, or a regular expression as a string)."""

    def __init__(self, chapter: str, metrics: Sequence[Metric], fields: Mapping[str, Iterable[str] | str] | None = None):
        self.chapter, self.metrics, fields = chapter, tuple(metrics), fields or {}
        used = {name for metric in self.metrics for name in metric.fields}
        if used != set(fields):
            raise ValueError(f"{chapter}: the patterns use the fields {sorted(used)}, the declaration gives values "
                             f"for {sorted(fields)}")
        values = {name: v if isinstance(v, str) else "|".join(map(re.escape, v)) for name, v in fields.items()}
        self._patterns = [(metric, re.compile(_regex(metric, values))) for metric in self.metrics]
        patterns = [m.pattern for m in self.metrics]
        if len(set(patterns)) != len(patterns):
            raise ValueError(f"{chapter}: a pattern is declared twice")

    def metric(self, name: str) -> Metric | None:
        """The declared metric `name` belongs to (None: undeclared)."""
        return next((metric for metric, regex in self._patterns if regex.fullmatch(name)), None)

    def undeclared(self, names: Iterable[str]) -> list[str]:
        """The names among `names` that the declaration does not declare, sorted."""
        return sorted(name for name in names if self.metric(name) is None)

    def check(self, names: Iterable[str]) -> None:
        """Raise `UndeclaredMetric` naming every undeclared name among `names`."""
        undeclared = self.undeclared(names)
        if undeclared:
            raise UndeclaredMetric(f"{self.chapter} does not declare the metric(s) {', '.join(undeclared)}; declare "
                                   f"them in the chapter paperlib.chapters.{self.chapter} (its METRICS)")

    @property
    def headline(self) -> tuple[Metric, ...]:
        return tuple(metric for metric in self.metrics if metric.headline)

    def new(self) -> DeclaredMetrics:
        """An empty mapping of this chapter's metrics, which refuses undeclared names."""
        return DeclaredMetrics(self, {})

    def view(self, metrics: Mapping[str, float | None]) -> DeclaredMetrics:
        """`metrics` (not copied) read through the declaration: reading or writing an undeclared name raises."""
        return metrics if isinstance(metrics, DeclaredMetrics) and metrics.declaration is self else \
            DeclaredMetrics(self, metrics)


class DeclaredMetrics(MutableMapping[str, float | None]):
    """A chapter's metrics by name, through its `Declaration`: an undeclared name raises `UndeclaredMetric`
    (which `get` and `in` do not swallow), a declared but absent one `KeyError`."""

    def __init__(self, declaration: Declaration, values: Mapping[str, float | None]):
        self.declaration, self._values = declaration, values

    def _declared(self, name: str) -> str:
        self.declaration.check([name])
        return name

    def __getitem__(self, name: str) -> float | None:
        return self._values[self._declared(name)]

    def __setitem__(self, name: str, value: float | None) -> None:
        self._values[self._declared(name)] = value  # type: ignore[index]

    def __delitem__(self, name: str) -> None:
        del self._values[self._declared(name)]  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __ior__(self, other: Mapping[str, float | None]) -> DeclaredMetrics:
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, float | None]) -> DeclaredMetrics:
        merged = self.declaration.new()
        merged.update(self._values)
        merged.update(other)
        return merged

    def __repr__(self) -> str:
        return f"DeclaredMetrics({self.declaration.chapter!r}, {dict(self._values)!r})"


def _regex(metric: Metric, values: Mapping[str, str]) -> str:
    """The pattern as a regular expression: its literal text escaped, each field its values, and the interval's
    suffixes when the metric has them."""
    parts = [re.escape(literal) + (f"(?:{values[name]})" if name else "")
             for literal, name, _, _ in string.Formatter().parse(metric.pattern)]
    suffix = "(?:" + "|".join(map(re.escape, CI_SUFFIXES)) + ")?" if metric.ci else ""
    return "".join(parts) + suffix
