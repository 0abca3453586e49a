"""Every notebook: its jupytext pair agrees, it is clean, it runs with the quick profile, and the book builds."""

import ast
import json
import re

import jupytext
import nbformat
import pytest
import torch

from paperlib.book.parameters import read_parameters
from paperlib.book.runner import PROFILES, execute, notebook_names, plan_run, profile_values
from paperlib.book.wording import marked_in_myst, recheck_myst
from paperlib.chapters import chapter, declared_record
from paperlib.context import RunContext
from paperlib.paths import book_dir, project_root

NAMES = notebook_names()


def test_there_are_notebooks():
    assert "scaling_law" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_thin(name):
    """A notebook defines no function longer than ten lines and no class: code lives in paperlib."""
    tree = ast.parse((project_root() / "notebooks" / f"{name}.py").read_text())
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 10]
    classes = [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    assert not long and not classes, f"move into paperlib/chapters/{name}.py: {long + classes}"


@pytest.mark.parametrize("name", NAMES)
def test_source_pair_agrees_and_has_no_outputs(name):
    folder = project_root() / "notebooks"
    executed = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    source = jupytext.read(folder / f"{name}.py")
    code = lambda nb: [c.source for c in nb.cells if c.cell_type == "code"]  # noqa: E731
    assert code(executed) == code(source), f"run `jupytext --sync notebooks/{name}.py`"
    assert all(not c.get("outputs") for c in executed.cells if c.cell_type == "code")
    assert executed.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", NAMES)
def test_glued_text_is_rendered_as_myst(name):
    """A glued Markdown text goes in with `:myst`, so its roles (the `decided` marker, badges) are parsed, not
    shown as code."""
    source = (project_root() / "notebooks" / f"{name}.py").read_text()
    plain = [m for m in re.findall(r"\{glue:md\}`([^`]+)`", source) if not m.endswith(":myst")]
    assert not plain, f"write {{glue:md}}`NAME:myst` for {plain}"


@pytest.mark.parametrize("name", NAMES)
def test_every_profile_is_valid_and_declares_the_profile_parameter(name, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # planning only (the no-GPU warning: test_runner)
    assert "profile" in read_parameters(project_root() / "notebooks" / f"{name}.ipynb")
    for profile in PROFILES:
        plan_run(name, profile)


@pytest.mark.parametrize("name", NAMES)
def test_committed_book_page_is_a_clean_recorded_run(name):
    page = book_dir() / f"{name}.ipynb"
    if not page.exists():
        pytest.skip(f"{name} has not been executed into the book yet")
    nb = nbformat.read(page, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors
    record = json.loads((book_dir() / "results" / f"{name}.json").read_text())
    assert record["notebook"] == name and record["metrics"]


def markdown_outputs(notebook: nbformat.NotebookNode) -> str:
    """Every Markdown output of an executed notebook, displayed or glued, as one text."""
    return "\n".join(text for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
                     for mime, text in output.get("data", {}).items() if mime.endswith("text/markdown"))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_quick_profile_runs_through_papermill(name, tmp_path, linked_cache, chapters_without_marked_sentences):
    path = execute(plan_run(name, "quick"), tmp_path / "out", context=RunContext())
    record = json.loads(path.read_text())
    assert record["profile"] == "quick" and record["metrics"]
    assert set(profile_values("quick", name)) <= set(record["parameters"])
    trains = bool(chapter(name).runs(record["parameters"]))
    assert ("forecast" in record) == trains, "a chapter that trains records the forecast printed before it ran"
    assert not trains or record["forecast"]["seconds"] > 0 and "Expected: about" in record["forecast"]["words"]
    assert (tmp_path / "out" / f"{name}.ipynb").is_file()
    # numbers decide words (#21): every marked sentence on the page matches the record, read through the declaration
    text = markdown_outputs(nbformat.read(tmp_path / "out" / f"{name}.ipynb", as_version=4))
    assert recheck_myst(text, declared_record(record)) == []
    assert bool(marked_in_myst(text)) != (name in chapters_without_marked_sentences), "stale or missing in the list"


@pytest.mark.slow
def test_book_builds_with_warnings_as_errors(book_build):
    result, html = book_build
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (html / "index.html").is_file()
    for page in ["claims", *[n for n in NAMES if (book_dir() / f"{n}.ipynb").exists()]]:
        assert (html / "book" / f"{page}.html").is_file()
