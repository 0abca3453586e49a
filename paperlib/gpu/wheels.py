"""The wheel set a device run carries, checked for completeness before any device time is spent.

The device image (`h200_packages.txt`) has Python 3.12 and torch but no papermill, kernel stack or myst-nb.
The set is complete when every module paperlib and the notebooks import (outside ``try: ... except
ImportError``), and the kernel papermill starts, comes from the image or a wheel; when every wheel's
Requires-Dist (markers evaluated for the device, extras left out) is met by a wheel of a matching version, an
image package (by name: the image's versions are not recorded) or a requirement `wheels.txt` omits on
purpose; when every wheel is pinned there, exactly once, and installable on CPython 3.12, manylinux x86_64.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_wheel_filename

HERE = Path(__file__).resolve().parent
PINS = HERE / "wheels.txt"
IMAGE_PACKAGES = HERE / "h200_packages.txt"
DEVICE_MARKERS = {**default_environment(), "python_version": "3.12", "python_full_version": "3.12.3",
                  "implementation_name": "cpython", "implementation_version": "3.12.3",
                  "platform_python_implementation": "CPython", "sys_platform": "linux", "platform_system": "Linux",
                  "platform_machine": "x86_64", "os_name": "posix", "extra": ""}
MAX_GLIBC_MINOR = 39  # the image's Python 3.12.3 is Ubuntu 24.04's, glibc 2.39
LAUNCHED_MODULES = {  # modules a run needs that no import statement names
    "ipykernel": "the kernel papermill starts (kernel_name python3)",
    "matplotlib_inline": "the figure backend the runner sets (MPLBACKEND)",
}
_OMIT = re.compile(r"#\s*omit:\s*(\S+)\s+(.+)")


@dataclass(frozen=True)
class Pins:
    """`wheels.txt`: the pinned version of every carried distribution and the requirements omitted on purpose."""

    versions: dict[str, str]
    omitted: dict[str, str]  # name: why


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str  # canonical
    version: str
    tags: frozenset[Tag]
    requires: tuple[Requirement, ...]  # those that apply on the device, extras left out
    modules: frozenset[str]  # top-level importable names


@dataclass
class Report:
    """What the check found: `problems` make the set incomplete; `notes` are said and accepted."""

    wheels: list[Wheel]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def size_mib(self) -> float:
        return sum(w.path.stat().st_size for w in self.wheels) / 2**20


def read_pins(path: Path = PINS) -> Pins:
    """Pinned ``name==version`` lines and ``# omit: NAME why`` lines; anything else is refused."""
    versions, omitted = {}, {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if match := _OMIT.match(line.strip()):
            omitted[canonicalize_name(match[1])] = match[2].strip()
        elif line.strip() and not line.lstrip().startswith("#"):
            requirement = Requirement(line)
            pinned = [s.version for s in requirement.specifier if s.operator == "=="]
            if len(pinned) != 1 or len(requirement.specifier) != 1:
                raise ValueError(f"{path}:{number}: {line.strip()!r} must pin one version (name==version)")
            versions[canonicalize_name(requirement.name)] = pinned[0]
    return Pins(versions, omitted)


def read_image_packages(path: Path = IMAGE_PACKAGES) -> set[str]:
    return {canonicalize_name(line.strip()) for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")}


def read_wheel(path: Path) -> Wheel:
    """A wheel's name, version, tags, device requirements and top-level modules, from its file name and metadata."""
    name, version, _, tags = parse_wheel_filename(path.name)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        message = Parser().parsestr(archive.read(metadata).decode("utf-8"))
    requires = tuple(r for r in map(Requirement, message.get_all("Requires-Dist") or [])
                     if r.marker is None or r.marker.evaluate(DEVICE_MARKERS))
    tops = {n.split("/")[0] for n in names if "/" in n or n.endswith((".py", ".so"))}
    modules = {t.split(".")[0] for t in tops if not t.endswith((".dist-info", ".data"))}
    return Wheel(path, canonicalize_name(name), str(version), frozenset(tags), requires, frozenset(modules))


def device_compatible(tags: Iterable[Tag]) -> bool:
    """Whether one of the tags installs on CPython 3.12, manylinux x86_64."""
    return any(_interpreter_ok(t.interpreter, t.abi) and _platform_ok(t.platform) for t in tags)


def _interpreter_ok(interpreter: str, abi: str) -> bool:
    if abi == "abi3":
        return interpreter.startswith("cp3") and int(interpreter[3:]) <= 12
    return interpreter in ("py3", "py312", "cp312") and abi in ("none", "cp312")


def _platform_ok(platform: str) -> bool:
    if platform == "any" or platform in ("manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64"):
        return True
    match = re.fullmatch(r"manylinux_2_(\d+)_x86_64", platform)
    return bool(match) and int(match[1]) <= MAX_GLIBC_MINOR


def imported_modules(files: Iterable[Path]) -> dict[str, list[Path]]:
    """Top-level modules imported by `files` (not the standard library, paperlib, or an import guarded by
    ``except ImportError``), with the files that import each."""
    found: dict[str, list[Path]] = {}
    for path in files:
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        for top in {n.split(".")[0] for n in visitor.names} - set(sys.stdlib_module_names) - {"paperlib"}:
            found.setdefault(top, []).append(path)
    return found


class _Imports(ast.NodeVisitor):
    """The absolute imports of a module, except those in a ``try`` whose handlers catch ImportError."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Try(self, node: ast.Try) -> None:
        caught = [h.type.elts if isinstance(h.type, ast.Tuple) else [h.type] for h in node.handlers]
        if any(isinstance(c, ast.Name) and c.id in ("ImportError", "ModuleNotFoundError") for cs in caught for c in cs):
            for statement in [*node.handlers, *node.orelse, *node.finalbody]:
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.names += [alias.name for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.names.append(node.module)


def run_modules(root: Path) -> dict[str, str]:
    """Every module a device run needs that is not in the standard library: module -> why."""
    files = sorted([*(root / "paperlib").rglob("*.py"), *(root / "notebooks").glob("*.py")])
    needed = {m: "imported by " + ", ".join(sorted({str(p.relative_to(root)) for p in paths})[:3])
              for m, paths in imported_modules(files).items()}
    return {**needed, **LAUNCHED_MODULES}


def check(wheel_dir: Path, modules: Mapping[str, str], pins: Pins, image: set[str],
          installed: Mapping[str, list[str]] | None = None) -> Report:
    """Check the wheels in `wheel_dir` (see the module docstring). `installed` maps a module to the
    distributions that provide it where no wheel does (default: this environment's)."""
    wheels = [read_wheel(p) for p in sorted(Path(wheel_dir).glob("*.whl"))] if Path(wheel_dir).is_dir() else []
    report = Report(wheels)
    by_name: dict[str, list[Wheel]] = {}
    for wheel in wheels:
        by_name.setdefault(wheel.name, []).append(wheel)
    _check_set(report, by_name, pins)
    _check_modules(report, modules, by_name, pins, image, installed)
    for wheel in wheels:
        for requirement in wheel.requires:
            _check_requirement(report, wheel, requirement, by_name, pins, image)
    return report


def _check_set(report: Report, by_name: Mapping[str, list[Wheel]], pins: Pins) -> None:
    for name, found in sorted(by_name.items()):
        if len(found) > 1:
            report.problems.append(f"{name}: {len(found)} wheels ({', '.join(w.path.name for w in found)}); keep one")
        for wheel in found:
            if pins.versions.get(name) != wheel.version:
                report.problems.append(f"{wheel.path.name}: not pinned as {name}=={wheel.version} in {PINS.name}")
            if not device_compatible(wheel.tags):
                report.problems.append(f"{wheel.path.name}: does not install on CPython 3.12, manylinux x86_64")
    for name, version in sorted(pins.versions.items()):
        if name not in by_name:
            report.problems.append(f"{name}=={version}: pinned, no wheel")


def _check_modules(report: Report, modules: Mapping[str, str], by_name: Mapping[str, list[Wheel]], pins: Pins,
                   image: set[str], installed: Mapping[str, list[str]] | None) -> None:
    installed = importlib.metadata.packages_distributions() if installed is None else installed
    providers = {m: {w.name} for ws in by_name.values() for w in ws for m in w.modules}
    for module, why in sorted(modules.items()):
        names = providers.get(module) or {canonicalize_name(d) for d in installed.get(module, [])}
        if not names:
            report.problems.append(f"module {module} ({why}): no wheel provides it and no installed distribution "
                                   "says which package does")
        elif omitted := sorted(names & pins.omitted.keys()):
            report.notes.append(f"module {module} ({why}) is omitted on purpose: {pins.omitted[omitted[0]]}")
        elif not names & (image | by_name.keys()):
            report.problems.append(f"module {module} ({why}): no wheel of {' or '.join(sorted(names))}")


def _check_requirement(report: Report, wheel: Wheel, requirement: Requirement, by_name: Mapping[str, list[Wheel]],
                       pins: Pins, image: set[str]) -> None:
    name = canonicalize_name(requirement.name)
    if name in by_name:
        for found in by_name[name]:
            if not requirement.specifier.contains(found.version, prereleases=True):
                report.problems.append(f"{wheel.name} {wheel.version} needs {requirement}, the wheel is {found.version}")
    elif name in pins.omitted:
        report.notes.append(f"{wheel.name} needs {requirement}: omitted on purpose ({pins.omitted[name]})")
    elif name not in image:
        report.problems.append(f"{wheel.name} {wheel.version} needs {requirement}: neither a wheel nor in the image")


def describe(report: Report) -> str:
    """The report as a few lines of text."""
    lines = [f"wheels: {len(report.wheels)}, {report.size_mib:.1f} MiB"
             + (" — complete" if report.ok else f" — INCOMPLETE ({len(report.problems)} problems)")]
    lines += [f"  missing or wrong: {p}" for p in report.problems]
    lines += [f"  note: {n}" for n in sorted(set(report.notes))]
    return "\n".join(lines)
