"""Character-level language modelling as in nanoGPT's `shakespeare_char`, on `paperlib.train`.

Training batches are random windows of the training text; evaluation uses fixed windows of each
split, drawn once, so every model is scored on the same characters. The optimizer is nanoGPT's:
AdamW with weight decay on the matrices only (not on norms, nor on the recurrence's α), betas
(0.9, 0.95), gradients clipped to norm 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from paperlib.data.text import split_train_val
from paperlib.models.paper import build, paper_config
from paperlib.models.transformer import TransformerConfig
from paperlib.runs import Run, fit
from paperlib.train import Batch, State, pick_device


@dataclass
class CharData:
    """The text's vocabulary (sorted characters) and its two splits as int64 token tensors."""

    chars: str
    train: Tensor
    val: Tensor

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

    def encode(self, text: str) -> Tensor:
        index = {c: i for i, c in enumerate(self.chars)}
        return torch.tensor([index[c] for c in text], dtype=torch.int64)

    def decode(self, ids: Tensor | list[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def random_windows(tokens: Tensor, context: int, batch_size: int) -> Callable[[State], Batch]:
    """A sampler of `batch_size` random windows (inputs, next-character targets) drawn with the run's
    generator, so a seed fixes the batches."""
    def sample(state: State) -> Batch:
        windows = _windows(tokens, context, torch.randint(len(tokens) - context, (batch_size,), generator=state.generator))
        return windows[:, :-1], windows[:, 1:]

    return sample


def fixed_windows(tokens: Tensor, context: int, n: int, seed: int = 1234) -> Tensor:
    """`n` windows of `context` + 1 tokens at seeded random offsets: the evaluation set of a split."""
    g = torch.Generator().manual_seed(seed)
    return _windows(tokens, context, torch.randint(len(tokens) - context, (n,), generator=g))


def _windows(tokens: Tensor, context: int, starts: Tensor) -> Tensor:
    return tokens[starts[:, None] + torch.arange(context + 1)]


def lm_loss(model: nn.Module, batch: Batch) -> Tensor:
    """Mean next-character cross-entropy over every position."""
    x, y = batch
    return F.cross_entropy(model(x).flatten(0, 1).float(), y.flatten())


@torch.no_grad()
def window_losses(model: nn.Module, windows: Tensor, batch_size: int = 64) -> Tensor:
    """Each window's mean cross-entropy (nats per character), shape (n,), without gradients."""
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(windows), batch_size):
        w = windows[i:i + batch_size].to(device)
        logits = model(w[:, :-1]).float()
        out.append(F.cross_entropy(logits.transpose(1, 2), w[:, 1:], reduction="none").mean(1).cpu())
    return torch.cat(out)


def lm_metrics(train_windows: Tensor, val_windows: Tensor) -> Callable[[nn.Module], dict[str, float]]:
    """Evaluation: train and validation loss on fixed windows (in eval mode), the validation standard
    error over its windows, and the clamped α of a learnable recurrence."""
    def evaluate(model: nn.Module) -> dict[str, float]:
        val = window_losses(model, val_windows)
        record = {"train_eval_loss": float(window_losses(model, train_windows).mean()), "val_loss": float(val.mean()),
                  "val_loss_se": float(val.std() / math.sqrt(len(val)))}
        if getattr(model, "alpha_raw", None) is not None:
            record["alpha"] = float(model.alpha)
        return record

    return evaluate


def init_adamw(make_model: Callable[[], nn.Module], lr: float = 1e-3, seed: int = 0, device: str = "auto",
               weight_decay: float = 0.1, betas: tuple[float, float] = (0.9, 0.95), grad_clip: float = 1.0) -> State:
    """Like `paperlib.train.init`, with nanoGPT's AdamW and gradient clipping (a pre-step hook)."""
    torch.manual_seed(seed)
    dev = pick_device(device)
    model = make_model().to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=betas, fused=dev.type in ("cpu", "cuda"))
    if grad_clip > 0:
        def clip(*_: object) -> None:
            nn.utils.clip_grad_norm_(params, grad_clip)

        optimizer.register_step_pre_hook(clip)
    return State(model, optimizer, dev, seed, torch.Generator().manual_seed(seed))


MODELS = {  # name: what the chapter calls it
    "recurrent_pos": "recurrent, 1 layer, positions",
    "recurrent_nopos": "recurrent, 1 layer, no positions",
    "recurrent_alpha": "recurrent, 1 layer, learnable α",
    "regular_1": "regular, 1 layer",
    "regular_6": "regular, 6 layers",
}


def shakespeare_configs(vocab_size: int, block: int, context: int, n_embd: int, n_head: int, dropout: float
                        ) -> dict[str, TransformerConfig]:
    """The chapter's models (keys of `MODELS`): the recurrent layer with forget (α = 0) with and without
    learned positions, with a learnable α (starting at 0.5), and the regular 1- and 6-layer models."""
    shape = {"vocab_size": vocab_size, "n_embd": n_embd, "n_head": n_head, "n_positions": context, "dropout": dropout}
    return {
        "recurrent_pos": paper_config("shakespeare", "recurrent", block=block, **shape),
        "recurrent_nopos": paper_config("shakespeare", "recurrent", block=block, **{**shape, "n_positions": 0}),
        "recurrent_alpha": paper_config("shakespeare", "recurrent", block=block, alpha="learn", alpha_value=0.5, **shape),
        "regular_1": paper_config("shakespeare", "regular", **shape),
        "regular_6": paper_config("shakespeare", "regular", n_layer=6, **shape),
    }


def train_model(name: str, cfg: TransformerConfig, data: CharData, *, context: int, batch_size: int, steps: int,
                lr: float, seed: int, evals: int, evaluate: Callable[[nn.Module], dict[str, float]],
                device: str = "auto", notebook: str = "", checkpoint_every: int = 0) -> Run:
    """Train one model on random windows of the training text with nanoGPT's optimizer (`init_adamw`).

    Every model gets the same seed, hence the same initial random state and the same batches.
    """
    state = init_adamw(lambda: build(cfg), lr=lr, seed=seed, device=device)
    return fit(name, cfg, state, random_windows(data.train, context, batch_size), lm_loss, steps=steps,
               batch_size=batch_size, seq_len=context, evals=evals, evaluate=evaluate, notebook=notebook,
               checkpoint_every=checkpoint_every)
