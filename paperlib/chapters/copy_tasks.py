"""Chapter 'Copy and selective copy': the paper's model over seeds and its baselines on equal budgets,
trained on fresh batches under the author's length curriculum and scored at the lengths they trained at,
with the chapter's step benchmark, tables, figures and the prose that depends on numbers.

Every model sees fresh batches from `paperlib.data.synthetic` at the length a `Curriculum` sets
(methods page, copy data and curriculum), is validated on fresh batches seeded by the step (so every
model meets the same ones) and can be checkpointed and resumed. Models by role:

    recurrent  the paper's model: alpha learnable (copy) or fixed at 0.5 (selective copy); one run per seed
    forget     the same with alpha = 0, the ablation
    regular    a one-layer full-attention transformer of the same width
    rnn        a GRU or LSTM sized to the paper model's parameter count

Every model of a task trains for the same number of steps of the same batch size (equal training
samples) under the same curriculum, so a model reaches a length only by learning the shorter ones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from paperlib.bench import time_call
from paperlib.book.verdicts import not_comparable
from paperlib.context import RunContext
from paperlib.data.synthetic import N_DATA, copy_batch, copy_batches
from paperlib.models import n_params
from paperlib.models.paper_configs import paper_config, paper_model
from paperlib.models.rnn import RNNModel, hidden_for_params
from paperlib.plots import page_figure
from paperlib.progress import progress
from paperlib.stats import mean_ci
from paperlib.training.curriculum import Curriculum, LrRule
from paperlib.training.device import DeviceSetup, configure_device
from paperlib.training.evaluation import score
from paperlib.training.loop import Batch, State, forward_backward, init
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig
from paperlib.training.run import Checkpointing, train_resumable

CopyTask = Literal["copy", "selective_copy"]
ModelKind = Literal["recurrent", "forget", "regular", "gru", "lstm"]
CurriculumName = Literal["feb2026", "july2025"]
COPY_TASKS: tuple[str, ...] = get_args(CopyTask)
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)
BASELINES = ("forget", "regular", "rnn")
TASK_LABELS = {"copy": "copy", "selective_copy": "selective copy"}
ROLE_COLOURS = {"recurrent": "C0", "forget": "C1", "regular": "C2", "rnn": "C3"}
PAPER_PARAMS = 508_705  # the paper's copy model (methods page, parameter counts)
CHANCE = 1 / 14  # 14 data symbols
AT_CHANCE_BELOW = 2 * CHANCE  # a token accuracy below twice chance counts as not learned
FULL_NOISE = 4096  # noise tokens at the paper's length 4,128
# The author's two curricula (methods page, curriculum): first noise length, and K = min(L // 2, cap)
# for July 2025 (None: the model's K = 32 at every length, Feb 2026).
CURRICULA: dict[str, tuple[int, int | None]] = {"feb2026": (128, None), "july2025": (32, 32)}
_PURPOSES = {"validation": 0, "final": 1}
_STEP_BITS, _SEED_BITS = 23, 7  # validations up to step 8,388,607; seeds 0..127


def eval_seed(seed: int, purpose: Literal["validation", "final"], step: int = 0) -> int:
    """Seed of the validation batches at `step`, or of the final evaluation's: one integer per (seed, purpose,
    step), inside the 32 bits torch's CPU generator keeps (it drops higher bits, so seeds 2**32 + k and k draw
    the same batches), and at or above 2**31, so never a training stream's seed (the run's seed, below 128)."""
    if not 0 <= seed < 2**_SEED_BITS or not 0 <= step < 2**_STEP_BITS:
        raise ValueError(f"eval_seed needs 0 <= seed < {2**_SEED_BITS} and 0 <= step < {2**_STEP_BITS}; "
                         f"got seed {seed}, step {step}")
    return 2**31 + ((seed << 1 | _PURPOSES[purpose]) << _STEP_BITS) + step


def make_model(task: CopyTask, kind: ModelKind, dropout: float | None = None) -> nn.Module:
    """A model of `kind` for `task` (see the module docstring); `dropout` replaces the paper's 0.05 in the
    transformers (the RNN has none)."""
    if task not in COPY_TASKS or kind not in MODEL_KINDS:
        raise ValueError(f"task must be one of {COPY_TASKS} and kind one of {MODEL_KINDS}; got {task!r}, {kind!r}")
    if kind in ("gru", "lstm"):
        return RNNModel(kind, hidden=hidden_for_params(PAPER_PARAMS, kind))
    overrides = {} if dropout is None else {"dropout": dropout}
    if kind == "forget":
        return paper_model(task, "recurrent", alpha="forget", **overrides)
    return paper_model(task, kind, **overrides)


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


def accuracy_ci(accs: Sequence[float]) -> tuple[float, float, float]:
    """(mean, low, high): the 95 % Student-t interval of the mean accuracy clipped to [0, 1] (NaN bounds
    for one value)."""
    mean, low, high = mean_ci(accs)
    return mean, max(low, 0.0), min(high, 1.0)  # max(nan, 0.0) is nan


@dataclass
class Settings:
    """How every model of a chapter is trained and evaluated."""

    setup: DeviceSetup
    batch_size: int = 64
    lr: float = 5e-4
    curriculum: CurriculumName = "feb2026"  # the author's start and block rule (see CURRICULA)
    cap: int = FULL_NOISE  # the target noise length
    threshold: float = 0.3  # validation loss below which the length doubles
    lr_rule: LrRule = "code"  # see `paperlib.training.curriculum`
    eval_every: int = 500  # steps between validations
    eval_batches: int = 500  # fresh batches per validation
    dropout: float | None = None  # None keeps the paper's 0.05
    steps_at_cap: int | None = None  # end a run this many steps after it reached the cap (None: every step)
    checkpointing: Checkpointing = Checkpointing()
    context: RunContext = RunContext()  # the run's deadline and run filter (`paperlib.context`)

    def __post_init__(self) -> None:
        if self.curriculum not in CURRICULA:
            raise ValueError(f"curriculum must be one of {sorted(CURRICULA)}, got {self.curriculum!r}")

    @property
    def start(self) -> int:
        """The curriculum's first noise length (never past the cap)."""
        return min(CURRICULA[self.curriculum][0], self.cap)

    def make_curriculum(self) -> Curriculum:
        return Curriculum(self.start, self.cap, self.threshold, self.lr_rule, N_DATA,
                          block_cap=CURRICULA[self.curriculum][1], steps_at_cap=self.steps_at_cap)


