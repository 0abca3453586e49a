"""Chapter 'Weber–Fechner on MNIST': every model trained over seeds, paired comparisons, tables, prose.

Models are named TRUNK_VARIANT (`mlp_wf`, `cnn_plain`, ...; see `VARIANTS`). Runs with the same seed
see the same batches and the trunk's same initial weights, so differences are paired by seed. The
verdict rule (methods page, Weber–Fechner): at two or more checkpoints of at most 200 steps the
paired 95 % CI of a model minus its best control excludes 0 in the model's favour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from torch import Tensor

from paperlib.book.verdicts import Verdict
from paperlib.models import n_params
from paperlib.models.weber_fechner import Spec, build, macs
from paperlib.plots import COLOURS, page_figure
from paperlib.progress import progress
from paperlib.stats import ci_table, paired_diff_ci
from paperlib.training.batches import shuffled_batches, steps_per_epoch, tensor_batches
from paperlib.training.callbacks import OneCycle
from paperlib.training.device import DeviceSetup
from paperlib.training.evaluation import score
from paperlib.training.loop import init, train
from paperlib.training.losses import CRITERIA, model_loss
from paperlib.training.optim import OptimizerConfig

VARIANTS = {  # name suffix -> (head, m, x, loss); the prefix names the trunk
    "plain": ("plain", 8, 1.0, "ce"),
    "wf": ("harmonic", 8, 1.0, "ce"),
    "wf_x50": ("harmonic", 8, 0.5, "ce"),
    "wf_x90": ("harmonic", 8, 0.9, "ce"),
    "wf_m4": ("harmonic", 4, 1.0, "ce"),
    "wf_m16": ("harmonic", 16, 1.0, "ce"),
    "alt": ("alternating", 8, 1.0, "ce"),
    "log": ("log", 8, 1.0, "ce"),
    "logpow": ("log_power", 8, 1.0, "ce"),
    "learned": ("learned", 8, 1.0, "ce"),
    "max": ("max", 8, 1.0, "ce"),
    "mean": ("mean", 8, 1.0, "ce"),
    "sum": ("sum", 8, 1.0, "ce"),
    "unsorted": ("unsorted", 8, 1.0, "ce"),
    "scaled": ("scaled", 8, 1.0, "ce"),
    "l1": ("plain", 8, 1.0, "rank_class"),
    "l1b": ("plain", 8, 1.0, "rank_batch"),
    "l2": ("plain", 8, 1.0, "relative"),
    "l3": ("plain", 8, 1.0, "log_ce"),
}
WF_MODELS = {f"{t}_{v}": Spec(t, *VARIANTS[v]) for t in ("mlp", "cnn") for v in VARIANTS}
CHECKPOINTS = (10, 25, 50, 100, 200, 500)
CONTROL_VARIANTS = ("plain", "max", "mean", "sum", "unsorted")
CLAIM_MODELS = {  # claim id -> (prefix of the metrics its rule reads, the model it judges)
    "wf_mlp_few_iterations": ("wf_mlp", "mlp_wf"),
    "wf_cnn_few_iterations": ("wf_cnn", "cnn_wf"),
    "wf_loss_variant": ("wf_loss", "mlp_l1"),
}
CLAIM_WORDS = {"wf_mlp_few_iterations": "Without convolution", "wf_cnn_few_iterations": "With convolution",
               "wf_loss_variant": "In the loss (our interpretation of arXiv 2208.11236)"}
HEAD_GAINS = {"sum": "Σ h, gain m", "wf": "Σ h/k, gain H_m", "scaled": "Σ h/(k H_m), gain 1", "plain": "Linear(·, 10)"}


def model_names(mlp_variants: str, cnn_variants: str) -> list[str]:
    """The models of comma-separated variant lists, MLP first; an unknown variant is an error naming it."""
    names = [f"mlp_{v}" for v in mlp_variants.split(",") if v] + [f"cnn_{v}" for v in cnn_variants.split(",") if v]
    unknown = [n for n in names if n not in WF_MODELS]
    if unknown:
        raise ValueError(f"unknown model variant(s) {unknown}; known: {', '.join(VARIANTS)}")
    return names


def parse_channels(text: str) -> tuple[int, int]:
    """'8,16' -> (8, 16): the CNN's two convolution widths."""
    try:
        c1, c2 = (int(c) for c in text.split(","))
    except ValueError:
        raise ValueError(f"cnn_channels must be two integers like '32,64', got {text!r}") from None
    return c1, c2


