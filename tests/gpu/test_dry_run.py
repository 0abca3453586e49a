"""`scripts/paper_on_gpu.sh`: the dry run prints the plan on the CPU and says what keeps a device run from going
ahead; the device command refuses what it cannot do before it starts."""

import os
import subprocess
import sys

import pytest

from paperlib.gpu.plan import STAGES
from paperlib.paths import project_root

SCRIPT = project_root() / "scripts" / "paper_on_gpu.sh"


def script(*args, **env):
    return subprocess.run(["bash", str(SCRIPT), *args], check=False, capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable, **env}, timeout=300)


def test_the_dry_run_prints_every_stage_with_minutes_and_fails_without_wheels_or_data(tmp_path):
    result = script("--dry-run", "--wheels", str(tmp_path / "no-wheels"), "--data", str(tmp_path / "no-data"),
                    "--mfu", "0.05")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "MFU 5.0% (given)" in out
    for number, stage in enumerate(STAGES, 1):
        assert f"{number}. {stage.title} [{stage.notebook}" in out
    assert "copy_tasks/copy-recurrent" in out and "shakespeare/regular_6-seed1337" in out and " m " in out
    assert "wheels: 0, 0.0 MiB — INCOMPLETE" in out and "papermill==2.7.0: pinned, no wheel" in out
    assert "data (no-data): INCOMPLETE" in out and "NOT READY" in out
    assert "device torch 2.11.0 (image list)" in out and "— all present" in out
    assert "bash scripts/paper_on_gpu.sh --minutes 9 --stages " in out and "come back and decide: " in out
    assert "1. copy at 4,128 [copy_tasks -p tasks copy]" in out


def test_the_first_command_takes_what_fits_by_claims_per_minute_or_else_the_best_alone():
    from paperlib.gpu.dry_run import RUN_MINUTES, first_command

    one, two, three, four = STAGES
    fits = first_command([(1, one, 3.0), (3, three, 4.0), (4, four, 2.0)])
    assert "--stages 1,4" in fits[1] and not any(line.startswith("  3.") for line in fits)
    assert fits[2] == ("  1. copy at 4,128: 3.0 m expected; its page and record come back and decide: Copy at length "
                       "4,128; Accumulating beats forgetting on copy")
    alone = first_command([(2, two, RUN_MINUTES * 5), (3, three, RUN_MINUTES * 2)])
    assert "no stage fits" in alone[1] and alone[2].endswith("--stages 3")


def test_the_dry_run_passes_where_the_inputs_are_fetched():
    if not ((project_root() / ".whl").is_dir() and (project_root() / ".gpu-data").is_dir()):
        pytest.skip("no .whl/ or .gpu-data/ here: run scripts/fetch_gpu_inputs.sh")
    result = script("--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "— complete" in result.stdout and "data (.gpu-data): complete" in result.stdout


@pytest.mark.parametrize("args, env, message", [
    (["--minutes", "2"], {"OUT": "/tmp"}, "at least 3"),
    (["--minutes", "nine"], {"OUT": "/tmp"}, "whole number"),
    (["--minutes", "9"], {"OUT": ""}, "OUT must name the folder"),
    (["--fast"], {}, "usage"),
])
def test_the_device_command_refuses_what_it_cannot_do(args, env, message):
    result = script(*args, **env)
    assert result.returncode in (1, 2) and message in result.stderr
