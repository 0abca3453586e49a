"""Every notebook's chapter satisfies the `Chapter` protocol, and no chapter imports another."""

import ast
from pathlib import Path

import pytest

from paperlib.book.runner import notebook_names, plan_run
from paperlib.chapters import Chapter, chapter

CHAPTERS = Path(__file__).parents[2] / "paperlib" / "chapters"


@pytest.mark.parametrize("name", notebook_names())
def test_every_chapter_declares_its_metrics_and_plan_and_says_what_it_computes_when_it_trains_nothing(name):
    module, params = chapter(name), plan_run(name, "quick").parameters
    assert isinstance(module, Chapter) and module.METRICS.chapter == name
    if not module.runs(params):
        assert module.work(params) and all(isinstance(line, str) for line in module.work(params))


def test_a_module_that_is_no_chapter_is_refused_by_name():
    with pytest.raises(TypeError, match="gamma_lr_pilot.* is not a Chapter"):
        chapter("gamma_lr_pilot")


def _imported_chapters(path: Path) -> set[str]:
    """The chapters (modules or packages under paperlib.chapters) a source file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = ([node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                 if isinstance(node, ast.ImportFrom) else
                 [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["paperlib", "chapters"] and len(parts) > 2:
                found.add(parts[2])
    return found


def test_no_chapter_imports_another():
    for path in CHAPTERS.rglob("*.py"):
        relative = path.relative_to(CHAPTERS)
        if relative.name == "__init__.py" and len(relative.parts) == 1:
            continue
        own = relative.parts[0].removesuffix(".py")
        assert _imported_chapters(path) <= {own}, f"{relative} imports {_imported_chapters(path) - {own}}"
