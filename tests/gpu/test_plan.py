"""The device run's plan: stages in order under a deadline, resumed across commands, and what a pack holds."""

import json
import os
import time

import pytest

from paperlib.book.runner import NotebookFailed
from paperlib.gpu import plan
from paperlib.gpu.__main__ import main
from paperlib.gpu.pack import MIB

pytestmark = pytest.mark.filterwarnings("ignore:.*the paper profile is sized for one GPU")


COPY_ONLY = {"selective_copy_4128": "this execution trained copy only (tasks: copy)"}


def fake_notebooks(outcomes):
    """A stand-in for `execute`: each call takes the next outcome, "page" (writes the record; with ``tasks`` copy,
    one that lists selective copy's claim as not run, as the copy notebook does) or an exception name the notebook
    raised; the calls (notebook, parameters, run context, environment) are kept."""
    calls = []

    def run_notebook(run_plan, output, context, env):
        calls.append((run_plan.notebook, run_plan.parameters, context, dict(env)))
        outcome = outcomes.pop(0)
        if outcome == "page":
            (output / "results").mkdir(exist_ok=True)
            part = {"not_run": COPY_ONLY} if run_plan.parameters.get("tasks") == "copy" else {}
            return plan.atomic_write_json(output / "results" / f"{run_plan.notebook}.json", part)
        raise NotebookFailed(f"notebook {run_plan.notebook!r} failed in cell 4: {outcome}: why\nkept at x", outcome)

    return run_notebook, calls


def test_stages_run_in_priority_order_and_a_deadline_ends_the_command(tmp_path):
    out, until = tmp_path / "gpu-run", time.time() + 3600
    run_notebook, calls = fake_notebooks(["page", "DeadlineReached"])
    assert plan.run(out, until, env={"PAPERLIB_SHAKESPEARE": "t.txt"}, run_notebook=run_notebook) == 0
    assert [(name, params["profile"], params["resume"]) for name, params, _, _ in calls] == [
        ("copy_tasks", "paper", True), ("shakespeare", "paper", True)]
    (_, params, first, env), (_, _, second, _) = calls
    assert params["tasks"] == "copy" and first.only_runs == second.only_runs == ()  # copy's runs, by a parameter
    assert first.deadline == second.deadline == until and env["PAPERLIB_SHAKESPEARE"] == "t.txt"
    assert env["PAPERLIB_CHECKPOINTS"] == str((out / "checkpoints").resolve())
    status = json.loads((out / plan.STATUS).read_text())
    assert status["copy_tasks:tasks=copy"]["status"] == "done"
    assert status["copy_tasks:tasks=copy"]["detail"].endswith("they judge copy_4128, rt_accumulate")
    assert status["shakespeare:page"]["status"] == "stopped" and "DeadlineReached" in status["shakespeare:page"]["detail"]


def test_the_next_command_resumes_where_the_last_stopped_and_a_failure_does_not_stop_the_others(tmp_path):
    out = tmp_path / "gpu-run"
    plan.run(out, time.time() + 3600, run_notebook=fake_notebooks(["page", "DeadlineReached"])[0])
    run_notebook, calls = fake_notebooks(["page", "ValueError", "page"])
    assert plan.run(out, time.time() + 3600, run_notebook=run_notebook) == 1
    assert [(name, params.get("tasks")) for name, params, _, _ in calls] == [
        ("shakespeare", None), ("long_range_image", None), ("copy_tasks", "both")]
    status = json.loads((out / plan.STATUS).read_text())
    assert status["long_range_image:page"]["status"] == "failed"
    assert plan.finished_chapters(out) == ["copy_tasks", "shakespeare"]
    run_notebook, calls = fake_notebooks(["page"])
    plan.run(out, time.time() + 3600, run_notebook=run_notebook)
    assert [name for name, *_ in calls] == ["long_range_image"]  # a failed stage is tried again


