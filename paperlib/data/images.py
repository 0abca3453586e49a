"""Images as 1,024-token sequences (LRA "Image"): CIFAR-10 in 8-bit grayscale, or a labelled substitute.

CIFAR-10 (the standard python-pickle layout, `cifar-10-batches-py/`) comes from a local folder
(argument or ``$PAPERLIB_CIFAR_DIR``; the batch files, their parent folder, or the archive in it) or
from the canonical archive by URL, sha256-pinned and cached. Every batch file is checked against its
published md5 *before* it is unpickled (pickle can run code), and unpickled by an unpickler that only
knows numpy arrays. Colour becomes PIL's "L" luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16,
i.e. R·299/1000 + G·587/1000 + B·114/1000 rounded, flattened row-major to 1,024 tokens in 0..255.

The substitute where CIFAR-10 cannot be had: Fashion-MNIST from the Debian package
``dataset-fashion-mnist`` (``apt-get download`` + ``dpkg -x``, every file sha256-verified) or a local
folder of its idx files (``$PAPERLIB_FASHION_MNIST_DIR``), brought from 28x28 to 32x32 (`fit`); failing
that, MNIST the same way. A substitute's `Provenance` says so (``substitute=True``): no number obtained
on it is comparable with LRA's.

How 28x28 becomes 32x32 matters for a model that reads the last token (methods page, image substitute): zero
padding (`fit="pad"`) makes the border tokens identical for every image, and averaged down to 16x16 it
leaves the last row and column constant; a forget-recurrent layer whose last block is all border can
then collapse to a constant prediction. `fit="resize"` (the default) resizes bilinearly instead, so
every token comes from the image.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import torch

from paperlib.data.mnist import load_mnist, parse_idx
from paperlib.data.sources import (
    DataError,
    LocalFile,
    NamedPathMissing,
    PinnedFile,
    Provenance,
    Url,
    named_folder,
    obtain,
)
from paperlib.paths import display_path

SIDE = 32
SEQ_LEN = SIDE * SIDE
ImageDataset = Literal["auto", "cifar10", "fashion_mnist", "mnist"]
IMAGE_DATASETS: tuple[str, ...] = get_args(ImageDataset)
SUBSTITUTE_NOTE = "substitute, not CIFAR-10: not comparable with LRA numbers"
Fit = Literal["resize", "pad"]
FIT_WORDS = {"resize": "resized bilinearly from 28x28 to 32x32", "pad": "zero-padded from 28x28 to 32x32"}

# --- CIFAR-10 ---------------------------------------------------------------------------------
CIFAR_ARCHIVE = PinnedFile("cifar-10-python.tar.gz", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_MD5 = {  # torchvision's torchvision/datasets/cifar.py
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))

# --- Fashion-MNIST (Debian) -----------------------------------------------------------------
FASHION_PACKAGE = ("dataset-fashion-mnist", "0.0~git20200523.55506a9-1")
FASHION_DEB = PinnedFile("dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb",
                         "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0")
FASHION_MEMBER_DIR = "usr/share/datasets/fashion-mnist"
FASHION_FILES = {  # name: (stem, sha256 of Debian's .gz, sha256 of the decompressed idx payload)
    "train_images": ("train-images-idx3-ubyte", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
                     "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train_labels": ("train-labels-idx1-ubyte", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
                     "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test_images": ("t10k-images-idx3-ubyte", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test_labels": ("t10k-labels-idx1-ubyte", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
MNIST_CLASSES = tuple(str(d) for d in range(10))


@dataclass
class ImageTokens:
    """Images as uint8 token sequences (N, 1024), labels as int64 (N,), class names and provenance."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: tuple[str, ...]
    provenance: Provenance


