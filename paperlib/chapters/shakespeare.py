"""Chapter 'Character-level Shakespeare': nanoGPT's `shakespeare_char` task for the recurrent layer, the
regular baselines and count-based n-gram floors, with the chapter's tables, figures and prose.

Training batches are random windows of the training text; evaluation uses fixed windows of each split,
drawn once, so every model is scored on the same characters. The optimizer is nanoGPT's AdamW
(methods page, configurations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from torch import Tensor, nn

from paperlib.book.metrics import EXECUTION, Declaration, Metric
from paperlib.book.page import deviations
from paperlib.book.paper_numbers import FORGET_ALPHA_MAX, NOTE_SHAKESPEARE_LOSS
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.context import RunContext
from paperlib.data.sources import Provenance
from paperlib.data.text import CharData
from paperlib.models.flops import paper_flops
from paperlib.models.ngram import NGram
from paperlib.models.paper_configs import build, paper_config
from paperlib.models.sampling import lm_next_probs, ngram_next_probs, sample
from paperlib.models.transformer import TransformerConfig
from paperlib.plots import page_figure
from paperlib.stats import mean_ci
from paperlib.training.batches import fixed_windows, random_windows, window_batches
from paperlib.training.callbacks import WarmupCosine
from paperlib.training.device import DeviceSetup
from paperlib.training.evaluation import score
from paperlib.training.loop import Evaluate, State
from paperlib.training.losses import model_loss
from paperlib.training.optim import nanogpt_adamw
from paperlib.training.plan import RunSpec
from paperlib.training.run import Checkpointing, Run, eval_steps, fit

MODEL_LABELS = {  # name: what the chapter calls it
    "recurrent_pos": "recurrent, forget, positions (Note)",
    "recurrent_nopos": "recurrent, forget, no positions (Note)",
    "recurrent_k16": "recurrent, forget, K 16 (Feb-2026 code)",
    "recurrent_alpha": "recurrent, learnable α from 0.5 (Note's K)",
    "recurrent_alpha_k16": "recurrent, learnable α from 0.5, K 16",
    "regular_1": "regular, 1 layer",
    "regular_6": "regular, 6 layers",
}
FORGET_VARIANTS = ("recurrent_pos", "recurrent_nopos")  # the paper's 1.4699–1.4738 covers both
ALPHA_MODELS = ("recurrent_alpha", "recurrent_alpha_k16")  # the forget claim reads the first of these that trained
LEARNED_MARGIN = 0.25  # nats below the 1-gram's loss a model must reach to count as having trained
NOTE_CONFIG = {"n_embd": 384, "n_head": 6, "context": 256, "dropout": 0.2, "steps": 10000, "batch_recurrent": 256,
               "batch_regular_1": 128, "batch_regular_6": 64}  # the Note's Table 3 runs (July 2025)
NGRAM_ANCHORS = {1: 3.347, 2: 2.486, 3: 2.049, 4: 1.774, 5: 1.669, 6: 1.698}  # methods page, published results
FLOOR_ORDER = 5  # the n-gram model every neural model has to beat
SHORT_ORDER = 3  # an n-gram of three characters: a model above its loss has learned less than local spelling
ALPHA_START = 0.5  # where a learnable α starts (as for copy and image)
LOSS_COLUMNS = ("best val loss", "95 % CI over seeds", "paper")  # `results`' table, shown as three
REGULAR_NAMES = {"regular_1": "1-layer regular model", "regular_6": "6-layer regular model"}  # in sentences
SIZE_COLUMNS = ("params", "batch", "train time (s)")
FLOP_COLUMNS = ("per sample, paper formula", "per sample, ours", "in training")
METRICS = Declaration("shakespeare", [
    Metric("val_loss_recurrent", "nats/char", "best validation loss of the better forget variant (with and without "
           "positions), mean over seeds; its interval a Student-t one over seeds", headline=True, ci=True),
    Metric("alpha_learned", "α", "the learnable α at the end, mean over seeds, of the first model of ALPHA_MODELS "
           "that trained; its interval over seeds", headline=True, ci=True),
    Metric("val_loss_{model}", "nats/char", "the model's best validation loss over its evaluations, mean over seeds",
           ci=True),
    Metric("params_{model}", "parameters", "the model's trainable parameters"),
    Metric("train_flops_{model}", "FLOPs", "training FLOPs: forward FLOPs per window (our count) × windows seen, "
           "mean over seeds"),
    Metric("val_loss_at_budget_{model}", "nats/char", "the best validation loss reached within `flops_budget` "
           "training FLOPs, mean over seeds (NaN before the first evaluation); its interval a Student-t one over seeds",
           ci=True),
    Metric("flops_budget", "FLOPs", "the matched-compute budget: the training FLOPs of the cheapest model"),
    Metric("val_loss_ngram{order}", "nats/char", "validation loss of the interpolated n-gram model of this order"),
    Metric("loss_per_doubling", "nats", "validation loss the best model lost per doubling of training compute over "
           "the second half of its evaluations"),
    Metric("flops_to_floor", "FLOPs", "where the best model's mean curve, extended at `loss_per_doubling`, meets "
           "the 5-gram's loss (a lower bound; inf when it is not falling)"),
    Metric("alpha_start", "α", "the learnable α's value at initialisation"),
    Metric("alpha_raw", "1", "the raw (unclamped) α parameter of the model `alpha_learned` reads, mean over seeds"),
    Metric("alpha_model_trained", "0 or 1", "1 when the model `alpha_learned` reads trained (its validation loss "
           f"{LEARNED_MARGIN} nats below the 1-gram's)"),
    Metric("alpha_final_{alpha_model}", "α", "the learnable α at the end, mean over seeds"),
    Metric("trained_{alpha_model}", "0 or 1", "1 when every seed ended at least "
           f"{LEARNED_MARGIN} nats below the 1-gram's validation loss"),
    *EXECUTION,
], fields={"model": MODEL_LABELS, "alpha_model": ALPHA_MODELS, "order": r"[1-9]"})


def shakespeare_configs(vocab_size: int, block: int, context: int, n_embd: int, n_head: int, dropout: float
                        ) -> dict[str, TransformerConfig]:
    """The chapter's models (keys of `MODEL_LABELS`): the recurrent layer with forget (α = 0) at block `block`
    with and without learned positions and at the Feb-2026 code's K = 16; with a learnable α starting at 0.5
    (as for copy and image) at `block` and at K = 16; and the regular 1- and 6-layer models."""
    shape = {"vocab_size": vocab_size, "n_embd": n_embd, "n_head": n_head, "n_positions": context, "dropout": dropout}
    recurrent = partial(paper_config, "shakespeare", "recurrent", block=block)
    return {
        "recurrent_pos": recurrent(**shape),
        "recurrent_nopos": recurrent(**{**shape, "n_positions": 0}),
        "recurrent_k16": paper_config("shakespeare", "recurrent", block=16, **shape),
        "recurrent_alpha": recurrent(alpha="learn", alpha_value=ALPHA_START, **shape),
        "recurrent_alpha_k16": paper_config("shakespeare", "recurrent", block=16, alpha="learn", alpha_value=ALPHA_START,
                                            **shape),
        "regular_1": paper_config("shakespeare", "regular", **shape),
        "regular_6": paper_config("shakespeare", "regular", n_layer=6, **shape),
    }


def batch_sizes(recurrent: int, regular_1: int, regular_6: int) -> dict[str, int]:
    """Windows per step of each model (the Note gives the recurrent models a larger batch)."""
    return {name: regular_1 if name == "regular_1" else regular_6 if name == "regular_6" else recurrent
            for name in MODEL_LABELS}


def ngram_losses(ngram: NGram, data: CharData) -> dict[str, float]:
    """``val_loss_ngramN``: validation loss (nats per character) of the model of each order up to ngram's."""
    return {f"val_loss_ngram{n}": ngram.lower(n).loss(data.val.numpy()) for n in range(1, ngram.order + 1)}