def eval_schedule(checkpoints: Iterable[int], every: int, steps: int) -> list[int]:
    """The sorted union of `checkpoints` and the multiples of `every` (e.g. each epoch), up to `steps`."""
    return sorted({s for s in checkpoints if s <= steps} | set(range(every, steps + 1, every)))


def model_sizes(names: Sequence[str], channels: tuple[int, int], models: Mapping[str, Spec] = WF_MODELS
                ) -> pd.DataFrame:
    """Per model: head, m, loss, parameters and multiply-adds per image."""
    rows = []
    for name in names:
        spec, model = models[name], build(models[name], channels)
        rows.append({"model": name, "head": spec.head, "m": spec.m, "loss": spec.loss,
                     "parameters": n_params(model), "multiply-adds / image": macs(model)})
    return pd.DataFrame(rows).set_index("model")


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: Adam's settings, the batch size and the learning-rate schedule."""

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    batch_size: int = 32
    one_cycle: bool = False  # PyTorch's OneCycleLR over the run (peak: lr), else a constant lr


FAST_RECIPES = {  # the fastest published simple MNIST recipe (train_mnist_fast), and the same on the MLP
    "fast_cnn": (Spec("fast", "plain"), Recipe(lr=0.01, betas=(0.7, 0.9), batch_size=256, one_cycle=True)),
    "fast_mlp": (Spec("mlp", "plain"), Recipe(lr=0.01, betas=(0.7, 0.9), batch_size=256, one_cycle=True)),
}


def run_seeds(names: Sequence[str], seeds: Sequence[int], train_x: Tensor, train_y: Tensor, test_x: Tensor,
              test_y: Tensor, steps: int, setup: DeviceSetup, recipe: Recipe | Mapping[str, Recipe] = Recipe(),
              checkpoints: Sequence[int] = CHECKPOINTS, cnn_channels: tuple[int, int] = (32, 64),
              keras: bool = False, models: Mapping[str, Spec] = WF_MODELS) -> pd.DataFrame:
    """Train each model (of `models`) with each seed by its recipe; one row per (model, seed, evaluation).

    Evaluations on all of (test_x, test_y) follow `checkpoints` and every epoch. Runs with one seed and
    batch size see the same batches, in an order of their own per seed.
    """
    rows = []
    with progress(total=len(names) * len(seeds), desc="runs") as bar:
        for name in names:
            spec, how = models[name], recipe[name] if isinstance(recipe, Mapping) else recipe
            sample = shuffled_batches(train_x, train_y, how.batch_size)
            schedule = eval_schedule(checkpoints, steps_per_epoch(len(train_x), how.batch_size), steps)
            for seed in seeds:
                state = init(lambda: build(spec, cnn_channels, keras), OptimizerConfig(lr=how.lr, betas=how.betas),
                             seed, setup)
                train(state, sample, model_loss(CRITERIA[spec.loss]), steps, eval_steps=schedule,
                      evaluate=lambda model: score(model, tensor_batches(test_x, test_y)).summary(),
                      callbacks=[OneCycle(steps)] if how.one_cycle else [], show_progress=False)
                rows += [{"model": name, "seed": seed, **r, "peak_lr": how.lr} for r in state.history]
                bar.set_postfix(model=name)
                bar.update(1)
    return pd.DataFrame(rows)