@dataclass
class CopyRun:
    """One trained model: its state (history, curriculum log in `state.extra`) and its cost."""

    task: CopyTask
    kind: ModelKind
    state: State
    batch_size: int
    wall_s: float  # this session's seconds in training, validations included
    cap: int  # the longest noise length its curriculum could reach
    resumed_at: int | None = None  # the step a checkpoint resumed from
    scores: dict[tuple[int, int, int], tuple[float, float, float]] = field(default_factory=dict, repr=False)

    @property
    def seed(self) -> int:
        return self.state.seed

    @property
    def history(self) -> pd.DataFrame:
        """One row per validation, with the training samples seen by then."""
        df = pd.DataFrame(self.state.history)
        return df.assign(samples=df["step"] * self.batch_size)

    @property
    def final_len(self) -> int:
        """The longest noise length this model trained and was validated at (the length reached)."""
        return int(self.state.history[-1]["noise_len"])

    def trained_at(self, noise_len: int) -> bool:
        """Whether the curriculum trained this model at `noise_len` (a length it passed through or reached)."""
        return any(int(h["noise_len"]) == noise_len and h["step"] > 0 for h in self.state.history)

    @property
    def samples(self) -> int:
        return self.state.step * self.batch_size

    @property
    def step_to_final_len(self) -> int:
        """The step at which the curriculum first set the final length (0: it started there)."""
        return next((c["step"] for c in self.state.extra["length_changes"] if c["to"] == self.final_len), 0)

    @property
    def samples_to_final_len(self) -> int:
        """Training samples before the curriculum first set the final length."""
        return self.step_to_final_len * self.batch_size

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
                _, acc = per_batch(model, self.task, noise_len, n_batches, batch_size, eval_seed(self.seed, "final"))
            self.scores[key] = accuracy_ci(acc)
        return self.scores[key]


