"""The data layer: sha256 verification, the atomic cache, corruption detection, the loaders, and the rule that a
path the user named must exist (never a silent fall-back)."""

import gzip
import hashlib
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from paperlib.data import images, text as text_module
from paperlib.data.arrays import array_sha256, cached_arrays
from paperlib.data.chinchilla import CSV_PATH, load_chinchilla
from paperlib.data.mnist import load_mnist, parse_idx, read_idx_dir
from paperlib.data.sources import DataError, LocalFile, NamedPathMissing, PinnedFile, Provenance, Url, obtain
from paperlib.data.text import CANONICAL, load_shakespeare, markdown_play_to_dialogue, split_train_val
from paperlib.paths import display_path, project_root, shared_dir


class CountingSource:
    """A stand-in for a remote source: copies a file and counts how often it was asked."""

    copies_into_cache = True
    description = "test remote"

    def __init__(self, origin: Path):
        self.origin, self.calls = origin, 0

    def fetch(self, pinned, workdir):
        self.calls += 1
        return Path(shutil.copy(self.origin, workdir / pinned.name))


@pytest.fixture
def payload(tmp_path):
    path = tmp_path / "origin.bin"
    path.write_bytes(b"some dataset bytes" * 100)
    return path, PinnedFile("data.bin", hashlib.sha256(path.read_bytes()).hexdigest())


def test_fetched_file_is_verified_and_cached(isolated_cache, payload):
    origin, pinned = payload
    remote = CountingSource(origin)
    path, provenance = obtain("demo", pinned, [remote])
    assert path.parent == isolated_cache and provenance.source == "test remote"
    path, provenance = obtain("demo", pinned, [remote])
    assert remote.calls == 1 and provenance.source.startswith("cache")


def test_corrupted_cache_file_is_detected_and_fetched_again(isolated_cache, payload):
    origin, pinned = payload
    remote = CountingSource(origin)
    path, _ = obtain("demo", pinned, [remote])
    path.write_bytes(path.read_bytes()[:50])  # truncated
    path, provenance = obtain("demo", pinned, [remote])
    assert remote.calls == 2 and provenance.source == "test remote"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == pinned.sha256


def test_a_file_with_the_wrong_hash_is_refused_with_every_source_named(isolated_cache, payload, tmp_path):
    _, pinned = payload
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(b"not it")
    with pytest.raises(DataError) as error:
        obtain("demo", pinned, [LocalFile(path=wrong), LocalFile(path=tmp_path / "absent")])
    assert "sha256 mismatch" in str(error.value) and "not available" in str(error.value)


def test_array_cache_rebuilds_a_corrupted_entry(isolated_cache):
    arrays = {"x": np.arange(10, dtype=np.uint8)}
    expected = {"x": array_sha256(arrays["x"])}
    builds = []
    cached_arrays("demo", expected, lambda: builds.append(1) or arrays)
    _, from_cache = cached_arrays("demo", expected, lambda: builds.append(1) or arrays)
    assert from_cache and len(builds) == 1
    np.save(isolated_cache / "arrays" / "demo" / "x.npy", np.zeros(10, dtype=np.uint8))
    loaded, from_cache = cached_arrays("demo", expected, lambda: builds.append(1) or arrays)
    assert not from_cache and len(builds) == 2 and np.array_equal(loaded["x"], arrays["x"])


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_idx_files_are_parsed_and_truncation_is_rejected():
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    np.testing.assert_array_equal(parse_idx(idx_bytes(images), "x"), images)
    with pytest.raises(DataError, match="truncated"):
        parse_idx(idx_bytes(images)[:-10], "x")
    with pytest.raises(DataError, match="idx"):
        parse_idx(b"PK\x03\x04 not idx", "x")


def test_an_idx_folder_with_other_data_is_refused(tmp_path):
    small = np.zeros((2, 28, 28), dtype=np.uint8)
    for stem in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
        (tmp_path / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(small)))
    for stem in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / stem).write_bytes(idx_bytes(np.zeros(2, dtype=np.uint8)))
    with pytest.raises(DataError, match="sha256"):
        read_idx_dir(tmp_path)


def test_chinchilla_points_and_tampering(tmp_path):
    points = load_chinchilla()
    assert len(points) == 240 and points.loss.max() < 3.447
    assert len(load_chinchilla(drop_highest_loss=0)) == 245
    np.testing.assert_allclose(points.D, points.C / (6 * points.N))
    tampered = tmp_path / "points.csv"
    tampered.write_text(CSV_PATH.read_text().replace("5.005581996196243", "5.0"))
    with pytest.raises(DataError, match="sha256"):
        load_chinchilla(path=tampered)


def test_play_markdown_becomes_dialogue():
    md = "# Play\n\n_Enter Citizens_\n\n**First Citizen**  \nSpeak, speak \u2014 now.  \n_Aside_ yes\\!\n\n**All**  \nAye."
    assert markdown_play_to_dialogue(md) == "First Citizen:\nSpeak, speak -- now.\n yes!\n\nAll:\nAye.\n\n"


@pytest.mark.skipif(not (shared_dir() / "data" / "tinyshakespeare" / "input.txt").is_file(),
                    reason="the shared folder with the canonical text is not beside this checkout")
def test_canonical_shakespeare_and_nanogpt_split(isolated_cache):
    text, provenance = load_shakespeare(allow_approximation=False)
    assert provenance.sha256 == CANONICAL.sha256 and not provenance.substitute
    train, val = split_train_val(text)
    assert (len(train), len(val), len(set(text))) == (1_003_854, 111_540, 65)


