"""Shared fixtures: an isolated data cache, and small notebooks written on the fly."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point paperlib's cache at an empty temporary folder."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PAPERLIB_CACHE", str(cache))
    return cache


def write_notebook(path: Path, parameters: str, body: str) -> Path:
    """A notebook with a tagged parameters cell and one body cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)
    return path