def ngram_table(metrics: Mapping[str, float], max_order: int) -> pd.DataFrame:
    """Our n-gram validation losses beside the ones measured when the project was planned."""
    orders, metrics = range(1, max_order + 1), METRICS.view(metrics)
    return pd.DataFrame({"order": list(orders), "val loss (nats)": [metrics[f"val_loss_ngram{n}"] for n in orders],
                         "measured before (methods page)": [NGRAM_ANCHORS[n] for n in orders]}).set_index("order")


def lm_metrics(train_windows: Tensor, val_windows: Tensor) -> Evaluate:
    """Evaluation: train and validation loss on fixed windows (in eval mode), the validation standard
    error over its windows, and the clamped α of a learnable recurrence."""
    def evaluate(state: State) -> dict[str, float]:
        model = state.model
        val = _window_losses(model, val_windows)
        record = {"train_eval_loss": float(_window_losses(model, train_windows).mean()), "val_loss": float(val.mean()),
                  "val_loss_se": float(val.std() / math.sqrt(len(val)))}
        if getattr(model, "alpha_raw", None) is not None:
            record["alpha"] = float(model.alpha)
        return record

    return evaluate


def _window_losses(model: nn.Module, windows: Tensor) -> Tensor:
    """Each window's mean cross-entropy (nats per character), shape (n,)."""
    scores = score(model, window_batches(windows))
    return scores.per_example(scores.losses)


