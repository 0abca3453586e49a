"""`scripts/paper_on_gpu.sh` rehearsed on the CPU as the device runs it (README, "On a GPU"): a fresh copy of the
tree, a `python3` whose image lacks papermill and the kernel stack until the carried wheels are installed, a private
empty TMPDIR and HOME, no package index or proxy to reach, `OUT` an empty folder; then `--unpack` and the next
command on another fresh copy. The paper profile of the copy chapter is shrunk to a few real steps in each copy
(its notebook and code are the real ones); the other chapters' stages are marked done by stand-in records.
The first command must bring back a decided result: stage 1's page and record, judging copy's claims."""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from paperlib.book.claims import CLAIMS_BY_ID
from paperlib.book.verdicts import NOT_RUN, Verdict, judge
from paperlib.gpu import plan
from paperlib.paths import project_root

pytestmark = pytest.mark.slow

TINY_COPY = {"copy_steps": 4, "selective_steps": 4, "copy_compare_steps": 2, "selective_compare_steps": 2,
             "cap_steps": 2, "seeds": 1, "baselines": "both",
             "batch_size": 4, "curriculum": "july2025", "cap": 64, "threshold": 10.0, "eval_every": 2,
             "eval_batches": 1, "final_batches": 1, "benchmark_noise": 0, "threads": 1, "checkpoint_every": 2}
STAND_IN_MODULE = "rehearsal_carried_stack"  # what the stand-in wheel installs; the kernel stack imports after it
BLOCKER = f'''import importlib.abc, sys
from pathlib import Path


class NoKernelStack(importlib.abc.MetaPathFinder):
    """The device image: no papermill, ipykernel or myst_nb until the carried wheels are on the path."""

    def find_spec(self, name, path=None, target=None):
        carried = any(Path(p or ".", "{STAND_IN_MODULE}.py").is_file() for p in sys.path)
        if name.split(".")[0] in ("papermill", "ipykernel", "myst_nb") and not carried:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not in the device image)")
        return None


sys.meta_path.insert(0, NoKernelStack())
'''


def fresh_tree(folder: Path) -> Path:
    """The files of this checkout that travel to the device (tracked, and untracked but not ignored)."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=project_root(), check=True,
                           capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, names):
        source = project_root() / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    profile = folder / "notebooks" / "profiles" / "paper.yaml"
    values = yaml.safe_load(profile.read_text())
    values["copy_tasks"] = {**values["copy_tasks"], **TINY_COPY}
    profile.write_text(yaml.safe_dump(values))
    stand_in_wheel(folder / plan.WHEELS)
    return folder


def stand_in_wheel(folder: Path) -> None:
    """A wheel pip installs offline into the carried site folder, after which the kernel stack imports."""
    folder.mkdir(parents=True)
    info = "rehearsal_carried_stack-1.0.dist-info"
    files = {f"{STAND_IN_MODULE}.py": "", f"{info}/METADATA": "Metadata-Version: 2.1\nName: rehearsal-carried-stack\n"
             "Version: 1.0\n", f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
             "Tag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(folder / "rehearsal_carried_stack-1.0-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)


def device_environment(root: Path, out: Path) -> dict[str, str]:
    """A private empty TMPDIR and HOME, `python3` on the PATH without the kernel stack, nothing reachable."""
    bin_dir, shim, tmp, home = (root / name for name in ("bin", "shim", "tmp", "home"))
    for folder in (bin_dir, shim, tmp, home, out):
        folder.mkdir(parents=True, exist_ok=True)
    (bin_dir / "python3").write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
    (bin_dir / "python3").chmod(0o755)
    (shim / "sitecustomize.py").write_text(BLOCKER)
    dead = "http://127.0.0.1:9"
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(tmp), "OUT": str(out),
            "PYTHONPATH": str(shim), "MPLBACKEND": "Agg", "TQDM_DISABLE": "1", "LANG": "C.UTF-8",
            "PIP_NO_INDEX": "1", "http_proxy": dead, "https_proxy": dead, "HTTP_PROXY": dead, "HTTPS_PROXY": dead}


def paper_on_gpu(tree: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", "scripts/paper_on_gpu.sh", *args], cwd=tree, env=env, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


def packed_names(out: Path) -> list[str]:
    """The members of the split archive in `out`."""
    joined = out / "joined.tar.gz"
    joined.write_bytes(b"".join(p.read_bytes() for p in sorted(out.glob("gpu-run.tar.gz.*"))))
    with tarfile.open(joined) as archive:
        names = archive.getnames()
    joined.unlink()
    return names


def within_limits(out: Path) -> None:
    files = list(out.iterdir())
    assert len(files) <= plan.RETURN_FILES and all(p.stat().st_size <= plan.RETURN_FILE_BYTES for p in files)


def verdicts(record: dict) -> dict[str, Verdict]:
    """The copy chapter's claims judged on `record` by the registry, as the dashboard judges them."""
    return {claim_id: judge(CLAIMS_BY_ID[claim_id], {"copy_tasks": record})
            for claim_id in ("copy_4128", "rt_accumulate", "selective_copy_4128")}


