"""The copy chapter's prose: every sentence that depends on a number is decided from the record
(`paperlib.book.wording`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from paperlib.book.paper_numbers import (NOTE_COPY_ACC, NOTE_COPY_BATCH, NOTE_COPY_EVAL_EVERY, NOTE_COPY_NOISE,
                                         NOTE_SELECTIVE_COPY_SAMPLES, NOTE_TASK_SAMPLES)
from paperlib.book.page import configuration_words
from paperlib.book.render import plural
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.data.synthetic import seq_len
from paperlib.models.paper_configs import paper_config
from paperlib.chapters.copy_tasks.metrics import (AT_CHANCE_BELOW, COPY_TASKS, NEAR_THRESHOLD, PAPER_PARAMS, PILOT_FILE,
                                                  RNN_MATCHED, TASK_CHOICES, TASK_LABELS, key)
from paperlib.chapters.copy_tasks.models import role_label
from paperlib.chapters.copy_tasks.plan import RunConfig, end_rules
from paperlib.chapters.copy_tasks.train import CopyRun, Experiment, Settings
from paperlib.chapters.copy_tasks.start_pilot import PILOT_SEEDS


def end_rules_words(s: Settings) -> str:
    """The paper model's end rules at its limit, in words ("" when it has none)."""
    rules = end_rules(s.stop_at_target, s.cap_patience, s.cap_steps)
    return ", ".join(rules[:-1]) + (" or " if len(rules) > 1 else "") + rules[-1] if rules else ""


def this_run_words(values: Mapping[str, Any], settings: Settings, plan: Sequence[RunConfig], workers: int,
                   pilot: Mapping[str, Any] | None) -> str:
    """The chapter's "This run" box: the settings, the validation cadence, how a paper-model run ends at its
    limit, the comparison's rule and the baselines, and the pilot that chose the start."""
    v, s = values, settings
    paper_dropout = paper_config("copy", "recurrent").dropout
    seeds = {task: sum(c.task == task and c.role == "recurrent" for c in plan) for task in COPY_TASKS}
    steps = {task: max((c.steps for c in plan if c.task == task), default=0) for task in COPY_TASKS}
    limit = seq_len(min(v["limit"], s.cap))
    where = s.setup.description + (f", {workers} training processes of one thread each" if workers > 1 else "")
    words = [f"**This run** ({v['profile']} profile, {where}): batch {s.batch_size}, dropout {s.dropout:g}"
             + ("" if s.dropout == paper_dropout else f" (**the paper's is {paper_dropout:g}**)")
             + f", Adam from lr {s.lr:g} with the {s.lr_rule} rule, the {s.curriculum} curriculum from length "
             f"{seq_len(s.start)} to {limit:,}"
             + ("" if limit == seq_len(s.cap) else f" (**the paper's is {seq_len(s.cap):,}**; the learning-rate "
                                                   f"rule still divides by {s.cap:,})")
             + f", validated every {s.eval_every} steps on {s.eval_batches} fresh batch{'es' * (s.eval_batches != 1)}"
             f" (the Note: every {NOTE_COPY_EVAL_EVERY} steps on 100; the Feb-2026 code: every 500 on 500), so a "
             f"length can double at most once every {s.eval_every} steps."]
    rules = end_rules_words(s)
    ends = (f"at length {limit:,} a run ends {rules} (an end rule of ours: the author's code trains on to its step "
            "count)" if rules else f"at length {limit:,} a run trains on to its step count, as the author's code does")
    trained = [task for task in COPY_TASKS if seeds[task]]
    words.append("The paper's model: " + "; ".join(f"{plural(seeds[t], 'seed')} on {TASK_LABELS[t]}, at most "
                                                   f"{steps[t]:,} steps" for t in trained) + f"; {ends}."
                 + ("" if len(trained) == len(COPY_TASKS) else
                    f" This execution trains **{TASK_LABELS[trained[0]]} only** (its claims are judged; the others "
                    "are not run)."))
    words.append(baseline_setup_words(plan, s))
    words.append(pilot_words(pilot, s.curriculum))
    return " ".join(words)


