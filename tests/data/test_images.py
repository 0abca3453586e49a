"""Image tokens: the CIFAR-10 layout and PIL's grayscale, hash checks before unpickling, padding, fallback."""

import hashlib
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from paperlib.data import images
from paperlib.data.images import (CIFAR_MD5, DataError, Provenance, cifar_from_files, load_cifar10, load_images,
                                  pad_to_tokens, read_cifar_dir, unpickle_verified)

NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]


def write_cifar_layout(folder, per_batch=3, seed=0):
    """A tiny `cifar-10-batches-py` folder in the exact layout of the real one (bytes keys, uint8 rows of
    1,024 red, green, blue values); returns its md5s."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"batch_label": name.encode(), b"labels": rng.integers(0, 10, per_batch).tolist(),
                 b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 b"filenames": [f"img_{i}.png".encode() for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=3))
    meta = {b"label_names": NAMES, b"num_cases_per_batch": per_batch, b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=3))
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in CIFAR_MD5}


class Payload:
    """Unpickling this creates `marker`: a stand-in for a malicious pickle."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_cifar_layout_becomes_pil_grayscale_tokens(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    md5s = write_cifar_layout(folder)
    data = cifar_from_files(read_cifar_dir(folder), Provenance("cifar10", "test", "0"), md5s)
    assert data.train_x.shape == (15, 1024) and data.test_x.shape == (3, 1024)
    assert data.train_x.dtype == torch.uint8 and data.test_y.dtype == torch.int64
    assert 0 <= int(data.train_y.min()) and int(data.train_y.max()) <= 9 and data.classes[0] == "airplane"
    rows = pickle.loads((folder / "data_batch_1").read_bytes(), encoding="bytes")[b"data"]
    for row, tokens in zip(rows, data.train_x[:3].numpy()):
        rgb = row.reshape(3, 32, 32).transpose(1, 2, 0)
        np.testing.assert_array_equal(tokens, np.asarray(Image.fromarray(rgb, "RGB").convert("L")).reshape(-1))
        r, g, b = (row[i * 1024:(i + 1) * 1024].astype(float) for i in range(3))
        assert np.abs(tokens - (r * 299 + g * 587 + b * 114) / 1000).max() <= 0.5 + 1e-9


def test_a_file_with_the_wrong_hash_is_refused_before_unpickling(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar_layout(folder)
    marker = tmp_path / "pwned"
    (folder / "data_batch_1").write_bytes(pickle.dumps(Payload(marker), protocol=2))
    with pytest.raises(DataError, match="md5"):
        load_cifar10(tmp_path)  # the canonical md5s: nothing here matches them
    assert not marker.exists()


def test_only_numpy_arrays_are_unpickled_even_with_a_matching_hash(tmp_path):
    marker = tmp_path / "pwned"
    blob = pickle.dumps(Payload(marker), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        unpickle_verified(blob, hashlib.md5(blob).hexdigest(), "test")
    assert not marker.exists()


def test_padding_centres_28x28_in_32x32():
    tokens = pad_to_tokens(np.full((2, 28, 28), 7, dtype=np.uint8)).reshape(2, 32, 32)
    assert tokens.shape == (2, 32, 32) and (tokens[:, 2:30, 2:30] == 7).all() and tokens.sum() == 2 * 7 * 28 * 28


def test_resizing_fills_every_token_from_the_image_so_no_border_is_constant():
    rng = np.random.default_rng(0)
    pictures = rng.integers(1, 256, (3, 28, 28), dtype=np.uint8)
    resized = images.to_tokens(pictures, "resize").reshape(3, 32, 32)
    padded = images.to_tokens(pictures, "pad").reshape(3, 32, 32)
    assert (padded[:, -1] == 0).all() and (padded[:, :, -1] == 0).all()  # the constant tail of padding
    assert (resized > 0).all()  # every token is a pixel of the picture
    flat = np.full((1, 28, 28), 90, dtype=np.uint8)
    assert (images.to_tokens(flat, "resize") == 90).all()  # a uniform picture stays uniform
    small = images.downsample(torch.from_numpy(images.to_tokens(pictures, "resize")), 16).reshape(3, 16, 16)
    assert (small[:, -1] > 0).all() and (small[:, :, -1] > 0).all()
    with pytest.raises(ValueError, match="fit"):
        images.to_tokens(pictures, "stretch")


def test_downsampling_averages_pixel_squares():
    tokens = torch.arange(1024).remainder(256).to(torch.uint8).reshape(1, 1024)
    small = images.downsample(tokens, 16).reshape(16, 16)
    square = tokens.reshape(32, 32)[:2, :2].float().mean().round()
    assert small.shape == (16, 16) and small[0, 0] == square and images.downsample(tokens, 32).equal(tokens)


def test_a_fashion_folder_with_other_files_is_refused(tmp_path):
    for stem, _, _ in images.FASHION_FILES.values():
        (tmp_path / stem).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(DataError, match="sha256"):
        images.load_fashion_mnist(tmp_path)


def test_auto_falls_back_to_the_substitute_and_says_why(monkeypatch):
    def no_cifar(folder=None):
        raise DataError("no CIFAR-10 here")

    fake = images.ImageTokens(*[None] * 4, ("a",), Provenance("fashion-mnist", "test", "0", substitute=True, note="sub"))
    monkeypatch.setattr(images, "load_cifar10", no_cifar)
    monkeypatch.setattr(images, "load_fashion_mnist", lambda folder=None, fit="resize": fake)
    data = load_images("auto")
    assert data.provenance.substitute and "no CIFAR-10 here" in data.provenance.note
