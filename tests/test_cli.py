"""The command line: parameter errors exit 2 before anything runs; listing, data and the claims page."""

import os
import subprocess
import sys

import pytest

from paperlib.book.records import load_records
from paperlib import cli
from paperlib.cli import main
from paperlib.paths import book_dir


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


def test_data_command_verifies_and_names_unknown_datasets(capsys):
    assert main(["data", "chinchilla"]) == 0
    assert "193478df4e90f040" in capsys.readouterr().out
    assert main(["data", "imagenet"]) == 2


def test_claims_command_prints_the_dashboard_and_writes_the_page(tmp_path, capsys):
    page = tmp_path / "claims.md"
    assert main(["claims", "--results-dir", str(book_dir() / "results"), "--write", str(page)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["claim", "paper", "ours", "spread", "profile", "verdict"]
    assert "gamma_interval" in out and page.read_text().startswith("# Claims dashboard")
    assert load_records(book_dir() / "results"), "the committed records are read, not an empty folder"


def test_book_without_jupyter_book_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setattr(cli, "write_claims_page", lambda folder: None)
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    monkeypatch.setattr(cli.sys, "executable", "/nowhere/bin/python")
    assert main(["book"]) == 2
    assert "pip install -e '.[book]'" in capsys.readouterr().err


SEES_SCHEDULER = ("from paperlib.book.records import record\nfrom paperlib.context import run_context\n"
                  "context = run_context()\n"
                  "record(metrics={'sees_scheduler': float(bool(context.scheduler))}, context=context)")


def test_run_on_a_dask_cluster_writes_every_page_here_and_reports_failures(tmp_path, monkeypatch, write_notebook):
    from distributed import LocalCluster

    from paperlib.book import runner
    from paperlib.context import SCHEDULER_ENV

    notebooks, out = tmp_path / "notebooks", tmp_path / "out"
    notebooks.mkdir()
    write_notebook(notebooks / "fine.ipynb", 'profile: str = "cpu"  # run profile\n', SEES_SCHEDULER)
    write_notebook(notebooks / "boom.ipynb", 'profile: str = "cpu"  # run profile\n', "raise ValueError('kaput')")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: notebooks)
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://the-cluster:8786")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0") as cluster:
        code = main(["run", "fine", "boom", "--profile", "quick", "--scheduler", cluster.scheduler_address,
                     "--output-dir", str(out)])
    assert code == 1, "a failed notebook fails the command, after the others finished"
    assert (out / "fine.ipynb").is_file() and (out / "boom.failed.ipynb").is_file()
    assert not (out / "boom.ipynb").exists() and not list(out.glob(".run-*"))
    record = load_records(out / "results")["fine"]
    assert record["metrics"]["sees_scheduler"] == 0, "a chapter run on the cluster keeps its sweeps on its machine"
    assert os.environ[SCHEDULER_ENV] == "tcp://the-cluster:8786"


def test_named_notebooks_run_here_whatever_the_environment_says(tmp_path, monkeypatch, write_notebook):
    from paperlib.book import runner
    from paperlib.context import SCHEDULER_ENV

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "fine.ipynb", 'profile: str = "cpu"  # run profile\n', SEES_SCHEDULER)
    monkeypatch.setattr(runner, "notebooks_dir", lambda: notebooks)
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://no-such-cluster:1")
    assert main(["run", "fine", "--profile", "quick", "--output-dir", str(tmp_path / "out")]) == 0
    assert load_records(tmp_path / "out" / "results")["fine"]["metrics"]["sees_scheduler"] == 1