def lr_grid(text: str) -> list[float]:
    """'1e-4,1e-3' -> [0.0001, 0.001]; an entry that is not a positive number is an error naming it."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"lr_grid must be comma-separated numbers, got {text!r}") from None
    if not values or min(values) <= 0:
        raise ValueError(f"lr_grid needs positive learning rates, got {text!r}")
    return sorted(values)


def sweep_lrs(names: Sequence[str], lrs: Sequence[float], seeds: Sequence[int], train_x: Tensor, train_y: Tensor,
              val_x: Tensor, val_y: Tensor, steps: int, setup: DeviceSetup, **kwargs: Any) -> pd.DataFrame:
    """`run_seeds` of every model at every learning rate, scored on the validation split (column `peak_lr`)."""
    return pd.concat([run_seeds(names, seeds, train_x, train_y, val_x, val_y, steps, setup, Recipe(lr=lr), **kwargs)
                      for lr in lrs], ignore_index=True)


def best_lrs(sweep: pd.DataFrame, max_step: int = 200) -> dict[str, float]:
    """Each model's learning rate with the highest validation accuracy averaged over its checkpoints of at
    most `max_step` steps and its seeds: the few-iteration regime the claims are about."""
    early = sweep[(sweep.step > 0) & (sweep.step <= max_step)]
    mean = early.groupby(["model", "peak_lr"], sort=False).acc.mean().reset_index()
    return {name: float(g.loc[g.acc.idxmax(), "peak_lr"]) for name, g in mean.groupby("model", sort=False)}


def tuned_metrics(runs: pd.DataFrame, best: Mapping[str, float]) -> dict[str, float]:
    """``best_lr.NAME``, ``acc_100_tuned.NAME`` (mean over seeds, with its CI; NaN for a run shorter than
    100 steps) and ``seconds_to_98.NAME`` (NaN if never reached)."""
    metrics: dict[str, float] = {}
    acc = ci_table(runs[runs.step == 100], ["model"], "acc").set_index("model")
    reached = time_to(runs, 0.98)
    for name, lr in best.items():
        metrics[f"best_lr.{name}"] = lr
        metrics |= {f"acc_100_tuned.{name}{suffix}": float(acc.loc[name, column]) if name in acc.index else math.nan
                    for suffix, column in (("", "mean"), (".ci_low", "ci_low"), (".ci_high", "ci_high"))}
        metrics[f"seconds_to_98.{name}"] = float(reached.loc[name, "seconds"])
    return metrics


def accuracy_metrics(acc: pd.DataFrame, names: Sequence[str], epoch: int) -> dict[str, float]:
    """``acc_100.NAME`` and ``acc_epoch1.NAME`` (mean over seeds), each with ``.ci_low`` and ``.ci_high``."""
    metrics = {}
    for name in names:
        for key, step in (("100", 100), ("epoch1", epoch)):
            row = acc[(acc.model == name) & (acc.step == step)].iloc[0]
            metrics.update({f"acc_{key}.{name}{suffix}": float(row[column])
                            for suffix, column in (("", "mean"), (".ci_low", "ci_low"), (".ci_high", "ci_high"))})
    return metrics


def advantage(runs: pd.DataFrame, model: str, controls: Sequence[str], step: int) -> tuple[str, float, float, float]:
    """(control, mean, low, high): test accuracy of `model` minus that of the control with the highest
    mean accuracy at `step`, paired by seed, with its 95 % t-interval."""
    at = runs[runs.step == step].pivot(index="seed", columns="model", values="acc")
    best = at[list(controls)].mean().idxmax()
    return best, *paired_diff_ci(at[model], at[best])


def checkpoints_won(runs: pd.DataFrame, model: str, controls: Sequence[str], max_step: int = 200) -> int:
    """Checkpoints of at most `max_step` steps where the paired 95 % CI of `advantage` lies above 0."""
    return sum(advantage(runs, model, controls, s)[2] > 0 for s in sorted(runs.step.unique()) if s <= max_step)


def controls_for(name: str, available: Sequence[str]) -> list[str]:
    """What `name` is judged against: a loss variant against cross-entropy on the same model; a head
    against the controls of its trunk that were run (the same-size reductions and the plain head)."""
    trunk = WF_MODELS[name].trunk
    if WF_MODELS[name].loss != "ce":
        return [f"{trunk}_plain"]
    return [f"{trunk}_{c}" for c in CONTROL_VARIANTS if f"{trunk}_{c}" in available and f"{trunk}_{c}" != name]


def claim_evidence(runs: pd.DataFrame, names: Sequence[str]) -> tuple[dict[str, float], dict[str, tuple[str, str]]]:
    """For each claim whose model and controls were run: the metrics its rule reads (advantage at 100
    steps with its CI, checkpoints won) and (model, best control at 100 steps)."""
    metrics, evidence = {}, {}
    for claim_id, (prefix, model) in CLAIM_MODELS.items():
        controls = controls_for(model, names) if model in names else []
        if not controls:
            continue
        control, diff, low, high = advantage(runs, model, controls, 100)
        metrics.update({f"{prefix}_advantage_100": diff, f"{prefix}_advantage_100.ci_low": low,
                        f"{prefix}_advantage_100.ci_high": high,
                        f"{prefix}_checkpoints_won": checkpoints_won(runs, model, controls)})
        evidence[claim_id] = (model, control)
    return metrics, evidence


def ablation_table(runs: pd.DataFrame, steps: Sequence[int]) -> pd.DataFrame:
    """Per model and step: test accuracy (%) as mean ± 95 % CI half-width, and the paired difference
    against the best of `controls_for` (* where its CI excludes 0)."""
    names = list(runs.model.unique())
    acc = ci_table(runs, ["model", "step"], "acc").set_index(["model", "step"])
    rows = []
    for name in names:
        row, controls = {"model": name}, controls_for(name, names)
        for step in steps:
            mean, low = acc.loc[(name, step), ["mean", "ci_low"]]
            row[f"acc @ {step}"] = f"{100 * mean:.2f} ± {100 * (mean - low):.2f}"
            if controls:
                control, diff, d_low, d_high = advantage(runs, name, controls, step)
                star = "*" if d_low > 0 or d_high < 0 else ""
                row[f"Δ @ {step}"] = f"{100 * diff:+.2f} ± {100 * (diff - d_low):.2f}{star} ({control})"
        rows.append(row)
    return pd.DataFrame(rows).set_index("model").fillna("")


def time_to(runs: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per model: the first evaluated step where the mean test accuracy over seeds reaches `threshold`,
    and the mean training seconds up to it (NaN if never; an upper bound between evaluations)."""
    mean = runs.groupby(["model", "step"], sort=False)[["acc", "time"]].mean().reset_index()
    rows = []
    for name, g in mean.groupby("model", sort=False):
        hit = g[g.acc >= threshold]
        rows.append({"model": name, "steps": hit.step.iloc[0] if len(hit) else math.nan,
                     "seconds": hit.time.iloc[0] if len(hit) else math.nan})
    return pd.DataFrame(rows).set_index("model")


