"""Every dataset `paperlib data` knows: a name and a loader that fetches, verifies and returns provenance."""

from __future__ import annotations

from collections.abc import Callable

from paperlib.data.chinchilla import load_chinchilla
from paperlib.data.mnist import load_mnist
from paperlib.data.sources import Provenance
from paperlib.data.text import load_shakespeare

DATASETS: dict[str, Callable[[], Provenance]] = {
    "chinchilla": lambda: load_chinchilla().provenance,
    "mnist": lambda: load_mnist().provenance,
    "tinyshakespeare": lambda: load_shakespeare()[1],
}
