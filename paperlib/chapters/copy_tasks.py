"""Chapter 'Copy and selective copy': models trained on fresh batches under the length curriculum,
scored at the lengths that matter, with the chapter's tables, figures and prose.

Every model sees fresh batches from `paperlib.data.synthetic` at the length a `Curriculum` sets
(methods page, copy data and curriculum), is validated on fresh batches seeded by the step (so every
model meets the same ones) and can be checkpointed and resumed. Models by kind:

    recurrent  the paper's model: alpha learnable (copy) or fixed at 0.5 (selective copy)
    forget     the same with alpha = 0, the ablation
    regular    a one-layer full-attention transformer of the same width
    gru, lstm  a classical recurrent network sized to the paper model's parameter count
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal, get_args

import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from paperlib.book.claims import not_comparable
from paperlib.data.synthetic import N_DATA, copy_batch, copy_batches
from paperlib.models import n_params
from paperlib.models.paper_configs import paper_model
from paperlib.models.rnn import RNNModel, hidden_for_params
from paperlib.plots import page_figure
from paperlib.stats import mean_ci
from paperlib.training.curriculum import Curriculum, LrRule
from paperlib.training.device import DeviceSetup
from paperlib.training.evaluation import score
from paperlib.training.loop import Batch, State, init
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig
from paperlib.training.run import Checkpointing, train_resumable

CopyTask = Literal["copy", "selective_copy"]
ModelKind = Literal["recurrent", "forget", "regular", "gru", "lstm"]
COPY_TASKS: tuple[str, ...] = get_args(CopyTask)
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)
TASK_LABELS = {"copy": "copy", "selective_copy": "selective copy"}
ROLE_COLOURS = {"recurrent": "C0", "forget": "C1", "regular": "C2", "rnn": "C3"}
PAPER_PARAMS = 508_705  # the paper's copy model (methods page, parameter counts)
CHANCE = 1 / 14  # 14 data symbols
FULL_NOISE = 4096  # noise tokens at the paper's length 4,128
_PURPOSES = {"validation": 1, "final": 2}


def eval_seed(seed: int, purpose: Literal["validation", "final"], step: int = 0) -> int:
    """Seed of the validation batches at `step`, or of the final evaluation's: disjoint from each other
    across steps and from the training stream (seeded by `seed`)."""
    return (4 * seed + _PURPOSES[purpose]) * 2**32 + step


def make_model(task: CopyTask, kind: ModelKind) -> nn.Module:
    """A model of `kind` for `task` (see the module docstring)."""
    if task not in COPY_TASKS or kind not in MODEL_KINDS:
        raise ValueError(f"task must be one of {COPY_TASKS} and kind one of {MODEL_KINDS}; got {task!r}, {kind!r}")
    if kind in ("gru", "lstm"):
        return RNNModel(kind, hidden=hidden_for_params(PAPER_PARAMS, kind))
    if kind == "forget":
        return paper_model(task, "recurrent", alpha="forget")
    return paper_model(task, kind)


def alpha_of(model: nn.Module) -> float | None:
    """The clamped alpha of a recurrent transformer, None for other models."""
    alpha = getattr(model, "alpha", None)
    return None if alpha is None else alpha.item()


def per_batch(model: nn.Module, task: CopyTask, noise_len: int, n_batches: int, batch_size: int,
              seed: int) -> tuple[list[float], list[float]]:
    """(loss, token accuracy) of each of `n_batches` fresh batches at `noise_len` (call under no_grad)."""
    batches = copy_batches(n_batches, batch_size, noise_len, selective=task == "selective_copy",
                           generator=torch.Generator().manual_seed(seed))
    scores = score(model, batches)
    return scores.batch_losses.tolist(), scores.per_group(scores.correct(), n_batches).tolist()


@dataclass
class Settings:
    """How every model of a chapter is trained and evaluated."""

    setup: DeviceSetup
    batch_size: int = 64
    lr: float = 5e-4
    start: int = 128  # first noise length of the curriculum
    cap: int = FULL_NOISE  # the target noise length
    threshold: float = 0.3  # validation loss below which the length doubles
    lr_rule: LrRule = "code"  # see `paperlib.training.curriculum`
    eval_every: int = 500  # steps between validations
    eval_batches: int = 500  # fresh batches per validation
    stop_acc: float | None = None  # end a run once a validation at the cap reaches this token accuracy
    seed: int = 0
    checkpointing: Checkpointing = Checkpointing()


@dataclass
class CopyRun:
    """One trained model: its state (history, curriculum log in `state.extra`) and its cost."""

    task: CopyTask
    kind: ModelKind
    state: State
    batch_size: int
    wall_s: float  # this session's seconds in training, validations included
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
        return n_params(self.state.model)

    def final_eval(self, noise_len: int, n_batches: int, batch_size: int) -> tuple[float, float, float]:
        """Token accuracy on fresh batches at `noise_len`: (mean, 95 % CI low, high) over the batches,
        the Student-t interval clipped to [0, 1]. Kept in `scores`, so asking again costs nothing."""
        key = (noise_len, n_batches, batch_size)
        if key not in self.scores:
            model = self.state.model.eval()
            with torch.no_grad(), self.state.setup.autocast():
                _, acc = per_batch(model, self.task, noise_len, n_batches, batch_size, eval_seed(self.state.seed, "final"))
            mean, low, high = mean_ci(acc)
            self.scores[key] = mean, max(low, 0.0), min(high, 1.0)
        return self.scores[key]


def train_copy(task: CopyTask, kind: ModelKind, steps: int, settings: Settings, *, start: int | None = None,
               cap: int | None = None, show_progress: bool = True) -> CopyRun:
    """Train a `kind` model on `task` for up to `steps` steps with the curriculum of `settings`.

    `start` and `cap` override the curriculum's lengths (start = cap: a fixed length, no curriculum).
    """
    s = settings
    curriculum = Curriculum(start or s.start, cap or s.cap, s.threshold, s.lr_rule, N_DATA, stop_acc=s.stop_acc)
    state = init(lambda: make_model(task, kind), OptimizerConfig(lr=s.lr), s.seed, s.setup)
    meta = {"task": task, "kind": kind, "start": curriculum.start, "cap": curriculum.cap, "seed": s.seed,
            "batch_size": s.batch_size, "lr": s.lr, "lr_rule": s.lr_rule, "eval_every": s.eval_every,
            "eval_batches": s.eval_batches}
    selective = task == "selective_copy"

    def validate(model: nn.Module) -> dict[str, float]:
        losses, accs = per_batch(model, task, state.extra["noise_len"], s.eval_batches, s.batch_size,
                                 eval_seed(s.seed, "validation", state.step))
        alpha = alpha_of(model)
        return {"val_loss": float(pd.Series(losses).mean()), "val_acc": float(pd.Series(accs).mean()),
                **({} if alpha is None else {"alpha": alpha})}

    def sample(st: State) -> Batch:
        return copy_batch(s.batch_size, st.extra["noise_len"], selective=selective, generator=st.generator)

    began = time.perf_counter()
    resumed = train_resumable(state, sample, model_loss(), steps, chapter="copy_tasks",
                              name=f"{task}-{kind}-start{curriculum.start}-cap{curriculum.cap}-seed{s.seed}",
                              meta=meta, checkpointing=s.checkpointing, callbacks=[curriculum],
                              eval_steps=[*range(0, steps, s.eval_every), steps], evaluate=validate,
                              show_progress=show_progress, desc=f"{task} {kind}")
    return CopyRun(task, kind, state, s.batch_size, time.perf_counter() - began, resumed)


@dataclass
class Experiment:
    """Every run of the chapter by task and role, the noise length the paper's model reached per task and
    the (possibly capped) noise length the baselines trained at."""

    runs: dict[str, dict[str, CopyRun]]
    reached: dict[str, int]
    baseline_len: dict[str, int]


def train_all(settings: Settings, steps: dict[str, int], baseline_steps: int, baseline_cap: int,
              rnn: Literal["gru", "lstm"]) -> Experiment:
    """Per task: the paper's model; the forget ablation for as many steps; a regular transformer at the
    baseline length without curriculum; the RNN under the curriculum up to the baseline length."""
    experiment = Experiment({}, {}, {})
    for task in COPY_TASKS:
        main = train_copy(task, "recurrent", steps[task], settings)
        runs = {"recurrent": main, "forget": train_copy(task, "forget", main.state.step, settings)}
        reached = main.final_len
        short = min(baseline_cap or reached, reached)
        runs["regular"] = train_copy(task, "regular", baseline_steps, settings, start=short, cap=short)
        runs["rnn"] = train_copy(task, rnn, baseline_steps, settings, start=min(settings.start, short), cap=short)
        experiment.runs[task], experiment.reached[task], experiment.baseline_len[task] = runs, reached, short
    return experiment


def results(experiment: Experiment, final_batches: int, batch_size: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Every run's size, cost and final token accuracy (with its CI over evaluation batches) at its own
    length, the paper model's length (paper model and ablation) and the baseline length; and the metrics."""
    metrics: dict[str, float] = {}

    def scored(run: CopyRun, length: int, key: str) -> str:
        acc, low, high = run.final_eval(length, final_batches, batch_size)
        metrics.update({key: acc, f"{key}.ci_low": low, f"{key}.ci_high": high})
        return f"{length + 2 * N_DATA}: {acc:.4f} [{low:.4f}, {high:.4f}]"

    rows = []
    for task, runs in experiment.runs.items():
        reached, short = experiment.reached[task], experiment.baseline_len[task]
        metrics[f"{task}_wall_s"] = sum(run.wall_s for run in runs.values())
        for role, run in runs.items():
            suffix = "" if role == "recurrent" else f"_{role}"
            ablation = role in ("recurrent", "forget")
            metrics.update({f"{task}_final_noise_len{suffix}": run.final_len, f"{task}_samples{suffix}": run.samples,
                            f"{task}_train_s{suffix}": run.state.train_time})
            rows.append({
                "task": TASK_LABELS[task], "model": run.kind, "parameters": run.n_params,
                "trained up to length": run.final_len + 2 * N_DATA, "samples": run.samples,
                "samples to reach it": run.samples_to_final_len, "train time (s)": run.state.train_time,
                "accuracy at its own length": scored(run, run.final_len, f"{task}_acc_own_len{suffix}"),
                "at the paper model's length": scored(run, reached, f"{task}_acc{suffix}") if ablation else "—",
                "at the baseline length": scored(run, short, f"{task}_acc_at_baseline_len{suffix}" if ablation
                                                 else f"{task}_acc{suffix}")})
        metrics[f"{task}_baseline_noise_len"] = short
        metrics[f"{task}_samples_to_final_len"] = runs["recurrent"].samples_to_final_len
        metrics[f"{task}_doublings"] = runs["recurrent"].doublings
    copy_model = experiment.runs["copy"]["recurrent"].state.model
    metrics.update(alpha=alpha_of(copy_model), alpha_raw=copy_model.alpha_raw.item())
    return pd.DataFrame(rows).set_index(["task", "model"]), metrics