def load_images(dataset: ImageDataset = "auto", cifar_dir: str | os.PathLike | None = None,
                fashion_dir: str | os.PathLike | None = None, fit: Fit = "resize") -> ImageTokens:
    """The image task's data: ``cifar10``, a named substitute, or ``auto`` (CIFAR-10, else Fashion-MNIST,
    else MNIST; the reason for falling back goes into the provenance note)."""
    if dataset not in IMAGE_DATASETS:
        raise ValueError(f"dataset must be one of {IMAGE_DATASETS}, got {dataset!r}")
    if dataset == "cifar10":
        return load_cifar10(cifar_dir)
    if dataset == "fashion_mnist":
        return load_fashion_mnist(fashion_dir, fit)
    if dataset == "mnist":
        return mnist_tokens(fit)
    reasons = []
    for loader in (lambda: load_cifar10(cifar_dir), lambda: load_fashion_mnist(fashion_dir, fit)):
        try:
            data = loader()
            break
        except NamedPathMissing:
            raise
        except DataError as error:
            reasons.append(" ".join(str(error).split()))
    else:
        data = mnist_tokens(fit)
    if reasons:
        note = f"{data.provenance.note}; fell back because: " + " / ".join(reasons)
        data.provenance = replace(data.provenance, note=note)
    return data


