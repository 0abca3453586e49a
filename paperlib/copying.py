"""Training and evaluating models on copy and selective copy (reference §8.3-§10).

Every model sees fresh batches from `paperlib.data.synthetic` at the length a `Curriculum` sets, is
evaluated on fresh batches (seeded by the step, so every model meets the same ones) and can be
checkpointed and resumed. Models by kind:

    recurrent  the paper's model: alpha learnable (copy) or fixed at 0.5 (selective copy)
    forget     the same with alpha = 0, the ablation
    regular    a one-layer full-attention transformer of the same width
    gru, lstm  a classical recurrent network sized to the paper model's parameter count
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from paperlib import checkpoint
from paperlib.curriculum import Curriculum
from paperlib.data.synthetic import N_DATA, copy_batch
from paperlib.models import paper_model
from paperlib.models.rnn import RNNModel, hidden_for_params
from paperlib.stats import mean_ci
from paperlib.train import Batch, State, init, train

TASKS = ("copy", "selective_copy")
KINDS = ("recurrent", "forget", "regular", "gru", "lstm")
PAPER_PARAMS = 508_705  # the paper's copy model (reference §7)


def data_seed(seed: int, purpose: int, step: int = 0) -> int:
    """Seeds of the validation (purpose 1) and final evaluation (purpose 2) batches, disjoint from each
    other across steps and from the training stream (seeded by `seed`)."""
    return (4 * seed + purpose) * 2**32 + step


def make_model(task: str, kind: str) -> nn.Module:
    """A model of `kind` for `task` (see the module docstring)."""
    if task not in TASKS or kind not in KINDS:
        raise ValueError(f"task must be one of {TASKS} and kind one of {KINDS}; got {task!r}, {kind!r}")
    if kind in ("gru", "lstm"):
        return RNNModel(kind, hidden=hidden_for_params(PAPER_PARAMS, kind))
    if kind == "forget":
        return paper_model(task, "recurrent", alpha="forget")
    return paper_model(task, kind)


def copy_loss(model: nn.Module, batch: Batch) -> Tensor:
    """Cross-entropy of the outputs at the last M positions against the M data tokens."""
    x, y = batch
    return F.cross_entropy(model(x).float().flatten(0, 1), y.flatten())


def alpha_of(model: nn.Module) -> float | None:
    """The clamped alpha of a recurrent transformer, None for other models."""
    alpha = getattr(model, "alpha", None)
    return None if alpha is None else alpha.item()


def evaluate(model: nn.Module, task: str, noise_len: int, n_batches: int, batch_size: int, seed: int) -> pd.DataFrame:
    """Loss and token accuracy per fresh batch at `noise_len` (call under no_grad, in eval mode)."""
    g = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    rows = []
    for _ in range(n_batches):
        x, y = copy_batch(batch_size, noise_len, selective=task == "selective_copy", generator=g)
        x, y = x.to(device), y.to(device)
        logits = model(x).float()
        rows.append({"loss": F.cross_entropy(logits.flatten(0, 1), y.flatten()).item(),
                     "acc": (logits.argmax(-1) == y).float().mean().item()})
    return pd.DataFrame(rows)


@dataclass
class Settings:
    """How every model of a chapter is trained and evaluated."""

    batch_size: int = 64
    lr: float = 5e-4
    start: int = 128  # first noise length of the curriculum
    cap: int = 4096  # the target noise length
    threshold: float = 0.3  # validation loss below which the length doubles
    lr_rule: str = "code"  # see `paperlib.curriculum`
    eval_every: int = 500  # steps between validations
    eval_batches: int = 500  # fresh batches per validation
    stop_acc: float | None = None  # end a run once a validation at the cap reaches this token accuracy
    seed: int = 0
    device: str = "auto"
    checkpoint_dir: Path | None = None  # None: no checkpoints
    checkpoint_every: int = 1000  # steps between checkpoints
    resume: bool = False  # continue from the checkpoint when there is one


@dataclass
class CopyRun:
    """One trained model: its state (history, curriculum log in `state.extra`) and its cost."""

    task: str
    kind: str
    state: State
    batch_size: int
    wall_s: float  # this session's seconds in `train`, evaluations included
    resumed_at: int | None = None  # the step a checkpoint resumed from
    scores: dict[tuple[int, int, int], tuple[float, float, float]] = field(default_factory=dict, repr=False)

    @property
    def history(self) -> pd.DataFrame:
        """One row per validation, with the training samples seen by then."""
        df = pd.DataFrame(self.state.history)
        return df.assign(samples=df["step"] * self.batch_size)

    @property
    def final_len(self) -> int:
        """The longest noise length this model trained and was validated at (the length reached)."""
        return int(self.state.history[-1]["noise_len"])

    @property
    def samples(self) -> int:
        return self.state.step * self.batch_size

    @property
    def samples_to_final_len(self) -> int:
        """Training samples before the curriculum first set the final length."""
        changes = [c for c in self.state.extra["length_changes"] if c["to"] == self.final_len]
        return changes[0]["step"] * self.batch_size if changes else 0

    @property
    def doublings(self) -> int:
        """Changes of length the run trained after (one made at the last validation is logged, never trained)."""
        return sum(c["to"] <= self.final_len for c in self.state.extra["length_changes"])

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.state.model.parameters())

    def final_eval(self, noise_len: int, n_batches: int, batch_size: int) -> tuple[float, float, float]:
        """Token accuracy on fresh batches at `noise_len`: (mean, 95 % CI low, high) over the batches,
        the Student-t interval clipped to [0, 1]. Kept in `scores`, so asking again costs nothing."""
        key = (noise_len, n_batches, batch_size)
        if key in self.scores:
            return self.scores[key]
        model = self.state.model.eval()
        amp = torch.autocast(self.state.device.type, dtype=torch.bfloat16, enabled=self.state.device.type == "cuda")
        with torch.no_grad(), amp:
            per_batch = evaluate(model, self.task, noise_len, n_batches, batch_size, data_seed(self.state.seed, 2))
        mean, low, high = mean_ci(per_batch["acc"])
        self.scores[key] = mean, max(low, 0.0), min(high, 1.0)
        return self.scores[key]


def train_copy(task: str, kind: str, steps: int, settings: Settings, *, start: int | None = None,
               cap: int | None = None, show_progress: bool = True) -> CopyRun:
    """Train a `kind` model on `task` for up to `steps` steps with the curriculum of `settings`.

    `start` and `cap` override the curriculum's lengths (start = cap: a fixed length, no curriculum).
    With a checkpoint folder the run saves every `checkpoint_every` steps and at the end; with
    `resume` it continues from its checkpoint (the same task, kind, seed and lengths).
    """
    s = settings
    curriculum = Curriculum(start or s.start, cap or s.cap, s.threshold, s.lr_rule, N_DATA, stop_acc=s.stop_acc)
    state = init(lambda: make_model(task, kind), lr=s.lr, seed=s.seed, device=s.device)
    name = f"{task}-{kind}-start{curriculum.start}-cap{curriculum.cap}-seed{s.seed}"
    meta = {"task": task, "kind": kind, "start": curriculum.start, "cap": curriculum.cap, "seed": s.seed,
            "batch_size": s.batch_size, "lr": s.lr, "lr_rule": s.lr_rule, "eval_every": s.eval_every,
            "eval_batches": s.eval_batches}
    callbacks, resumed_at = [curriculum], None
    if s.checkpoint_dir is not None:
        path = Path(s.checkpoint_dir) / f"{name}.pt"
        if s.resume and path.is_file():
            saved = checkpoint.load(path, state)
            if saved != meta:
                raise ValueError(f"checkpoint {path} was written by another configuration: {saved} != {meta}")
            resumed_at = state.step
            print(f"{name}: resumed from step {state.step}", flush=True)
        callbacks.append(checkpoint.Checkpointer(path, s.checkpoint_every, meta))
    curriculum.attach(state)

    def validate(model: nn.Module) -> dict[str, float]:
        per_batch = evaluate(model, task, state.extra["noise_len"], s.eval_batches, s.batch_size,
                             data_seed(s.seed, 1, state.step))
        alpha = alpha_of(model)
        return {"val_loss": per_batch["loss"].mean(), "val_acc": per_batch["acc"].mean(),
                **({} if alpha is None else {"alpha": alpha})}

    def sample(st: State) -> Batch:
        return copy_batch(s.batch_size, st.extra["noise_len"], selective=task == "selective_copy",
                          generator=st.generator)

    began = time.perf_counter()
    done = state.history[-1]["step"] if state.history else -1  # a resumed run does not validate twice
    eval_steps = [e for e in [*range(0, steps, s.eval_every), steps] if e > done]  # the last step always
    train(state, sample, copy_loss, steps, eval_steps=eval_steps, evaluate=validate, callbacks=callbacks,
          show_progress=show_progress, desc=f"{task} {kind}")
    if s.checkpoint_dir is not None:
        checkpoint.save(Path(s.checkpoint_dir) / f"{name}.pt", state, meta)
    return CopyRun(task, kind, state, s.batch_size, time.perf_counter() - began, resumed_at)
