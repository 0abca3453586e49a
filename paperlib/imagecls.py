"""Classifying images given as token sequences (LRA "Image") on `paperlib.train`.

Tokens are stored as uint8 and become indices per batch. A validation split is held out of the
training set, so that selection (the best validation loss) never looks at the test set; the test set
is scored once, with the selected weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from paperlib.models.paper import build, paper_config
from paperlib.models.transformer import TransformerConfig
from paperlib.runs import KeepBest, Run, StopBelow, fit
from paperlib.train import Batch, init, shuffled_batches


def split_validation(x: Tensor, y: Tensor, n_val: int, seed: int = 0) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(train_x, train_y, val_x, val_y): `n_val` examples drawn at random (seeded) out of (x, y)."""
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def class_loss(model: nn.Module, batch: Batch) -> Tensor:
    """Cross-entropy of the class logits for a batch of (uint8 tokens, labels)."""
    x, y = batch
    return F.cross_entropy(model(x.long()).float(), y)


@dataclass
class Scores:
    """Per-example cross-entropy and predicted class on a set of examples, with the labels."""

    losses: Tensor
    predictions: Tensor
    labels: Tensor

    @property
    def loss(self) -> float:
        return float(self.losses.mean())

    @property
    def acc(self) -> float:
        return float((self.predictions == self.labels).float().mean())

    def confusion(self, n_classes: int) -> np.ndarray:
        """Counts (true class, predicted class)."""
        flat = self.labels * n_classes + self.predictions
        return torch.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes).numpy()


@torch.no_grad()
def score(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 250) -> Scores:
    """Evaluate `model` (in whatever mode it is) on all of (x, y), without gradients."""
    device = next(model.parameters()).device
    losses, predictions = [], []
    for i in range(0, len(x), batch_size):
        logits = model(x[i:i + batch_size].to(device).long()).float()
        losses.append(F.cross_entropy(logits, y[i:i + batch_size].to(device), reduction="none").cpu())
        predictions.append(logits.argmax(-1).cpu())
    return Scores(torch.cat(losses), torch.cat(predictions), y.cpu())


def image_metrics(splits: dict[str, tuple[Tensor, Tensor]]) -> Callable[[nn.Module], dict[str, float]]:
    """Evaluation on each named split: ``{name}_loss`` and ``{name}_acc``."""
    def evaluate(model: nn.Module) -> dict[str, float]:
        record = {}
        for name, (x, y) in splits.items():
            s = score(model, x, y)
            record |= {f"{name}_loss": s.loss, f"{name}_acc": s.acc}
        if getattr(model, "alpha_raw", None) is not None:
            record["alpha"] = float(model.alpha)
        return record

    return evaluate


def wilson_interval(correct: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of a proportion correct / n."""
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


MODELS = {  # name: what the chapter calls it
    "recurrent": "recurrent, forget, K 16–48 in training (Note)",
    "recurrent_alpha": "recurrent, learnable α, K 32 (Feb-2026 code)",
    "recurrent_fixed": "recurrent, forget, K 32 (ablation)",
    "regular": "regular, 4 layers",
}


def image_configs(seq_len: int, dropout: float) -> dict[str, TransformerConfig]:
    """The chapter's models (keys of `MODELS`) for sequences of `seq_len` pixels; K is 32 at evaluation."""
    shape = {"n_positions": seq_len, "dropout": dropout}
    return {
        "recurrent": paper_config("image", "recurrent", block=32, block_range=(16, 48), alpha="forget", **shape),
        "recurrent_alpha": paper_config("image", "recurrent", block=32, alpha="learn", **shape),
        "recurrent_fixed": paper_config("image", "recurrent", block=32, alpha="forget", **shape),
        "regular": paper_config("image", "regular", **shape),
    }


def train_model(name: str, cfg: TransformerConfig, x: Tensor, y: Tensor, *, batch_size: int, steps: int, lr: float,
                seed: int, evals: int, evaluate: Callable[[nn.Module], dict[str, float]], early_stop: float = 0.0,
                device: str = "auto", notebook: str = "", checkpoint_every: int = 0) -> Run:
    """Train one classifier with Adam on shuffled epochs of (x, y), keeping the weights with the best
    validation loss (`KeepBest`) and stopping early once the mean training loss between two
    evaluations is below `early_stop` (0: never), as the author's code does at 0.1."""
    state = init(lambda: build(cfg), lr=lr, seed=seed, device=device)
    callbacks = [KeepBest("val_loss"), *([StopBelow(early_stop)] if early_stop > 0 else [])]
    return fit(name, cfg, state, shuffled_batches(x, y, batch_size), class_loss, steps=steps, batch_size=batch_size,
               seq_len=x.shape[1], evals=evals, evaluate=evaluate, callbacks=callbacks, notebook=notebook,
               checkpoint_every=checkpoint_every)
