"""The command line: parameter errors exit 2 before anything runs; a raising notebook says which cell."""

import subprocess
import sys

import pytest

from conftest import write_notebook
from paperlib import runner
from paperlib.cli import main
from paperlib.runner import NotebookFailed, RunPlan, execute, plan_run


def test_unknown_parameter_exits_2_naming_it_and_runs_nothing(tmp_path, capsys):
    code = main(["run", "scaling_law", "-p", "no_such_param", "1", "--output-dir", str(tmp_path / "out")])
    assert code == 2
    assert "no_such_param" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key, value, message", [("n_bootstrap", "lots", "expects int"),
                                                  ("n_bootstrap", "5", "outside the range"),
                                                  ("grid", "dense", "one of full, coarse")])
def test_bad_values_exit_2(tmp_path, capsys, key, value, message):
    assert main(["run", "scaling_law", "-p", key, value, "--output-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_unknown_notebook_exits_2(capsys):
    assert main(["run", "no_such_notebook"]) == 2
    assert "scaling_law" in capsys.readouterr().err


def test_console_script_lists_parameters():
    out = subprocess.run([sys.executable, "-m", "paperlib.cli", "list"], capture_output=True, text=True, check=True).stdout
    assert "scaling_law" in out and "n_bootstrap: int = 1000 [10..100000]" in out


def test_profiles_are_validated_and_the_profile_is_injected():
    plan = plan_run("scaling_law", "quick", {"seed": "7"})
    assert plan.parameters["profile"] == "quick" and plan.parameters["seed"] == 7
    assert plan.parameters["grid"] == "coarse"


@pytest.mark.slow
def test_a_raising_notebook_names_the_cell_and_keeps_the_previous_output(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "boom.ipynb", 'profile: str = "cpu"  # profile\n', "raise ValueError('kaput')")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: notebooks)
    out = tmp_path / "book"
    out.mkdir()
    (out / "boom.ipynb").write_text("previous good run")
    with pytest.raises(NotebookFailed, match=r"cell 2 .*ValueError: kaput"):
        execute(RunPlan("boom", "quick", {"profile": "quick"}), out)
    assert (out / "boom.ipynb").read_text() == "previous good run"
    assert (out / "boom.failed.ipynb").is_file()
    assert not (out / "results").exists()


def test_data_command_verifies_and_names_unknown_datasets(capsys):
    assert main(["data", "chinchilla"]) == 0
    assert "193478df4e90f040" in capsys.readouterr().out
    assert main(["data", "imagenet"]) == 2