def test_a_page_of_part_of_a_chapter_does_its_own_stage_and_leaves_the_chapter_unfinished(tmp_path):
    copy, *_, whole = plan.STAGES
    plan.run(tmp_path, time.time() + 3600, numbers=(1,), run_notebook=fake_notebooks(["page"])[0])
    assert plan.stage_done(copy, tmp_path) and not plan.stage_done(whole, tmp_path)
    assert plan.unjudged_claims(tmp_path, "copy_tasks") == set(COPY_ONLY) and plan.finished_chapters(tmp_path) == []
    run_notebook, calls = fake_notebooks(["page"])
    plan.run(tmp_path, time.time() + 3600, numbers=(1, 4), run_notebook=run_notebook)
    assert [(name, params["tasks"]) for name, params, _, _ in calls] == [("copy_tasks", "both")]
    assert plan.stage_done(whole, tmp_path) and plan.finished_chapters(tmp_path) == ["copy_tasks"]


def test_an_error_outside_the_cells_fails_its_stage_and_the_next_stages_run(tmp_path):
    run_notebook, calls = fake_notebooks(["page", "page", "page"])

    def kernel_dies_on_shakespeare(run_plan, output, context, env):
        if run_plan.notebook == "shakespeare":
            raise RuntimeError("Kernel didn't respond in 60 seconds")
        return run_notebook(run_plan, output, context=context, env=env)

    assert plan.run(tmp_path, time.time() + 3600, run_notebook=kernel_dies_on_shakespeare) == 1
    assert [name for name, *_ in calls] == ["copy_tasks", "long_range_image", "copy_tasks"]
    text = plan.summary(tmp_path, [], [], [], "a test")
    assert "2. Shakespeare" in text and "failed after" in text and "Kernel didn't respond" in text


def test_only_the_stages_named_run(tmp_path):
    run_notebook, calls = fake_notebooks(["page"])
    assert plan.run(tmp_path, time.time() + 3600, numbers=(3,), run_notebook=run_notebook) == 0
    assert [name for name, *_ in calls] == ["long_range_image"]


def test_a_stage_killed_by_the_hard_limit_is_recorded_as_still_running(tmp_path):
    def killed(run_plan, output, context, env):
        raise KeyboardInterrupt  # what the hard timeout's signal looks like to the plan

    with pytest.raises(KeyboardInterrupt):
        plan.run(tmp_path, time.time() + 3600, run_notebook=killed)
    assert json.loads((tmp_path / plan.STATUS).read_text())["copy_tasks:tasks=copy"]["status"] == "running"


def test_no_stage_starts_too_close_to_the_deadline(tmp_path):
    run_notebook, calls = fake_notebooks([])
    assert plan.run(tmp_path, time.time() + plan.MIN_STAGE_S / 2, run_notebook=run_notebook) == 0
    assert calls == []


def test_the_carry_folder_fills_in_only_what_the_output_lacks(tmp_path):
    carry, out = tmp_path / "carry", tmp_path / "out"
    for folder, name, text in [(carry, "checkpoints/c/a.pt", "carried"), (carry, "checkpoints/c/b.pt", "stale"),
                               (carry, plan.SUMMARY, "s"), (out, "checkpoints/c/b.pt", "newer on the device")]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    assert plan.seed(out, carry) == 1
    assert (out / "checkpoints/c/a.pt").read_text() == "carried"
    assert (out / "checkpoints/c/b.pt").read_text() == "newer on the device" and not (out / plan.SUMMARY).exists()


