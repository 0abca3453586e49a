"""Where the project, its notebooks, the book and the shared data folder are."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout holding `_toc.yml`: beside the package (editable install) or above the cwd."""
    candidates = [PACKAGE_DIR.parent, *Path.cwd().resolve().parents, Path.cwd().resolve()]
    for folder in candidates:
        if (folder / "_toc.yml").is_file() and (folder / "notebooks").is_dir():
            return folder
    raise FileNotFoundError(
        "cannot find the project checkout (a folder with _toc.yml and notebooks/); run from inside it"
    )


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def profiles_dir() -> Path:
    return notebooks_dir() / "profiles"


def book_dir() -> Path:
    return project_root() / "book"


def shared_dir() -> Path:
    """The project's shared data folder: ``$PAPERLIB_SHARED`` or ``../shared`` beside the checkout."""
    if os.environ.get("PAPERLIB_SHARED"):
        return Path(os.environ["PAPERLIB_SHARED"]).expanduser()
    try:
        return (project_root().parent / "shared").resolve()
    except FileNotFoundError:
        return Path.cwd() / ".." / "shared"


def cache_dir() -> Path:
    """Where fetched and derived data are cached: ``$PAPERLIB_CACHE`` or ``~/.cache/paperlib``."""
    return Path(os.environ.get("PAPERLIB_CACHE", Path.home() / ".cache" / "paperlib")).expanduser()


def checkpoints_dir() -> Path:
    """Where resumable runs keep their checkpoints: ``$PAPERLIB_CHECKPOINTS`` or the cache's ``checkpoints``."""
    if os.environ.get("PAPERLIB_CHECKPOINTS"):
        return Path(os.environ["PAPERLIB_CHECKPOINTS"]).expanduser()
    return cache_dir() / "checkpoints"


def display_path(path: str | os.PathLike) -> str:
    """A path as a page or record may show it: relative to the project when it is beside or inside it
    (``../shared/data/…``), under ``~`` when in the home folder, else unchanged."""
    path = Path(path).expanduser()
    try:
        base = project_root()
    except FileNotFoundError:
        base = None
    if base is not None and path.is_absolute() and path.is_relative_to(base.parent):
        return os.path.relpath(path, base)
    if path.is_absolute() and path.is_relative_to(Path.home()):
        return str(Path("~") / path.relative_to(Path.home()))
    return str(path)
