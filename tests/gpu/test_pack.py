"""Split archives: at most N parts of at most a size, files taken by priority within a budget, and a round trip."""

import os

import pytest

from paperlib.gpu.pack import PER_FILE_SLACK, pack, part_files, unpack


def make_files(folder, sizes):
    """Incompressible files of the given sizes, some in a subfolder: [(path, archive name)]."""
    files = []
    for i, size in enumerate(sizes):
        path = folder / ("sub" if i % 2 else "") / f"f{i}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        files.append((path, path.relative_to(folder).as_posix()))
    return files


def test_a_pack_splits_into_at_most_n_parts_of_at_most_the_limit_and_round_trips(tmp_path):
    files = make_files(tmp_path / "src", [3000, 50_000, 20_000, 9000, 100])
    packed = pack(files, tmp_path / "out", "run", max_parts=3, part_bytes=20_000)
    assert 1 < len(packed.parts) <= 3 and all(p.stat().st_size <= 20_000 for p in packed.parts)
    assert packed.included == ["f0.bin", "sub/f1.bin", "f4.bin"]  # f2 and f3 no longer fit; the small f4 still does
    assert packed.left_out == [("f2.bin", 20_000), ("sub/f3.bin", 9000)]
    assert part_files(tmp_path / "out") == packed.parts
    assert unpack(tmp_path / "out", tmp_path / "back") == packed.included
    for path, name in files:
        assert (tmp_path / "back" / name).is_file() == (name in packed.included)
        if name in packed.included:
            assert (tmp_path / "back" / name).read_bytes() == path.read_bytes()


def test_a_budget_below_the_parts_capacity_is_respected(tmp_path):
    files = make_files(tmp_path / "src", [10_000, 10_000, 10_000])
    packed = pack(files, tmp_path / "out", "run", max_parts=8, part_bytes=16_000, budget=2 * (10_000 + PER_FILE_SLACK) + 500)
    assert packed.included == ["f0.bin", "sub/f1.bin"] and sum(p.stat().st_size for p in packed.parts) <= 21_000 + 2 * PER_FILE_SLACK


def test_unpacking_replaces_files_of_the_same_name_and_keeps_the_others(tmp_path):
    files = make_files(tmp_path / "src", [500])
    pack(files, tmp_path / "out", "run", max_parts=1, part_bytes=10_000)
    (tmp_path / "back").mkdir()
    (tmp_path / "back" / "f0.bin").write_bytes(b"old")
    (tmp_path / "back" / "kept.txt").write_text("mine")
    unpack(tmp_path / "out", tmp_path / "back")
    assert (tmp_path / "back" / "f0.bin").read_bytes() == files[0][0].read_bytes()
    assert (tmp_path / "back" / "kept.txt").read_text() == "mine"


@pytest.mark.parametrize("names, message", [([], "found none"), (["a.tar.gz.00", "b.tar.gz.00"], "found \\['a.tar.gz"),
                                            (["a.tar.gz.00", "a.tar.gz.02"], "not numbered 00 to 01")])
def test_parts_must_be_one_archive_numbered_without_gaps(tmp_path, names, message):
    for name in names:
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=message):
        part_files(tmp_path)


def test_a_pack_needs_room(tmp_path):
    with pytest.raises(ValueError, match="at least one part"):
        pack([], tmp_path, "run", max_parts=0, part_bytes=10)