def runs(params: Mapping[str, Any], vocab_size: int | None = None) -> list[RunSpec]:
    """The chapter's plan from its parameters: every model of `shakespeare_configs` once per seed (seeds `seed`
    to `seed + seeds - 1`), on random windows of the training text with nanoGPT's optimizer, at a constant
    learning rate (the Note's) or with nanoGPT's warm-up and cosine decay to a tenth over the run. `vocab_size`
    is the text's (None: the canonical text's, the paper configuration's 65 characters)."""
    p = params
    configs = shakespeare_configs(vocab_size or paper_config("shakespeare", "recurrent").vocab_size, p["block"],
                                  p["context"], p["n_embd"], p["n_head"], p["dropout"])
    batches = batch_sizes(p["batch_recurrent"], p["batch_regular_1"], p["batch_regular_6"])
    schedule = WarmupCosine(p["warmup"], p["steps"]) if p["schedule"] == "cosine" else None
    return [RunSpec("shakespeare", "", name, seed, cfg, "tiny Shakespeare: random windows of the training text",
                    p["steps"], batches[name], p["context"], nanogpt_adamw(p["lr"]), schedule,
                    tuple(eval_steps(p["steps"], p["evals"])), 2 * p["eval_windows"], 0, "")
            for name, cfg in configs.items() for seed in range(p["seed"], p["seed"] + p["seeds"])]


def train_plan(plan: Sequence[RunSpec], data: CharData, *, evaluate: Evaluate, setup: DeviceSetup,
               checkpointing: Checkpointing, context: RunContext) -> dict[str, list[Run]]:
    """Every run of the plan, by model (in the plan's order). Models with the same seed start from the same
    random state and see the same batches."""
    done: dict[str, list[Run]] = {}
    for spec in plan:
        sample = random_windows(data.train, spec.length, spec.batch)
        done.setdefault(spec.family, []).append(fit(spec, setup, sample, model_loss(), evaluate=evaluate,
                                                    checkpointing=checkpointing, context=context))
    return done


def best_losses(runs: Sequence[Run]) -> list[float]:
    """Each run's best validation loss."""
    return [float(run.history.val_loss.min()) for run in runs]


