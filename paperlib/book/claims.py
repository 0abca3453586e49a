"""The claims registry: every claim of the two papers, once, with the rule that decides its verdict
(`paperlib.book.verdicts` applies it to a run record)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from paperlib.book.paper_numbers import (
    COPY_ACC_MIN,
    FORGET_ALPHA_MAX,
    FORGET_COPY_ACC_MAX,
    GAMMA_BAND,
    IMAGE_ACC_TOLERANCE,
    LINEAR_EXPONENT_MAX,
    NOTE_IMAGE_ACC,
    NOTE_SHAKESPEARE_LOSS,
    SELECTIVE_COPY_ACC_MIN,
    SHAKESPEARE_LOSS_TOLERANCE,
)

WF_PAPER = "Kausik 2022, Accelerating Machine Learning via the Weber-Fechner Law (arXiv 2204.11834)"
WF_LOSS_PAPER = "Kausik 2022, Psychophysical Machine Learning (follow-up)"
LLM_PAPER = "Kausik 2024-26, Scaling Efficient LLMs (arXiv 2402.14746)"

Metrics = Mapping[str, float | None]


@dataclass(frozen=True)
class Claim:
    """One claim of a paper and the rule that decides it on a run record's metrics."""

    id: str
    title: str  # what a reader calls it
    kind: Literal["arithmetic", "empirical"]  # a check of the paper's derivation, or a test by experiment
    paper: str
    statement: str
    paper_value: str
    notebook: str
    metrics: tuple[str, ...]  # metric names the rule and the display read
    rule_text: str
    rule: Callable[[Metrics], bool]
    ours: Callable[[Metrics], str]
    spread: Callable[[Metrics], str] = lambda m: ""
    requires: Mapping[str, Any] = field(default_factory=dict)  # run parameters the claim's configuration has


def _ci(name: str, fmt: str = ".3f", scale: float = 1.0, unit: str = "") -> Callable[[Metrics], str]:
    """'95 % CI [low, high]' from ``name.ci_low`` / ``name.ci_high`` (times ``scale``) when the record has them."""
    def show(m: Metrics) -> str:
        low, high = m.get(f"{name}.ci_low"), m.get(f"{name}.ci_high")
        if low is None or high is None:
            return ""
        return f"95 % CI [{scale * low:{fmt}}, {scale * high:{fmt}}]{unit}"
    return show


def _pct_ci(name: str) -> Callable[[Metrics], str]:
    """The CI of a fraction, in percent like its value."""
    return _ci(name, ".2f", 100, " %")


def _value(name: str, fmt: str = ".3f") -> Callable[[Metrics], str]:
    return lambda m: f"{m[name]:{fmt}}"


def _pct(name: str) -> Callable[[Metrics], str]:
    return lambda m: f"{100 * m[name]:.2f} %"


def _seeds_pct(name: str) -> Callable[[Metrics], str]:
    """The mean in percent, then each seed's (``name.seed0``, ``name.seed1``, ...) where the record has them."""
    def show(m: Metrics) -> str:
        seeds = [m[f"{name}.seed{k}"] for k in range(100) if m.get(f"{name}.seed{k}") is not None]
        return f"{100 * m[name]:.2f} %" + (f" (seeds: {', '.join(f'{100 * a:.1f}' for a in seeds)} %)" if seeds else "")
    return show


def _points(name: str) -> Callable[[Metrics], str]:
    return lambda m: f"{100 * m[name]:+.2f} points at 100 steps"


_SHAKESPEARE_MAX = NOTE_SHAKESPEARE_LOSS["recurrent_pos"] + SHAKESPEARE_LOSS_TOLERANCE
_WF_RULE = ("with every model at the learning rate that suits it best (chosen on held-out training images): at ≥ 2 "
            "checkpoints of ≤ 200 steps the paired 95 % CI of WF minus the best control excludes 0 in WF's favour; "
            "the best control is the same-size max, mean, sum or unsorted-1/k head, or the plain head, whichever "
            "has the highest mean at that checkpoint")

