"""Every dataset `paperlib data` knows: a name and a loader that fetches, verifies and returns provenance."""

from __future__ import annotations

from collections.abc import Callable

from paperlib.data.chinchilla import load_chinchilla
from paperlib.data.images import load_fashion_mnist, load_images
from paperlib.data.mnist import load_mnist
from paperlib.data.sources import Provenance
from paperlib.data.text import load_shakespeare

DATASETS: dict[str, Callable[[], Provenance]] = {
    "chinchilla": lambda: load_chinchilla().provenance,
    "fashion-mnist": lambda: load_fashion_mnist().provenance,
    "lra-image": lambda: load_images("auto").provenance,  # CIFAR-10 if available, else a labelled substitute
    "mnist": lambda: load_mnist().provenance,
    "tinyshakespeare": lambda: load_shakespeare()[1],
}