def test_a_user_file_that_is_not_the_canonical_text_is_refused(isolated_cache, tmp_path, monkeypatch):
    other = tmp_path / "other.txt"
    other.write_text("To be or not to be")
    monkeypatch.setenv("PAPERLIB_SHARED", str(tmp_path / "no-shared"))
    monkeypatch.setattr("paperlib.data.text.CANONICAL_URL", "http://127.0.0.1:9/unreachable")
    with pytest.raises(DataError, match="sha256 mismatch"):
        load_shakespeare(path=other, allow_approximation=False)


@pytest.mark.slow
def test_mnist_is_the_full_canonical_set(linked_cache):
    data = load_mnist()
    assert data.train_images.shape == (60000, 28, 28) and data.test_images.shape == (10000, 28, 28)
    assert data.test_labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert data.provenance.sha256 == "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"


def no_fallback(*args, **kwargs):
    raise AssertionError("fell back although the user named a path")


@pytest.fixture
def text_everywhere_else(isolated_cache, tmp_path, monkeypatch):
    """A verified text in the shared folder (the test pins its hash): any fall-back would succeed."""
    verse = "First Citizen:\nBefore we proceed any further, hear me speak.\n"
    folder = tmp_path / "shared" / "data" / "tinyshakespeare"
    folder.mkdir(parents=True)
    (folder / "input.txt").write_text(verse)
    monkeypatch.setenv("PAPERLIB_SHARED", str(tmp_path / "shared"))
    monkeypatch.delenv("PAPERLIB_SHAKESPEARE", raising=False)
    monkeypatch.setattr(text_module, "CANONICAL", PinnedFile("t.txt", hashlib.sha256(verse.encode()).hexdigest()))
    monkeypatch.setattr(text_module, "CANONICAL_URL", "http://127.0.0.1:9/unreachable")
    monkeypatch.setattr(text_module, "approximate_shakespeare", no_fallback)
    assert load_shakespeare()[0] == verse  # unnamed, the shared folder serves
    return tmp_path / "no" / "such" / "input.txt"


def test_a_missing_shakespeare_named_by_the_environment_is_an_error(text_everywhere_else, monkeypatch):
    monkeypatch.setenv("PAPERLIB_SHAKESPEARE", str(text_everywhere_else))
    with pytest.raises(NamedPathMissing, match=re.escape(str(text_everywhere_else))):
        load_shakespeare()


def test_a_missing_shakespeare_named_as_an_argument_is_an_error(text_everywhere_else):
    with pytest.raises(NamedPathMissing, match=re.escape(f"no such file {text_everywhere_else}")):
        load_shakespeare(path=text_everywhere_else, allow_approximation=True)


def test_a_shakespeare_path_that_is_not_a_regular_file_says_so(text_everywhere_else):
    for path in ("/dev/null", text_everywhere_else.parents[2]):  # a device, a folder: there, but no text file
        with pytest.raises(NamedPathMissing, match=re.escape(f"{path} is not a regular file")):
            load_shakespeare(path=path, allow_approximation=True)


@pytest.mark.parametrize("env_var, loader", [("PAPERLIB_MNIST_DIR", load_mnist),
                                             ("PAPERLIB_CIFAR_DIR", images.load_cifar10),
                                             ("PAPERLIB_FASHION_MNIST_DIR", images.load_fashion_mnist)])
def test_a_missing_image_folder_named_by_the_environment_is_an_error(isolated_cache, tmp_path, monkeypatch, env_var,
                                                                      loader):
    missing = tmp_path / "absent"
    monkeypatch.setenv(env_var, str(missing))
    with pytest.raises(NamedPathMissing, match=re.escape(f"${env_var} ({missing})")):
        loader()
    monkeypatch.delenv(env_var)
    with pytest.raises(NamedPathMissing, match="the folder given"):
        loader(missing)


def test_auto_images_do_not_fall_back_from_a_named_missing_folder(isolated_cache, tmp_path, monkeypatch):
    monkeypatch.setattr(images, "load_fashion_mnist", no_fallback)
    monkeypatch.setattr(images, "mnist_tokens", no_fallback)
    monkeypatch.setenv("PAPERLIB_CIFAR_DIR", str(tmp_path / "no-cifar"))
    with pytest.raises(NamedPathMissing, match="no-cifar"):
        images.load_images("auto")


def test_auto_images_do_not_fall_back_past_a_named_missing_substitute(isolated_cache, tmp_path, monkeypatch):
    def no_cifar(folder=None):
        raise DataError("no CIFAR-10 here")

    monkeypatch.setattr(images, "load_cifar10", no_cifar)
    monkeypatch.setattr(images, "mnist_tokens", no_fallback)
    monkeypatch.setenv("PAPERLIB_FASHION_MNIST_DIR", str(tmp_path / "no-fashion"))
    with pytest.raises(NamedPathMissing, match="no-fashion"):
        images.load_images("auto")


def test_pages_and_records_show_paths_relative_to_the_project_or_home(monkeypatch, tmp_path):
    root = project_root()
    assert display_path(root.parent / "shared" / "data" / "x.txt") == "../shared/data/x.txt"
    assert display_path(root / "book" / "a.json") == "book/a.json"
    home = Path("/paperlib-test-home")  # a home folder beside nothing of the project's, wherever the clone is
    monkeypatch.setenv("HOME", str(home))
    assert display_path(home / ".cache" / "f") == "~/.cache/f"
    assert Provenance("d", "s", "0" * 64, str(root.parent / "shared" / "f")).path == "../shared/f"


def test_an_unreachable_url_is_reported_in_a_few_words(isolated_cache):
    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(urllib.request, "urlopen", unreachable)
        with pytest.raises(DataError) as error:
            obtain("x", PinnedFile("x.bin", "0" * 64), [Url("https://example.org/x.bin")])
    assert "https://example.org/x.bin: not reachable from this machine" in str(error.value)
    assert "Errno" not in str(error.value)
