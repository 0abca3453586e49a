"""The sweep runner on a 2-worker local Dask cluster: runs, caches, skips, resumes, and reports a failing run."""

from pathlib import Path

import cloudpickle
import pytest

import paperlib.sweep as sweep_module
from paperlib.context import SCHEDULER_ENV
from paperlib.sweep import Sweep, SweepError, machine_cores

pytestmark = pytest.mark.usefixtures("isolated_cache")


def square(config: dict) -> dict:
    """A task that leaves a mark per execution, fails where asked (while its flag file exists), and reports
    the torch threads it ran with, glibc's trim threshold and whether Dask's profiler samples it."""
    import os

    import dask
    import torch

    Path(config["marks"], f"{config['x']}-{len(list(Path(config['marks']).iterdir()))}").touch()
    if Path(config["marks"]).parent.joinpath(f"fail-{config['x']}").exists():
        raise ValueError(f"cannot square {config['x']}")
    return {"square": config["x"] ** 2, "threads": torch.get_num_threads(),
            "trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"), "profiled": dask.config.get("distributed.worker.profile.enabled")}


cloudpickle.register_pickle_by_value(__import__(__name__))  # the workers need not import the tests


@pytest.fixture(scope="module")
def scheduler():
    """The address of one 2-worker local cluster shared by the tests of this module."""
    with sweep_module.dask_client(workers=2) as client:
        yield client.scheduler.address


def configs(tmp_path: Path, xs: range) -> list[dict]:
    marks = tmp_path / "marks"
    marks.mkdir(exist_ok=True)
    return [{"x": x, "marks": str(marks)} for x in xs]


def executions(tmp_path: Path) -> list[str]:
    return sorted(p.name.split("-")[0] for p in (tmp_path / "marks").iterdir())


def test_runs_caches_and_skips_finished_runs(tmp_path, scheduler):
    with Sweep("test", square, scheduler=scheduler) as sweep:
        first = sweep.run(configs(tmp_path, range(4)))
    assert [r["square"] for r in first] == [0, 1, 4, 9] and sweep.ran == 4
    assert {r["threads"] for r in first} == {max(1, machine_cores() // 2)}, "two single-threaded workers share the cores"
    assert {(r["trim"], r["profiled"]) for r in first} == {(None, False)}, "workers train as fast as a plain process"
    with Sweep("test", square, scheduler="no-such-scheduler:1") as again:  # everything cached: never connects
        assert again.run(configs(tmp_path, range(4))) == first
    assert again.ran == 0 and again.cached == 4 and len(executions(tmp_path)) == 4


def test_a_failing_run_is_reported_with_its_config_and_the_sweep_resumes(tmp_path, scheduler):
    (tmp_path / "fail-2").touch()
    with Sweep("test", square, scheduler=scheduler) as sweep, pytest.raises(SweepError) as raised:
        sweep.run(configs(tmp_path, range(4)))
    assert [config["x"] for config, _ in raised.value.failures] == [2]
    assert '"x": 2' in str(raised.value) and "cannot square 2" in str(raised.value)
    assert sweep.ran == 3, "the other runs finished and were cached"
    (tmp_path / "fail-2").unlink()
    with Sweep("test", square, scheduler=scheduler) as resumed:
        assert [r["square"] for r in resumed.run(configs(tmp_path, range(4)))] == [0, 1, 4, 9]
    assert resumed.ran == 1 and resumed.cached == 3
    assert executions(tmp_path) == ["0", "1", "2", "2", "3"], "only the failed run ran again"


def test_a_damaged_or_foreign_cache_file_is_run_again(tmp_path, scheduler):
    config = configs(tmp_path, range(1))
    with Sweep("test", square, scheduler=scheduler) as sweep:
        sweep.run(config)
        sweep.path(config[0]).write_text("{not json")
        with pytest.warns(UserWarning, match="unreadable"):
            assert sweep.run(config)[0]["square"] == 0
    assert sweep.ran == 2


def test_the_default_is_a_local_cluster(tmp_path):
    with Sweep("test", square, workers=2) as sweep:
        assert sweep.where == "a local Dask cluster of 2 single-threaded worker processes"
        assert [r["square"] for r in sweep.run(configs(tmp_path, range(3)))] == [0, 1, 4]


def test_bad_input_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(TypeError, match="must be JSON"):
        Sweep("test", square, scheduler="no-such-scheduler:1").run([{"x": object()}])
    with pytest.raises(ValueError, match="workers"):
        Sweep("test", square, workers=-1)


def test_a_task_with_a_cache_name_keeps_the_key_of_the_task_it_names():
    def moved(config: dict) -> dict:
        return square(config)

    config = {"x": 3}
    assert Sweep("test", moved).path(config) != Sweep("test", square).path(config)
    moved.cache_name = f"{square.__module__}.{square.__qualname__}"  # where it was defined before it moved
    assert Sweep("test", moved).path(config) == Sweep("test", square).path(config)


def test_the_scheduler_is_the_one_given_whatever_the_environment_says(monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://cluster:8786")  # a chapter passes its run context's on
    assert Sweep("test", square, scheduler="tcp://other:8786").where == "the Dask cluster at tcp://other:8786"
    assert Sweep("test", square, workers=2).where == "a local Dask cluster of 2 single-threaded worker processes"
