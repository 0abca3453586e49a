"""One module per notebook, of the same name: the chapter's run plan (`runs(params)`), its declared metrics
(`METRICS`), and the code that serves that chapter alone (its experiment, tables, figures and the prose that
depends on numbers). Only the drivers (`paperlib.cli`, `paperlib.gpu`) and the tests reach a chapter by name."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from paperlib.book.metrics import Declaration


def chapter(name: str) -> ModuleType:
    """The module of the chapter (notebook) `name`."""
    return importlib.import_module(f"{__name__}.{name}")


def declarations() -> dict[str, Declaration]:
    """The declared metrics (`METRICS`) of every chapter that declares them, by chapter."""
    from paperlib.book.runner import notebook_names

    modules = {name: chapter(name) for name in notebook_names() if importlib.util.find_spec(f"{__name__}.{name}")}
    return {name: module.METRICS for name, module in modules.items() if hasattr(module, "METRICS")}


def declared_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A run record whose metrics are read through its chapter's declaration (reading a name the chapter does not
    declare raises `UndeclaredMetric`), where the chapter (``record["notebook"]``) declares them."""
    declared = declarations().get(record["notebook"])
    return {**record, "metrics": declared.view(record["metrics"]) if declared else record["metrics"]}
