"""Execute a notebook with papermill under a profile, and write its run record.

Parameters are validated before anything runs. The executed notebook replaces ``OUTPUT/NAME.ipynb``
only when the run succeeds; a failed run is kept as ``OUTPUT/NAME.failed.ipynb`` and the error says
which cell raised. The record goes to ``OUTPUT/results/NAME.json``. A `paper`-profile run on a
machine without a CUDA GPU goes ahead, with a warning: the paper's configurations are sized for one.

What the notebook writes to stderr (progress lines, warnings) is shown live on this console and left
out of the page; the page gains a box saying what was run, where, and how long it took.

The run context (`paperlib.context.RunContext`: deadline, run filter, record part, scheduler, progress
mode) reaches the notebook through its kernel's environment, set on the kernel it starts; this process's
own environment is left as it is.

`execute_elsewhere` runs a plan in a scratch folder and returns the files it wrote, for a run on another
machine (a Dask worker: `paperlib run --scheduler`).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nbformat
import papermill
import yaml
from jupyter_client import AsyncKernelManager

from paperlib.atomic import atomic_write_text
from paperlib.book.parameters import (
    Parameter,
    ParameterError,
    read_parameters,
    validate,
)
from paperlib.book.records import complete_record, write_record
from paperlib.book.render import run_summary
from paperlib.chapters import declarations, is_chapter
from paperlib.context import RunContext
from paperlib.paths import display_path, notebooks_dir, profiles_dir, project_root

PROFILES = ("quick", "cpu", "paper")
DEFAULT_PROFILE = "cpu"


class NotebookFailed(RuntimeError):
    """The notebook did not complete; `ename` names the exception a cell raised, if one did."""

    def __init__(self, message: str, ename: str = ""):
        super().__init__(message)
        self.ename = ename


@dataclass(frozen=True)
class RunPlan:
    notebook: str
    profile: str
    parameters: dict[str, Any]


def notebook_names() -> list[str]:
    return sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))


def notebook_path(name: str) -> Path:
    path = notebooks_dir() / f"{name}.ipynb"
    if not path.is_file():
        raise ParameterError(f"no notebook named {name!r}; known: {', '.join(notebook_names())}")
    return path


def declared_parameters(name: str) -> dict[str, Parameter]:
    return read_parameters(notebook_path(name))


def recorded_parameters(rec: Mapping[str, Any]) -> dict[str, Any]:
    """A run record's parameters, with each one its notebook declared since that run at its default (the value the
    run had, as the parameter did not exist to change)."""
    return {**{p.name: p.default for p in declared_parameters(rec["notebook"]).values()}, **rec["parameters"]}


def profile_values(profile: str, name: str) -> dict[str, Any]:
    """The values a profile sets for one notebook (an empty mapping if it sets none)."""
    if profile not in PROFILES:
        raise ParameterError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    path = profiles_dir() / f"{profile}.yaml"
    content = yaml.safe_load(path.read_text()) or {}
    values = content.get(name) or {}
    if not isinstance(values, dict):
        raise ParameterError(f"{path}: the entry for {name!r} must be a mapping of parameter values")
    return values


def plan_run(name: str, profile: str = DEFAULT_PROFILE, overrides: Mapping[str, Any] | None = None) -> RunPlan:
    """Resolve and validate every parameter value; raises `ParameterError` before anything runs."""
    declared = declared_parameters(name)
    if "profile" not in declared:
        raise ParameterError(f"notebook {name!r} must declare `profile: str` in its parameters cell")
    values = {param.name: param.default for param in declared.values()}  # the record lists every value used
    values.update(validate(declared, profile_values(profile, name), f"profile {profile!r} for {name}"))
    values.update(validate(declared, overrides or {}, "command line"))
    values["profile"] = profile
    if profile == "paper" and not _cuda_available():
        warnings.warn(f"{name}: the paper profile is sized for one GPU and this machine has no CUDA GPU; "
                      "the run may take many hours here", stacklevel=2)
    return RunPlan(name, profile, values)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def execute(plan: RunPlan, output_dir: Path, timeout_s: int | None = None, *, context: RunContext,
            env: Mapping[str, str] | None = None, shown_dir: Path | None = None) -> Path:
    """Run the plan with papermill under the run `context` (its record part and progress mode are the runner's);
    return the path of the run record. `env` adds environment variables for the notebook's kernel (e.g. its
    checkpoint folder); `shown_dir` is the folder the page and the failed run will finally live in, when that is
    not `output_dir` (a run on another machine)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    final = output_dir / f"{plan.notebook}.ipynb"
    failed = output_dir / f"{plan.notebook}.failed.ipynb"
    shown = Path(shown_dir or output_dir)
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".run-") as tmp:
        part_path = Path(tmp) / "record-part.json"
        scratch = Path(tmp) / final.name
        kernel_env = {**(env or {}), **replace(context, record_part=part_path, log_progress=True).environment(),
                      "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        forecast = _forecast(plan)
        started_at = datetime.now(timezone.utc)
        start = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(notebook_path(plan.notebook)), str(scratch), parameters=plan.parameters,
                kernel_name="python3", cwd=str(project_root()), progress_bar=False,
                execution_timeout=timeout_s, stderr_file=sys.stderr, kernel_manager_class=kernel_with(kernel_env),
            )
        except papermill.PapermillExecutionError as error:
            os.replace(scratch, failed)
            raise NotebookFailed(
                f"notebook {plan.notebook!r} failed in cell {error.cell_index} (execution count "
                f"{error.exec_count}): {error.ename}: {error.evalue}\nthe failed run is kept at {shown / failed.name}",
                error.ename,
            ) from None
        wall = time.perf_counter() - start
        if not part_path.is_file():
            raise NotebookFailed(f"notebook {plan.notebook!r} ran but never called paperlib.book.records.record()")
        part = json.loads(part_path.read_text())
        declared = declarations().get(plan.notebook)
        undeclared = declared.undeclared(part["metrics"]) if declared else []
        if undeclared:
            os.replace(scratch, failed)
            raise NotebookFailed(f"notebook {plan.notebook!r} recorded metrics its chapter does not declare: "
                                 f"{', '.join(undeclared)} (declare them in paperlib.chapters.{plan.notebook}'s "
                                 f"METRICS)\nthe failed run is kept at {shown / failed.name}", "UndeclaredMetric")
        rec = complete_record(part, plan.notebook, plan.profile, plan.parameters, wall, started_at, forecast)
        atomic_write_text(final, nbformat.writes(finish_page(nbformat.read(scratch, as_version=4), rec,
                                                             shown / final.name)))
    failed.unlink(missing_ok=True)
    return write_record(output_dir / "results", rec)