CLAIMS: tuple[Claim, ...] = (
    Claim("gamma_interval", "γ lies in [0.44, 0.72]", "arithmetic", LLM_PAPER,
          "Efficient LLMs follow N ∝ D^γ with γ ∈ [0.44, 0.72] (v4–v6), from the Chinchilla fit.",
          "[0.44, 0.72]", "scaling_law", ("gamma_low", "gamma_high"),
          "the reconstruction γ ∈ [1−2β, 1−β] with Hoffmann's printed β = 0.28 gives both ends within 0.005",
          lambda m: abs(m["gamma_low"] - 0.44) < 0.005 and abs(m["gamma_high"] - 0.72) < 0.005,
          lambda m: f"[{m['gamma_low']:.3f}, {m['gamma_high']:.3f}]"),
    Claim("gamma_midpoint", "γ ≈ 0.58", "arithmetic", LLM_PAPER, "Efficient LLMs follow N ∼ D^0.58 (v1).", "0.58",
          "scaling_law", ("gamma_midpoint",), "the midpoint of the reconstructed interval is within 0.005 of 0.58",
          lambda m: abs(m["gamma_midpoint"] - 0.58) < 0.005, _value("gamma_midpoint")),
    Claim("doubling_multiple", "3–5× the corpus doubles the skills", "arithmetic", LLM_PAPER,
          "Doubling the skills needs roughly 3 to 5 times the corpus (v1; 'more than 4 times' in v2/v3).",
          "3–5×", "scaling_law", ("doubling_low", "doubling_high"),
          "2^(1/γ_high) rounds to 3 and 2^(1/γ_low) rounds to 5",
          lambda m: round(m["doubling_low"]) == 3 and round(m["doubling_high"]) == 5,
          lambda m: f"{m['doubling_low']:.2f}–{m['doubling_high']:.2f}×"),
    Claim("gamma_refit", "γ interval holds on the refitted Chinchilla data", "empirical", LLM_PAPER,
          "The interval holds for the Chinchilla data: the same derivation on the corrected fit of the 240 "
          "Chinchilla runs (Epoch's refit) gives γ ∈ [0.44, 0.72].",
          "[0.44, 0.72]", "scaling_law", ("refit_gamma_low", "refit_gamma_high"),
          "the bootstrap 95 % CIs of the refit's γ_low and γ_high contain 0.44 and 0.72",
          lambda m: (m["refit_gamma_low.ci_low"] <= 0.44 <= m["refit_gamma_low.ci_high"]
                     and m["refit_gamma_high.ci_low"] <= 0.72 <= m["refit_gamma_high.ci_high"]),
          lambda m: f"[{m['refit_gamma_low']:.3f}, {m['refit_gamma_high']:.3f}]",
          lambda m: (f"γ_low CI [{m['refit_gamma_low.ci_low']:.3f}, {m['refit_gamma_low.ci_high']:.3f}], "
                     f"γ_high CI [{m['refit_gamma_high.ci_low']:.3f}, {m['refit_gamma_high.ci_high']:.3f}]")),
    Claim("gamma_empirical", "γ measured: the fewest parameters that fit a growing corpus", "empirical", LLM_PAPER,
          "The fewest parameters N* that reach the desired accuracy on a training corpus of D tokens grow as "
          "N* ∝ D^γ with γ ∈ [0.44, 0.72].",
          "[0.44, 0.72]", "gamma_empirical", ("gamma_paper", "gamma_paper.ci_low", "gamma_paper.ci_high"),
          (f"the bootstrap 95 % CI of γ, measured under the paper's definition with the headline target (training "
           f"loss within a fixed excess of the best reached at each D), overlaps [{GAMMA_BAND[0]}, {GAMMA_BAND[1]}]"),
          lambda m: m["gamma_paper.ci_low"] <= GAMMA_BAND[1] and m["gamma_paper.ci_high"] >= GAMMA_BAND[0],
          lambda m: f"{m['gamma_paper']:.2f}" + (f" (Hestness's definition: {m['gamma_hestness']:.2f})"
                                                 if m.get("gamma_hestness") is not None else ""),
          _ci("gamma_paper", ".2f")),
    Claim("wf_mlp_few_iterations", "Weber–Fechner speeds up an MLP on MNIST", "empirical", WF_PAPER,
          "Imposing Weber–Fechner via the logarithmic power series of the sorted output gives surprising MNIST "
          "accuracy within a few training iterations — without convolution.",
          "no number published (abstract only)", "weber_fechner_mnist", ("wf_mlp_advantage_100", "wf_mlp_checkpoints_won"),
          _WF_RULE, lambda m: m["wf_mlp_checkpoints_won"] >= 2, _points("wf_mlp_advantage_100"),
          _ci("wf_mlp_advantage_100", "+.2f", 100, " points")),
    Claim("wf_cnn_few_iterations", "Weber–Fechner speeds up a CNN on MNIST", "empirical", WF_PAPER,
          "The same, with convolution (the Keras simple convnet: 32 and 64 channels).",
          "no number published (abstract only)", "weber_fechner_mnist", ("wf_cnn_advantage_100", "wf_cnn_checkpoints_won"),
          "as for the MLP, with the CNN trunk", lambda m: m["wf_cnn_checkpoints_won"] >= 2,
          _points("wf_cnn_advantage_100"), _ci("wf_cnn_advantage_100", "+.2f", 100, " points"),
          requires={"tuned_cnn_channels": "32,64"}),
    Claim("wf_loss_variant", "Weber–Fechner in the loss helps", "empirical", WF_LOSS_PAPER,
          "Putting the Weber–Fechner law into the loss function enhances deep networks.",
          "no number published (abstract only)", "weber_fechner_mnist", ("wf_loss_advantage_100", "wf_loss_checkpoints_won"),
          ("as above, for the L1 loss (per-class errors sorted descending, weighted 1/k; our reading of the "
           "follow-up paper) against cross-entropy on the plain MLP"),
          lambda m: m["wf_loss_checkpoints_won"] >= 2, _points("wf_loss_advantage_100"),
          _ci("wf_loss_advantage_100", "+.2f", 100, " points")),
    Claim("rt_linear_time", "Recurrent transformers run in linear time", "empirical", LLM_PAPER,
          "Recurrent transformers process a sequence in time linear in its length.",
          "linear (supported by a FLOP formula only)", "linear_time", ("time_exponent_recurrent",),
          f"the fitted log-log exponent of time vs length is ≤ {LINEAR_EXPONENT_MAX} (upper 95 % bound)",
          lambda m: m.get("time_exponent_recurrent.ci_high", m["time_exponent_recurrent"]) <= LINEAR_EXPONENT_MAX,
          _value("time_exponent_recurrent", ".2f"), _ci("time_exponent_recurrent", ".2f")),
    Claim("rt_memory", "Recurrent transformers are memory-efficient", "empirical", LLM_PAPER,
          "Recurrent transformers are memory-efficient: memory grows linearly with length, unlike a regular "
          "transformer's.",
          "linear memory, less than a regular transformer", "linear_time",
          ("memory_exponent_recurrent", "memory_ratio_at_max_len"),
          (f"the fitted log-log exponent of training peak memory vs length is ≤ {LINEAR_EXPONENT_MAX} (upper 95 % "
           "bound) and a regular transformer of the same width, with PyTorch's default attention kernel, needs more "
           "training memory at the longest length both ran"),
          lambda m: (m.get("memory_exponent_recurrent.ci_high", m["memory_exponent_recurrent"]) <= LINEAR_EXPONENT_MAX
                     and m["memory_ratio_at_max_len"] > 1),
          lambda m: (f"exponent {m['memory_exponent_recurrent']:.2f}; the regular model needs "
                     f"{m['memory_ratio_at_max_len']:.2f}× its memory"),
          _ci("memory_exponent_recurrent", ".2f")),
    Claim("copy_4128", "Copy at length 4,128", "empirical", LLM_PAPER,
          "A 508.7K-parameter single recurrent layer with accumulate, trained with a curriculum, reaches 100 % "
          "on copy at length 4128 (5.76e4 samples).",
          "100 %", "copy_tasks", ("copy_acc",),
          (f"token accuracy ≥ {100 * COPY_ACC_MIN:g} % on fresh data at length 4128, mean over seeds; not comparable "
           "(budget) when a seed did not reach 4128, or ended below the threshold with fewer samples than the Note's"),
          lambda m: m["copy_acc"] >= COPY_ACC_MIN, _seeds_pct("copy_acc"), _pct_ci("copy_acc")),
    Claim("selective_copy_4128", "Selective copy at length 4,128", "empirical", LLM_PAPER,
          "The same model reaches 99.6 % on selective copy at length 4128 (1.11e6 samples).",
          "99.6 %", "copy_tasks", ("selective_copy_acc",),
          (f"token accuracy ≥ {100 * SELECTIVE_COPY_ACC_MIN:g} % on fresh data at length 4128, mean over seeds (the "
           "Note's 99.6 % beside it); not comparable (budget) when a seed did not reach 4128, or ended below the "
           "threshold with fewer samples than the Note's 1.11e6"),
          lambda m: m["selective_copy_acc"] >= SELECTIVE_COPY_ACC_MIN, _seeds_pct("selective_copy_acc"),
          _pct_ci("selective_copy_acc")),
    Claim("rt_accumulate", "Accumulating beats forgetting on copy", "empirical", LLM_PAPER,
          "Recurrent transformers accumulate history for long-range tasks: accumulate succeeds where forget (α = 0) fails.",
          "accumulate 100 %, forget not reported", "copy_tasks",
          ("copy_acc", "copy_stalled_forget", "copy_acc_compared_forget", "copy_compared_noise_len_forget"),
          (f"copy accuracy ≥ {100 * COPY_ACC_MIN:g} % with accumulate, while α = 0, trained on the same batches with "
           "the samples the accumulate model needed (to pass its first length in the cpu profile, all of them in the "
           "paper profile), either fails to pass a length accumulate passed with those samples or scores "
           f"< {100 * FORGET_COPY_ACC_MAX:g} % where the two are compared at equal samples"),
          lambda m: m["copy_acc"] >= COPY_ACC_MIN and (bool(m["copy_stalled_forget"])
                                                       or m["copy_acc_compared_forget"] < FORGET_COPY_ACC_MAX),
          lambda m: f"{100 * m['copy_acc']:.1f} % vs {100 * m['copy_acc_compared_forget']:.1f} % (forget, at length "
                    f"{int(m['copy_compared_noise_len_forget']) + 32}"
                    + (", which it did not pass)" if m["copy_stalled_forget"] else ")")),
    Claim("lra_image", "Long-range image classification (LRA Image)", "empirical", LLM_PAPER,
          "On LRA Image (grayscale CIFAR-10, 1024 tokens) a 53.6K-parameter block-recurrent layer reaches 43.09 %, "
          "against 42.9 % for a 4-layer transformer.",
          "43.09 % vs 42.9 %", "long_range_image", ("image_acc_recurrent", "image_acc_regular"),
          (f"recurrent test accuracy within {100 * IMAGE_ACC_TOLERANCE:g} points of {100 * NOTE_IMAGE_ACC['recurrent']:g} % "
           "and not below the regular baseline by more than 1 point"),
          lambda m: (abs(m["image_acc_recurrent"] - NOTE_IMAGE_ACC["recurrent"]) <= IMAGE_ACC_TOLERANCE
                     and m["image_acc_recurrent"] >= m["image_acc_regular"] - 0.01),
          lambda m: f"{100 * m['image_acc_recurrent']:.2f} % vs {100 * m['image_acc_regular']:.2f} %",
          _pct_ci("image_acc_recurrent")),
    Claim("shakespeare_val_loss", "Character-level Shakespeare: a recurrent layer beats deeper models", "empirical",
          LLM_PAPER,
          "On character-level tiny Shakespeare a 1-layer recurrent transformer reaches validation loss 1.4699–1.4738, "
          "below a 6-layer (1.4815) and a 1-layer (1.5697) regular transformer.",
          "1.4699–1.4738", "shakespeare", ("val_loss_recurrent", "val_loss_regular_1", "val_loss_regular_6"),
          (f"recurrent val loss ≤ {_SHAKESPEARE_MAX:.4f} (paper + {SHAKESPEARE_LOSS_TOLERANCE}) and below the 1-layer "
           "regular model's"),
          lambda m: m["val_loss_recurrent"] <= _SHAKESPEARE_MAX and m["val_loss_recurrent"] < m["val_loss_regular_1"],
          lambda m: (f"{m['val_loss_recurrent']:.4f} (regular 1-layer {m['val_loss_regular_1']:.4f}, "
                     f"6-layer {m['val_loss_regular_6']:.4f})"),
          _ci("val_loss_recurrent", ".4f")),
    Claim("shakespeare_forget", "Recurrent transformers learn to forget on language", "empirical", LLM_PAPER,
          "Recurrent transformers learn to forget history for language tasks.",
          "forget (α → 0)", "shakespeare", ("alpha_learned",),
          f"the learnable α of the recurrent Shakespeare model ends ≤ {FORGET_ALPHA_MAX}",
          lambda m: m["alpha_learned"] <= FORGET_ALPHA_MAX, _value("alpha_learned", ".3f")),
)
CLAIMS_BY_ID = {claim.id: claim for claim in CLAIMS}
assert len(CLAIMS_BY_ID) == len(CLAIMS), "claim ids must be unique"
