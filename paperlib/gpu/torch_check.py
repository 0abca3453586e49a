"""Whether paperlib runs on the device image's torch, which is not the version the project pins: every torch name
the code uses (`torch_apis.txt`, kept complete by a test) against the release it is present in from, offline.

The image's version is read from the header of `h200_packages.txt` ("torch 2.11.0"); no wheel of it is fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from paperlib.gpu.wheels import IMAGE_PACKAGES

TORCH_APIS = Path(__file__).with_name("torch_apis.txt")
CHAIN = re.compile(r"\btorch(?:\.[A-Za-z_]\w*)+")
FROM_IMPORT = re.compile(r"^\s*from (torch(?:\.\w+)*) import ([\w, ]+)", re.M)
ALIASES = {"nn": "torch.nn", "F": "torch.nn.functional"}  # as paperlib imports them


def image_torch(path: Path = IMAGE_PACKAGES) -> Version:
    """The torch version the image list's header names."""
    found = re.search(r"\btorch (\d+(?:\.\d+)+)", path.read_text())
    if found is None:
        raise ValueError(f"{path} names no torch version ('torch X.Y.Z')")
    return Version(found.group(1))


def read_apis(path: Path = TORCH_APIS) -> dict[str, Version]:
    """Name -> the release it is present in from."""
    rows = (line.split() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {name: Version(since) for name, since in rows}


def used_names(root: Path) -> set[str]:
    """The torch names paperlib's modules and the notebooks' sources mention."""
    names: set[str] = set()
    for path in [*sorted(root.glob("paperlib/**/*.py")), *sorted(root.glob("notebooks/*.py"))]:
        text = path.read_text()
        names |= set(CHAIN.findall(text))
        for module, imported in FROM_IMPORT.findall(text):
            names |= {f"{module}.{n.strip()}" for n in imported.split(",") if n.strip()}
        for alias, module in ALIASES.items():
            names |= {f"{module}.{m}" for m in re.findall(rf"(?<![\w.]){alias}\.([A-Za-z_]\w*)", text)}
    return names


@dataclass(frozen=True)
class TorchCheck:
    image: Version
    checked: int
    too_new: list[str]  # names present only from a later release than the image's
    unlisted: list[str]  # names the code uses that the list does not date

    @property
    def problems(self) -> list[str]:
        return ([f"torch {self.image} (the device image) lacks {n}" for n in self.too_new]
                + [f"{n} is used but not dated in {TORCH_APIS.name}" for n in self.unlisted])


def check(root: Path, image: Version, apis: dict[str, Version]) -> TorchCheck:
    used = used_names(root)
    return TorchCheck(image, len(used), sorted(f"{n} (from {apis[n]})" for n in used if n in apis and apis[n] > image),
                      sorted(used - apis.keys()))


def describe(result: TorchCheck) -> str:
    """One line for the dry run, and a line per problem."""
    verdict = "all present" if not result.problems else "PROBLEMS"
    return "\n".join([f"device torch {result.image} (image list): {result.checked} torch names paperlib uses, "
                      f"by the release each is present from — {verdict} (behaviour changes are not checked)",
                      *(f"  {p}" for p in result.problems)])