def _forecast(plan: RunPlan) -> tuple[float, str] | None:
    """The run's forecast (`paperlib.planning.chapter_forecast`), printed before it runs; none for a notebook
    that is not a chapter."""
    from paperlib.planning import chapter_forecast  # the cost model reads the run plans this module parses

    forecast = chapter_forecast(plan) if is_chapter(plan.notebook) else None
    if forecast is not None:
        print(f"  {forecast[1]}", flush=True)
    return forecast


def kernel_with(env: Mapping[str, str]) -> type[AsyncKernelManager]:
    """A kernel manager whose kernels start with `env` over this process's environment (as the kernel spec's own
    variables, which the kernel's provisioner applies), leaving this process's environment untouched."""
    added = dict(env)

    class ContextKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self):  # noqa: ANN202 - jupyter_client's KernelSpec
            spec = super().kernel_spec
            if spec is not None:
                spec.env = {**spec.env, **added}
            return spec

    return ContextKernelManager


def execute_elsewhere(plan: RunPlan, shown_dir: Path, timeout_s: int | None = None, *,
                      context: RunContext) -> tuple[dict[str, str], str]:
    """`execute` in a scratch folder: the files it wrote (the page and its record, or the failed run) as texts
    by their path in the output folder, and the error ("" when it succeeded). The notebook's own sweeps run on
    this machine (the context's scheduler is cleared), so it never waits on the cluster running it."""
    with tempfile.TemporaryDirectory(prefix="paperlib-run-") as tmp:
        error = ""
        try:
            execute(plan, Path(tmp), timeout_s, context=replace(context, scheduler=""), shown_dir=shown_dir)
        except NotebookFailed as failure:
            error = str(failure)
        files = {str(p.relative_to(tmp)): p.read_text() for p in Path(tmp).rglob("*") if p.is_file()}
    return files, error


def finish_page(nb: nbformat.NotebookNode, rec: dict[str, Any], final: Path) -> nbformat.NotebookNode:
    """The executed notebook as the book shows it, written to `final`: stderr outputs dropped, papermill's
    injected parameters collapsed, the run's summary (`run_summary`) after the title cell, and papermill's
    record of its input and output paths relative to the project."""
    papermill_meta = nb.metadata.get("papermill", {})
    papermill_meta.update(input_path=display_path(notebook_path(rec["notebook"])), output_path=display_path(final))
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
    first_markdown = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first_markdown + 1, nbformat.v4.new_markdown_cell(run_summary(rec), metadata={"tags": ["run-summary"]}))
    return nb
