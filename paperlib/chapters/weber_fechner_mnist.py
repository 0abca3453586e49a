"""Chapter 'Weber–Fechner on MNIST': every model trained over seeds, paired comparisons, tables, prose.

Models are named TRUNK_VARIANT (`mlp_wf`, `cnn_plain`, ...; see `VARIANTS`). Runs with the same seed
see the same batches and the trunk's same initial weights, so differences are paired by seed. The
verdict rule (methods page, Weber–Fechner): at two or more checkpoints of at most 200 steps the
paired 95 % CI of a model minus its best control excludes 0 in the model's favour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from torch import Tensor

from paperlib.book.metrics import EXECUTION, Declaration, Metric
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.context import RunContext
from paperlib.models import n_params
from paperlib.models.weber_fechner import Net, Spec, build, macs
from paperlib.plots import COLOURS, page_figure
from paperlib.progress import progress
from paperlib.stats import ci_table, paired_diff_ci
from paperlib.training.batches import shuffled_batches, steps_per_epoch, tensor_batches
from paperlib.training.callbacks import OneCycle
from paperlib.training.device import DeviceSetup
from paperlib.training.evaluation import score
from paperlib.training.losses import CRITERIA, model_loss
from paperlib.training.optim import OptimizerConfig
from paperlib.training.plan import RunSpec
from paperlib.training.run import Checkpointing, Run, fit

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


FAST_MODELS = {"fast_cnn": Spec("fast", "plain"), "fast_mlp": Spec("mlp", "plain")}  # train_mnist_fast's CNN, the MLP
FAST_OPTIMIZER = OptimizerConfig(lr=0.01, betas=(0.7, 0.9))  # train_mnist_fast's Adam, under a one-cycle schedule
FAST_BATCH = 256  # train_mnist_fast's batch, one epoch
IMAGE_PIXELS = 28 * 28
METRICS = Declaration("weber_fechner_mnist", [
    Metric("{claim}_advantage_100", "fraction", "test accuracy of the claim's model minus that of its best control "
           "at 100 steps, paired by seed, each at its own learning rate; its interval a paired t-interval",
           headline=True, ci=True),
    Metric("{claim}_checkpoints_won", "checkpoints", "checkpoints of at most 200 steps where the paired 95 % interval "
           "of that difference lies above 0 (the claim needs two)", headline=True),
    Metric("acc_100.{model}", "fraction", "test accuracy after 100 steps at the shared learning rate, mean over "
           "seeds (the ablation)", ci=True),
    Metric("acc_epoch1.{model}", "fraction", "test accuracy after one epoch at the shared learning rate, mean over "
           "seeds (the ablation)", ci=True),
    Metric("acc_100_tuned.{model}", "fraction", "test accuracy after 100 steps at the model's own learning rate (a "
           "fast baseline: its recipe's), mean over seeds (NaN: a run shorter than 100 steps)", ci=True),
    Metric("best_lr.{model}", "learning rate", "the Adam learning rate the sweep chose (a fast baseline: its recipe's)"),
    Metric("seconds_to_98.{model}", "s", "training seconds to the first evaluation where the mean test accuracy "
           "reaches 98 % (an upper bound; NaN: never)"),
    Metric("train_seconds_total", "s", "training seconds of every ablation run together, on this run's machine"),
    *EXECUTION,
], fields={"claim": [prefix for prefix, _ in CLAIM_MODELS.values()], "model": [*WF_MODELS, *FAST_MODELS]})


def runs(params: Mapping[str, Any]) -> list[RunSpec]:
    """The chapter's plan from its parameters, in four stages: `ablation` (every model at the shared learning rate,
    scored on the test images), `sweep-lrLR` (each tuned model at each rate of the grid, trained on the images
    left after holding out `n_val` and scored on those), `tuned` (each tuned model at the rate its sweep picks:
    `best_lrs` chooses its optimizer while the chapter runs) and `fast` (the fastest known simple recipes: Adam at
    0.01 with β = (0.7, 0.9) under a one-cycle schedule, one epoch of batches of 256). Runs with one seed and
    batch size see the same batches."""
    p = params
    tuned, n_fit = model_names(p["tuned_mlp"], p["tuned_cnn"]), p["train_size"] - p["n_val"]
    on_fit, on_test = f"MNIST: {n_fit:,} training images", f"the first {p['test_size']:,} test images"

    def stage(name: str, models: Mapping[str, Spec], seeds: int, steps: int, optimizer: OptimizerConfig | None,
              task: str, scored: int, *, channels: str = p["tuned_cnn_channels"], batch: int = p["batch_size"],
              lr_schedule: OneCycle | None = None) -> list[RunSpec]:
        schedule = eval_schedule(CHECKPOINTS, steps_per_epoch(p["train_size"] if name == "ablation" else n_fit,
                                                              batch), steps)
        return [RunSpec("weber_fechner_mnist", name, model, seed, Net(spec, parse_channels(channels), p["keras_init"]),
                        task, steps, batch, IMAGE_PIXELS, optimizer, lr_schedule, tuple(schedule), scored, 0, "")
                for model, spec in models.items() for seed in range(seeds)]

    fast_steps = steps_per_epoch(n_fit, FAST_BATCH)
    return [*stage("ablation", catalogue(model_names(p["mlp_variants"], p["cnn_variants"])), p["ablation_seeds"],
                   p["epochs"] * steps_per_epoch(p["train_size"], p["batch_size"]), OptimizerConfig(lr=p["lr"]),
                   f"MNIST: the first {p['train_size']:,} training images, scored on {on_test}", p["test_size"],
                   channels=p["cnn_channels"]),
            *(spec for lr in lr_grid(p["lrs"]) for spec in stage(
                f"sweep-lr{lr:g}", catalogue(tuned), p["tune_seeds"], p["tune_steps"], OptimizerConfig(lr=lr),
                f"{on_fit}, scored on the {p['n_val']:,} held out", p["n_val"])),
            *stage("tuned", catalogue(tuned), p["seeds"], p["tuned_steps"], None, f"{on_fit}, scored on {on_test}",
                   p["test_size"]),
            *stage("fast", FAST_MODELS, p["fast_seeds"], fast_steps, FAST_OPTIMIZER, f"{on_fit}, scored on {on_test}",
                   p["test_size"], batch=FAST_BATCH, lr_schedule=OneCycle(fast_steps))]


def catalogue(names: Sequence[str]) -> dict[str, Spec]:
    """The models of `WF_MODELS` named, in order."""
    return {name: WF_MODELS[name] for name in names}


def plan_stage(plan: Sequence[RunSpec], stage: str) -> list[RunSpec]:
    """The runs of one stage of the plan (`sweep`: every learning rate's)."""
    return [spec for spec in plan if spec.stage == stage or spec.stage.startswith(f"{stage}-")]


def run_plan(plan: Sequence[RunSpec], train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor,
             setup: DeviceSetup, *, checkpointing: Checkpointing, context: RunContext
             ) -> tuple[pd.DataFrame, list[Run]]:
    """Train every run of `plan` (`fit`) on (train_x, train_y), evaluating on all of (test_x, test_y) at its
    evaluation steps: one row per (model, seed, evaluation), with the run's learning rate (`peak_lr`), and the
    runs."""
    rows, done = [], []
    with progress(total=len(plan), desc="runs") as bar:
        for spec in plan:
            run = fit(spec, setup, shuffled_batches(train_x, train_y, spec.batch),
                      model_loss(CRITERIA[spec.model.spec.loss]),
                      evaluate=lambda state: score(state.model, tensor_batches(test_x, test_y)).summary(),
                      checkpointing=checkpointing, context=context, show_progress=False)
            rows += [{"model": spec.family, "seed": spec.seed, **r, "peak_lr": spec.optimizer.lr}
                     for r in run.state.history]
            done.append(run)
            bar.set_postfix(model=spec.family)
            bar.update(1)
    return pd.DataFrame(rows), done


def lr_grid(text: str) -> list[float]:
    """'1e-4,1e-3' -> [0.0001, 0.001]; an entry that is not a positive number is an error naming it."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"lr_grid must be comma-separated numbers, got {text!r}") from None
    if not values or min(values) <= 0:
        raise ValueError(f"lr_grid needs positive learning rates, got {text!r}")
    return sorted(values)


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


def ablation_table(runs: pd.DataFrame, steps: Sequence[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per model and step: test accuracy (%) as mean ± 95 % CI half-width; and, in a second table, the paired
    difference against the best of `controls_for` (* where its CI excludes 0), the control named without its trunk
    (models without a control are left out of it)."""
    names = list(runs.model.unique())
    acc = ci_table(runs, ["model", "step"], "acc").set_index(["model", "step"])
    accuracy, differences = [], []
    for name in names:
        row = {"model": name}
        for step in steps:
            mean, low = acc.loc[(name, step), ["mean", "ci_low"]]
            row[f"acc @ {step}"] = f"{100 * mean:.2f} ± {100 * (mean - low):.2f}"
        accuracy.append(row)
        controls = controls_for(name, names)
        if controls:
            row = {"model": name}
            for step in steps:
                control, diff, d_low, d_high = advantage(runs, name, controls, step)
                star = "*" if d_low > 0 or d_high < 0 else ""
                row[f"Δ @ {step}"] = f"{100 * diff:+.2f} ± {100 * (diff - d_low):.2f}{star} ({control.split('_', 1)[1]})"
            differences.append(row)
    by_model = [pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame(index=pd.Index([], name="model"))
                for rows in (accuracy, differences)]
    return by_model[0], by_model[1]


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


COST_COLUMNS = ("parameters", "multiply-adds / image", "s / 100 steps", "lr")  # `compute_table`'s, after the times


def compute_table(runs: pd.DataFrame, sizes: pd.DataFrame, thresholds: Sequence[float] = (0.97, 0.98, 0.99)
                  ) -> pd.DataFrame:
    """Per model of `runs`: the steps and seconds to each accuracy threshold (mean over seeds; blank if never),
    then (`COST_COLUMNS`) parameters, multiply-adds, training seconds per 100 steps and learning rate."""
    last = runs.groupby(["model", "seed"], sort=False).last().reset_index()
    per_step = last.groupby("model", sort=False).apply(lambda g: float((g.time / g.step).mean()), include_groups=False)
    table = pd.DataFrame(index=per_step.index)
    for threshold in thresholds:
        reached = time_to(runs, threshold)
        table[f"steps to {threshold:.0%}"] = reached.steps
        table[f"s to {threshold:.0%}"] = reached.seconds
    return table.join(sizes[["parameters", "multiply-adds / image"]]).assign(
        **{"s / 100 steps": 100 * per_step, "lr": runs.groupby("model", sort=False).peak_lr.first()})


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


def in_words(record: Record, runs: pd.DataFrame, acc: pd.DataFrame, names: Sequence[str],
             evidence: dict[str, tuple[str, str]]) -> str:
    """The verdicts in a few sentences: per claim, its model against its best control at 100 steps (rule
    ``equal_samples``: the same batches, the unpaired intervals over seeds), the paired difference the verdict reads,
    and the verdict (rule ``verdict``); then each head's accuracy at 100 steps."""
    lines = []
    for claim_id, (model, control) in evidence.items():
        plain = f"{WF_MODELS[model].trunk}_plain"
        alone = f"; against {plain} alone {_versus(runs, model, plain)}" if control != plain else ""
        verdict = decided_verdict(record, claim_id, {
            "reproduced": "Weber–Fechner **accelerates** early learning: {words}.",
            "not reproduced": "Weber–Fechner **does not accelerate** early learning: {words}.",
            "not comparable": "Weber–Fechner gets no verdict here ({reason}).",
            "not run": "Weber–Fechner gets no verdict here ({reason})."})
        lines.append(f"- **{CLAIM_WORDS[claim_id]}**: {_at_100(record, model, control)} Paired by seed, the sharper "
                     f"test the verdict reads, {model} − {control} (the best control at 100 steps) = "
                     f"{_versus(runs, model, control)}{alone}. {verdict}")
    at_100 = acc[acc.step == 100].set_index("model")["mean"]
    by_head = "; ".join(f"`{t}_{v}` ({gain}) {100 * at_100[f'{t}_{v}']:.2f} %" for t in ("mlp", "cnn")
                        for v, gain in HEAD_GAINS.items() if f"{t}_{v}" in names)
    return "**In words.**\n\n" + "\n".join(lines) + f"\n\nMean test accuracy at 100 steps: {by_head}."


def _at_100(record: Record, model: str, control: str) -> str:
    """`model`'s test accuracy after 100 steps against `control`'s, on the same batches (rule ``equal_samples``)."""
    m = record["metrics"]

    def shown(name: str) -> str:
        key = f"acc_100_tuned.{name}"
        return f"{100 * m[key]:.2f} % (95 % CI [{100 * m[f'{key}.ci_low']:.2f}, {100 * m[f'{key}.ci_high']:.2f}])"

    return decided("equal_samples", record, [f"acc_100_tuned.{model}", f"acc_100_tuned.{control}"], {
        outcome: f"After 100 steps on the same batches (equal samples), {model}'s test accuracy, {shown(model)}, is "
                 f"{words} {control}'s, {shown(control)}, by their intervals over seeds."
        for outcome, words in (("higher", "higher than"), ("lower", "lower than"),
                               ("not separated", "not separated from"))})


def _versus(runs: pd.DataFrame, model: str, control: str) -> str:
    _, diff, low, high = advantage(runs, model, [control], 100)
    return f"{100 * diff:+.2f} points (95 % CI {100 * low:+.2f} to {100 * high:+.2f})"
