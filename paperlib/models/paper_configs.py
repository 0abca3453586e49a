"""The paper's model configurations, by task and architecture (methods page, model details).

Defaults follow the Feb-2026 code with the position tables the paper counts; keyword overrides reach
every config field, e.g. the July-2025 image model is
`paper_model("image", "recurrent", block_range=(16, 48), alpha="forget")` and the Note's Shakespeare
run is `paper_model("shakespeare", "recurrent", block=1, n_positions=0)`.
"""

from dataclasses import fields, replace
from typing import Any, Literal, get_args

from paperlib.models.recurrent import RecurrentConfig, RecurrentTransformer
from paperlib.models.transformer import Transformer, TransformerConfig

PaperModel = Literal["copy", "selective_copy", "image", "shakespeare"]
Arch = Literal["recurrent", "regular"]
PAPER_MODELS: tuple[str, ...] = get_args(PaperModel)
ARCHS: tuple[str, ...] = get_args(Arch)

_COPY = RecurrentConfig(
    vocab_size=16, n_embd=96, n_head=6, n_positions=4128, dropout=0.05, activation="relu",
    head="last", n_out=16, block=32, alpha="learn",
)
_RECURRENT: dict[str, RecurrentConfig] = {
    "copy": _COPY,
    "selective_copy": replace(_COPY, alpha="accumulate"),  # fixed 0.5: "too much noise to learn alpha"
    "image": RecurrentConfig(
        vocab_size=256, n_embd=32, n_head=4, n_positions=1024, dropout=0.05, activation="relu",
        head="class", n_out=10, block=32, alpha="learn",
    ),
    "shakespeare": RecurrentConfig(
        vocab_size=65, n_embd=384, n_head=6, n_positions=256, dropout=0.2, activation="gelu",
        head="lm", block=16, alpha="forget",
    ),
}
_REGULAR_LAYERS = {"copy": 1, "selective_copy": 1, "image": 4, "shakespeare": 1}


def paper_config(model: PaperModel, arch: Arch, **overrides: Any) -> TransformerConfig:
    """The config of the paper's `model` (copy, selective_copy, image, shakespeare) as `arch`.

    `arch` is recurrent (a `RecurrentConfig`) or regular (a `TransformerConfig`). The regular image
    model is the 4-layer baseline; pass `n_layer=6` for the 6-layer Shakespeare one.
    """
    if model not in PAPER_MODELS:
        raise ValueError(f"model must be one of {PAPER_MODELS}, got {model!r}")
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    base = _RECURRENT[model]
    if arch == "recurrent":
        return replace(base, **overrides)
    shared = {f.name: getattr(base, f.name) for f in fields(TransformerConfig)}
    return TransformerConfig(**{**shared, "n_layer": _REGULAR_LAYERS[model], **overrides})


def build(cfg: TransformerConfig) -> Transformer:
    """The module for a config: recurrent for a `RecurrentConfig`, else regular."""
    return RecurrentTransformer(cfg) if isinstance(cfg, RecurrentConfig) else Transformer(cfg)


def paper_model(model: PaperModel, arch: Arch, **overrides: Any) -> Transformer:
    """The paper's model as a module; see `paper_config` for the arguments."""
    return build(paper_config(model, arch, **overrides))