def length_changes(experiment: Experiment, batch_size: int) -> pd.DataFrame:
    """The curriculum's log of the paper's model, per task."""
    return pd.DataFrame([{"task": TASK_LABELS[task], **change, "samples": change["step"] * batch_size}
                         for task, runs in experiment.runs.items()
                         for change in runs["recurrent"].state.extra["length_changes"]],
                        columns=["task", "step", "samples", "from", "to", "val_loss", "lr"])


def plot_curves(experiment: Experiment, threshold: float) -> Figure:
    """Per task: loss, then validation accuracy, of the paper's model against samples, with the
    curriculum's sequence length on a second axis (the Note's Fig. 4)."""
    fig, axes = page_figure(2 * len(COPY_TASKS), row_height=3.0)
    for i, task in enumerate(COPY_TASKS):
        ax_loss, ax_acc = axes[2 * i], axes[2 * i + 1]
        h = experiment.runs[task]["recurrent"].history
        ax_loss.plot(h["samples"], h["train_loss"], label="training loss")
        ax_loss.plot(h["samples"], h["val_loss"], label="validation loss")
        ax_loss.axhline(threshold, color="grey", lw=0.8, ls="--", label=f"threshold {threshold}")
        ax_loss.set(yscale="log", ylabel="cross-entropy", title=f"{TASK_LABELS[task]}: loss")
        ax_acc.plot(h["samples"], h["val_acc"], color="C2", label="validation token accuracy")
        ax_acc.set(xlabel="training samples", ylabel="token accuracy", ylim=(0, 1.02),
                   title=f"{TASK_LABELS[task]}: accuracy")
        for ax in (ax_loss, ax_acc):
            _length_axis(ax, h["samples"], h["noise_len"] + 2 * N_DATA)  # the length trained at up to each validation
        ax_loss.legend(loc="lower left")
    return fig


