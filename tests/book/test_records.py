"""Run records: what a notebook writes, what the runner adds (the source's git revision included), and how
bad input is refused."""

import json
import re
import subprocess
from datetime import datetime, timezone

import pytest

from paperlib.book import records
from paperlib.book.metrics import Declaration, Metric, UndeclaredMetric
from paperlib.book.records import RecordError, complete_record, load_records, record, source_revision, write_record
from paperlib.context import RunContext
from paperlib.data.sources import Provenance
from paperlib.hardware import cpu_model
from paperlib.paths import project_root
from paperlib.training.device import configure_device

SESSION = RunContext()  # no record part: a session outside the runner


def test_record_writes_the_part_where_the_runner_asks(tmp_path):
    target = tmp_path / "part.json"
    record({"acc": 0.5, "n": 3, "bad": float("nan")}, datasets=[Provenance("d", "src", "ab" * 32)],
           not_comparable={"copy_4128": "length 256 only"}, context=RunContext(record_part=target))
    part = json.loads(target.read_text())
    assert part["metrics"] == {"acc": 0.5, "n": 3.0, "bad": None}
    assert part["datasets"][0]["sha256"] == "ab" * 32
    assert part["not_comparable"] == {"copy_4128": "length 256 only"} and part["not_run"] == {}


def test_record_says_where_it_computed(tmp_path):
    context = RunContext(record_part=tmp_path / "part.json")
    record({"acc": 0.5}, setup=configure_device("cpu", precision="bf16"), context=context)
    part = json.loads(context.record_part.read_text())
    assert part["device"] == "cpu" and part["where"].endswith("bf16 autocast")
    record({"acc": 0.5}, context=context)
    assert json.loads(context.record_part.read_text())["where"].startswith(cpu_model())


def test_record_outside_a_run_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    record({"acc": 1.0}, context=SESSION)
    assert list(tmp_path.iterdir()) == []


def test_non_numeric_metrics_and_unknown_claims_are_refused():
    with pytest.raises(RecordError, match="acc"):
        record({"acc": "high"}, context=SESSION)
    with pytest.raises(RecordError, match="no_such_claim"):
        record({"acc": 1.0}, not_comparable={"no_such_claim": "x"}, context=SESSION)
    with pytest.raises(RecordError, match="not_run names unknown claim ids: .'no_such_claim'"):
        record({"acc": 1.0}, not_run={"no_such_claim": "x"}, context=SESSION)


def test_a_chapters_record_holds_only_declared_metrics(tmp_path):
    declared = Declaration("nb", [Metric("acc", "fraction", "accuracy")])
    metrics = declared.new()
    metrics["acc"] = 0.5
    record(metrics, context=RunContext(record_part=tmp_path / "part.json"))
    assert json.loads((tmp_path / "part.json").read_text())["metrics"] == {"acc": 0.5}
    with pytest.raises(UndeclaredMetric, match="acc_typo"):
        record(declared.view({"acc": 0.5, "acc_typo": 0.4}), context=SESSION)


def test_complete_record_has_everything_the_book_shows(tmp_path):
    part = {"metrics": {"x": 1.0}, "datasets": [], "not_comparable": {}, "notes": {}, "device": "cpu"}
    rec = complete_record(part, "nb", "cpu", {"seed": 1}, 12.345, datetime(2026, 1, 1, tzinfo=timezone.utc))
    for key in ("notebook", "profile", "parameters", "wall_time_s", "hardware", "versions", "metrics", "datasets"):
        assert key in rec
    assert rec["wall_time_s"] == 12.35 and rec["started_at"] == "2026-01-01T00:00:00+00:00"
    assert {"python", "torch", "paperlib"} <= set(rec["versions"])
    assert rec["hardware"]["cpu"] and "forecast" not in rec
    forecast = complete_record(part, "nb", "cpu", {}, 1.0, datetime(2026, 1, 1, tzinfo=timezone.utc), (65.04, "About."))
    assert forecast["forecast"] == {"seconds": 65.0, "words": "About."}
    assert re.fullmatch(r"[0-9a-f]{40}", rec["source"]["commit"]) and isinstance(rec["source"]["dirty"], bool)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True, text=True).stdout
    assert rec["source"]["commit"] == head.strip()
    path = write_record(tmp_path, rec)
    assert load_records(tmp_path)["nb"] == json.loads(path.read_text())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary file left behind"


def test_outside_a_git_checkout_the_source_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.setattr(records, "project_root", lambda: tmp_path)
    assert source_revision() == {"commit": None, "dirty": None}


def test_dirty_means_uncommitted_changes_to_the_code_a_run_depends_on(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setattr(records, "project_root", lambda: tmp_path)

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "paperlib").mkdir()
    (tmp_path / "paperlib" / "x.py").write_text("a = 1\n")
    (tmp_path / "README.md").write_text("readme\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    clean = source_revision()
    assert re.fullmatch(r"[0-9a-f]{40}", clean["commit"]) and clean["dirty"] is False
    (tmp_path / "README.md").write_text("edited\n")  # not code a run depends on
    assert source_revision()["dirty"] is False
    (tmp_path / "paperlib" / "x.py").write_text("a = 2\n")
    assert source_revision() == {"commit": clean["commit"], "dirty": True}


def test_a_corrupted_record_is_reported(tmp_path):
    (tmp_path / "nb.json").write_text("{not json")
    with pytest.raises(RecordError, match="nb.json"):
        load_records(tmp_path)