def train_copy(task: CopyTask, kind: ModelKind, steps: int, settings: Settings, seed: int = 0, *,
               show_progress: bool = True) -> CopyRun:
    """Train a `kind` model on `task` for `steps` steps with the curriculum of `settings`."""
    s = settings
    curriculum = s.make_curriculum()
    state = init(lambda: make_model(task, kind, s.dropout), OptimizerConfig(lr=s.lr), seed, s.setup)
    meta = {"task": task, "kind": kind, "curriculum": s.curriculum, "start": s.start, "cap": s.cap, "seed": seed,
            "batch_size": s.batch_size, "lr": s.lr, "lr_rule": s.lr_rule, "threshold": s.threshold,
            "eval_every": s.eval_every, "eval_batches": s.eval_batches, "dropout": s.dropout,
            "steps_at_cap": s.steps_at_cap}
    selective = task == "selective_copy"

    def validate(model: nn.Module) -> dict[str, float]:
        losses, accs = per_batch(model, task, state.extra["noise_len"], s.eval_batches, s.batch_size,
                                 eval_seed(seed, "validation", state.step))
        alpha = alpha_of(model)
        return {"val_loss": float(pd.Series(losses).mean()), "val_acc": float(pd.Series(accs).mean()),
                **({} if alpha is None else {"alpha": alpha})}

    def sample(st: State) -> Batch:
        return copy_batch(s.batch_size, st.extra["noise_len"], selective=selective, generator=st.generator)

    began = time.perf_counter()
    resumed = train_resumable(state, sample, model_loss(), steps, chapter="copy_tasks",
                              name=f"{task}-{kind}-{s.curriculum}-cap{s.cap}-seed{seed}", meta=meta,
                              checkpointing=s.checkpointing, context=s.context, callbacks=[curriculum],
                              eval_steps=[*range(0, steps, s.eval_every), steps], evaluate=validate,
                              show_progress=show_progress, desc=f"{task} {kind} seed {seed}")
    return CopyRun(task, kind, state, s.batch_size, time.perf_counter() - began, s.cap, resumed)


@dataclass
class Experiment:
    """Every run of the chapter by task and role: the paper's model once per seed, each baseline once."""

    runs: dict[str, dict[str, list[CopyRun]]]

    def paper(self, task: str) -> list[CopyRun]:
        return self.runs[task]["recurrent"]

    def reached(self, task: str) -> int:
        """The noise length every seed of the paper's model reached: where its headline is scored."""
        return min(run.final_len for run in self.paper(task))

    def baselines(self, task: str) -> dict[str, CopyRun]:
        return {role: runs[0] for role, runs in self.runs[task].items() if role != "recurrent"}


def train_all(settings: Settings, steps: dict[str, int], seeds: Sequence[int], rnn: Literal["gru", "lstm"],
              baselines: bool = True, baseline_cap: int = FULL_NOISE) -> Experiment:
    """Per task: the paper's model for each seed; with `baselines`, the forget ablation, the regular
    transformer and the RNN, each with the first seed, the same curriculum up to `baseline_cap` and
    exactly as many training steps as the first seed took (it may have ended early under
    `settings.steps_at_cap`)."""
    experiment = Experiment({})
    for task in COPY_TASKS:
        runs = {"recurrent": [train_copy(task, "recurrent", steps[task], settings, seed) for seed in seeds]}
        if baselines:
            budget = runs["recurrent"][0].state.step
            fixed = replace(settings, steps_at_cap=None, cap=min(settings.cap, baseline_cap))
            for role, kind in (("forget", "forget"), ("regular", "regular"), ("rnn", rnn)):
                runs[role] = [train_copy(task, kind, budget, fixed, seeds[0])]
        experiment.runs[task] = runs
    return experiment