def _length_axis(ax: Axes, samples: pd.Series, lengths: pd.Series) -> None:
    twin = ax.twinx()
    twin.step(samples, lengths, where="pre", color="black", lw=1, alpha=0.5, label="sequence length")
    twin.set(yscale="log", ylabel="length")
    twin.set_yticks(sorted(lengths.unique()), [str(n) for n in sorted(lengths.unique())])
    twin.minorticks_off()
    twin.grid(False)


def plot_validation_accuracy(experiment: Experiment) -> Figure:
    """Every model's validation accuracy against samples, each at its own curriculum length."""
    fig, axes = page_figure(len(COPY_TASKS), row_height=3.4, squeeze=False)
    for ax, task in zip(axes[:, 0], COPY_TASKS):
        for role, run in experiment.runs[task].items():
            h = run.history
            ax.plot(h["samples"], h["val_acc"], color=ROLE_COLOURS[role],
                    label=f"{run.kind} (reached {run.final_len + 2 * N_DATA})")
        ax.axhline(CHANCE, color="grey", lw=0.8, ls=":", label="chance 1/14")
        ax.set(xlabel="training samples", ylabel="validation token accuracy", ylim=(0, 1.02), title=TASK_LABELS[task])
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_alpha(experiment: Experiment) -> Figure:
    """α of the paper's model against samples: learnable on copy, fixed on selective copy."""
    fig, ax = page_figure(row_height=3.4)
    for task in COPY_TASKS:
        h = experiment.runs[task]["recurrent"].history
        ax.plot(h["samples"], h["alpha"], label=f"{TASK_LABELS[task]} ({'learnable' if task == 'copy' else 'fixed'})")
    ax.set(xlabel="training samples", ylabel="α (clamped)", ylim=(-0.02, 1.02), title="α of the paper's model")
    ax.legend()
    return fig