def results(runs: Mapping[str, Sequence[Run]]) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per model, over its seeds: best validation loss with its 95 % CI, size, cost, and the Note's value;
    and the metrics (``val_loss_NAME`` with ``.ci_low``/``.ci_high``, ``params_NAME``, ``train_flops_NAME``)."""
    rows, metrics = [], {}
    for name, seeds in runs.items():
        run, (mean, low, high) = seeds[0], mean_ci(best_losses(seeds))
        flops = float(np.mean([r.history.train_flops.iloc[-1] for r in seeds]))
        rows.append({"model": MODEL_LABELS[name], "params": run.params, "batch": run.spec.batch,
                     "per sample, paper formula": paper_flops(run.cfg, run.spec.length),
                     "per sample, ours": run.flops_per_sample, "in training": flops, "best val loss": mean,
                     "95 % CI over seeds": _interval_words(low, high),
                     "paper": NOTE_SHAKESPEARE_LOSS.get(name, math.nan),
                     "train time (s)": float(np.mean([r.state.train_time for r in seeds]))})
        metrics |= {f"val_loss_{name}": mean, f"val_loss_{name}.ci_low": low, f"val_loss_{name}.ci_high": high,
                    f"params_{name}": run.params, f"train_flops_{name}": flops}
    return pd.DataFrame(rows).set_index("model"), metrics


def trained(metrics: Mapping[str, float], runs: Sequence[Run]) -> bool:
    """Whether every seed's best validation loss is `LEARNED_MARGIN` below the 1-gram's (a model that only
    learned character frequencies sits at the 1-gram's loss)."""
    unigram = METRICS.view(metrics).get("val_loss_ngram1", math.inf)
    return all(loss < unigram - LEARNED_MARGIN for loss in best_losses(runs))


def headline_metrics(metrics: Mapping[str, float], runs: Mapping[str, Sequence[Run]]) -> tuple[dict[str, float], str, str]:
    """The claims' numbers: the better forget variant (by its mean over seeds) with its CI over seeds; and
    the final α, mean and CI over seeds, of the first model of `ALPHA_MODELS` that trained (``alpha_model_trained``
    is 0 when none did), and where it started. Returns them, the better forget variant and the α model read."""
    metrics = METRICS.view(metrics)
    better = min(FORGET_VARIANTS, key=lambda n: metrics[f"val_loss_{n}"])
    candidates = [n for n in ALPHA_MODELS if n in runs]
    alpha_model = next((n for n in candidates if trained(metrics, runs[n])), candidates[0])
    alpha, alpha_low, alpha_high = mean_ci([float(r.history.alpha.iloc[-1]) for r in runs[alpha_model]])
    found = {"val_loss_recurrent": metrics[f"val_loss_{better}"],
             "val_loss_recurrent.ci_low": metrics[f"val_loss_{better}.ci_low"],
             "val_loss_recurrent.ci_high": metrics[f"val_loss_{better}.ci_high"],
             "alpha_learned": alpha, "alpha_learned.ci_low": alpha_low, "alpha_learned.ci_high": alpha_high,
             "alpha_start": ALPHA_START,
             "alpha_raw": float(np.mean([float(r.state.model.alpha_raw.detach()) for r in runs[alpha_model]])),
             "alpha_model_trained": float(trained(metrics, runs[alpha_model]))}
    for name in candidates:
        found[f"alpha_final_{name}"] = float(np.mean([float(r.history.alpha.iloc[-1]) for r in runs[name]]))
        found[f"trained_{name}"] = float(trained(metrics, runs[name]))
    return found, better, alpha_model


def alpha_gradients(cfg: TransformerConfig, data: CharData, context: int, batch_size: int, seed: int,
                    starts: Sequence[float] = (0.0, 0.1, 0.5)) -> pd.DataFrame:
    """The loss's gradient with respect to the raw α at initialisation, for each starting α, on one batch of
    training windows: positive means gradient descent lowers α. At α = 0 a positive gradient pushes the raw
    parameter below zero, where the clamp to [0, 1] passes no gradient: α then stays 0 whatever the loss."""
    rows = []
    for start in starts:
        torch.manual_seed(seed)
        model = build(replace(cfg, alpha="learn", alpha_value=start, dropout=0.0))
        windows = fixed_windows(data.train, context, batch_size, seed=seed)
        model_loss()(model, (windows[:, :-1], windows[:, 1:])).backward()
        rows.append({"α at the start": f"{start:g}", "∂loss/∂α": float(model.alpha_raw.grad)})
    return pd.DataFrame(rows).set_index("α at the start")


def mean_curve(runs: Sequence[Run], column: str) -> pd.DataFrame:
    """`column`, the training FLOPs and the training seconds at each evaluation step, averaged over seeds."""
    frames = [r.history[["step", "train_flops", "time", column]] for r in runs]
    return pd.concat(frames).groupby("step", as_index=False).mean()


def loss_at_flops(runs: Sequence[Run], budget: float) -> tuple[float, float, float]:
    """The best validation loss reached within `budget` training FLOPs, mean over seeds with its 95 % interval
    (`mean_ci`): each seed's running best, interpolated in log FLOPs between evaluations (NaN before the first
    evaluation)."""
    values = []
    for run in runs:
        h = run.history
        if budget < h.train_flops.iloc[0]:
            return math.nan, math.nan, math.nan
        values.append(float(np.interp(np.log(budget), np.log(h.train_flops), h.val_loss.cummin())))
    return mean_ci(values)


def matched_compute(runs: Mapping[str, Sequence[Run]]) -> tuple[pd.DataFrame, dict[str, float]]:
    """Every model at the training compute the cheapest model used (the paper's Fig. 2 compares along FLOPs):
    the best validation loss each had reached by then, with its interval over seeds; and the metrics
    ``val_loss_at_budget_NAME`` (with ``.ci_low``/``.ci_high``)."""
    budget = min(float(np.mean([r.history.train_flops.iloc[-1] for r in seeds])) for seeds in runs.values())
    losses = {name: loss_at_flops(seeds, budget) for name, seeds in runs.items()}
    table = pd.DataFrame({"model": [MODEL_LABELS[n] for n in losses],
                          "val loss at the budget": [mean for mean, _, _ in losses.values()],
                          "95 % CI over seeds": [_interval_words(low, high) for _, low, high in losses.values()]})
    metrics = {"flops_budget": budget}
    for name, (mean, low, high) in losses.items():
        metrics |= {f"val_loss_at_budget_{name}": mean, f"val_loss_at_budget_{name}.ci_low": low,
                    f"val_loss_at_budget_{name}.ci_high": high}
    return table.set_index("model"), metrics


def _interval_words(low: float, high: float) -> str:
    return "—" if math.isnan(low) else f"[{low:.3f}, {high:.3f}]"


def compute_to_floor(runs: Sequence[Run], floor: float) -> dict[str, float]:
    """How far a model's mean curve is from `floor`: the loss it lost per doubling of training compute over
    the second half of its evaluations (a least-squares line in log2 FLOPs), and the training FLOPs at which
    that line meets the floor: a lower bound on the compute needed, since loss curves flatten."""
    curve = mean_curve(runs, "val_loss")
    tail = curve.iloc[len(curve) // 2:]
    if len(tail) < 2:
        return {"loss_per_doubling": math.nan, "flops_to_floor": math.nan}
    slope = float(np.polyfit(np.log2(tail.train_flops), tail.val_loss, 1)[0])
    end_flops, end_loss = float(curve.train_flops.iloc[-1]), float(curve.val_loss.iloc[-1])
    if end_loss <= floor:
        reached = float(curve.train_flops[curve.val_loss <= floor].iloc[0])
        return {"loss_per_doubling": -slope, "flops_to_floor": reached}
    if slope >= 0:
        return {"loss_per_doubling": -slope, "flops_to_floor": math.inf}
    return {"loss_per_doubling": -slope, "flops_to_floor": end_flops * 2 ** ((end_loss - floor) / -slope)}


def plot_losses(runs: Mapping[str, Sequence[Run]], floor: float | None, budget: float | None = None) -> Figure:
    """Validation loss against training FLOPs (the Note's Fig. 2) and against training seconds, and train
    and validation loss against steps; each model's mean over seeds."""
    fig, (by_flops, by_time, by_step) = page_figure(3, row_height=3.3)
    for i, (name, seeds) in enumerate(runs.items()):
        val, train = mean_curve(seeds, "val_loss"), mean_curve(seeds, "train_eval_loss")
        by_flops.plot(val.train_flops, val.val_loss, "-o", ms=3, color=f"C{i}", label=MODEL_LABELS[name])
        by_time.plot(val.time, val.val_loss, "-o", ms=3, color=f"C{i}")
        by_step.plot(val.step, val.val_loss, "-", color=f"C{i}")
        by_step.plot(train.step, train.train_eval_loss, "--", color=f"C{i}", alpha=0.7)
    best_note = min(NOTE_SHAKESPEARE_LOSS[n] for n in FORGET_VARIANTS)
    for ax in (by_flops, by_time, by_step):
        first = ax is by_flops
        if floor is not None:
            ax.axhline(floor, color="grey", ls=":", label=f"{FLOOR_ORDER}-gram (validation)" if first else None)
        ax.axhline(best_note, color="black", lw=0.8, ls="-.", label=f"Note: best recurrent, {best_note}" if first else None)
        ax.set_ylabel("loss (nats/char)")
    if budget is not None:
        by_flops.axvline(budget, color="grey", lw=0.8, label="matched-compute budget")
    by_flops.set(xscale="log", xlabel="training FLOPs (forward, our count)", title="Validation loss vs training compute")
    by_time.set(xscale="log", xlabel="training seconds on this machine", title="Validation loss vs training time")
    by_time.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a short log axis overlap
    by_step.set(xlabel="step", title="Train (dashed) and validation (solid) vs steps")
    fig.legend(*by_flops.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig


def plot_alpha(runs: Mapping[str, Sequence[Run]]) -> Figure:
    """Each learnable α against steps (every seed), and those models' validation loss beside the forget one's."""
    fig, (alpha_ax, loss_ax) = page_figure(2, row_height=3.2, sharex=True)
    for i, name in enumerate(n for n in (*ALPHA_MODELS, "recurrent_pos") if n in runs):
        for j, run in enumerate(runs[name]):
            label = MODEL_LABELS[name] if j == 0 else None
            if "alpha" in run.history:
                alpha_ax.plot(run.history.step, run.history.alpha, "-o", ms=3, color=f"C{i}", label=label)
            loss_ax.plot(run.history.step, run.history.val_loss, "-", color=f"C{i}", label=label)
    alpha_ax.axhline(FORGET_ALPHA_MAX, color="grey", ls=":", label=f"claim's threshold {FORGET_ALPHA_MAX}")
    alpha_ax.set(ylabel="α (clamped to [0, 1])", title="The learnable α, every seed", ylim=(-0.02, 1.02))
    loss_ax.set(xlabel="step", ylabel="validation loss", title="Did the model train?")
    for ax in (alpha_ax, loss_ax):
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def samples_markdown(runs: Mapping[str, Sequence[Run]], ngram: NGram, data: CharData, context: int, block: int,
                     n_chars: int, seed: int) -> str:
    """Each model's (first seed's) continuation of the same prompt (the validation split's first characters)."""
    prompt = data.val[: max(32, block + 1)]
    samplers = {MODEL_LABELS[name]: lm_next_probs(seeds[0].state.model, context) for name, seeds in runs.items()}
    samplers[f"{ngram.order}-gram"] = ngram_next_probs(ngram)
    prompt_text = data.decode(prompt)
    lines = [f"**Prompt:** `{prompt_text!r}`", ""]
    for label, next_probs in samplers.items():
        continuation = data.decode(sample(next_probs, prompt.tolist(), n_chars, seed=seed))
        lines += [f"**{label}**", "", "```text", prompt_text + continuation, "```", ""]
    return "\n".join(lines)


def _loss(m: Mapping[str, float], key: str) -> str:
    """A loss with its interval over seeds, as the sentences give it."""
    low, high = m.get(f"{key}.ci_low", math.nan), m.get(f"{key}.ci_high", math.nan)
    return f"{m[key]:.4f}" + ("" if math.isnan(low) else f" (95 % CI [{low:.4f}, {high:.4f}])")


def _against(record: Record, rule: str, key: str, other: str, subject: str, reference: str) -> str:
    """`subject`'s loss at `key` against `reference`'s at `other` (rule ``equal_compute`` or ``reference``:
    ``=other`` is an exact number), marked."""
    return decided(rule, record, [key, other], {
        "lower": f"{subject} is lower than {reference}.",
        "higher": f"{subject} is higher than {reference}.",
        "not separated": f"{subject} is not separated from {reference}."})


def compute_words(record: Record, better: str) -> str:
    """The paper's ordering at equal training compute: the better forget variant against each regular model at
    the cheapest model's budget (rule ``equal_compute``, intervals over seeds), where both were evaluated by then."""
    m = record["metrics"]
    key = f"val_loss_at_budget_{better}"
    words = [f"At equal training compute ({m['flops_budget']:.2g} FLOPs, the cheapest model's):"]
    for regular, name in REGULAR_NAMES.items():
        other = f"val_loss_at_budget_{regular}"
        if math.isnan(m[key]) or math.isnan(m[other]):
            words.append(f"the {name} or the recurrent one had not been evaluated within that budget.")
            continue
        words.append(_against(record, "equal_compute", key, other, f"the recurrent model's loss, {_loss(m, key)},",
                              f"the {name}'s, {_loss(m, other)}"))
    return " ".join(words)


def ngram_words(record: Record, better: str) -> str:
    """The neural models against count-based ones (rule ``reference``): each against the 5-gram floor, and the
    1-layer regular model against the 3-gram as well."""
    m = record["metrics"]
    floor, short = f"val_loss_ngram{FLOOR_ORDER}", f"val_loss_ngram{SHORT_ORDER}"
    if m.get(floor) is None:
        return ""
    models = {"val_loss_recurrent": f"The recurrent model, {_loss(m, 'val_loss_recurrent')},",
              **{f"val_loss_{n}": f"The {REGULAR_NAMES[n]}, {_loss(m, f'val_loss_{n}')}," for n in REGULAR_NAMES}}
    words = [_against(record, "reference", key, f"={floor}", subject, f"the {FLOOR_ORDER}-gram floor ({m[floor]:.3f})")
             for key, subject in models.items()]
    if m.get(short) is not None:
        words.append(_against(record, "reference", "val_loss_regular_1", f"={short}", f"The {REGULAR_NAMES['regular_1']}",
                              f"a {SHORT_ORDER}-gram model ({m[short]:.3f})"))
    return "Against count-based models, at the end of each run: " + " ".join(words)


def in_words(record: Record, better: str, alpha_model: str) -> str:
    """The verdicts in a few sentences: the models at the end of their runs, the ordering at equal compute, the
    n-gram floors, α, and the claims' verdicts (rules ``equal_compute``, ``reference``, ``verdict``)."""
    m = record["metrics"]
    words = [f"**In words.** At the end of its run (equal steps, not equal compute) the better recurrent variant "
             f"({MODEL_LABELS[better]}) reached {_loss(m, 'val_loss_recurrent')}, the regular 1-layer model "
             f"{_loss(m, 'val_loss_regular_1')} and the 6-layer model {_loss(m, 'val_loss_regular_6')}.",
             compute_words(record, better), ngram_words(record, better)]
    untrained = [MODEL_LABELS[n] for n in ALPHA_MODELS if m.get(f"trained_{n}") == 0.0]
    if untrained:
        words.append(f"**Did not train** (validation loss within {LEARNED_MARGIN} nats of the 1-gram's): "
                     f"{', '.join(untrained)}; its α says nothing about forgetting.")
    if m.get("alpha_model_trained", 1.0):
        words.append(decided("reference", record, ["alpha_learned", "=alpha_start"], {
            outcome: f"The learnable α of the {MODEL_LABELS[alpha_model]} {moved} {m['alpha_start']:g}: it ended at "
                     f"{m['alpha_learned']:.3f} (95 % CI [{m['alpha_learned.ci_low']:.3f}, "
                     f"{m['alpha_learned.ci_high']:.3f}])."
            for outcome, moved in (("lower", "fell from"), ("higher", "rose from"),
                                   ("not separated", "did not move clearly from"))}))
    unjudged = {"not comparable": "is {words}: {reason}.", "not run": "gets no verdict: {reason}."}
    words.append(decided_verdict(record, "shakespeare_val_loss", {
        "reproduced": "The validation-loss claim is reproduced.",
        "not reproduced": "The validation-loss claim is not reproduced.",
        **{status: "The validation-loss claim " + text for status, text in unjudged.items()}}))
    words.append(decided_verdict(record, "shakespeare_forget", {
        "reproduced": f"The forgetting claim is reproduced: α ended at most {FORGET_ALPHA_MAX}.",
        "not reproduced": f"The forgetting claim is not reproduced: α ended above {FORGET_ALPHA_MAX}.",
        **{status: "The forgetting claim " + text for status, text in unjudged.items()}}))
    return " ".join(filter(None, words))


def forget_claim_reason(metrics: Mapping[str, float]) -> str | None:
    """A not-comparable reason for the forget claim when no learnable-α model trained."""
    metrics = METRICS.view(metrics)
    if metrics.get("alpha_model_trained", 1.0):
        return None
    return (f"no learnable-α model trained (validation loss within {LEARNED_MARGIN} nats of the 1-gram's "
            f"{metrics['val_loss_ngram1']:.3f}): no α is a finding")


def text_source(provenance: Provenance) -> str:
    """Which text this run used, said first when it is an approximation."""
    if provenance.substitute:
        return (f"**an approximation of tiny Shakespeare, not the canonical file** ({provenance.source}): "
                "no number on this page is comparable with the paper's")
    return f"the canonical tiny Shakespeare from `{provenance.source}` (sha256 `{provenance.sha256[:16]}…`)"


def scaled_down(ours: Mapping[str, object]) -> str:
    """How this run's configuration departs from the Note's ("" when it does not)."""
    return deviations(ours, NOTE_CONFIG)


def window_sets(data: CharData, context: int, n: int) -> tuple[Tensor, Tensor]:
    """The fixed evaluation windows of the training and validation splits (seeds 1 and 2)."""
    return fixed_windows(data.train, context, n, seed=1), fixed_windows(data.val, context, n, seed=2)

