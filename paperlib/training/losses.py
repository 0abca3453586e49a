"""Training losses: one for every output shape, and our readings of Weber–Fechner in the loss.

`model_loss(criterion)` is the loss function of `paperlib.training.loop.train` for any model whose
output is (..., classes) with targets (...): class logits (B, C) with labels (B,), or the token logits
(B, T, V) of a language model or a copy head with tokens (B, T).

Only the abstract of *Psychophysical Machine Learning* (arXiv 2208.11236) is public; the readings
L1–L3 are ours (methods page, Weber–Fechner). Each maps (logits (B, C), target (B,)) to a scalar.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from paperlib.training.loop import Batch, LossFn

Criterion = Callable[[Tensor, Tensor], Tensor]


def model_loss(criterion: Criterion = F.cross_entropy) -> LossFn:
    """``criterion(model(x), y)`` over every position, in fp32, for batches (x, y)."""
    def loss(model: nn.Module, batch: Batch) -> Tensor:
        x, y = batch
        return criterion(model(x).float().flatten(0, -2), y.flatten())

    return loss


def rank_weighted(values: Tensor, normalise: bool = False) -> Tensor:
    """sum_k v_(k) / k over the last axis, values sorted descending; divided by H_n if `normalise`."""
    w = 1 / torch.arange(1, values.shape[-1] + 1, device=values.device, dtype=values.dtype)
    return values.sort(dim=-1, descending=True, stable=True).values @ (w / w.sum() if normalise else w)


def rank_class(logits: Tensor, target: Tensor) -> Tensor:
    """L1: per-class errors |softmax_c - y_c| sorted descending, weighted 1/k; batch mean."""
    err = (logits.softmax(-1) - F.one_hot(target, logits.shape[-1]).to(logits.dtype)).abs()
    return rank_weighted(err).mean()


def rank_batch(logits: Tensor, target: Tensor) -> Tensor:
    """L1, batch form: per-example cross-entropies sorted descending, weighted 1/k / H_B."""
    return rank_weighted(F.cross_entropy(logits, target, reduction="none"), normalise=True)


def relative(logits: Tensor, target: Tensor, eps: float = 1e-3) -> Tensor:
    """L2: sum_c (ln(eps + p_c) - ln(eps + y_c))^2, equal relative errors counting equally; batch mean."""
    y = F.one_hot(target, logits.shape[-1]).to(logits.dtype)
    return ((torch.log(eps + logits.softmax(-1)) - torch.log(eps + y)) ** 2).sum(-1).mean()


def log_ce(logits: Tensor, target: Tensor) -> Tensor:
    """L3: ln(1 + CE) per example, so each gradient is the CE gradient / (1 + CE); batch mean."""
    return torch.log1p(F.cross_entropy(logits, target, reduction="none")).mean()


CRITERIA: dict[str, Criterion] = {"ce": F.cross_entropy, "rank_class": rank_class, "rank_batch": rank_batch,
                                  "relative": relative, "log_ce": log_ce}