def compute_table(runs: pd.DataFrame, sizes: pd.DataFrame, thresholds: Sequence[float] = (0.97, 0.98, 0.99)
                  ) -> pd.DataFrame:
    """Per model of `runs`: parameters, multiply-adds, training seconds per 100 steps, the batch size and
    learning rate, and the steps and seconds to each accuracy threshold (mean over seeds; blank if never)."""
    last = runs.groupby(["model", "seed"], sort=False).last().reset_index()
    per_step = last.groupby("model", sort=False).apply(lambda g: float((g.time / g.step).mean()), include_groups=False)
    table = sizes.loc[per_step.index, ["parameters", "multiply-adds / image"]].assign(
        **{"s / 100 steps": 100 * per_step, "lr": runs.groupby("model", sort=False).peak_lr.first()})
    for threshold in thresholds:
        reached = time_to(runs, threshold)
        table[f"steps to {threshold:.0%}"] = reached.steps
        table[f"s to {threshold:.0%}"] = reached.seconds
    return table


def plot_lr_sweep(sweep: pd.DataFrame, best: Mapping[str, float], step: int = 100) -> Figure:
    """Validation accuracy at `step` against the learning rate, per model (mean over seeds), each model's
    chosen learning rate circled; one panel per trunk."""
    trunks = sorted({WF_MODELS[n].trunk for n in best})
    fig, axes = page_figure(len(trunks), row_height=3.2, squeeze=False, sharex=True)
    at = sweep[sweep.step == step].groupby(["model", "peak_lr"], sort=False).acc.mean().reset_index()
    for ax, trunk in zip(axes[:, 0], trunks):
        for i, (name, g) in enumerate((n, g) for n, g in at.groupby("model", sort=False) if WF_MODELS[n].trunk == trunk):
            ax.plot(g.peak_lr, 100 * g.acc, "-o", ms=4, color=f"C{i}", label=name)
            chosen = g[g.peak_lr == best[name]]
            ax.plot(chosen.peak_lr, 100 * chosen.acc, "o", ms=11, mfc="none", color=f"C{i}")
        ax.set(xscale="log", ylabel=f"validation acc. at {step} steps (%)", title=f"{trunk.upper()}: accuracy against learning rate")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[-1, 0].set_xlabel("Adam learning rate (circled: the one each model uses)")
    return fig


