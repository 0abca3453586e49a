"""environment.yml agrees with pyproject.toml, and CI runs the README's test command."""

import re
import tomllib

import yaml

from paperlib.paths import project_root

ROOT = project_root()


def pyproject_torch_pin() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(d for d in deps if d.startswith("torch"))


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert any(re.fullmatch(r"-e \.\[[a-z,]+\]", line) for line in pip_section)
    torch_lines = [line for line in pip_section if line.startswith("torch")]
    assert torch_lines == [pyproject_torch_pin()] == ["torch==2.13.0"]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- test-command -->\s*```bash\n(.+?)\n```", readme, re.DOTALL)
    assert match, "README must mark its test command with <!-- test-command -->"
    assert match.group(1).strip() in (ROOT / ".ci" / "run").read_text()


def test_install_script_pins_torch_before_anything_else():
    script = (ROOT / "scripts" / "install.sh").read_text()
    assert script.index('"torch==2.13.0"') < script.index("-e \".[book,test]\"")
