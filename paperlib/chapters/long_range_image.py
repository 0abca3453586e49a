"""Chapter 'Long-range image classification': images as token sequences (LRA "Image"), the Note's
recurrent layer against a 4-layer transformer, with the chapter's tables, figures and prose.

Tokens are stored as uint8. A validation split is held out of the training set, so that selection
(the best validation loss) never looks at the test set; the test set scores the selected weights once.
The Note's own protocol selects on test batches (methods page, published results); that number is
reported too, labelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import Tensor

from paperlib.book.metrics import EXECUTION, Declaration, Metric
from paperlib.book.page import deviations
from paperlib.book.paper_numbers import NOTE_IMAGE_ACC
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.context import RunContext
from paperlib.data.images import ImageTokens, downsample
from paperlib.data.sources import Provenance
from paperlib.models.flops import paper_flops, train_flops_per_sample
from paperlib.models.paper_configs import paper_config
from paperlib.models.transformer import TransformerConfig
from paperlib.plots import page_figure
from paperlib.stats import mean_ci
from paperlib.training.batches import shuffled_batches, split_validation, tensor_batches
from paperlib.training.callbacks import best_model
from paperlib.training.device import DeviceSetup
from paperlib.training.evaluation import Scores, score
from paperlib.training.loop import Evaluate, State
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig
from paperlib.training.plan import RunSpec, Stop
from paperlib.training.run import Checkpointing, Run, eval_steps, fit

MODEL_LABELS = {  # name: what the chapter calls it
    "recurrent": "recurrent, forget, K 16–48 in training (Note)",
    "recurrent_alpha": "recurrent, learnable α, K 32 (Feb-2026 code)",
    "recurrent_fixed": "recurrent, forget, K 32 (ablation)",
    "regular": "regular, 4 layers",
}
NOTE_CONFIG = {"side": 32, "dropout": 0.05, "recurrent_steps": 80000, "recurrent_batch": 256, "regular_steps": 80000,
               "regular_batch": 40, "lr": 0.0005}  # the Note's Table 4 runs (July 2025)
NOTE_PARAMS = {"recurrent": "53.6K", "regular": "90K"}
EVAL_BATCH = 250
TEST_IMAGES = 10_000  # the test set of CIFAR-10, and of Fashion-MNIST and MNIST, its substitutes
COLLAPSE_MARGIN = 0.05  # a final training loss this close to ln(classes) is a run that did not learn
COLLAPSE_SHARE = 0.9  # or one class predicted for at least this share of the test images
RESULT_COLUMNS = ("test acc", "95 % CI", "Note-style", "paper", "seeds learned")  # `results`' table, shown as three
SIZE_COLUMNS = ("params", "paper params", "steps", "train time (s)")
FLOP_COLUMNS = ("per sample, paper formula", "per sample, ours", "in training")
COMPARED = ("recurrent", "recurrent_fixed", "regular")  # the models the chapter's comparisons read
BASIS_WORDS = {"equal_compute": "equal training compute", "equal_samples": "equal training samples"}
METRICS = Declaration("long_range_image", [
    Metric("image_acc_{model}", "fraction", "test accuracy of the weights with the best validation loss, mean over "
           "the seeds that learned; its interval a Student-t one over those seeds (NaN: none learned)",
           headline=True, ci=True),
    Metric("image_acc_{model}_paper_style", "fraction", "the Note's way: accuracy on the evaluation's test subset at "
           "the best test-subset loss (selected on test), mean over the seeds that learned"),
    Metric("image_val_acc_{model}", "fraction", "validation accuracy at the best validation loss, mean over the "
           "seeds that learned"),
    Metric("image_collapsed_{model}", "runs", "seeds whose run collapsed (chance-level loss or one class predicted)"),
    Metric("image_selected_last_{model}", "runs", "seeds whose weights were selected at their last evaluation: still "
           "improving on validation when the budget ran out"),
    Metric("params_{model}", "parameters", "trainable parameters"),
    Metric("alpha_{model}", "α", "the learnable α at the end, mean over seeds (models with a learnable α)"),
    *EXECUTION,
], fields={"model": MODEL_LABELS})


@dataclass
class Splits:
    """Training, validation and test tokens at the chapter's side, the test images scored at every
    evaluation (`eval_test`) and the ones that score the selected weights (`final_test`)."""

    train_x: Tensor
    train_y: Tensor
    val_x: Tensor
    val_y: Tensor
    test_x: Tensor
    test_y: Tensor
    eval_test: Tensor
    final_test: Tensor


def prepare(data: ImageTokens, side: int, n_val: int, n_eval: int, n_test: int, seed: int) -> Splits:
    """Downsample to `side` (if below 32), hold out `n_val` training images, pick the test subsets."""
    train_x, test_x = (downsample(x, side) for x in (data.train_x, data.test_x)) if side < 32 else (data.train_x, data.test_x)
    train_x, train_y, val_x, val_y = split_validation(train_x, data.train_y, n_val, seed=seed)
    pick = torch.randperm(len(test_x), generator=torch.Generator().manual_seed(seed + 1))
    final = pick[:n_test] if n_test else torch.arange(len(test_x))
    return Splits(train_x, train_y, val_x, val_y, test_x, data.test_y, pick[:n_eval], final)


def data_statement(provenance: Provenance, side: int, splits: Splits, n_classes: int) -> str:
    """What the data are, said first when they are a substitute."""
    if provenance.substitute:
        statement = (f"**Substitute data: {provenance.dataset}, not CIFAR-10.** {provenance.note}. Every number on "
                     "this page is therefore *not comparable* with the Note's or LRA's.")
    else:
        statement = f"CIFAR-10 in 8-bit grayscale (PIL's L), from {provenance.source}."
    scored = len(splits.final_test)
    return statement + (f" Images of {side}×{side} = {side * side} tokens"
                        + (" (averaged from 32×32: a shorter sequence than LRA's 1,024)" if side < 32 else "")
                        + f"; {len(splits.train_x):,} training, {len(splits.val_x):,} validation (held out of the "
                        f"training set) and {len(splits.test_x):,} test images, of which "
                        + ("all" if scored == len(splits.test_x) else f"{scored:,}, drawn at random,")
                        + f" score the selected weights; {n_classes} classes.")


def plot_examples(splits: Splits, classes: tuple[str, ...], side: int) -> Figure:
    """The first training image of each class, as the model's tokens."""
    fig, axes = page_figure(2, (len(classes) + 1) // 2, row_height=1.9)
    for c, ax in enumerate(axes.flat):
        ax.axis("off")
        if c < len(classes):
            ax.imshow(splits.train_x[splits.train_y == c][0].reshape(side, side), cmap="gray", vmin=0, vmax=255)
            ax.set_title(classes[c], fontsize=10)
    return fig


def image_configs(seq_len: int, dropout: float) -> dict[str, TransformerConfig]:
    """The chapter's models (keys of `MODEL_LABELS`) for sequences of `seq_len` pixels; K is 32 at evaluation."""
    shape = {"n_positions": seq_len, "dropout": dropout}
    return {
        "recurrent": paper_config("image", "recurrent", block=32, block_range=(16, 48), alpha="forget", **shape),
        "recurrent_alpha": paper_config("image", "recurrent", block=32, alpha="learn", **shape),
        "recurrent_fixed": paper_config("image", "recurrent", block=32, alpha="forget", **shape),
        "regular": paper_config("image", "regular", **shape),
    }


def image_metrics(splits: Mapping[str, tuple[Tensor, Tensor]]) -> Evaluate:
    """Evaluation on each named split: ``{name}_loss`` and ``{name}_acc``, and the clamped α if learnable."""
    def evaluate(state: State) -> dict[str, float]:
        model, record = state.model, {}
        for name, (x, y) in splits.items():
            record |= score(model, tensor_batches(x, y, EVAL_BATCH)).summary(f"{name}_")
        if getattr(model, "alpha_raw", None) is not None:
            record["alpha"] = float(model.alpha)
        return record

    return evaluate


def evaluation_sets(splits: Splits, n_eval: int) -> dict[str, tuple[Tensor, Tensor]]:
    """What every evaluation scores: the first `n_eval` validation images and the test subset."""
    return {"val": (splits.val_x[:n_eval], splits.val_y[:n_eval]),
            "test": (splits.test_x[splits.eval_test], splits.test_y[splits.eval_test])}


def equal_compute_steps(configs: Mapping[str, TransformerConfig], seq_len: int, recurrent_steps: int,
                        recurrent_batch: int, regular_batch: int) -> int:
    """Steps of the regular model that give it the training FLOPs of the Note's recurrent model."""
    recurrent = train_flops_per_sample(configs["recurrent"], seq_len) * recurrent_steps * recurrent_batch
    return max(1, round(recurrent / (train_flops_per_sample(configs["regular"], seq_len) * regular_batch)))


def runs(params: Mapping[str, Any]) -> list[RunSpec]:
    """The chapter's plan from its parameters: every model of `image_configs` once per seed (seeds `seed` to
    `seed + seeds - 1`: the weights and the order of the images; the split stays fixed), trained with Adam at a
    constant learning rate on shuffled epochs of the training split; the 4-layer model for `regular_steps` steps
    or, with 0, as many as give it the recurrent model's training FLOPs."""
    p, n = params, params["side"] ** 2
    configs = image_configs(n, p["dropout"])
    regular_steps = p["regular_steps"] or equal_compute_steps(configs, n, p["recurrent_steps"], p["recurrent_batch"],
                                                              p["regular_batch"])
    early = f"early stop once the training loss is below {p['early_stop']:g}" if p["early_stop"] > 0 else ""
    specs = []
    for name, cfg in configs.items():
        steps, batch = (regular_steps, p["regular_batch"]) if name == "regular" else (p["recurrent_steps"],
                                                                                      p["recurrent_batch"])
        specs += [RunSpec("long_range_image", "", name, seed, cfg, f"{p['side']}×{p['side']} image tokens: shuffled "
                          "epochs of the training split", steps, batch, n, OptimizerConfig(lr=p["lr"]), None,
                          tuple(eval_steps(steps, p["evals"])), 2 * p["n_eval"], p["n_test"] or TEST_IMAGES, early,
                          stop=Stop(keep_best=True, train_loss_below=p["early_stop"]))
                  for seed in range(p["seed"], p["seed"] + p["seeds"])]
    return specs


def train_plan(plan: Sequence[RunSpec], splits: Splits, *, evaluate: Evaluate, setup: DeviceSetup,
               checkpointing: Checkpointing, context: RunContext) -> dict[str, list[Run]]:
    """Every run of the plan, by model (in the plan's order): a classifier trained on shuffled epochs of the
    training split under its spec's stop rules (`runs`)."""
    done: dict[str, list[Run]] = {}
    for spec in plan:
        run = fit(spec, setup, shuffled_batches(splits.train_x, splits.train_y, spec.batch), model_loss(),
                  evaluate=evaluate, checkpointing=checkpointing, context=context)
        done.setdefault(spec.family, []).append(run)
    return done


@dataclass
class SeedResult:
    """One trained run, judged: its test scores with the weights selected on validation, and why it is
    a collapsed run ("" when it learned)."""

    run: Run
    scores: Scores
    collapse: str


def selected_at_last(run: Run) -> bool:
    """Whether the run's weights (the best validation loss) come from its last evaluation: it was still improving
    when its budget ran out."""
    evaluated = run.history.dropna(subset=["val_loss"])
    return bool(run.best("val_loss")["step"] == evaluated.step.iloc[-1])


def collapse_diagnosis(run: Run, scores: Scores, n_classes: int) -> str:
    """Why a run did not learn, or "": its last training loss within COLLAPSE_MARGIN of ln(classes) (the loss
    of a uniform guess), or one class predicted for at least COLLAPSE_SHARE of the test images."""
    chance = math.log(n_classes)
    last = run.history.train_loss.dropna()
    reasons = []
    if len(last) and last.iloc[-1] > chance - COLLAPSE_MARGIN:
        reasons.append(f"training loss {last.iloc[-1]:.3f} at the end, the chance level ln {n_classes} = {chance:.3f}")
    counts = torch.bincount(scores.predictions, minlength=n_classes)
    share = float(counts.max()) / len(scores.predictions)
    if share >= COLLAPSE_SHARE:
        reasons.append(f"class {int(counts.argmax())} predicted for {share:.0%} of the test images")
    return "; ".join(reasons)


def judge_seeds(runs: Mapping[str, Sequence[Run]], splits: Splits, n_classes: int) -> dict[str, list[SeedResult]]:
    """Each run's selected weights scored once on the final test images, and its collapse diagnosis."""
    x, y = splits.test_x[splits.final_test], splits.test_y[splits.final_test]
    judged = {}
    for name, seeds in runs.items():
        judged[name] = []
        for run in seeds:
            scores = score(best_model(run.state), tensor_batches(x, y, EVAL_BATCH))
            judged[name].append(SeedResult(run, scores, collapse_diagnosis(run, scores, n_classes)))
    return judged


def results(judged: Mapping[str, Sequence[SeedResult]], seq_len: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per model, over the seeds that learned: test accuracy (selected on validation) with its 95 % CI over
    seeds, the Note's test-selected number, size and cost, and how many seeds collapsed; the metrics."""
    rows, metrics = [], {}
    for name, seeds in judged.items():
        learned = [r for r in seeds if not r.collapse]
        run = seeds[0].run
        acc = mean_ci([r.scores.acc for r in learned]) if learned else (math.nan,) * 3
        paper_style = [float(r.run.best("test_loss")["test_acc"]) for r in learned]
        metrics |= {f"image_acc_{name}": acc[0], f"image_acc_{name}.ci_low": acc[1], f"image_acc_{name}.ci_high": acc[2],
                    f"image_acc_{name}_paper_style": _mean(paper_style),
                    f"image_val_acc_{name}": _mean([float(r.run.best("val_loss")["val_acc"]) for r in learned]),
                    f"image_collapsed_{name}": len(seeds) - len(learned), f"params_{name}": run.params,
                    f"image_selected_last_{name}": sum(selected_at_last(r.run) for r in seeds)}
        if "alpha" in run.history:
            metrics[f"alpha_{name}"] = _mean([float(r.run.history.alpha.iloc[-1]) for r in seeds])
        rows.append({"model": MODEL_LABELS[name], "params": run.params, "paper params": NOTE_PARAMS.get(name, "—"),
                     "per sample, paper formula": paper_flops(run.cfg, seq_len),
                     "per sample, ours": run.flops_per_sample, "steps": run.state.step,
                     "in training": run.history.train_flops.iloc[-1],
                     "seeds learned": f"{len(learned)} of {len(seeds)}", "test acc": acc[0],
                     "95 % CI": "—" if math.isnan(acc[1]) else f"[{100 * acc[1]:.1f}, {100 * acc[2]:.1f}]",
                     "Note-style": _mean(paper_style),
                     "paper": NOTE_IMAGE_ACC.get(name, math.nan),
                     "train time (s)": _mean([r.run.state.train_time for r in seeds])})
    return pd.DataFrame(rows).set_index("model"), metrics


def seed_table(judged: Mapping[str, Sequence[SeedResult]]) -> pd.DataFrame:
    """Every run: its test accuracy, the step its weights were selected at (of its last evaluation's), and whether
    it collapsed."""
    return pd.DataFrame([{"model": MODEL_LABELS[name], "seed": r.run.state.seed, "test acc": r.scores.acc,
                          "selected at step": f"{int(r.run.best('val_loss')['step']):,} of "
                                              f"{int(r.run.history.dropna(subset=['val_loss']).step.iloc[-1]):,}",
                          "collapsed": r.collapse or "no"}
                         for name, seeds in judged.items() for r in seeds]).set_index(["model", "seed"])


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def position_words(metrics: Mapping[str, float], side: int, width: int = 32) -> str:
    """Why the recurrent model's size differs from the Note's 53.6K: its position table has side² rows."""
    ours, note_rows = int(METRICS.view(metrics)["params_recurrent"]), 1024
    return (f"{ours:,} parameters against the Note's 53,664: the learned position table has one row of width "
            f"{width} per token, {side * side:,} rows here against {note_rows:,} for 32×32 images "
            f"({side * side * width:,} against {note_rows * width:,} parameters); the layer itself is the same")


def plot_training(runs: Mapping[str, Sequence[Run]], substitute: bool) -> Figure:
    """Loss and validation accuracy against training FLOPs, every seed (the Note's Fig. 3)."""
    fig, (left, right) = page_figure(2, row_height=3.4, sharex=True)
    for i, (name, seeds) in enumerate(runs.items()):
        for j, run in enumerate(seeds):
            h, label = run.history, (MODEL_LABELS[name] if j == 0 else None)
            left.plot(h.train_flops, h.val_loss, "-o", ms=3, color=f"C{i}", label=label)
            left.plot(h.train_flops, h.train_loss, "--", color=f"C{i}", alpha=0.5)
            right.plot(h.train_flops, 100 * h.val_acc, "-o", ms=3, color=f"C{i}")
    right.set(xscale="log", xlabel="training FLOPs (forward, our count)")
    left.axhline(math.log(10), color="grey", lw=0.8, ls=":", label="chance, ln 10")
    left.set(ylabel="cross-entropy", title="Loss: validation (solid), training (dashed); one line per seed")
    if not substitute:
        right.axhline(100 * NOTE_IMAGE_ACC["recurrent"], color="black", lw=0.8, ls="-.",
                      label=f"Note: recurrent {NOTE_IMAGE_ACC['recurrent']:.2%}")
    right.axhline(10, color="grey", ls=":")
    right.set(ylabel="validation accuracy (%)", title="Accuracy")
    handles, labels = left.get_legend_handles_labels()
    extra = right.get_legend_handles_labels()
    fig.legend(handles + extra[0], labels + extra[1], loc="outside lower center", ncol=2)
    return fig


def plot_confusions(judged: Mapping[str, Sequence[SeedResult]], classes: tuple[str, ...]) -> Figure:
    """Row-normalised confusion matrices of the Note's model and the regular one, pooled over the seeds
    that learned (rows: true class)."""
    fig, axes = page_figure(2, row_height=6.0)
    for ax, name in zip(axes, ("recurrent", "regular")):
        learned = [r for r in judged[name] if not r.collapse] or list(judged[name])
        counts = sum(r.scores.confusion(len(classes)) for r in learned)
        shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for (r, c), v in np.ndenumerate(shares):
            ax.text(c, r, f"{100 * v:.0f}", ha="center", va="center", fontsize=9, color="white" if v > 0.5 else "black")
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
        ax.set_yticks(range(len(classes)), classes)
        acc = float(np.trace(counts)) / counts.sum()
        ax.set(title=f"{MODEL_LABELS[name]} ({100 * acc:.1f} %, {len(learned)} seeds)", xlabel="predicted",
               ylabel="true")
        ax.grid(False)
    return fig


def collapse_reasons(judged: Mapping[str, Sequence[SeedResult]]) -> str | None:
    """A not-comparable reason when a run of the Note's model collapsed (it is left out of the headline)."""
    seeds = judged["recurrent"]
    collapsed = [r for r in seeds if r.collapse]
    if not collapsed:
        return None
    return (f"{len(collapsed)} of {len(seeds)} runs of the Note's model collapsed ({collapsed[0].collapse}); the "
            "accuracy is over the runs that learned" if len(collapsed) < len(seeds) else
            f"every run of the Note's model collapsed ({collapsed[0].collapse}): no accuracy to judge")


def scaled_down(ours: Mapping[str, object]) -> str:
    """How this run's configuration departs from the Note's ("" when it does not)."""
    return deviations(ours, NOTE_CONFIG)


def comparison_basis(params: Mapping[str, Any]) -> Literal["equal_compute", "equal_samples"] | None:
    """On what the 4-layer model is compared with the Note's: the same training FLOPs when the plan gives it the
    recurrent model's (``regular_steps`` 0), the same training images when both see as many, else nothing."""
    p = params
    if p["regular_steps"] == 0:
        return "equal_compute"
    same = p["regular_steps"] * p["regular_batch"] == p["recurrent_steps"] * p["recurrent_batch"]
    return "equal_samples" if same else None


def _accuracy(m: Mapping[str, float], name: str) -> str:
    low, high = m[f"image_acc_{name}.ci_low"], m[f"image_acc_{name}.ci_high"]
    return f"{100 * m[f'image_acc_{name}']:.2f} %" + ("" if math.isnan(low) else
                                                       f" (95 % CI [{100 * low:.1f}, {100 * high:.1f}])")


def _compare(record: Record, rule: str, name: str, subject: str, basis: str) -> str:
    """The Note's model against model `name` (rule `rule`: intervals over seeds), marked."""
    m = record["metrics"]
    ours, other = _accuracy(m, "recurrent"), _accuracy(m, name)
    return decided(rule, record, [f"image_acc_{name}", "image_acc_recurrent"], {
        "higher": f"At {basis}, {subject} reached {other}, higher than the Note's model's {ours}.",
        "lower": f"At {basis}, {subject} reached {other}, lower than the Note's model's {ours}.",
        "not separated": f"At {basis}, {subject} reached {other}, not separated from the Note's model's {ours}."})


def in_words(record: Record, provenance: Provenance, basis: Literal["equal_compute", "equal_samples"] | None,
             seeds: int) -> str:
    """The verdict in a few sentences: the Note's model against the 4-layer one (on `basis`) and against the same
    layer with a fixed block (equal samples), whether those runs (`seeds` per model) were still improving (rules
    ``equal_compute`` or ``equal_samples``, ``budget_bound``), collapses, and the verdict (rule ``verdict``)."""
    m = record["metrics"]
    learned = {n for n in COMPARED if not math.isnan(m.get(f"image_acc_{n}", math.nan))}
    words = [f"**In words.** On {provenance.dataset}{' (a substitute)' if provenance.substitute else ''}, with the "
             "weights selected on validation and the 95 % intervals over the seeds that learned."]
    if {"recurrent", "regular"} <= learned:
        words.append(_compare(record, basis, "regular", "the 4-layer transformer",
                              BASIS_WORDS[basis]) if basis else
                     f"the 4-layer transformer reached {_accuracy(m, 'regular')} and the Note's model "
                     f"{_accuracy(m, 'recurrent')}, with neither the same training FLOPs nor the same images: no "
                     "comparison is drawn.")
    if {"recurrent", "recurrent_fixed"} <= learned:
        words.append(_compare(record, "equal_samples", "recurrent_fixed", "the same layer with the block fixed at 32",
                              BASIS_WORDS["equal_samples"]))
    compared = sorted(learned & set(COMPARED), key=COMPARED.index)
    if "recurrent" in compared and len(compared) > 1:
        keys = [f"image_selected_last_{n}" for n in compared]
        last, these = sum(int(m[key]) for key in keys), "this comparison" if len(compared) == 2 else "these comparisons"
        words.append(decided("budget_bound", record, keys, {
            "budget-bound": f"{last} of the {seeds * len(compared)} runs behind {these} "
                            f"{'was' if last == 1 else 'were'} selected at their last evaluation, still improving when "
                            "the budget ran out: what they show holds within this budget only, not for the trained "
                            "models.",
            "settled": f"None of the {seeds * len(compared)} runs behind {these} was selected at its last evaluation: "
                       "none was still improving when the budget ran out."}))
    collapsed = {n: int(m[f"image_collapsed_{n}"]) for n in MODEL_LABELS if m.get(f"image_collapsed_{n}")}
    if collapsed:
        words.append("Collapsed runs (constant predictions, left out of every number): "
                     + ", ".join(f"{MODEL_LABELS[n]} {k}" for n, k in collapsed.items()) + ".")
    words.append(decided_verdict(record, "lra_image", {
        "reproduced": f"Against the Note's {NOTE_IMAGE_ACC['recurrent']:.2%} on CIFAR-10 the claim is reproduced.",
        "not reproduced": f"Against the Note's {NOTE_IMAGE_ACC['recurrent']:.2%} on CIFAR-10 the claim is not "
                          "reproduced.",
        "not comparable": f"The claim is not comparable with the Note's {NOTE_IMAGE_ACC['recurrent']:.2%} on "
                          "CIFAR-10: {reason}.",
        "not run": "The claim gets no verdict: {reason}."}))
    return " ".join(words)