def write(path, text="x", mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_a_pack_lists_pages_first_then_the_newest_checkpoint_then_pending_chapters_by_stage(tmp_path):
    out = tmp_path
    plan.atomic_write_json(out / plan.STATUS, {"copy_tasks:tasks=copy": {"status": "done"}})
    for name in (plan.LOG, "shakespeare.ipynb", "copy_tasks.failed.ipynb", "results/shakespeare.json"):
        write(out / name, "{}")
    write(out / "checkpoints/copy_tasks/old.pt", mtime=100)
    write(out / "checkpoints/copy_tasks/new.pt", mtime=200)
    write(out / "checkpoints/shakespeare/done.pt", mtime=400)  # its page is written: left behind
    write(out / "checkpoints/long_range_image/current.pt", mtime=300)
    write(out / "checkpoints/long_range_image/current.pt.unusable-1", mtime=500)
    write(out / "checkpoints/copy_tasks/measured/step_seconds-0.json")
    names = [name for _, name in plan.pack_list(out)]
    assert names == [plan.STATUS, plan.LOG, "copy_tasks.failed.ipynb", "shakespeare.ipynb", "results/shakespeare.json",
                     "checkpoints/copy_tasks/measured/step_seconds-0.json",
                     "checkpoints/long_range_image/current.pt", "checkpoints/copy_tasks/new.pt",
                     "checkpoints/copy_tasks/old.pt"]


def test_the_budget_leaves_room_for_the_tree_that_travels_and_never_exceeds_what_comes_back(tmp_path):
    write(tmp_path / "paperlib/a.py", "x" * 1000)
    write(tmp_path / ".whl/w.whl", "x" * 5000)
    for skipped in (".git/objects", "__pycache__/a.pyc", "gpu-run/big.pt", "gpu-carry/big.pt", ".venv/lib"):
        write(tmp_path / skipped, "x" * 10**6)
    assert plan.travelling_bytes(tmp_path) == 6000
    assert plan.pack_budget(tmp_path) == min(plan.DEVICE_TREE_LIMIT - 6000 - plan.TREE_MARGIN,
                                             plan.RETURN_TOTAL - plan.SUMMARY_ROOM)
    write(tmp_path / ".gpu-data/d.xz", "x" * (40 * MIB))
    assert plan.pack_budget(tmp_path) == plan.DEVICE_TREE_LIMIT - 40 * MIB - 6000 - plan.TREE_MARGIN
    write(tmp_path / ".gpu-data/e.xz", "x" * (30 * MIB))
    assert plan.pack_budget(tmp_path) == 0


def test_pack_then_unpack_round_trips_and_drops_the_checkpoints_of_finished_chapters(tmp_path, capsys):
    out, returned, carry = tmp_path / "gpu-run", tmp_path / "OUT", tmp_path / "gpu-carry"
    run_notebook, _ = fake_notebooks(["page", "page", "DeadlineReached"])
    plan.run(out, time.time() + 3600, run_notebook=run_notebook)
    write(out / "checkpoints/copy_tasks/copy-recurrent.pt", "weights")
    write(out / "checkpoints/shakespeare/regular_6.pt", "finished chapter")
    write(out / "checkpoints/long_range_image/recurrent.pt", "interrupted")
    write(out / "shakespeare.ipynb", "page")
    assert main(["pack", "--to", str(returned), "--output", str(out)]) == 0
    summary = (returned / plan.SUMMARY).read_text()
    assert "1. copy at 4,128 [copy_tasks]: done (page written)" in summary and "2. Shakespeare" in summary
    assert "3. long-range image on the substitute [long_range_image]: stopped" in summary
    assert "4. selective copy" in summary and "not started" in summary
    assert len(list(returned.iterdir())) <= plan.RETURN_FILES
    assert main(["unpack", str(returned), "--into", str(carry)]) == 0
    assert (carry / "checkpoints/long_range_image/recurrent.pt").read_text() == "interrupted"
    assert (carry / "checkpoints/copy_tasks/copy-recurrent.pt").read_text() == "weights"  # kept for stage 4
    assert plan.unjudged_claims(carry, "copy_tasks") == set(COPY_ONLY)  # stage 1's page came back
    assert not (carry / "checkpoints/shakespeare").exists() or not list((carry / "checkpoints/shakespeare").iterdir())
    assert (carry / "shakespeare.ipynb").read_text() == "page" and (carry / plan.SUMMARY).read_text() == summary
    assert "pages written: shakespeare" in capsys.readouterr().out


def test_unpack_says_what_is_wrong_with_a_folder_without_parts(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["unpack", str(tmp_path)])
    assert exit_.value.code == 2 and "expected the parts of one archive" in capsys.readouterr().err


@pytest.mark.parametrize("stage", plan.STAGES, ids=lambda s: s.key)
def test_every_stage_runs_a_notebook_of_the_book(stage):
    from paperlib.book.runner import notebook_names

    assert stage.notebook in notebook_names()
