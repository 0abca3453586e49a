"""One module (or package) per notebook, of the same name, that satisfies `Chapter`: the chapter's run plan
(`runs(params)`), its declared metrics (`METRICS`), and the code that serves that chapter alone (its experiment,
tables, figures and the prose that depends on numbers); a chapter that trains nothing also says what it computes
(`work(params)`). Only the drivers (`paperlib.cli`, `paperlib.gpu`, `paperlib.planning`) and the tests reach a
chapter by name, and no chapter imports another."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from paperlib.book.metrics import Declaration
from paperlib.training.plan import RunSpec


@runtime_checkable
class Chapter(Protocol):
    """What the drivers read from a chapter's module: its declared metrics and its run plan."""

    METRICS: Declaration

    def runs(self, params: Mapping[str, Any]) -> list[RunSpec]:
        """Every training run of the notebook with parameter values `params` (empty: it trains nothing; then the
        module also has ``work(params) -> list[str]``, what it computes, which `paperlib.planning` prints)."""


def chapter(name: str) -> Chapter:
    """The module of the chapter (notebook) `name`, checked against `Chapter`."""
    module = importlib.import_module(f"{__name__}.{name}")
    if not isinstance(module, Chapter) or not isinstance(module.METRICS, Declaration) or not callable(module.runs):
        raise TypeError(f"chapter {name!r} ({module.__name__}) is not a Chapter: a chapter module declares METRICS "
                        "(a Declaration) and runs(params) (paperlib.chapters.Chapter)")
    return module


def is_chapter(name: str) -> bool:
    """Whether the notebook `name` has a chapter module (a test's notebook may have none)."""
    return importlib.util.find_spec(f"{__name__}.{name}") is not None


def declarations() -> dict[str, Declaration]:
    """The declared metrics (`METRICS`) of every chapter that declares them, by chapter."""
    from paperlib.book.runner import notebook_names

    return {name: chapter(name).METRICS for name in notebook_names() if is_chapter(name)}


def declared_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A run record whose metrics are read through its chapter's declaration (reading a name the chapter does not
    declare raises `UndeclaredMetric`), where the chapter (``record["notebook"]``) declares them."""
    declared = declarations().get(record["notebook"])
    return {**record, "metrics": declared.view(record["metrics"]) if declared else record["metrics"]}
