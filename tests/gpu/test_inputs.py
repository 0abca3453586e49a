"""The data a device run carries: staged from the verified sources, checked, and unpacked for the loaders."""

import gzip
import hashlib

import pytest

from paperlib.data import images
from paperlib.data.sources import PinnedFile, Provenance
from paperlib.gpu import inputs


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """Stand-ins for the canonical text and Debian's four files, with the published hashes patched to theirs."""
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n"
    monkeypatch.setattr(inputs, "load_shakespeare", lambda allow_approximation: (text, Provenance("t", "s", "0")))
    monkeypatch.setattr(inputs, "CANONICAL", PinnedFile("input.txt", hashlib.sha256(text.encode()).hexdigest()))
    files, table = {}, {}
    for name, (stem, _, _) in images.FASHION_FILES.items():
        payload = f"idx payload of {stem}".encode() * 50
        files[name] = tmp_path / "cache" / f"{stem}.gz"
        files[name].parent.mkdir(exist_ok=True)
        files[name].write_bytes(gzip.compress(payload))
        table[name] = (stem, "unused", hashlib.sha256(payload).hexdigest())
    monkeypatch.setattr(inputs, "FASHION_FILES", table)
    monkeypatch.setattr(inputs, "fashion_package_files", lambda: (files, Provenance("f", "s", "0")))
    return table


def test_staged_data_pass_their_check_and_unpack_for_the_loaders(tmp_path, sources):
    folder = tmp_path / "data"
    staged = inputs.stage(folder)
    assert [p.relative_to(folder).as_posix() for p in staged] == [
        "tinyshakespeare/input.txt", *[f"fashion-mnist/{stem}.xz" for stem, _, _ in sources.values()]]
    assert inputs.missing(folder) == []
    env = inputs.environment(folder, tmp_path / "scratch")
    assert env["PAPERLIB_SHAKESPEARE"] == str((folder / "tinyshakespeare/input.txt").resolve())
    for stem, _, sha in sources.values():
        assert hashlib.sha256((tmp_path / "scratch/fashion-mnist" / stem).read_bytes()).hexdigest() == sha
    assert env["PAPERLIB_FASHION_MNIST_DIR"] == str((tmp_path / "scratch/fashion-mnist").resolve())


def test_missing_or_altered_files_are_named(tmp_path, sources):
    folder = tmp_path / "data"
    inputs.stage(folder)
    (folder / "tinyshakespeare/input.txt").write_text("other text")
    first = next(iter(sources.values()))[0]
    (folder / f"fashion-mnist/{first}.xz").unlink()
    assert inputs.missing(folder) == [f"{folder}/tinyshakespeare/input.txt is altered",
                                      f"{folder}/fashion-mnist/{first}.xz is missing"]
    assert len(inputs.missing(tmp_path / "none")) == 1 + len(sources)


def test_without_network_or_shared_folder_staging_names_the_file_to_provide(tmp_path, monkeypatch, capsys):
    from paperlib.data.sources import DataError
    from paperlib.gpu.__main__ import main

    def unreachable(allow_approximation):
        raise DataError("no source gave a verified copy of tinyshakespeare-input.txt")

    monkeypatch.setattr(inputs, "load_shakespeare", unreachable)
    assert main(["stage-data", "--data", str(tmp_path / "data")]) == 2
    message = capsys.readouterr().err
    assert "provide the canonical tiny-Shakespeare text (input.txt" in message
    assert "PAPERLIB_SHAKESPEARE=/path/to/input.txt" in message and "tinyshakespeare/input.txt" in message
