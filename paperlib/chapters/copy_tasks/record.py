"""The copy chapter's record: its metrics from the trained runs, and which claims are not comparable or not run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from paperlib.book.metrics import with_ci
from paperlib.book.paper_numbers import NOTE_COPY_NOISE, NOTE_TASK_SAMPLES
from paperlib.book.verdicts import not_comparable
from paperlib.data.synthetic import seq_len
from paperlib.chapters.copy_tasks.metrics import (AT_CHANCE_BELOW, AT_LENGTH_CLAIMS, CLAIM_TASKS, NEAR_THRESHOLD,
                                                  TARGET_ACC, TASK_CHOICES, TASK_LABELS, key)
from paperlib.chapters.copy_tasks.models import accuracy_ci, alpha_of, model_facts
from paperlib.chapters.copy_tasks.train import CopyRun, Experiment, LengthStay


def results(experiment: Experiment, final_batches: int, batch_size: int, lr: float,
            threshold: float) -> dict[str, float]:
    """The chapter's metrics (keys from `key`): the paper's model scored at the length every seed reached, with a
    95 % t-interval over seeds, each seed at its own final length, its per-length accounting and validation noise;
    every model of a task where they are compared (`comparison_metrics`)."""
    metrics: dict[str, float] = {}
    for task in experiment.runs:
        paper, reached = experiment.paper(task), experiment.reached(task)
        accs = [run.final_eval(reached, final_batches, batch_size)[0] for run in paper]
        mean, low, high = accuracy_ci(accs)
        metrics |= with_ci(key(task, "acc"), mean, (low, high))
        metrics |= {key(task, "final_noise_len"): reached, key(task, "seeds"): len(paper),
                    key(task, "samples"): paper[0].samples,
                    key(task, "samples_share"): paper[0].samples / NOTE_TASK_SAMPLES[task],
                    key(task, "train_s"): sum(r.state.train_time for r in paper)}
        for run, acc in zip(paper, accs):
            s = run.seed
            metrics |= {key(task, "acc", seed=s): acc,
                        key(task, "acc_own_length", seed=s): run.final_eval(run.final_len, final_batches,
                                                                            batch_size)[0],
                        key(task, "final_noise_len", seed=s): run.final_len,
                        key(task, "samples", seed=s): run.samples,
                        key(task, "samples_to_final_len", seed=s): run.samples_to_final_len,
                        key(task, "steps_at_cap", seed=s): run.steps_at_limit,
                        key(task, "reached_target", seed=s): float(run.cap_stop == "accuracy")}
        metrics |= pass_metrics(task, paper, batch_size) | validation_noise(task, paper, threshold)
        metrics |= comparison_metrics(experiment, task, final_batches, batch_size, lr)
    if "copy" in experiment.runs:
        copy_model = experiment.paper("copy")[0].state.model
        metrics |= {"alpha": alpha_of(copy_model), "alpha_raw": copy_model.alpha_raw.item()}
    return metrics


def pass_metrics(task: str, runs: Sequence[CopyRun], batch_size: int) -> dict[str, float]:
    """Per noise length the curriculum passed: the validations and samples each seed needed there, and their
    means over the seeds that passed it."""
    metrics: dict[str, float] = {}
    passed: dict[int, list[LengthStay]] = {}
    for run in runs:
        for stay in run.stays:
            if stay.outcome == "passed":
                passed.setdefault(stay.noise_len, []).append(stay)
                metrics[key(task, "validations_to_pass", noise=stay.noise_len, seed=run.seed)] = stay.validations
                metrics[key(task, "samples_to_pass", noise=stay.noise_len, seed=run.seed)] = stay.steps * batch_size
    for noise, stays in passed.items():
        metrics[key(task, "validations_to_pass", noise=noise)] = float(np.mean([s.validations for s in stays]))
        metrics[key(task, "samples_to_pass", noise=noise)] = float(np.mean([s.steps for s in stays])) * batch_size
    return metrics


def validation_noise(task: str, runs: Sequence[CopyRun], threshold: float) -> dict[str, float]:
    """The median standard error of a validation's loss over its batches, over every validation of the paper
    model's seeds after the first, and over those within a factor `NEAR_THRESHOLD` of the `threshold` (left out
    when none is: the seeds jumped past it between two validations)."""
    rows = pd.concat([run.history[run.history["step"] > 0] for run in runs])
    if "val_loss_se" not in rows or rows["val_loss_se"].isna().all():
        return {}
    near = rows[(rows["val_loss"] >= threshold / NEAR_THRESHOLD) & (rows["val_loss"] <= threshold * NEAR_THRESHOLD)]
    metrics = {key(task, "val_loss_se"): float(rows["val_loss_se"].median())}
    if near["val_loss_se"].notna().any():
        metrics[key(task, "val_loss_se_near")] = float(near["val_loss_se"].median())
    return metrics


def comparison_metrics(experiment: Experiment, task: str, final_batches: int, batch_size: int,
                       lr: float) -> dict[str, float]:
    """Every model of `task` where they are compared (`ScoreAtStep`): its mean accuracy over seeds with a 95 %
    t-interval, whether that mean is at least twice chance, its size and multiply-adds per token and its learning
    rate; each baseline's length, samples and cost, its accuracy at its own final length over seeds, and whether
    every seed stalled (left a length unpassed that its seed's paper model passed with the same samples)."""
    paper = {run.seed: run for run in experiment.paper(task)}
    some = next(iter(paper.values()))
    scored = some.state.extra.get("compared")
    if scored is None:
        return {}
    start, rnn = scored["noise_len"], some.config.rnn
    metrics = {key(task, "compare_steps"): scored["step"], key(task, "compared_noise_len"): start}
    for role, runs in {"recurrent": list(paper.values()), **experiment.baselines(task)}.items():
        mean, low, high = accuracy_ci([run.compared for run in runs])
        metrics |= {key(task, name, role): value for name, value in model_facts(task, role, rnn, start).items()}
        metrics |= {key(task, "lr", role): lr, key(task, "learned", role): float(mean >= AT_CHANCE_BELOW)}
        if role == "recurrent":
            metrics |= with_ci(key(task, "paper_acc_compared"), mean, (low, high))
            continue
        own, own_low, own_high = accuracy_ci([run.final_eval(run.final_len, final_batches, batch_size)[0]
                                              for run in runs])
        metrics |= with_ci(key(task, "acc_compared", role), mean, (low, high))
        metrics |= with_ci(key(task, "acc_own_len", role), own, (own_low, own_high))
        metrics |= {key(task, "final_noise_len", role): max(run.final_len for run in runs),
                    key(task, "train_s", role): sum(run.state.train_time for run in runs),
                    key(task, "stalled", role): float(all(stalled(run, paper[run.seed]) for run in runs))}
        for run in runs:
            metrics |= {key(task, "acc_compared", role, seed=run.seed): run.compared,
                        key(task, "samples", role, seed=run.seed): run.samples}
    return metrics


def stalled(run: CopyRun, paper: CopyRun) -> bool:
    """Whether a baseline left a length unpassed that its seed's paper model passed within the baseline's steps,
    and ended short of its limit."""
    paper_passed = {s.noise_len for s in paper.stays if s.outcome == "passed" and s.set_at + s.steps <= run.state.step}
    own_passed = {s.noise_len for s in run.stays if s.outcome == "passed"}
    return bool(paper_passed - own_passed) and run.final_len < run.config.limit


def not_comparable_reasons(metrics: Mapping[str, float], profile: str, tasks: str) -> dict[str, str]:
    """A claim about length 4,128 of a task trained (`tasks`, the notebook's) is not comparable (budget) when a seed
    did not get there, or ended below the registry's threshold before the Note's samples (so its budget stopped
    short of the paper's stopping point); accumulate against forget, when a seed of the paper model ended below
    the threshold before the Note's samples at the length it reached."""
    reasons: dict[str, str] = {}
    for claim_id, task in CLAIM_TASKS.items():
        if task not in TASK_CHOICES[tasks]:
            continue
        why = []
        for s in range(int(metrics[key(task, "seeds")])):
            reached = int(metrics[key(task, "final_noise_len", seed=s)])
            samples, acc = metrics[key(task, "samples", seed=s)], metrics[key(task, "acc", seed=s)]
            if reached < NOTE_COPY_NOISE and claim_id in AT_LENGTH_CLAIMS:
                why.append(f"seed {s} reached length {seq_len(reached):,} in {samples:,.0f} samples")
            elif (acc is None or acc < TARGET_ACC[task]) and samples < NOTE_TASK_SAMPLES[task]:
                why.append(f"seed {s} ended below {100 * TARGET_ACC[task]:g} % after {samples:,.0f} samples")
        if why:
            reasons |= not_comparable([claim_id], f"budget ({profile} profile): " + "; ".join(why)
                                      + f", short of the Note's {NOTE_TASK_SAMPLES[task]:,.0f} samples")
    return reasons


def claims_not_run(tasks: str) -> dict[str, str]:
    """The claims of the tasks an execution with the notebook's `tasks` did not train, each with why (its record's
    `not_run`): empty for both tasks."""
    trained = TASK_CHOICES[tasks]
    why = (f"this execution trained {' and '.join(TASK_LABELS[t] for t in trained)} only (tasks: {tasks}); a run of "
           "the whole chapter judges it")
    return {claim_id: why for claim_id, task in CLAIM_TASKS.items() if task not in trained}