def baseline_setup_words(plan: Sequence[RunConfig], settings: Settings) -> str:
    """The comparison's one scoring rule, the baselines of each task, their samples and learning rate, and the
    author's regular model beside ours."""
    scored = "; ".join(f"{TASK_LABELS[task]} after {settings.compare_steps[task]:,} steps "
                       f"({settings.compare_steps[task] * settings.batch_size:,} samples)"
                       for task in COPY_TASKS if any(c.task == task for c in plan))
    words = [f"**One scoring rule**: every model of a task, on every seed, is scored on the same "
             f"{settings.final_batches} fresh batches of its seed at the first length (noise {settings.start}), right "
             f"after the same number of training steps ({scored}), wherever its curriculum has got to by then; a "
             "comparison reads the models' 95 % intervals over seeds."]
    baselines = [c for c in plan if c.role != "recurrent"]
    if not baselines:
        return words[0] + " No baselines are trained in this run."
    tasks = sorted({c.task for c in baselines}, key=COPY_TASKS.index)
    rnn = baselines[0].rnn.upper()
    words.append(f"Baselines on {' and '.join(TASK_LABELS[t] for t in tasks)}, one per seed of the paper's model "
                 f"and on its batches: the forget ablation (α = 0) for as many steps as its seed's paper model took to"
                 f" reach its final length (at least the comparison's); a one-layer regular transformer, a {rnn} "
                 f"matched on the paper model's {PAPER_PARAMS:,} parameters and one matched on its "
                 f"{RNN_MATCHED['rnn_dense']:,} parameters outside the position table, each for exactly the "
                 f"comparison's steps. Every model trains at lr {settings.lr:g} under the same curriculum, with no end "
                 "rule; the rate was not tuned per model. The author's code trains its regular model at the full "
                 "length from the start, with no curriculum (and reports no numbers for it).")
    return " ".join(words)


def pilot_words(pilot: Mapping[str, Any] | None, curriculum: str) -> str:
    """Which start the committed pilot chose, from what, and whether this run uses it."""
    if pilot is None:
        return "No pilot file: the start is the profile's choice."
    reach = pilot["samples_to_decide"]
    uses = "this run uses it" if curriculum == pilot["chosen"] else f"this run uses {curriculum} instead"
    return (f"The start was decided once by a pilot ({PILOT_FILE.name} beside the profiles, made by "
            f"`{pilot['command']}`): selective copy reached noise {pilot['decides_at_noise']} after "
            + " and ".join(f"{reach[c]:,.0f} samples from the {c} start" for c in reach)
            + f" (mean of {len(PILOT_SEEDS)} seeds each); it chose {pilot['chosen']}, and {uses}. Its steps per "
            "length are also what the forecast expects.")


def speed_words(record: Record, bench: pd.DataFrame) -> str:
    """How this run's step compares with the paper model's eager fp32 step with dropout (rule ``ratio`` on
    ``step_s_run`` over ``step_s_paper``), and how to read the table's speeds."""
    m = record["metrics"]
    run, paper = m["step_s_run"], m["step_s_paper"]
    same = "this run's step" in bench.index[0]
    told = f"This run's step takes {run:.2f} s, the paper model's fp32 step with dropout {paper:.2f} s"
    sentence = decided("ratio", record, ["step_s_run", "step_s_paper"], {
        "below": f"{told}: this run's is {paper / run:.2f}× as fast (faster).",
        "above": f"{told}: this run's is {paper / run:.2f}× as fast (slower).",
        "about even": "This run's step is the paper model's fp32 step with dropout." if same else
                      f"{told}: within 10 %, about as fast."})
    return (sentence + " A lever whose speed against this run's step is below 1 takes longer than the step this run "
            "takes.")


