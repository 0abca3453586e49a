"""The run context: what the runner hands a notebook's kernel, read back at its edge; the deadline's formats
and the run filter."""

import pytest

from paperlib import progress
from paperlib.context import DEADLINE_ENV, ONLY_RUNS_ENV, SCHEDULER_ENV, RunContext, parse_deadline, run_context


@pytest.mark.parametrize("text, expected", [
    ("1767225600", 1767225600.0), ("1767225600.5", 1767225600.5), ("2026-01-01T00:00:00", 1767225600.0),
    ("2026-01-01T01:00:00+01:00", 1767225600.0), (" 2026-01-01 00:00:00Z ", 1767225600.0)])
def test_a_deadline_is_unix_seconds_or_iso_8601_and_utc_without_a_zone(text, expected):
    assert parse_deadline(text) == expected


def test_a_malformed_deadline_is_refused_with_its_variable_named():
    with pytest.raises(ValueError, match="PAPERLIB_DEADLINE='tomorrow'"):
        RunContext.from_environment({DEADLINE_ENV: "tomorrow"})
    assert RunContext.from_environment({DEADLINE_ENV: " "}).deadline is None


def test_only_runs_defers_every_run_it_does_not_name():
    assert not RunContext().deferred("selective_copy-recurrent")
    context = RunContext.from_environment({ONLY_RUNS_ENV: "copy-*, regular_?"})
    assert context.only_runs == ("copy-*", "regular_?")
    assert not context.deferred("copy-recurrent-start32") and not context.deferred("regular_6")
    assert context.deferred("selective_copy-recurrent-start32") and context.deferred("regular_16")


def test_the_kernels_environment_gives_back_the_runners_context(tmp_path):
    sent = RunContext(deadline=1767225600.25, only_runs=("copy-*", "x"), record_part=tmp_path / "part.json",
                      scheduler="tcp://cluster:8786", log_progress=True)
    assert RunContext.from_environment(sent.environment()) == sent
    assert RunContext.from_environment(RunContext().environment()) == RunContext() == RunContext.from_environment({})


def test_the_edge_reads_the_environment_once_and_sets_the_progress_mode(monkeypatch, tmp_path):
    for name, value in RunContext(record_part=tmp_path / "p.json", log_progress=True).environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://mine:1")
    try:
        context = run_context()
        assert context.record_part == tmp_path / "p.json" and context.scheduler == "tcp://mine:1"
        assert progress._log
    finally:
        progress.set_log_mode(False)
