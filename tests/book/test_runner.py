"""Planning a run (profiles, overrides, the paper-profile warning), executing a notebook that raises, and the run
context reaching the notebook's kernel without touching this process's environment."""

import json
import os
import warnings

import nbformat
import pytest
import torch

from paperlib.book import runner
from paperlib.book.parameters import ParameterError
from paperlib.book.render import run_summary
from paperlib.book.runner import NotebookFailed, RunPlan, execute, plan_run, profile_values
from paperlib.context import RunContext
from paperlib.paths import project_root


def test_profiles_are_validated_and_the_profile_is_injected():
    plan = plan_run("scaling_law", "quick", {"seed": "7"})
    assert plan.parameters["profile"] == "quick" and plan.parameters["seed"] == 7
    assert plan.parameters["grid"] == "coarse" == profile_values("quick", "scaling_law")["grid"]
    with pytest.raises(ParameterError, match="unknown profile"):
        plan_run("scaling_law", "gpu")


def test_the_paper_profile_warns_on_a_machine_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="scaling_law: the paper profile .* no CUDA GPU"):
        plan = plan_run("scaling_law", "paper")
    assert plan.profile == "paper"  # a warning, not a refusal


@pytest.mark.parametrize("profile, cuda", [("quick", False), ("cpu", False), ("paper", True)])
def test_no_warning_for_other_profiles_or_with_a_gpu(monkeypatch, profile, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan_run("scaling_law", profile)


@pytest.mark.slow
def test_a_raising_notebook_names_the_cell_and_keeps_the_previous_output(tmp_path, monkeypatch, write_notebook):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "boom.ipynb", 'profile: str = "cpu"  # profile\n',
                   "import os\nraise ValueError(os.environ['BOOM_WORD'])")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: notebooks)
    monkeypatch.delenv("BOOM_WORD", raising=False)
    out = tmp_path / "book"
    out.mkdir()
    (out / "boom.ipynb").write_text("previous good run")
    with pytest.raises(NotebookFailed, match=r"cell 2 .*ValueError: kaput") as failure:
        execute(RunPlan("boom", "quick", {"profile": "quick"}), out, context=RunContext(),
                env={"BOOM_WORD": "kaput"})  # for the kernel
    assert failure.value.ename == "ValueError" and "BOOM_WORD" not in os.environ
    assert (out / "boom.ipynb").read_text() == "previous good run"
    assert (out / "boom.failed.ipynb").is_file()
    assert not (out / "results").exists()


@pytest.mark.slow
def test_the_run_context_reaches_the_notebook_and_this_process_keeps_its_environment(tmp_path, monkeypatch,
                                                                                      write_notebook):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "echo.ipynb", 'profile: str = "cpu"  # profile\n',
                   "from paperlib.book.records import record\nfrom paperlib.context import run_context\n"
                   "run_ctx = run_context()\nrecord({'deadline': run_ctx.deadline, 'runs': len(run_ctx.only_runs), "
                   "'logs': run_ctx.log_progress}, context=run_ctx)")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: notebooks)
    before = dict(os.environ)
    path = execute(RunPlan("echo", "quick", {"profile": "quick"}), tmp_path / "out",
                   context=RunContext(deadline=4e9, only_runs=("a-*", "b")))
    assert json.loads(path.read_text())["metrics"] == {"deadline": 4e9, "runs": 2.0, "logs": 1.0}
    assert dict(os.environ) == before


@pytest.mark.slow
def test_a_record_with_a_metric_its_chapter_does_not_declare_fails_and_keeps_the_previous_output(
        tmp_path, monkeypatch, write_notebook):
    from paperlib.book.metrics import Declaration, Metric

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "echo.ipynb", 'profile: str = "cpu"  # profile\n',
                   "from paperlib.book.records import record\nfrom paperlib.context import run_context\n"
                   "record({'declared': 1.0, 'stray': 2.0}, context=run_context())")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: notebooks)
    monkeypatch.setattr(runner, "declarations", lambda: {"echo": Declaration("echo", [Metric("declared", "x", "x")])})
    out = tmp_path / "book"
    with pytest.raises(NotebookFailed, match="does not declare: stray"):
        execute(RunPlan("echo", "quick", {"profile": "quick"}), out, context=RunContext())
    assert (out / "echo.failed.ipynb").is_file() and not (out / "results").exists()


def test_the_plan_lists_every_parameter_the_run_uses():
    plan = plan_run("scaling_law", "quick")
    assert set(plan.parameters) == {"profile", "grid", "n_bootstrap", "seed", "drop_highest_loss"}
    assert plan.parameters["drop_highest_loss"] == 5  # the notebook's default, recorded too


def test_the_page_drops_stderr_collapses_injected_parameters_and_says_what_ran():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\nIntro."),
                nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("print('hi')")]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n"),
                           nbformat.v4.new_output("stream", name="stderr", text="runs: 1/5\n")]
    rec = {"notebook": "scaling_law", "profile": "cpu", "wall_time_s": 3.0, "started_at": "2026-01-01T00:00:00+00:00",
           "hardware": {"where": "here"}}
    nb.metadata["papermill"] = {"input_path": "/abs/notebooks/t.ipynb", "output_path": "/abs/book/.run-x/t.ipynb"}
    page = runner.finish_page(nb, rec, project_root() / "book" / "scaling_law.ipynb")
    assert page.metadata["papermill"]["output_path"] == "book/scaling_law.ipynb"
    assert [c.cell_type for c in page.cells] == ["markdown", "markdown", "code", "code"]
    assert page.cells[1].source == run_summary(rec) and "run-summary" in page.cells[1].metadata["tags"]
    assert "hide-input" in page.cells[2].metadata["tags"]
    assert [o.name for o in page.cells[3].outputs] == ["stdout"]
