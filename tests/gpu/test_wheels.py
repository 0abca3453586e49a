"""The carried wheel set: its completeness check on synthetic wheels, the real pins, and a kernel that runs glue
with every omitted package absent."""

import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import papermill
import pytest
from packaging.utils import canonicalize_name

from paperlib.gpu import wheels
from paperlib.gpu.wheels import Pins, check, imported_modules, read_pins, read_wheel
from paperlib.paths import project_root

IMAGE = {"numpy", "requests"}


def make_wheel(folder: Path, name: str, version: str, requires=(), tag="py3-none-any", modules=None) -> Path:
    """A minimal wheel: its modules' packages and a METADATA with `requires` as Requires-Dist."""
    path = folder / f"{name.replace('-', '_')}-{version}-{tag}.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as archive:
        for module in modules or [name.replace("-", "_")]:
            archive.writestr(f"{module}/__init__.py", "")
        archive.writestr(f"{name.replace('-', '_')}-{version}.dist-info/METADATA", metadata)
    return path


def complete_set(folder: Path) -> Pins:
    make_wheel(folder, "alpha", "1.0", ["beta>=2", "numpy", 'winonly; sys_platform == "win32"', 'extra1; extra == "test"',
                                        'old; python_version < "3.12"'])
    make_wheel(folder, "beta", "2.1", ["gamma"], tag="cp312-abi3-manylinux_2_28_x86_64")
    return Pins({"alpha": "1.0", "beta": "2.1"}, {"gamma": "not needed at run time"})


def test_a_complete_set_passes_with_its_omissions_noted(tmp_path):
    pins = complete_set(tmp_path)
    report = check(tmp_path, {"alpha": "imported", "numpy": "imported"}, pins, IMAGE, installed={"numpy": ["numpy"]})
    assert report.ok, report.problems
    assert report.notes == ["beta needs gamma: omitted on purpose (not needed at run time)"]
    assert "complete" in wheels.describe(report)


@pytest.mark.parametrize("spoil, expected", [
    (lambda d: (d / "beta-2.1-cp312-abi3-manylinux_2_28_x86_64.whl").unlink(), "alpha 1.0 needs beta>=2: neither"),
    (lambda d: make_wheel(d, "beta", "1.5"), "beta: 2 wheels"),
    (lambda d: make_wheel(d, "delta", "1.0"), "delta-1.0-py3-none-any.whl: not pinned"),
    (lambda d: make_wheel(d, "epsilon", "1.0", tag="cp311-cp311-win_amd64"), "does not install on CPython 3.12"),
    (lambda d: make_wheel(d, "zeta", "1.0", tag="cp312-cp312-manylinux_2_40_x86_64"), "does not install"),
])
def test_an_incomplete_or_inconsistent_set_fails_naming_what_is_wrong(tmp_path, spoil, expected):
    pins = complete_set(tmp_path)
    spoil(tmp_path)
    report = check(tmp_path, {"alpha": "imported"}, pins, IMAGE, installed={})
    assert not report.ok and any(expected in p for p in report.problems), report.problems
    assert "INCOMPLETE" in wheels.describe(report)


def test_a_too_old_wheel_and_a_pin_without_wheel_and_an_unknown_module_fail(tmp_path):
    pins = complete_set(tmp_path)
    (tmp_path / "beta-2.1-cp312-abi3-manylinux_2_28_x86_64.whl").unlink()
    make_wheel(tmp_path, "beta", "1.9")
    report = check(tmp_path, {"alpha": "x", "mystery": "imported by a.py", "torch": "imported by b.py"},
                   Pins({**pins.versions, "eta": "3"}, pins.omitted), IMAGE, installed={"torch": ["torch"]})
    problems = "\n".join(report.problems)
    assert "alpha 1.0 needs beta>=2, the wheel is 1.9" in problems
    assert "beta-1.9-py3-none-any.whl: not pinned as beta==1.9" in problems
    assert "eta==3: pinned, no wheel" in problems
    assert "module mystery (imported by a.py): no wheel provides it" in problems
    assert "module torch (imported by b.py): no wheel of torch" in problems