def plot_against_time(runs: pd.DataFrame, names: Sequence[str]) -> Figure:
    """Test accuracy (mean over seeds) against steps and against training seconds on this machine."""
    mean = runs[runs.model.isin(names) & (runs.step > 0)].groupby(["model", "step"], sort=False)[["acc", "time"]].mean()
    fig, (by_step, by_time) = page_figure(2, row_height=3.4)
    for i, name in enumerate(names):
        curve = mean.loc[name]
        style = "--" if name.startswith("fast") else "-"
        by_step.plot(curve.index, 100 * curve.acc, style, marker="o", ms=3, color=f"C{i}", label=name)
        by_time.plot(curve.time, 100 * curve.acc, style, marker="o", ms=3, color=f"C{i}")
    for ax, label in ((by_step, "optimizer steps"), (by_time, "training seconds on this machine")):
        for threshold in (97, 98, 99):
            ax.axhline(threshold, color="grey", lw=0.6, ls=":")
        ax.set(xscale="log", xlabel=label, ylabel="test accuracy (%)", ylim=(80, 100))
    by_step.set_title("Each model at its own learning rate; the fast baselines dashed")
    by_step.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_learning_curves(acc: pd.DataFrame, names: Sequence[str]) -> Figure:
    """Test accuracy against steps: WF and controls per trunk, and the loss readings; mean and 95 % band."""
    heads = ("wf", "scaled", "plain", "max", "mean", "sum", "unsorted")
    panels = [("MLP: WF and controls", [f"mlp_{v}" for v in heads]),
              ("CNN: WF and controls", [f"cnn_{v}" for v in heads]),
              ("Loss readings (plain head)", [f"{t}_{v}" for t in ("mlp", "cnn") for v in ("plain", "l1", "l1b", "l2", "l3")])]
    panels = [(title, [n for n in shown if n in names]) for title, shown in panels]
    panels = [(title, shown) for title, shown in panels if shown]
    colour = dict(zip(heads + ("l1", "l1b", "l2", "l3"), COLOURS + COLOURS))
    fig, axes = page_figure(len(panels), row_height=3.3, sharex=True, squeeze=False)
    for ax, (title, shown) in zip(axes[:, 0], panels):
        for name in shown:
            curve, variant = acc[acc.model == name], name.split("_", 1)[1]
            ax.plot(curve.step, 100 * curve["mean"], "-" if name.startswith("mlp") else "--", color=colour[variant],
                    lw=2.5 if variant == "wf" else 1.5, label=name)
            ax.fill_between(curve.step, 100 * curve.ci_low, 100 * curve.ci_high, color=colour[variant], alpha=0.2)
        shown_acc = acc[acc.model.isin(shown)]
        ax.set(xscale="log", ylabel="test accuracy (%)", title=title,
               ylim=(max(0.0, 100 * shown_acc.ci_low.min() - 3), 100))
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[-1, 0].set_xlabel("optimizer steps")
    return fig


def in_words(runs: pd.DataFrame, acc: pd.DataFrame, names: Sequence[str], verdicts: Sequence[Verdict],
             evidence: dict[str, tuple[str, str]]) -> str:
    """The verdicts in a few sentences: each claim's model against its best control and the plain head."""
    outcome = {"reproduced": "**accelerates** early learning: reproduced under this reading.",
               "not reproduced": "**does not accelerate** early learning: not reproduced under this reading."}
    lines = []
    for v in verdicts:
        model, control = evidence[v.claim.id]
        plain = f"{WF_MODELS[model].trunk}_plain"
        alone = f"; against `{plain}` alone {_versus(runs, model, plain)}" if control != plain else ""
        lines.append(f"- **{CLAIM_WORDS[v.claim.id]}**: `{model}` − `{control}` (the best control at 100 steps) = "
                     f"{_versus(runs, model, control)}{alone}. Weber–Fechner "
                     + outcome.get(v.status, f"gets no verdict here ({v.reason})."))
    at_100 = acc[acc.step == 100].set_index("model")["mean"]
    by_head = "; ".join(f"`{t}_{v}` ({gain}) {100 * at_100[f'{t}_{v}']:.2f} %" for t in ("mlp", "cnn")
                        for v, gain in HEAD_GAINS.items() if f"{t}_{v}" in names)
    return "**In words.**\n\n" + "\n".join(lines) + f"\n\nMean test accuracy at 100 steps: {by_head}."


def _versus(runs: pd.DataFrame, model: str, control: str) -> str:
    _, diff, low, high = advantage(runs, model, [control], 100)
    return f"{100 * diff:+.2f} points (95 % CI {100 * low:+.2f} to {100 * high:+.2f})"