def results_words(experiment: Experiment, record: Record) -> str:
    """Per task: how far the paper's seeds got against the paper's length (rule ``reference``), the accuracy where
    all of them are scored against twice chance (``reference``: the mean, as the chapter's criterion reads it) and
    the Note's, and the claim's verdict (``verdict``)."""
    m, words = record["metrics"], []
    for task in experiment.runs:
        lengths = sorted({seq_len(run.final_len) for run in experiment.paper(task)})
        reached = seq_len(int(m[key(task, "final_noise_len")]))
        got = (f"every seed reached length {reached:,}" if len(lengths) == 1 else
               f"the seeds reached lengths {', '.join(f'{n:,}' for n in lengths)}, so all are scored at {reached:,}")
        paper_len = f"the paper's length {seq_len(NOTE_COPY_NOISE):,}"
        words.append(f"On **{TASK_LABELS[task]}** {got}, " + decided(
            "reference", record, [f"={key(task, 'final_noise_len')}", f"={NOTE_COPY_NOISE}"],
            {"lower": f"short of {paper_len}.", "not separated": f"{paper_len}.", "higher": f"beyond {paper_len}."}))
        acc, low, high = (m[f"{key(task, 'acc')}{p}"] for p in ("", ".ci_low", ".ci_high"))
        ci = "" if _missing(low) else f" (95 % CI over seeds {100 * low:.2f}–{100 * high:.2f} %)"
        chance = f"twice chance ({100 * AT_CHANCE_BELOW:.1f} %)"
        words.append(f"There the paper model's token accuracy is {100 * acc:.2f} %{ci} over "
                     f"{int(m[key(task, 'seeds')])} seeds, after {int(m[key(task, 'samples')]):,} training samples "
                     f"(first seed), against the Note's {100 * NOTE_COPY_ACC[task]:g} % after "
                     f"{NOTE_TASK_SAMPLES[task]:,.0f}; " + decided(
                         "reference", record, [f"={key(task, 'acc')}", f"={AT_CHANCE_BELOW!r}"],
                         {"higher": f"its mean is above {chance}.",
                          "lower": f"its mean is below {chance}: the model did not learn, so this is no finding.",
                          "not separated": f"its mean is exactly {chance}, the least the chapter counts as learned."}))
        claim = f"{task}_4128"
        words.append(decided_verdict(record, claim, {
            "reproduced": f"The claim at length {seq_len(NOTE_COPY_NOISE):,} is {{words}}.",
            "not reproduced": f"The claim at length {seq_len(NOTE_COPY_NOISE):,} is {{words}}.",
            "not comparable": f"The claim at length {seq_len(NOTE_COPY_NOISE):,} is not comparable: {{reason}}.",
            "not run": "The claim gets no verdict: {reason}."}))
    return " ".join(words)


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def own_length_words(experiment: Experiment, record: Record) -> str:
    """Each seed of the paper's model at its own final length (numbers only; no direction is stated)."""
    m, words = record["metrics"], []
    for task in experiment.runs:
        told = [f"seed {run.seed} {100 * m[key(task, 'acc_own_length', seed=run.seed)]:.1f} % at "
                f"{seq_len(run.final_len):,}" for run in experiment.paper(task)]
        words.append(f"At its own final length, on fresh batches, each seed of the paper's model on "
                     f"{TASK_LABELS[task]} scores: {', '.join(told)}.")
    return " ".join(words)


def validation_words(record: Record, task: str, eval_batches: int) -> str:
    """The validation noise the pass rule reads: the median standard error of a validation's loss over its batches,
    overall and near the threshold (or that no validation fell near it, and why: the seeds jumped past it between
    two validations, or never came down to it)."""
    m = record["metrics"]
    if m.get(key(task, "val_loss_se")) is None:
        return ""
    near = m.get(key(task, "val_loss_se_near"))
    passed = any(name.startswith(f"{task}_validations_to_pass.") for name in m)
    why = "the seeds passed it between two validations" if passed else "the loss never came down to it"
    there = (f"{near:.2g} over the validations within a factor {NEAR_THRESHOLD:g} of the threshold" if near is not None
             else f"no validation fell within a factor {NEAR_THRESHOLD:g} of the threshold ({why})")
    return (f"On {TASK_LABELS[task]} a validation's loss over its {eval_batches} batches has a median standard error "
            f"of {m[key(task, 'val_loss_se')]:.2g}; {there}.")