def test_a_wheel_is_read_for_its_device_requirements_and_modules(tmp_path):
    wheel = read_wheel(make_wheel(tmp_path, "my-pkg", "0.3", ["a", 'b; platform_machine == "arm64"',
                                                             'c; python_version >= "3.12"'], modules=["mine", "_mine"]))
    assert (wheel.name, wheel.version) == ("my-pkg", "0.3")
    assert [r.name for r in wheel.requires] == ["a", "c"] and wheel.modules == {"mine", "_mine"}


def test_imports_are_found_except_the_standard_library_paperlib_and_guarded_ones(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import os, numpy.linalg\nfrom paperlib.x import y\nfrom . import z\n"
                      "def f():\n    import torch\n"
                      "try:\n    import ipywidgets\nexcept ImportError:\n    import tqdm\n"
                      "try:\n    import kept\nexcept ValueError:\n    pass\n")
    assert set(imported_modules([source])) == {"numpy", "torch", "tqdm", "kept"}


def test_the_pins_refuse_a_line_that_does_not_pin_one_version(tmp_path):
    pins = tmp_path / "pins.txt"
    pins.write_text("# omit: foo  why not\nbar==1.0\nbaz>=2\n")
    with pytest.raises(ValueError, match=r"pins.txt:3: 'baz>=2' must pin one version"):
        read_pins(pins)
    pins.write_text("# omit: Foo_Bar  why not\nbar==1.0\n")
    assert read_pins(pins) == Pins({"bar": "1.0"}, {"foo-bar": "why not"})


def test_the_real_pins_cover_what_the_project_imports_beyond_the_image():
    """Without the wheels (CI has none): every module a run needs is in the image, pinned, or omitted on purpose."""
    pins, image = read_pins(), wheels.read_image_packages()
    providers = importlib.metadata.packages_distributions()
    for module in wheels.run_modules(project_root()):
        names = {canonicalize_name(d) for d in providers.get(module, [])}
        assert names & (image | pins.versions.keys() | pins.omitted.keys()), module


def test_what_a_stage_imports_never_imports_the_omitted_distributed():
    """The device plan's stages (the CLI, the runner, the chapters it runs) load no Dask: `paperlib.sweep`
    imports it inside its functions only."""
    modules = ["paperlib.cli", "paperlib.gpu.plan", "paperlib.chapters.copy_tasks", "paperlib.chapters.shakespeare",
               "paperlib.chapters.long_range_image"]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('distributed', 'dask')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=project_root(), check=True)
    assert result.stdout.strip() == "[]"


def test_the_fetched_wheels_are_complete():
    """Where `scripts/fetch_gpu_inputs.sh` has run, the real set passes the check."""
    folder = project_root() / ".whl"
    if not folder.is_dir():
        pytest.skip("no .whl/ here: run scripts/fetch_gpu_inputs.sh")
    report = check(folder, wheels.run_modules(project_root()), read_pins(), wheels.read_image_packages())
    assert report.ok, report.problems
    assert report.size_mib < 16


@pytest.mark.slow
def test_glue_and_the_kernel_run_with_every_omitted_package_absent(tmp_path, monkeypatch, write_notebook):
    """What `wheels.txt` omits is never imported by a papermill run of glue, Markdown glue and a figure."""
    blocked = tmp_path / "blocked"
    for name in read_pins().omitted:
        package = blocked / name.replace("-", "_")
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"raise ModuleNotFoundError('{package.name} is not carried')\n")
    monkeypatch.setenv("PYTHONPATH", f"{blocked}:{project_root()}")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    source = write_notebook(tmp_path / "glue.ipynb", "profile = 'cpu'\n",
                            "from IPython.display import Markdown\nfrom myst_nb import glue\n"
                            "import matplotlib.pyplot as plt\nglue('n', 3, display=False)\n"
                            "glue('words', Markdown('*so*'), display=False)\nplt.plot([1, 2])\n")
    papermill.execute_notebook(str(source), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False)
    outputs = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[-1].outputs
    kinds = {key for output in outputs for key in output.get("data", {})}
    assert {"application/papermill.record/text/plain", "application/papermill.record/text/markdown", "image/png"} <= kinds