def not_comparable_reasons(metrics: dict[str, float], profile: str) -> dict[str, str]:
    """A claim about length 4,128 is not comparable when the curriculum did not get there."""
    reasons: dict[str, str] = {}
    for claim_id, task in (("copy_4128", "copy"), ("selective_copy_4128", "selective_copy"), ("rt_accumulate", "copy")):
        reached = int(metrics[f"{task}_final_noise_len"])
        if reached < FULL_NOISE:
            reasons |= not_comparable([claim_id], f"{profile} profile: the curriculum reached length "
                                                  f"{reached + 2 * N_DATA}, not {FULL_NOISE + 2 * N_DATA}")
    return reasons


def in_words(experiment: Experiment, metrics: dict[str, float], baseline_steps: int, batch_size: int, rnn: str) -> str:
    """Per task: the length reached and the accuracy there, the forget ablation, and the baselines."""
    words = []
    for task in COPY_TASKS:
        m = {key.removeprefix(f"{task}_"): value for key, value in metrics.items() if key.startswith(f"{task}_")}
        reached, short = experiment.reached[task] + 2 * N_DATA, experiment.baseline_len[task] + 2 * N_DATA
        forget_len = int(m["final_noise_len_forget"]) + 2 * N_DATA
        words.append(f"On {TASK_LABELS[task]} the paper's model reached length {reached} and scores "
                     f"{100 * m['acc']:.2f} % there.")
        if forget_len <= reached:
            clear = m["acc.ci_low"] > m["acc_forget.ci_high"]
            words.append(f"The forget ablation reached length {forget_len} and scores {100 * m['acc_forget']:.1f} % at "
                         f"{reached}: accumulating {'beats' if clear else 'does not clearly beat'} forgetting.")
        else:
            words.append(f"The forget ablation got further, to length {forget_len}, where it scores "
                         f"{100 * m['acc_own_len_forget']:.1f} %; its {100 * m['acc_forget']:.1f} % at the shorter "
                         "length is no test of accumulating, since its learned positions were last trained for the "
                         "longer one.")
        words.append(f"At length {short}, after {baseline_steps * batch_size:,} samples each, the regular transformer "
                     f"scores {100 * m['acc_regular']:.1f} % and the {rnn.upper()} {100 * m['acc_rnn']:.1f} %, against "
                     f"{100 * m['acc_at_baseline_len']:.1f} % for the paper's model.")
        block = experiment.runs[task]["recurrent"].state.model.cfg.block
        if reached <= 2 * block:
            words.append(f"At {reached} tokens a sequence is only two blocks of {block}, so the carry that α scales "
                         "barely enters and the ablation says little about accumulating.")
    return "**In words.** " + " ".join(words)
