"""The device image's torch against the torch names paperlib uses."""

import importlib

import pytest
import torch
from packaging.version import Version

from paperlib.gpu import torch_check
from paperlib.paths import project_root


def test_every_torch_name_the_code_uses_is_dated():
    assert torch_check.used_names(project_root()) <= torch_check.read_apis().keys()


@pytest.mark.parametrize("name", sorted(torch_check.read_apis()))
def test_every_dated_name_exists_in_the_pinned_torch(name):
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return
    pytest.fail(f"{name} is not importable")


def test_the_image_list_names_its_torch_and_the_pin_is_not_older():
    image = torch_check.image_torch()
    assert image == Version("2.11.0") and Version(torch.__version__.split("+")[0]) >= image


def test_a_name_newer_than_the_image_or_undated_is_a_problem(tmp_path):
    (tmp_path / "paperlib").mkdir()
    (tmp_path / "paperlib" / "m.py").write_text("import torch\nfrom torch.nn.attention import sdpa_kernel\n"
                                                "x = torch.zeros(1)\ny = F.gelu(x)\n")
    apis = {"torch.zeros": Version("2.0"), "torch.nn.attention.sdpa_kernel": Version("2.3"),
            "torch.nn.attention": Version("2.3")}
    result = torch_check.check(tmp_path, Version("2.2"), apis)
    assert result.too_new == ["torch.nn.attention (from 2.3)", "torch.nn.attention.sdpa_kernel (from 2.3)"]
    assert result.unlisted == ["torch.nn.functional.gelu"]
    assert "PROBLEMS" in torch_check.describe(result) and len(result.problems) == 3
