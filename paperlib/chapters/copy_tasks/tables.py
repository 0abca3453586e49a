"""The copy chapter's tables and figures."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from paperlib.book.paper_numbers import (NOTE_COPY_EVAL_EVERY, NOTE_COPY_NOISE, NOTE_COPY_SAMPLES,
                                         NOTE_SELECTIVE_COPY_SAMPLES)
from paperlib.book.wording import Record
from paperlib.data.synthetic import seq_len
from paperlib.models.paper_configs import paper_config
from paperlib.plots import page_figure
from paperlib.training.curriculum import step_reaching
from paperlib.chapters.copy_tasks.metrics import (AT_CHANCE_BELOW, CAP_STOPS, CHANCE, CopyTask, ROLES, ROLE_COLOURS,
                                                  RnnCell, TARGET_ACC, TASK_LABELS, key)
from paperlib.chapters.copy_tasks.models import accuracy_ci, role_label
from paperlib.chapters.copy_tasks.train import CopyRun, Experiment, LengthStay, Settings
from paperlib.chapters.copy_tasks.words import end_rules_words


def seed_table(experiment: Experiment, task: str, final_batches: int, batch_size: int) -> pd.DataFrame:
    """Per seed of the paper's model: its accuracy where every seed is scored and at its own final length, the
    length it reached, its samples and what ended it there (its steps at each length are in `length_log`)."""
    reached, runs = experiment.reached(task), experiment.paper(task)
    apart = any(run.final_len != reached for run in runs)  # else its own length is where every seed is scored
    rows = [{"seed": run.seed, f"accuracy at {seq_len(reached):,}": _shown(run.final_eval(reached, final_batches,
                                                                                            batch_size)),
             "reached": seq_len(run.final_len),
             **({"accuracy there": _shown(run.final_eval(run.final_len, final_batches, batch_size))} if apart else {}),
             "samples": run.samples, "ended": ending(run)} for run in runs]
    return pd.DataFrame(rows).set_index("seed")


def ending(run: CopyRun) -> str:
    """Why a run ended, in words: the rule at its limit, or its step budget (where it stood then)."""
    if run.cap_stop is not None:
        return CAP_STOPS[run.cap_stop]
    where = "at its limit" if run.final_len == run.config.limit else f"at {seq_len(run.final_len)}"
    return f"{run.state.step:,} steps ran out ({where})"


def comparison_table(record: Record, task: str, rnn: RnnCell) -> pd.DataFrame:
    """Every model of `task` where they are compared, from the record: its accuracy there (mean and 95 % interval
    over seeds) and, for a baseline, at its own final length at the end of its budget."""
    m, rows = record["metrics"], []
    for role in _compared_roles(m, task):
        where = key(task, "paper_acc_compared") if role == "recurrent" else key(task, "acc_compared", role)
        own = _shown_metric(m, key(task, "acc_own_len", role)) if role != "recurrent" else "the seeds' table"
        rows.append({"model": role_label(role, rnn), "where compared": _shown_metric(m, where),
                     "at its own final length": own})
    return pd.DataFrame(rows).set_index("model")


def size_table(record: Record, task: str, rnn: RnnCell) -> pd.DataFrame:
    """Every model of `task` compared, from the record: its parameters in all and outside its position table, its
    multiply-adds per token at the compared length, and its learning rate."""
    m = record["metrics"]
    rows = [{"model": role_label(role, rnn), "parameters": f"{int(m[key(task, 'params', role)]):,}",
             "dense parameters": f"{int(m[key(task, 'dense_params', role)]):,}",
             "MACs per token": f"{m[key(task, 'macs', role)]:,.0f}", "lr": f"{m[key(task, 'lr', role)]:g}"}
            for role in _compared_roles(m, task)]
    return pd.DataFrame(rows).set_index("model")


def _compared_roles(m: Mapping[str, Any], task: str) -> list[str]:
    """The roles of `task` the record compares."""
    return [role for role in ROLES if m.get(key(task, "params", role)) is not None]


def pass_table(experiment: Experiment) -> pd.DataFrame:
    """Per task and length the paper's model passed: validations and samples to pass it, mean over the seeds that
    passed it (how many, of how many)."""
    rows = []
    for task in experiment.runs:
        runs = experiment.paper(task)
        by_length: dict[int, list[LengthStay]] = {}
        for run in runs:
            for stay in run.stays:
                if stay.outcome == "passed":
                    by_length.setdefault(stay.noise_len, []).append(stay)
        for noise, stays in sorted(by_length.items()):
            rows.append({"task": TASK_LABELS[task], "length": seq_len(noise),
                         "validations": float(np.mean([s.validations for s in stays])),
                         "samples": float(np.mean([s.steps for s in stays])) * runs[0].batch_size,
                         "seeds": f"{len(stays)} of {len(runs)}"})
    columns = ["task", "length", "validations", "samples", "seeds"]
    return pd.DataFrame(rows, columns=columns).set_index(["task", "length"])


def length_log(experiment: Experiment) -> pd.DataFrame:
    """The curriculum's log of every run, named: per length trained at, the steps there, the best validation
    loss and accuracy reached there and how the run left it (passed, or what ended it there)."""
    rows = []
    for run in experiment.all_runs():
        for stay in run.stays:
            left = {"passed": f"passed ({stay.validations} validation{'s' * (stay.validations != 1)})",
                    "limit": "ended: " + (CAP_STOPS[stay.cap_stop] if stay.cap_stop else "steps ran out"),
                    "budget": "steps ran out"}[stay.outcome]
            rows.append({"task": TASK_LABELS[run.task], "model": run.label, "length": seq_len(stay.noise_len),
                         "steps": stay.steps, "best loss": stay.best_loss, "best acc": stay.best_acc, "left": left})
    return pd.DataFrame(rows)


def deviations(values: Mapping[str, Any], settings: Settings) -> pd.DataFrame:
    """What this run does that the Note or the author's code does not (or says nothing of), beside what they do:
    validation, dropout, precision, step budget, end rules, start, length limit, learning rate, baselines."""
    s, v = settings, values
    paper_dropout = paper_config("copy", "recurrent").dropout
    rules = end_rules_words(s) or "none: trains on to its step count"
    rows = [
        ("validation", f"every {NOTE_COPY_EVAL_EVERY} steps on 100 batches (Note); every 500 on 500 (Feb-2026 code)",
         f"every {s.eval_every} steps on {s.eval_batches} batches"),
        ("dropout", f"{paper_dropout:g}", f"{s.dropout:g}"),
        ("precision", "fp32 on a GPU (the code's default)", s.setup.precision),
        ("step budget", f"{NOTE_COPY_SAMPLES:,.0f} samples on copy, {NOTE_SELECTIVE_COPY_SAMPLES:,.0f} on selective "
                        "copy (Table 6)", f"{v['copy_steps']:,} steps on copy, {v['selective_steps']:,} on selective "
                                          f"copy, of {s.batch_size}"),
        ("end at the limit", "trains on to its step count", rules),
        ("start length", "noise 128, K 32 (Feb 2026); noise 32, K min(L/2, 32) (July 2025)",
         f"noise {s.start} ({s.curriculum})"),
        ("longest length", f"{seq_len(NOTE_COPY_NOISE):,}", f"{seq_len(min(v['limit'], s.cap)):,}"),
        ("learning rate", "5e-4 for the paper's model", f"{s.lr:g} for every model, not tuned per model"),
        ("baselines", "none reported (the code has a regular transformer without curriculum)",
         "forget, regular, GRU matched two ways, each over the paper model's seeds, with its curriculum"),
    ]
    return pd.DataFrame(rows, columns=["what", "the Note or the author's code", "this run"]).set_index("what")


def _shown(acc: tuple[float, float, float]) -> str:
    """An accuracy and its CI, in percent."""
    return f"{100 * acc[0]:.1f} [{100 * acc[1]:.1f}, {100 * acc[2]:.1f}] %"


def _shown_metric(m: Mapping[str, Any], name: str) -> str:
    """A recorded accuracy and its CI, in percent."""
    return _shown((m[name], m[f"{name}.ci_low"], m[f"{name}.ci_high"]))


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
        ax_acc.axhline(TARGET_ACC[task], color="grey", lw=0.8, ls="--",
                       label=f"registry's threshold {100 * TARGET_ACC[task]:g} %")
        ax_acc.set(xlabel="training samples", ylabel="validation token accuracy", ylim=(0, 1.02),
                   title=f"{TASK_LABELS[task]}: accuracy")
        first = experiment.paper(task)[0].history
        for ax in (ax_loss, ax_acc):
            _length_axis(ax, first["samples"], seq_len(first["noise_len"]))
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
            first = step_reaching(run.state, int(length)) or 0
            ax.plot(g["step"] - first, g["val_loss"], marker=".", color=f"C{k}", label=f"{seq_len(int(length))}")
        ax.axhline(threshold, color="grey", lw=0.8, ls="--")
        ax.set(yscale="log", xlabel="steps at this length", ylabel="validation loss",
               title=f"{TASK_LABELS[task]}, seed {run.seed}: loss at each length (dashed: threshold {threshold})")
        ax.legend(title="length", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_comparison(experiment: Experiment) -> Figure:
    """Per task, every model where they are compared (`ScoreAtStep`): each seed's accuracy as a dot, the mean over
    seeds with its 95 % t-interval as a bar, chance and twice chance as lines."""
    fig, axes = page_figure(len(experiment.runs), row_height=2.6, squeeze=False)
    for ax, task in zip(axes[:, 0], experiment.runs):
        roles = list(experiment.runs[task])
        for y, role in enumerate(roles):
            runs = experiment.runs[task][role]
            accs = [run.compared for run in runs]
            mean, low, high = accuracy_ci(accs)
            ax.scatter(accs, [y] * len(accs), color=ROLE_COLOURS[role], alpha=0.6, s=18)
            if not math.isnan(low):
                ax.errorbar(mean, y, xerr=[[mean - low], [high - mean]], fmt="|", color=ROLE_COLOURS[role],
                            capsize=4, ms=14)
        ax.axvline(CHANCE, color="grey", lw=0.8, ls=":", label="chance 1/14")
        ax.axvline(AT_CHANCE_BELOW, color="grey", lw=0.8, ls="--", label="twice chance")
        first = experiment.paper(task)[0]
        ax.set_yticks(range(len(roles)), [role_label(r, first.config.rnn, short=True) for r in roles])
        ax.set(xlim=(0, 1.02), xlabel="token accuracy where compared (dots: seeds; bar: 95 % interval of the mean)",
               title=f"{TASK_LABELS[task]}: every model after {first.state.extra.get('compared', {}).get('step', '?')} "
                     f"steps, at length {seq_len(int(first.history['noise_len'].iloc[0]))}")
        ax.invert_yaxis()
        ax.legend(loc="lower right")
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
