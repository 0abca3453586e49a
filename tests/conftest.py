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

os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn, never shown


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models run fastest on one torch thread, and steadily when other processes share the cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
