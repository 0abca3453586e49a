"""The one batched evaluation: per-example (or per-token) cross-entropy and argmax predictions.

`score` runs a model without gradients over batches of (inputs, targets) whose outputs are
(..., classes) for targets (...): class logits (B, C) for labels (B,), or token logits (B, T, V) for
tokens (B, T). Everything else is a reduction of the `Scores` it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from paperlib.training.loop import Batch


@dataclass
class Scores:
    """Cross-entropy and predicted class per example (or per token), with the targets, and each batch's
    mean cross-entropy computed as the training loss computes it (`model_loss`)."""

    losses: Tensor
    predictions: Tensor
    labels: Tensor
    batch_losses: Tensor

    @property
    def loss(self) -> float:
        return float(self.losses.mean())

    @property
    def acc(self) -> float:
        """The share of correct predictions, counted exactly."""
        return int((self.predictions == self.labels).sum()) / self.labels.numel()

    def summary(self, prefix: str = "") -> dict[str, float]:
        """``{prefix}loss`` and ``{prefix}acc``."""
        return {f"{prefix}loss": self.loss, f"{prefix}acc": self.acc}

    def per_example(self, values: Tensor) -> Tensor:
        """The mean of `values` (shaped like the losses) over each example's tokens: shape (N,)."""
        return values.float().flatten(1).mean(1) if values.dim() > 1 else values.float()

    def per_group(self, values: Tensor, n_groups: int) -> Tensor:
        """The mean of `values` over `n_groups` equal consecutive groups (e.g. evaluation batches)."""
        return values.float().reshape(n_groups, -1).mean(1)

    def correct(self) -> Tensor:
        return self.predictions == self.labels

    def confusion(self, n_classes: int) -> np.ndarray:
        """Counts (true class, predicted class)."""
        flat = self.labels * n_classes + self.predictions
        return torch.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes).numpy()


@torch.no_grad()
def score(model: nn.Module, batches: Iterable[Batch]) -> Scores:
    """Evaluate `model` (in whatever mode it is) on every batch, on the model's device; results on the CPU."""
    device = next(model.parameters()).device
    losses, predictions, labels, batch_losses = [], [], [], []
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        logits = model(x).float()
        losses.append(F.cross_entropy(logits.movedim(-1, 1), y, reduction="none").cpu())  # classes on axis 1
        batch_losses.append(F.cross_entropy(logits.flatten(0, -2), y.flatten()).reshape(1).cpu())
        predictions.append(logits.argmax(-1).cpu())
        labels.append(y.cpu())
    return Scores(torch.cat(losses), torch.cat(predictions), torch.cat(labels), torch.cat(batch_losses))