def results(experiment: Experiment, final_batches: int, batch_size: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Every run's size, cost and final token accuracy on fresh data, and the chapter's metrics.

    The paper's model is scored at the length every seed reached, with a 95 % t-interval over seeds. A
    baseline is scored at the lengths it trained at only: at the paper model's length when its curriculum
    got there, else at its own final length, where the paper's seeds are scored too for the comparison.
    """
    metrics: dict[str, float] = {}
    rows = []
    for task in experiment.runs:
        paper, reached = experiment.paper(task), experiment.reached(task)
        accs = [run.final_eval(reached, final_batches, batch_size)[0] for run in paper]
        mean, low, high = accuracy_ci(accs)
        metrics.update({f"{task}_acc": mean, f"{task}_acc.ci_low": low, f"{task}_acc.ci_high": high,
                        f"{task}_final_noise_len": reached, f"{task}_seeds": len(paper),
                        f"{task}_samples": paper[0].samples, f"{task}_train_s": sum(r.state.train_time for r in paper),
                        f"{task}_wall_s": sum(r.wall_s for runs in experiment.runs[task].values() for r in runs)})
        for run, acc in zip(paper, accs):
            metrics.update({f"{task}_acc.seed{run.seed}": acc, f"{task}_final_noise_len.seed{run.seed}": run.final_len,
                            f"{task}_samples.seed{run.seed}": run.samples,
                            f"{task}_samples_to_final_len.seed{run.seed}": run.samples_to_final_len})
        for role, run in experiment.baselines(task).items():
            metrics.update(_baseline_metrics(task, role, run, paper, reached, final_batches, batch_size))
        for runs in experiment.runs[task].values():
            for run in runs:
                own = run.final_eval(run.final_len, final_batches, batch_size)
                rows.append({"task": TASK_LABELS[task], "model": run.kind, "seed": run.seed, "parameters": run.n_params,
                             "samples": run.samples, "trained up to length": run.final_len + 2 * N_DATA,
                             "samples to reach it": run.samples_to_final_len, "train time (s)": run.state.train_time,
                             "accuracy at its own length": _shown(own),
                             "at the paper model's length": _shown(run.final_eval(reached, final_batches, batch_size))
                             if run.trained_at(reached) else "not trained there",
                             "learned": "yes" if own[0] >= AT_CHANCE_BELOW else "no: at chance"})
    copy_model = experiment.paper("copy")[0].state.model
    metrics.update(alpha=alpha_of(copy_model), alpha_raw=copy_model.alpha_raw.item())
    return pd.DataFrame(rows).set_index(["task", "model", "seed"]), metrics


def _shown(acc: tuple[float, float, float]) -> str:
    return f"{acc[0]:.4f} [{acc[1]:.4f}, {acc[2]:.4f}]"


def _baseline_metrics(task: str, role: str, run: CopyRun, paper: list[CopyRun], reached: int, final_batches: int,
                      batch_size: int) -> dict[str, float]:
    """A baseline's length, whether it stalled (its curriculum stopped short of both its cap and the paper
    model's length), its accuracy at the paper model's length (only if it trained there), and, at the
    shorter of the two lengths, its accuracy beside the paper seeds' mean."""
    own = run.final_eval(run.final_len, final_batches, batch_size)
    common = min(run.final_len, reached)
    at_common = run.final_eval(common, final_batches, batch_size)
    metrics = {f"{task}_final_noise_len_{role}": run.final_len, f"{task}_samples_{role}": run.samples,
               f"{task}_train_s_{role}": run.state.train_time, f"{task}_acc_own_len_{role}": own[0],
               f"{task}_reached_{role}": float(run.trained_at(reached)),
               f"{task}_stalled_{role}": float(run.final_len < min(run.cap, reached)),
               f"{task}_learned_{role}": float(own[0] >= AT_CHANCE_BELOW),
               f"{task}_compared_noise_len_{role}": common, f"{task}_acc_compared_{role}": at_common[0],
               f"{task}_acc_compared_{role}.ci_low": at_common[1], f"{task}_acc_compared_{role}.ci_high": at_common[2],
               f"{task}_paper_acc_compared_{role}": float(np.mean(
                   [p.final_eval(common, final_batches, batch_size)[0] for p in paper]))}
    if run.trained_at(reached):
        metrics[f"{task}_acc_{role}"] = at_common[0]
    return metrics


def length_log(experiment: Experiment, batch_size: int) -> pd.DataFrame:
    """Per task and run of the paper's model, per length trained at: the steps spent there, the best
    validation loss and accuracy it reached, and whether it passed the threshold (the curriculum's log)."""
    rows = []
    for task in experiment.runs:
        for run in experiment.paper(task):
            h = run.history[run.history["step"] > 0]
            passed = {c["from"] for c in run.state.extra["length_changes"]}
            for length, g in h.groupby("noise_len", sort=True):
                first = run.history.loc[g.index[0] - 1, "step"]  # the validation that set this length
                rows.append({"task": TASK_LABELS[task], "seed": run.seed, "length": int(length) + 2 * N_DATA,
                             "steps there": int(g["step"].iloc[-1] - first),
                             "samples there": int(g["step"].iloc[-1] - first) * batch_size,
                             "best val loss": g["val_loss"].min(), "best val acc": g["val_acc"].max(),
                             "passed": "yes" if int(length) in passed else "no"})
    return pd.DataFrame(rows)


def stall_words(experiment: Experiment, threshold: float) -> str:
    """Per task whose seeds did not all reach the cap: where each stopped, how far its validation loss and
    accuracy moved there, and the distance left to the threshold."""
    words = []
    for task in experiment.runs:
        for run in experiment.paper(task):
            if run.final_len >= run.cap:
                continue
            there = run.history[run.history["noise_len"] == run.final_len]
            words.append(f"{TASK_LABELS[task]}, seed {run.seed}: at length {run.final_len + 2 * N_DATA} for "
                         f"{int(there['step'].iloc[-1] - run.step_to_final_len):,} steps, validation loss "
                         f"{there['val_loss'].iloc[0]:.3f} → {there['val_loss'].iloc[-1]:.3f} (threshold {threshold:g}), "
                         f"token accuracy {there['val_acc'].iloc[0]:.1%} → {there['val_acc'].iloc[-1]:.1%}.")
    if not words:
        return "Every seed of the paper's model reached the cap on both tasks."
    return "**Where each seed stopped.** " + " ".join(words)


def plot_curves(experiment: Experiment, threshold: float) -> Figure:
    """Per task: validation loss, then validation accuracy, of every seed of the paper's model against
    samples, with the curriculum's sequence length (first seed) on a second axis (the Note's Fig. 4)."""
    fig, axes = page_figure(2 * len(experiment.runs), row_height=3.0)
    for i, task in enumerate(experiment.runs):
        ax_loss, ax_acc = axes[2 * i], axes[2 * i + 1]
        for j, run in enumerate(experiment.paper(task)):
            h = run.history
            ax_loss.plot(h["samples"], h["val_loss"], color=f"C{j}", label=f"seed {run.seed}")
            ax_acc.plot(h["samples"], h["val_acc"], color=f"C{j}", label=f"seed {run.seed}")
        ax_loss.axhline(threshold, color="grey", lw=0.8, ls="--", label=f"threshold {threshold}")
        ax_loss.set(yscale="log", ylabel="validation loss", title=f"{TASK_LABELS[task]}: loss")
        ax_acc.axhline(CHANCE, color="grey", lw=0.8, ls=":", label="chance 1/14")
        ax_acc.set(xlabel="training samples", ylabel="validation token accuracy", ylim=(0, 1.02),
                   title=f"{TASK_LABELS[task]}: accuracy")
        first = experiment.paper(task)[0].history
        for ax in (ax_loss, ax_acc):
            _length_axis(ax, first["samples"], first["noise_len"] + 2 * N_DATA)
        ax_loss.legend(loc="lower left")
    return fig


def _length_axis(ax: Axes, samples: pd.Series, lengths: pd.Series) -> None:
    twin = ax.twinx()
    twin.step(samples, lengths, where="pre", color="black", lw=1, alpha=0.5, label="sequence length")
    twin.set(yscale="log", ylabel="length")
    twin.set_yticks(sorted(lengths.unique()), [str(n) for n in sorted(lengths.unique())])
    twin.minorticks_off()
    twin.grid(False)


def plot_by_length(experiment: Experiment, task: CopyTask, threshold: float) -> Figure:
    """The paper model's validation loss at each length against the steps spent at that length (one panel
    per seed): how fast each length is learned, and where a run stalls above the threshold."""
    runs = experiment.paper(task)
    fig, axes = page_figure(len(runs), row_height=2.8, squeeze=False)
    for ax, run in zip(axes[:, 0], runs):
        h = run.history[run.history["step"] > 0]
        for k, (length, g) in enumerate(h.groupby("noise_len", sort=True)):
            first = run.history.loc[g.index[0] - 1, "step"]
            ax.plot(g["step"] - first, g["val_loss"], marker=".", color=f"C{k}", label=f"{int(length) + 2 * N_DATA}")
        ax.axhline(threshold, color="grey", lw=0.8, ls="--")
        ax.set(yscale="log", xlabel="steps at this length", ylabel="validation loss",
               title=f"{TASK_LABELS[task]}, seed {run.seed}: loss at each length (dashed: threshold {threshold})")
        ax.legend(title="length", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_validation_accuracy(experiment: Experiment) -> Figure:
    """Every model's validation accuracy against samples, each at its own curriculum length (first seed)."""
    fig, axes = page_figure(len(experiment.runs), row_height=3.4, squeeze=False)
    for ax, task in zip(axes[:, 0], experiment.runs):
        for role, runs in experiment.runs[task].items():
            h = runs[0].history
            ax.plot(h["samples"], h["val_acc"], color=ROLE_COLOURS[role],
                    label=f"{runs[0].kind} (reached {runs[0].final_len + 2 * N_DATA})")
        ax.axhline(CHANCE, color="grey", lw=0.8, ls=":", label="chance 1/14")
        ax.set(xlabel="training samples", ylabel="validation token accuracy", ylim=(0, 1.02), title=TASK_LABELS[task])
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_alpha(experiment: Experiment) -> Figure:
    """α of the paper's model (first seed) against samples: learnable on copy, fixed on selective copy."""
    fig, ax = page_figure(row_height=3.4)
    for task in experiment.runs:
        h = experiment.paper(task)[0].history
        ax.plot(h["samples"], h["alpha"], label=f"{TASK_LABELS[task]} ({'learnable' if task == 'copy' else 'fixed'})")
    ax.set(xlabel="training samples", ylabel="α (clamped)", ylim=(-0.02, 1.02), title="α of the paper's model")
    ax.legend()
    return fig


@dataclass(frozen=True)
class StepVariant:
    """One way to run the copy model's training step: a device set-up and a dropout rate."""

    name: str
    setup: DeviceSetup
    dropout: float


def step_variants(device: str, threads: int, run: DeviceSetup, dropout: float) -> list[StepVariant]:
    """The levers of a faster step, one at a time from the eager fp32 step with the paper's dropout, and this
    run's own step: the last row, or the lever it equals, named so."""
    paper_dropout = paper_config("copy", "recurrent").dropout
    fp32 = configure_device(device, threads, "fp32")
    variants = [StepVariant(f"eager, fp32, dropout {paper_dropout:g} (the paper's model as before)", fp32,
                            paper_dropout),
                StepVariant("dropout off", fp32, 0.0),
                StepVariant("dropout off, bf16 autocast", configure_device(device, threads, "bf16"), 0.0),
                StepVariant("dropout off, compiled layer", configure_device(device, threads, "fp32", True), 0.0)]
    same = [i for i, v in enumerate(variants) if (v.setup.description, v.dropout) == (run.description, dropout)]
    if same:
        variants[same[0]] = replace(variants[same[0]], name=f"{variants[same[0]].name} = this run's step")
    else:
        variants.append(StepVariant("this run's step", run, dropout))
    return variants


def step_benchmark(variants: Sequence[StepVariant], noise_len: int, batch_size: int, repeats: int = 2
                   ) -> pd.DataFrame:
    """Seconds per training step of the paper's copy model at `noise_len` for each variant, from the same
    weights on the same batch, and the speed-up over the first; and how far each step's loss and gradients
    are from the first's with dropout off (eval mode), where only precision and compilation differ."""
    torch.manual_seed(0)
    weights = make_model("copy", "recurrent").state_dict()
    batch = copy_batch(batch_size, noise_len, generator=torch.Generator().manual_seed(0))
    loss_fn = model_loss()
    rows, reference = [], None
    for variant in progress(variants, desc="step variants"):
        model = variant.setup.prepare(make_model("copy", "recurrent", variant.dropout))
        model.load_state_dict(weights)
        x, y = (t.to(variant.setup.device) for t in batch)

        def step(model: nn.Module = model, setup: DeviceSetup = variant.setup, x: torch.Tensor = x,
                 y: torch.Tensor = y) -> torch.Tensor:
            return forward_backward(model, loss_fn, (x, y), setup)

        model.eval()
        loss = step().item()
        grad = torch.cat([p.grad.flatten().float().cpu() for p in model.parameters()])
        if reference is None:
            reference = (loss, grad)
        model.train()
        seconds = min(time_call(step, variant.setup.device, warmup=1, repeats=repeats))
        rows.append({"step": variant.name, "setup": variant.setup.description, "dropout": variant.dropout,
                     "seconds per step": seconds, "|Δ loss|": abs(loss - reference[0]),
                     "max |Δ grad| / max |grad|": float((grad - reference[1]).abs().max() / reference[1].abs().max())})
    table = pd.DataFrame(rows).set_index("step")
    table.insert(3, "speed-up", table["seconds per step"].iloc[0] / table["seconds per step"])
    return table


def not_comparable_reasons(metrics: dict[str, float], profile: str) -> dict[str, str]:
    """A claim about length 4,128 is not comparable when the curriculum did not get there."""
    reasons: dict[str, str] = {}
    for claim_id, task in (("copy_4128", "copy"), ("selective_copy_4128", "selective_copy"), ("rt_accumulate", "copy")):
        reached = int(metrics[f"{task}_final_noise_len"])
        if reached < FULL_NOISE:
            reasons |= not_comparable([claim_id], f"{profile} profile: the curriculum reached length "
                                                  f"{reached + 2 * N_DATA}, not {FULL_NOISE + 2 * N_DATA}")
    return reasons


def in_words(experiment: Experiment, metrics: dict[str, float], rnn: str) -> str:
    """Per task: the length every seed reached and the accuracy there, then each baseline on the same budget."""
    words = []
    for task in experiment.runs:
        m = {key.removeprefix(f"{task}_"): value for key, value in metrics.items() if key.startswith(f"{task}_")}
        reached = experiment.reached(task) + 2 * N_DATA
        lengths = sorted({run.final_len + 2 * N_DATA for run in experiment.paper(task)})
        spread = "" if len(lengths) == 1 else f" (the seeds reached {', '.join(map(str, lengths))})"
        learned = "" if m["acc"] >= AT_CHANCE_BELOW else " — at chance: the model did not learn, so this is no finding"
        words.append(f"On {TASK_LABELS[task]} every seed of the paper's model reached length {reached}{spread}; there "
                     f"its token accuracy is {100 * m['acc']:.2f} % over {int(m['seeds'])} seeds "
                     f"(95 % CI {100 * m['acc.ci_low']:.2f}–{100 * m['acc.ci_high']:.2f} %){learned}.")
        for role, run in experiment.baselines(task).items():
            name = {"forget": "the forget ablation (α = 0)", "regular": "the regular transformer",
                    "rnn": f"the {rnn.upper()}"}[role]
            own = int(m[f"final_noise_len_{role}"]) + 2 * N_DATA
            how = "" if m[f"learned_{role}"] else " but stayed at chance (it did not learn)"
            stalled = (" (its curriculum stalled there)" if m[f"stalled_{role}"] else
                       " (the cap of its curriculum in this profile)" if run.final_len == run.cap else "")
            if m[f"reached_{role}"]:
                words.append(f"With the same {int(m[f'samples_{role}']):,} samples, {name} reached length "
                             f"{own}{how} and scores {100 * m[f'acc_{role}']:.1f} % at {reached}.")
            else:
                compared = int(m[f"compared_noise_len_{role}"]) + 2 * N_DATA
                words.append(f"With the same {int(m[f'samples_{role}']):,} samples, {name} got to length {own}"
                             f"{stalled}{how}: {100 * m[f'acc_compared_{role}']:.1f} % at {compared}, against "
                             f"{100 * m[f'paper_acc_compared_{role}']:.1f} % for the paper's model there; it never "
                             f"trained at {reached}, so it is not scored there.")
    return "**In words.** " + " ".join(words)