def accounting_words(experiment: Experiment, record: Record, eval_every: int) -> str:
    """What the paper model's budget was against the Note's, in the unit that limits each task: copy in validations
    (the curriculum can only double at a validation, and it passes a length in a few, so the cadence sets its
    samples), selective copy in samples (it needs thousands of steps per length, far more than a validation
    interval, so the cadence hardly matters): rule ``reference`` against the Note's count."""
    words = []
    for task in experiment.runs:
        runs, m = experiment.paper(task), record["metrics"]
        passed = [[s for s in run.stays if s.outcome == "passed"] for run in runs]
        firsts = [p[0].validations for p in passed if p]
        later = [s for p in passed for s in p[1:]]
        samples = int(m[key(task, "samples")])
        first = (f"needed {', '.join(map(str, firsts))} validations to pass their first length"
                 if firsts else "passed no length")
        quick = (f", and passed {sum(s.validations == 1 for s in later)} of the {len(later)} later lengths they passed "
                 "at the first validation there" if later else "")
        head = f"On {TASK_LABELS[task]} the paper model's seeds {first}{quick}. "
        if task == "selective_copy":
            note = NOTE_TASK_SAMPLES[task]
            words.append(head + f"Selective copy is limited by samples, so it is counted in samples: its first seed "
                         f"trained on {samples:,} ({100 * m[key(task, 'samples_share')]:.1f} % of the Note's "
                         f"{note:,.0f}), " + decided("reference", record, [f"={key(task, 'samples')}", f"={note!r}"],
                                                     {"lower": "fewer than the Note's.",
                                                      "not separated": "as many as the Note's.",
                                                      "higher": "more than the Note's."}))
            continue
        note = NOTE_TASK_SAMPLES[task] / NOTE_COPY_BATCH / NOTE_COPY_EVAL_EVERY
        total = int((runs[0].history["step"] > 0).sum())
        per_validation = runs[0].batch_size * eval_every  # samples between two validations here
        at_note = (f"the Note's {note:,.4g} (its {NOTE_TASK_SAMPLES[task]:,.0f} samples at a validation every "
                   f"{NOTE_COPY_EVAL_EVERY} steps of {NOTE_COPY_BATCH})")
        intervals = f"{samples / per_validation:,.4g} validation interval{'s' * (samples != per_validation)}"
        words.append(head + f"Copy is counted in validations, the unit its cadence sets: its first seed validated "
                     f"{total} time{'s' * (total != 1)} in training (every {eval_every} steps of "
                     f"{runs[0].batch_size}, {samples:,} samples): " + decided(
                         "reference", record, [f"={key(task, 'samples')}", f"={note * per_validation:.17g}"],
                         {"lower": f"{intervals}, fewer than {at_note}.",
                          "not separated": f"{intervals}, as many as {at_note}.",
                          "higher": f"{intervals}, more than {at_note}."}))
    return " ".join(words)