# --- conversion ---------------------------------------------------------------------------
def rgb_to_gray_tokens(rows: np.ndarray) -> np.ndarray:
    """CIFAR rows (N, 3072: 1,024 red, green, blue values, each a row-major 32x32 plane) -> (N, 1024)
    uint8 luma, exactly as PIL's ``Image.convert("L")``."""
    if rows.ndim != 2 or rows.shape[1] != 3 * SEQ_LEN or rows.dtype != np.uint8:
        raise DataError(f"expected uint8 rows of shape (N, {3 * SEQ_LEN}), got {rows.dtype} {rows.shape}")
    r, g, b = (rows[:, i * SEQ_LEN:(i + 1) * SEQ_LEN].astype(np.uint32) for i in range(3))
    return ((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16).astype(np.uint8)


def pad_to_tokens(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 -> zero-padded to (N, 32, 32) -> (N, 1024) row-major tokens."""
    n, h, w = images.shape
    top, left = (SIDE - h) // 2, (SIDE - w) // 2
    out = np.zeros((n, SIDE, SIDE), dtype=np.uint8)
    out[:, top:top + h, left:left + w] = images
    return out.reshape(n, SEQ_LEN)


def resize_to_tokens(images: np.ndarray) -> np.ndarray:
    """(N, h, w) uint8 -> resized bilinearly (half-pixel centres) to (N, 32, 32), rounded -> (N, 1024) tokens."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float().unsqueeze(1)
    resized = torch.nn.functional.interpolate(x, size=(SIDE, SIDE), mode="bilinear", align_corners=False)
    return resized.round().clamp(0, 255).to(torch.uint8).reshape(len(images), SEQ_LEN).numpy()


def to_tokens(images: np.ndarray, fit: Fit) -> np.ndarray:
    """28x28 images as 1,024 tokens, by `fit` (see the module docstring)."""
    if fit not in FIT_WORDS:
        raise ValueError(f"fit must be one of {sorted(FIT_WORDS)}, got {fit!r}")
    return resize_to_tokens(images) if fit == "resize" else pad_to_tokens(images)


def downsample(tokens: torch.Tensor, side: int) -> torch.Tensor:
    """(N, 1024) tokens of 32x32 images -> (N, side**2) by averaging f x f pixel squares (f = 32 / side),
    rounded: a shorter sequence of the same images, for configurations scaled down to a CPU."""
    if SIDE % side:
        raise ValueError(f"side must divide {SIDE}, got {side}")
    f = SIDE // side
    squares = tokens.reshape(-1, side, f, side, f).float().mean(dim=(2, 4))
    return squares.round().to(torch.uint8).reshape(-1, side * side)


def _tokens(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
            classes: tuple[str, ...], provenance: Provenance) -> ImageTokens:
    for split, y in (("train", train_y), ("test", test_y)):
        if y.min() < 0 or y.max() >= len(classes):
            raise DataError(f"{provenance.dataset} {split}: labels outside 0..{len(classes) - 1}")
    return ImageTokens(torch.from_numpy(train_x), torch.from_numpy(np.asarray(train_y, dtype=np.int64)),
                       torch.from_numpy(test_x), torch.from_numpy(np.asarray(test_y, dtype=np.int64)),
                       classes, provenance)


# --- CIFAR-10 ------------------------------------------------------------------------------------
_RECONSTRUCT = (np._core if hasattr(np, "_core") else np.core).multiarray._reconstruct


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only; any other global is refused."""

    ALLOWED = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
               ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
               ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT}

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle the global {module}.{name}")
        return self.ALLOWED[module, name]


def unpickle_verified(blob: bytes, md5: str, what: str) -> dict:
    """Check ``blob`` against its md5, and only then unpickle it (bytes keys, as Python 2 wrote them)."""
    actual = hashlib.md5(blob).hexdigest()
    if actual != md5:
        raise DataError(f"{what}: md5 {actual} != {md5}; refusing to unpickle it")
    return _ArrayUnpickler(io.BytesIO(blob), encoding="bytes").load()


def read_cifar_dir(folder: Path) -> dict[str, bytes]:
    """The seven files of a ``cifar-10-batches-py`` folder, read once into memory."""
    missing = [name for name in CIFAR_MD5 if not (folder / name).is_file()]
    if missing:
        raise DataError(f"CIFAR-10 folder {folder}: missing {', '.join(missing)}")
    return {name: (folder / name).read_bytes() for name in CIFAR_MD5}


def read_cifar_archive(archive: Path) -> dict[str, bytes]:
    """The seven files of the python archive, read into memory without extracting anything to disk."""
    with tarfile.open(archive, "r:gz") as tar:
        return {name: tar.extractfile(f"{CIFAR_FOLDER}/{name}").read() for name in CIFAR_MD5}


def cifar_from_files(files: dict[str, bytes], provenance: Provenance, md5s: dict[str, str] = CIFAR_MD5
                     ) -> ImageTokens:
    """Verify every file's md5, unpickle, convert to grayscale tokens."""
    batches = {name: unpickle_verified(blob, md5s[name], f"CIFAR-10 {name}") for name, blob in files.items()}
    train = [batches[name] for name in CIFAR_TRAIN]
    test = batches["test_batch"]
    classes = tuple(c.decode() for c in batches["batches.meta"][b"label_names"])
    return _tokens(np.concatenate([rgb_to_gray_tokens(np.asarray(b[b"data"])) for b in train]),
                   np.concatenate([b[b"labels"] for b in train]),
                   rgb_to_gray_tokens(np.asarray(test[b"data"])), np.asarray(test[b"labels"]), classes, provenance)


def load_cifar10(folder: str | os.PathLike | None = None) -> ImageTokens:
    """CIFAR-10 as grayscale tokens: a local folder of batches, else the archive (in that folder, in the
    cache, or from the canonical URL)."""
    folder = named_folder(folder, "PAPERLIB_CIFAR_DIR")
    batches = folder and next((f for f in (folder, folder / CIFAR_FOLDER) if (f / "test_batch").is_file()), None)
    if batches:
        files = read_cifar_dir(batches)
        digest = hashlib.sha256(b"".join(files[name] for name in CIFAR_MD5)).hexdigest()
        provenance = Provenance("cifar10", f"python batches in {display_path(batches)}", digest, str(batches),
                                note="grayscale (PIL L); md5 of every batch verified; sha256 over the seven files")
    else:
        sources = [LocalFile(path=folder / CIFAR_ARCHIVE.name)] if folder else []
        archive, provenance = obtain("cifar10", CIFAR_ARCHIVE, [*sources, Url(CIFAR_URL, timeout_s=60)])
        files = read_cifar_archive(archive)
        provenance = replace(provenance, note="grayscale (PIL L); md5 of every batch verified")
    return cifar_from_files(files, provenance)


# --- Fashion-MNIST from Debian -------------------------------------------------------------------
@dataclass
class AptDownload:
    """A Debian package's .deb via ``apt-get download`` (running ``apt-get update`` first if needed)."""

    package: str
    version: str
    copies_into_cache: bool = True

    @property
    def description(self) -> str:
        return f"Debian package {self.package}={self.version} (apt-get download)"

    def fetch(self, pinned: PinnedFile, workdir: Path) -> Path | None:
        if shutil.which("apt-get") is None:
            return None
        command = ["apt-get", "download", "-q", f"{self.package}={self.version}"]
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
        if result.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True)
            result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
        debs = sorted(workdir.glob(f"{self.package}_*.deb"))
        if result.returncode != 0 or not debs:
            raise DataError(f"apt-get download failed: {result.stderr.strip()[-300:]}")
        return debs[0]


@dataclass
class DebMember:
    """One file inside a sha256-verified .deb, unpacked with ``dpkg -x``."""

    deb: PinnedFile
    deb_source: AptDownload
    member: str
    copies_into_cache: bool = True
    description: str = field(init=False)

    def __post_init__(self) -> None:
        self.description = f"{self.deb_source.description}, dpkg -x"

    def fetch(self, pinned: PinnedFile, workdir: Path) -> Path | None:
        """The member, from the cached or downloaded .deb (without dpkg on PATH: FileNotFoundError)."""
        deb, _ = obtain(self.deb_source.package, self.deb, [self.deb_source])
        subprocess.run(["dpkg", "-x", str(deb), str(workdir / "root")], check=True, capture_output=True)
        return workdir / "root" / self.member


def load_fashion_mnist(folder: str | os.PathLike | None = None, fit: Fit = "resize") -> ImageTokens:
    """Fashion-MNIST as 32x32 tokens (`fit`): a local folder of the idx files (``.gz`` or not, Debian's or
    upstream's, since the decompressed payloads are verified), else the Debian package via the cache."""
    folder = named_folder(folder, "PAPERLIB_FASHION_MNIST_DIR")
    payloads, provenance = _fashion_folder(folder) if folder else _fashion_package()
    arrays = {}
    for name, payload in payloads.items():
        actual = hashlib.sha256(payload).hexdigest()
        if actual != FASHION_FILES[name][2]:
            raise DataError(f"Fashion-MNIST {name}: payload sha256 {actual[:12]}… is not the published one")
        arrays[name] = parse_idx(payload, name)
    provenance = replace(provenance, substitute=True, note=f"Fashion-MNIST {FIT_WORDS[fit]}; {SUBSTITUTE_NOTE}")
    return _tokens(to_tokens(arrays["train_images"], fit), arrays["train_labels"], to_tokens(arrays["test_images"], fit),
                   arrays["test_labels"], FASHION_CLASSES, provenance)


def _fashion_folder(folder: Path) -> tuple[dict[str, bytes], Provenance]:
    payloads = {}
    for name, (stem, _, _) in FASHION_FILES.items():
        path = next((p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()), None)
        if path is None:
            raise DataError(f"Fashion-MNIST folder {folder}: missing {stem} (or {stem}.gz)")
        payloads[name] = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    sha = FASHION_FILES["train_images"][2]
    return payloads, Provenance("fashion-mnist", f"idx files in {display_path(folder)}", sha, str(folder))


def fashion_package_files() -> tuple[dict[str, Path], Provenance]:
    """Debian's four sha256-verified ``.gz`` idx files (via the cache), by name, and their provenance."""
    paths, provenance = {}, None
    for name, (stem, gz_sha, _) in FASHION_FILES.items():
        member = DebMember(FASHION_DEB, AptDownload(*FASHION_PACKAGE), f"{FASHION_MEMBER_DIR}/{stem}.gz")
        paths[name], found = obtain("fashion-mnist", PinnedFile(f"fashion-mnist-{stem}.gz", gz_sha), [member])
        provenance = provenance or replace(found, sha256=FASHION_DEB.sha256)
    return paths, provenance


def _fashion_package() -> tuple[dict[str, bytes], Provenance]:
    paths, provenance = fashion_package_files()
    return {name: gzip.decompress(path.read_bytes()) for name, path in paths.items()}, provenance


def mnist_tokens(fit: Fit = "resize") -> ImageTokens:
    """The second substitute: MNIST (verified by `load_mnist`) as 32x32 tokens (`fit`)."""
    mnist = load_mnist()
    provenance = replace(mnist.provenance, dataset="mnist", substitute=True,
                         note=f"MNIST {FIT_WORDS[fit]}; {SUBSTITUTE_NOTE}")
    return _tokens(to_tokens(mnist.train_images.numpy(), fit), mnist.train_labels.numpy(),
                   to_tokens(mnist.test_images.numpy(), fit), mnist.test_labels.numpy(), MNIST_CLASSES, provenance)
