"""A verified cache of derived numpy arrays (decoded datasets), keyed by content hashes."""

from __future__ import annotations

import hashlib
import io
import sys
from collections.abc import Callable, Mapping

import numpy as np

from paperlib.atomic import atomic_write_bytes
from paperlib.data.sources import DataError
from paperlib.paths import cache_dir


def array_sha256(array: np.ndarray) -> str:
    """sha256 over dtype, shape and the C-ordered bytes: stable across numpy versions and file formats."""
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def verify_arrays(arrays: Mapping[str, np.ndarray], expected: Mapping[str, str], what: str) -> None:
    for name, sha in expected.items():
        if name not in arrays:
            raise DataError(f"{what}: array {name!r} is missing")
        actual = array_sha256(arrays[name])
        if actual != sha:
            raise DataError(f"{what}: array {name!r} has sha256 {actual[:12]}…, expected {sha[:12]}…")


def cached_arrays(key: str, expected: Mapping[str, str], build: Callable[[], dict[str, np.ndarray]]
                  ) -> tuple[dict[str, np.ndarray], bool]:
    """Load ``key``'s arrays from the cache if they verify, else build, verify and cache them.

    Returns the arrays and whether they came from the cache.
    """
    folder = cache_dir() / "arrays" / key
    try:
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in expected}
        verify_arrays(arrays, expected, f"cache {folder}")
        return arrays, True
    except FileNotFoundError:
        pass
    except (DataError, ValueError, OSError) as error:
        print(f"paperlib.data: discarding the cache {folder} ({error}); rebuilding it", file=sys.stderr)
    arrays = build()
    verify_arrays(arrays, expected, key)
    for name in expected:
        buffer = io.BytesIO()
        np.save(buffer, arrays[name], allow_pickle=False)
        atomic_write_bytes(folder / f"{name}.npy", buffer.getvalue())
    return arrays, False