def comparison_words(experiment: Experiment, record: Record) -> str:
    """Per task and baseline, where every model is compared: whether each learned (rule ``check`` on its flag: mean
    at least twice chance) and, only when both did, its accuracy against the paper model's (rule ``equal_samples``
    on their intervals over seeds: "higher" or "lower" only where they do not overlap); for forget, whether every
    seed stalled (``check``)."""
    m, words = record["metrics"], []
    chance = f"twice chance ({100 * AT_CHANCE_BELOW:.1f} %)"
    for task in experiment.runs:
        if m.get(key(task, "compare_steps")) is None or not experiment.baselines(task):
            continue
        paper_learned = m[key(task, "learned", "recurrent")] == 1
        steps, length = int(m[key(task, "compare_steps")]), seq_len(int(m[key(task, "compared_noise_len")]))
        paper = _interval_words(m, key(task, "paper_acc_compared"))
        words.append(f"**{TASK_LABELS[task].capitalize()}**, after {steps:,} steps at length {length:,}: the paper's "
                     f"model scores {paper} over {int(m[key(task, 'seeds')])} seeds; " + decided(
                         "check", record, [key(task, "learned", "recurrent")],
                         {"holds": f"its mean is at least {chance}.",
                          "fails": f"its mean is below {chance}: it has not learned by then, so no baseline is "
                                   "ordered against it."}))
        for role, runs in experiment.baselines(task).items():
            label = role_label(role, runs[0].config.rnn)
            told = f"{label[0].upper()}{label[1:]}: {_interval_words(m, key(task, 'acc_compared', role))}"
            learned = decided("check", record, [key(task, "learned", role)], {
                "holds": f"{told}, at least {chance}",
                "fails": f"{told}, below {chance}: it has not learned by then"})
            if paper_learned and m[key(task, "learned", role)] == 1:
                words.append(learned + "; " + decided(
                    "equal_samples", record, [key(task, "acc_compared", role), key(task, "paper_acc_compared")],
                    {"higher": "higher than the paper's model.", "lower": "lower than the paper's model.",
                     "not separated": "not separated from the paper's model."}))
            else:
                words.append(learned + "; no ordering is stated.")
            if role == "forget":
                words.append(forget_words(runs, record, task))
    return " ".join(words)


def forget_words(runs: Sequence[CopyRun], record: Record, task: str) -> str:
    """Forget over its seeds, each given its seed's paper model's steps to reach that model's final length: where
    they ended, their accuracy there, and whether every seed stalled (rule ``check``)."""
    m = record["metrics"]
    steps = ", ".join(f"{run.state.step:,}" for run in runs)
    own = _interval_words(m, key(task, "acc_own_len", "forget"))
    return (f"Given its seed's paper-model steps to reach that model's final length ({steps} steps), forget reached "
            f"length {seq_len(int(m[key(task, 'final_noise_len', 'forget')])):,} at most and scores {own} at its own "
            "final length. " + decided("check", record, [key(task, "stalled", "forget")], {
                "holds": "Every seed stalled: it left a length unpassed that its seed's paper model passed with the "
                         "same samples.",
                "fails": "Not every seed stalled."}))


def _interval_words(m: Mapping[str, Any], name: str) -> str:
    """A recorded mean accuracy with its 95 % interval over seeds, in words."""
    low, high = m[f"{name}.ci_low"], m[f"{name}.ci_high"]
    ci = "" if _missing(low) else f" (95 % interval over seeds {100 * low:.1f}–{100 * high:.1f} %)"
    return f"{100 * m[name]:.1f} %{ci}"


def scaled_down_words(values: Mapping[str, Any]) -> str:
    """What this run scales down from the Note's runs, for the title paragraph (`configuration_words`)."""
    v, limit = values, min(values["limit"], values["cap"])
    share = v["selective_steps"] * v["batch_size"] / NOTE_SELECTIVE_COPY_SAMPLES
    left_out = [TASK_LABELS[t] for t in COPY_TASKS if t not in TASK_CHOICES[v["baselines"]]]
    cuts = [f"every model trains to length {seq_len(limit):,} at most, not {seq_len(NOTE_COPY_NOISE):,}"
            if limit < NOTE_COPY_NOISE else "",
            f"selective copy trains {v['selective_steps']:,} steps, {share:.1%} of the Note's samples (the start of "
            "its curriculum)" if share < 1 else "",
            f"batches of {v['batch_size']}, not {NOTE_COPY_BATCH}" if v["batch_size"] != NOTE_COPY_BATCH else "",
            "no baselines on " + " or ".join(left_out) if left_out else ""]
    return configuration_words("; ".join(c for c in cuts if c), "the Note's")
