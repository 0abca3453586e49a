"""Shared fixtures: isolated data caches and checkpoint folders, and small notebooks written on the fly."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest

from paperlib.hardware import own_threads

os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn, never shown

# The test process owns torch's CPU threads at one, before any test module sets up a device, as a chapter's device
# set-up would (`paperlib.hardware`): tiny models run fastest on one thread, and steadily when others share the cores.
own_threads(1)


@pytest.fixture
def one_torch_thread() -> int:
    """torch's CPU threads in a test: the session's one (owned above)."""
    return own_threads(1)


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point paperlib's cache (and its checkpoints) at an empty temporary folder."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PAPERLIB_CACHE", str(cache))
    monkeypatch.setenv("PAPERLIB_CHECKPOINTS", str(cache / "checkpoints"))
    return cache


@pytest.fixture
def linked_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated cache that starts with links to the data this machine has already fetched (never its
    checkpoints): a run reads them without fetching again, and whatever it writes replaces a link in
    tmp_path, never the file behind it."""
    from paperlib.paths import cache_dir

    user = cache_dir()
    cache = tmp_path / "cache"
    for path in sorted(user.rglob("*")) if user.is_dir() else []:
        relative = path.relative_to(user)
        if path.is_file() and relative.parts[0] != "checkpoints":
            (cache / relative).parent.mkdir(parents=True, exist_ok=True)
            (cache / relative).symlink_to(path)
    monkeypatch.setenv("PAPERLIB_CACHE", str(cache))
    monkeypatch.setenv("PAPERLIB_CHECKPOINTS", str(tmp_path / "checkpoints"))
    return cache


@pytest.fixture
def write_notebook() -> Callable[[Path, str, str], Path]:
    """``write_notebook(path, parameters, body)``: a notebook with a tagged parameters cell and one body cell."""
    def write(path: Path, parameters: str, body: str) -> Path:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell(body)]
        nbformat.write(nb, path)
        return path

    return write


# Chapters whose sources mark no sentence of direction or verdict yet (#21 phase 2: `paperlib.book.wording.decided`);
# remove a chapter when it does. The quick-profile run of each notebook (tests/test_notebooks.py) and the built book
# (tests/book/test_wording.py) fail on a stale entry as on a missing one.
CHAPTERS_WITHOUT_MARKED_SENTENCES: frozenset[str] = frozenset()


@pytest.fixture(scope="session")
def chapters_without_marked_sentences() -> frozenset[str]:
    return CHAPTERS_WITHOUT_MARKED_SENTENCES


class BookBuild(NamedTuple):
    result: subprocess.CompletedProcess
    html: Path


@pytest.fixture(scope="session")
def book_build(tmp_path_factory: pytest.TempPathFactory) -> BookBuild:
    """The book built once per session as CI builds it (``-W -n --keep-going``) into a temporary folder: the
    finished process (not checked here) and its ``_build/html``."""
    from paperlib.paths import project_root

    out = tmp_path_factory.mktemp("book-build")
    jb = shutil.which("jupyter-book", path=str(project_root() / ".venv" / "bin")) or shutil.which("jupyter-book")
    result = subprocess.run([jb, "build", str(project_root()), "--path-output", str(out), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True)
    return BookBuild(result, out / "_build" / "html")
