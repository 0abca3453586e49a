"""Offline-first datasets: ordered sources, sha256 verification, an atomic cache, provenance.

Each loader returns its data with a `Provenance` for the run record. See `sources` for the chain.
"""

from paperlib.data.sources import DataError, PinnedFile, Provenance, obtain, sha256_file

__all__ = ["DataError", "PinnedFile", "Provenance", "obtain", "sha256_file"]