def test_the_device_path_decides_copy_in_stage_one_then_resumes_on_a_fresh_copy_and_writes_the_page(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    tree = fresh_tree(first / "tree")
    for name in ("shakespeare", "long_range_image"):  # their stages are not rehearsed: their pages stand in
        (tree / plan.CARRY / "results").mkdir(parents=True, exist_ok=True)
        (tree / plan.CARRY / "results" / f"{name}.json").write_text("{}")

    paper_on_gpu(tree, device_environment(first, first / "OUT"), "--minutes", "3", "--stages", "1")
    within_limits(first / "OUT")
    names = packed_names(first / "OUT")
    trained = sorted(re.sub(r"-[0-9a-f]{12}\.pt$", "", Path(n).name) for n in names if n.endswith(".pt"))
    assert trained == ["copy-forget-seed0", "copy-gru_dense-seed0", "copy-gru_total-seed0", "copy-recurrent-seed0",
                       "copy-regular-seed0"]
    assert any("/measured/step_seconds-" in n for n in names)  # the step table this device measured travels
    assert {"copy_tasks.ipynb", "results/copy_tasks.json"} <= set(names)  # stage 1's page and record come back
    summary = (first / "OUT" / plan.SUMMARY).read_text()
    assert "1. copy at 4,128 [copy_tasks]: done (page written)" in summary
    assert "4. selective copy at 4,128, then the chapter's page [copy_tasks]: not started" in summary

    tree = fresh_tree(second / "tree")
    env = device_environment(second, second / "OUT")
    here = {"PATH": os.environ["PATH"], "HOME": env["HOME"], "PYTHON": sys.executable}  # the unpack runs here
    paper_on_gpu(tree, here, "--unpack", str(first / "OUT"))
    carried_log = (tree / plan.CARRY / plan.LOG).read_text()
    assert "plan: stage 1 done" in carried_log
    decided = verdicts(json.loads((tree / plan.CARRY / "results" / "copy_tasks.json").read_text()))
    assert decided["copy_4128"].status != NOT_RUN and decided["rt_accumulate"].status != NOT_RUN, decided
    assert decided["selective_copy_4128"].status == NOT_RUN
    assert decided["selective_copy_4128"].reason.startswith("this execution trained copy only")
    assert "this execution trained copy only" in (tree / plan.CARRY / "copy_tasks.ipynb").read_text()  # on the page
    kept = sorted(re.sub(r"-[0-9a-f]{12}\.pt$", "", p.name) for p in (tree / plan.CARRY).rglob("*.pt"))
    assert kept == trained  # the chapter is not finished: the unpack keeps copy's checkpoints for stage 4
    shutil.rmtree(first)  # the first machine is gone

    result = paper_on_gpu(tree, env, "--minutes", "3")
    assert "step_seconds: reused the table measured on this device" in result.stdout
    record = json.loads((tree / plan.OUTPUT / "results" / "copy_tasks.json").read_text())
    assert sorted(record["notes"]["resumed_from_step"]) == trained  # stage 1's runs, read back from the carry
    assert record["not_run"] == {} and all(v.status != NOT_RUN for v in verdicts(record).values())  # the whole page
    log = (tree / plan.OUTPUT / plan.LOG).read_text()
    assert log.startswith(carried_log) and "plan: stage 4 done" in log  # the carried log grew
    within_limits(second / "OUT")
    assert "copy_tasks.ipynb" in packed_names(second / "OUT")
