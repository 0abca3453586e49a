"""Pack files into a gzip'd tar split into at most N parts of at most a given size, and unpack such parts.
The archive is built in memory: a pack is meant to come back from the device, 64 MiB at most.

The caller lists the files in priority order; a file is taken while the running total of the files taken
(with a tar header's worth of slack each, and 1 % for gzip's framing of incompressible data) stays within
the budget, so later, larger files never push out earlier ones. Parts are ``NAME.tar.gz.00``, ``.01``, ...:
their concatenation is the archive. Unpacking refuses anything a tar's ``data`` filter refuses (absolute
paths, ``..``, links out of the folder).
"""

from __future__ import annotations

import gzip
import io
import math
import re
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

MIB = 2**20
PER_FILE_SLACK = 2048  # a tar header, a pax header for a long name, and the padding of the last block
GZIP_SLACK = 0.01


@dataclass(frozen=True)
class Packed:
    parts: list[Path]
    included: list[str]  # archive names, in priority order
    left_out: list[tuple[str, int]]  # (archive name, bytes) that did not fit


def choose(files: Iterable[tuple[Path, str]], budget: int) -> tuple[list[tuple[Path, str]], list[tuple[str, int]]]:
    """The files, in order, that fit `budget` bytes (see the module docstring), and those left out with sizes."""
    taken, left, used = [], [], 0
    for path, name in files:
        size = path.stat().st_size
        cost = size + PER_FILE_SLACK
        if used + cost <= budget * (1 - GZIP_SLACK):
            taken.append((path, name))
            used += cost
        else:
            left.append((name, size))
    return taken, left


def pack(files: Sequence[tuple[Path, str]], dest: Path, stem: str, *, max_parts: int, part_bytes: int,
         budget: int | None = None) -> Packed:
    """Write `files` ((path, archive name) by priority) into ``dest/stem.tar.gz.NN``: at most `max_parts`
    parts of at most `part_bytes`, and at most `budget` bytes in all (default: all the parts can hold)."""
    if max_parts < 1 or part_bytes < 1:
        raise ValueError(f"need at least one part of at least one byte, got {max_parts} x {part_bytes}")
    limit = min(budget if budget is not None else max_parts * part_bytes, max_parts * part_bytes)
    taken, left = choose(files, limit)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, name in taken:
            archive.add(path, arcname=name, recursive=False)
    data = buffer.getbuffer()
    n_parts = max(1, math.ceil(len(data) / part_bytes))
    if n_parts > max_parts:  # cannot happen within the slack above; never hand back too many files
        raise RuntimeError(f"the archive needs {n_parts} parts, more than {max_parts}")
    dest.mkdir(parents=True, exist_ok=True)
    parts = [dest / f"{stem}.tar.gz.{i:02d}" for i in range(n_parts)]
    for i, part in enumerate(parts):
        part.write_bytes(data[i * part_bytes:(i + 1) * part_bytes])
    return Packed(parts, [name for _, name in taken], left)


def part_files(folder: Path) -> list[Path]:
    """The parts of the one split archive in `folder`, in order; an error if there are none, several
    archives, or a gap in the numbering."""
    parts = sorted(p for p in Path(folder).iterdir() if re.fullmatch(r".+\.tar\.gz\.\d{2}", p.name))
    stems = {p.name.rsplit(".", 1)[0] for p in parts}
    if len(stems) != 1:
        raise FileNotFoundError(f"{folder}: expected the parts of one archive (NAME.tar.gz.00, ...), found "
                                f"{sorted(stems) or 'none'}")
    numbers = [int(p.name.rsplit(".", 1)[1]) for p in parts]
    if numbers != list(range(len(parts))):
        raise FileNotFoundError(f"{folder}: parts {numbers} of {stems.pop()} are not numbered 00 to {len(parts) - 1:02d}")
    return parts


def unpack(folder: Path, into: Path) -> list[str]:
    """Extract the split archive in `folder` into `into` (files there with the same names are replaced);
    returns the archive names."""
    into.mkdir(parents=True, exist_ok=True)
    joined = io.BytesIO(b"".join(p.read_bytes() for p in part_files(folder)))
    with tarfile.open(fileobj=joined, mode="r:gz") as archive:
        archive.extractall(into, filter="data")
        return archive.getnames()
