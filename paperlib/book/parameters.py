"""Typed notebook parameters: read from the `parameters` cell, validated before anything runs.

Each parameter line in a notebook reads ``name: type = default  # meaning[; range LO..HI | ; one of a, b]``.
Values from a profile (YAML) or the command line (strings) are coerced to the declared type and
checked against the declared range or choices; any problem raises `ParameterError` naming it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill

TYPES = {"int": int, "float": float, "str": str, "bool": bool}
_RANGE = re.compile(r";\s*range\s+(-?[\d.eE+-]+)\s*\.\.\s*(-?[\d.eE+-]+)\s*$")
_CHOICES = re.compile(r";\s*one of\s+(.+)$")


class ParameterError(ValueError):
    """An unknown parameter, a value of the wrong type, or a value out of range."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type_name: str
    default: Any
    meaning: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.low is not None:
            return f"{self.low:g}..{self.high:g}"
        return ""

    def coerce(self, raw: Any) -> Any:
        """Convert ``raw`` (a YAML value or a command-line string) and check it; raise `ParameterError`."""
        value = _convert(self, raw)
        if self.choices is not None and value not in self.choices:
            raise ParameterError(f"parameter {self.name!r}: {value!r} is not {self.allowed()}")
        if self.low is not None and not self.low <= value <= self.high:
            raise ParameterError(f"parameter {self.name!r}: {value!r} is outside the range {self.allowed()}")
        return value


def _convert(param: Parameter, raw: Any) -> Any:
    kind = TYPES[param.type_name]
    if isinstance(raw, str) and kind is not str:
        text = raw.strip()
        if kind is bool:
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ParameterError(f"parameter {param.name!r} expects a bool (true/false); got {raw!r}")
        try:
            return kind(float(text)) if kind is int and float(text).is_integer() else kind(text)
        except ValueError:
            raise ParameterError(f"parameter {param.name!r} expects {param.type_name}; got {raw!r}") from None
    if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if type(raw) is not kind:
        raise ParameterError(f"parameter {param.name!r} expects {param.type_name}; got {raw!r} ({type(raw).__name__})")
    return raw


def read_parameters(notebook: Path) -> dict[str, Parameter]:
    """The typed parameters declared in ``notebook``'s `parameters` cell."""
    found = {}
    inspected = papermill.inspect_notebook(str(notebook))
    unparsed = sorted(set(_declared_names(notebook)) - set(inspected))
    if unparsed:
        raise ParameterError(f"{notebook.name}: papermill cannot parse the parameter line(s) of {unparsed}; "
                             "keep each to `name: type = value  # meaning` (no quotes or = signs in the comment)")
    for name, info in inspected.items():
        type_name = info["inferred_type_name"]
        if type_name not in TYPES:
            raise ParameterError(f"{notebook.name}: parameter {name!r} has no supported type annotation "
                                 f"({type_name}); use one of {', '.join(TYPES)}")
        meaning = (info.get("help") or "").strip()
        low = high = None
        choices = None
        if match := _RANGE.search(meaning):
            low, high = float(match.group(1)), float(match.group(2))
            meaning = meaning[: match.start()].strip()
        elif match := _CHOICES.search(meaning):
            choices = tuple(c.strip() for c in match.group(1).split(","))
            meaning = meaning[: match.start()].strip()
        found[name] = Parameter(name, type_name, ast.literal_eval(info["default"]), meaning, low, high, choices)
    return found


def _declared_names(notebook: Path) -> list[str]:
    """Names assigned in the `parameters` cell, read independently of papermill's parser."""
    cells = nbformat.read(notebook, as_version=4).cells
    cell = next((c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return []
    return [m.group(1) for m in re.finditer(r"^([A-Za-z_]\w*)\s*(?::[^=]+)?=", cell.source, re.MULTILINE)]


def validate(declared: Mapping[str, Parameter], values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Check every value against its declaration; ``origin`` says where the values came from."""
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ParameterError(f"{origin}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
                             f"known: {', '.join(declared)}")
    checked = {}
    for name, raw in values.items():
        try:
            checked[name] = declared[name].coerce(raw)
        except ParameterError as error:
            raise ParameterError(f"{origin}: {error}") from None
    return checked
