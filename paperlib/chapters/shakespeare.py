"""Chapter 'Character-level Shakespeare': nanoGPT's `shakespeare_char` task for the recurrent layer, the
regular baselines and count-based n-gram floors, with the chapter's tables, figures and prose.

Training batches are random windows of the training text; evaluation uses fixed windows of each split,
drawn once, so every model is scored on the same characters. The optimizer is nanoGPT's AdamW
(methods page, configurations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
from matplotlib.figure import Figure
from torch import Tensor, nn

from paperlib.book.claims import FORGET_ALPHA_MAX, NOTE_SHAKESPEARE_LOSS
from paperlib.book.page import deviations
from paperlib.data.sources import Provenance
from paperlib.data.text import CharData
from paperlib.flops import paper_flops
from paperlib.models.ngram import NGram
from paperlib.models.paper_configs import build, paper_config
from paperlib.models.sampling import lm_next_probs, ngram_next_probs, sample
from paperlib.models.transformer import TransformerConfig
from paperlib.plots import page_figure
from paperlib.training.batches import fixed_windows, random_windows, window_batches
from paperlib.training.device import DeviceSetup
from paperlib.training.evaluation import score
from paperlib.training.loop import Evaluate, init
from paperlib.training.losses import model_loss
from paperlib.training.optim import nanogpt_adamw
from paperlib.training.run import Checkpointing, Run, fit

MODEL_LABELS = {  # name: what the chapter calls it
    "recurrent_pos": "recurrent, 1 layer, positions",
    "recurrent_nopos": "recurrent, 1 layer, no positions",
    "recurrent_alpha": "recurrent, 1 layer, learnable α",
    "regular_1": "regular, 1 layer",
    "regular_6": "regular, 6 layers",
}
NOTE_CONFIG = {"n_embd": 384, "n_head": 6, "context": 256, "dropout": 0.2, "steps": 10000, "batch_recurrent": 256,
               "batch_regular_1": 128, "batch_regular_6": 64}  # the Note's Table 3 runs (July 2025)
NGRAM_ANCHORS = {1: 3.347, 2: 2.486, 3: 2.049, 4: 1.774, 5: 1.669, 6: 1.698}  # methods page, published results
FLOOR_ORDER = 5  # the n-gram model every neural model has to beat


def shakespeare_configs(vocab_size: int, block: int, context: int, n_embd: int, n_head: int, dropout: float
                        ) -> dict[str, TransformerConfig]:
    """The chapter's models (keys of `MODEL_LABELS`): the recurrent layer with forget (α = 0) with and
    without learned positions, with a learnable α (starting at 0.5), and the regular 1- and 6-layer models."""
    shape = {"vocab_size": vocab_size, "n_embd": n_embd, "n_head": n_head, "n_positions": context, "dropout": dropout}
    return {
        "recurrent_pos": paper_config("shakespeare", "recurrent", block=block, **shape),
        "recurrent_nopos": paper_config("shakespeare", "recurrent", block=block, **{**shape, "n_positions": 0}),
        "recurrent_alpha": paper_config("shakespeare", "recurrent", block=block, alpha="learn", alpha_value=0.5, **shape),
        "regular_1": paper_config("shakespeare", "regular", **shape),
        "regular_6": paper_config("shakespeare", "regular", n_layer=6, **shape),
    }


def batch_sizes(recurrent: int, regular_1: int, regular_6: int) -> dict[str, int]:
    """Windows per step of each model (the Note gives the recurrent models a larger batch)."""
    return {"recurrent_pos": recurrent, "recurrent_nopos": recurrent, "recurrent_alpha": recurrent,
            "regular_1": regular_1, "regular_6": regular_6}


def ngram_losses(ngram: NGram, data: CharData) -> dict[str, float]:
    """``val_loss_ngramN``: validation loss (nats per character) of the model of each order up to ngram's."""
    return {f"val_loss_ngram{n}": ngram.lower(n).loss(data.val.numpy()) for n in range(1, ngram.order + 1)}


def ngram_table(metrics: Mapping[str, float], max_order: int) -> pd.DataFrame:
    """Our n-gram validation losses beside the ones measured when the project was planned."""
    orders = range(1, max_order + 1)
    return pd.DataFrame({"order": list(orders), "val loss (nats)": [metrics[f"val_loss_ngram{n}"] for n in orders],
                         "measured before (methods page)": [NGRAM_ANCHORS[n] for n in orders]}).set_index("order")


def lm_metrics(train_windows: Tensor, val_windows: Tensor) -> Evaluate:
    """Evaluation: train and validation loss on fixed windows (in eval mode), the validation standard
    error over its windows, and the clamped α of a learnable recurrence."""
    def evaluate(model: nn.Module) -> dict[str, float]:
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


def train_model(name: str, cfg: TransformerConfig, data: CharData, *, context: int, batch_size: int, steps: int,
                lr: float, seed: int, evals: int, evaluate: Evaluate, setup: DeviceSetup,
                checkpointing: Checkpointing = Checkpointing()) -> Run:
    """Train one model on random windows of the training text with nanoGPT's optimizer.

    Every model gets the same seed, hence the same initial random state and the same batches.
    """
    state = init(lambda: build(cfg), nanogpt_adamw(lr), seed, setup)
    return fit(name, cfg, state, random_windows(data.train, context, batch_size), model_loss(), steps=steps,
               batch_size=batch_size, seq_len=context, evals=evals, evaluate=evaluate, chapter="shakespeare",
               checkpointing=checkpointing)


def results(runs: Mapping[str, Run], batches: Mapping[str, int], context: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per model: size, cost, best validation loss with its standard error, and the Note's value; the metrics."""
    rows, metrics = [], {}
    for name, run in runs.items():
        best = run.best("val_loss")
        rows.append({"model": MODEL_LABELS[name], "params": run.params, "batch": batches[name],
                     "FLOPs/sample, paper formula": paper_flops(run.cfg, context),
                     "FLOPs/sample, ours": run.flops_per_sample, "best val loss": best["val_loss"],
                     "s.e.": best["val_loss_se"], "at step": int(best["step"]),
                     "training FLOPs to best": best["train_flops"], "train loss there": best["train_eval_loss"],
                     "paper": NOTE_SHAKESPEARE_LOSS.get(name, float("nan")), "train time (s)": run.state.train_time})
        metrics |= {f"val_loss_{name}": float(best["val_loss"]), f"val_loss_{name}.se": float(best["val_loss_se"]),
                    f"params_{name}": run.params}
    return pd.DataFrame(rows).set_index("model"), metrics


def headline_metrics(metrics: Mapping[str, float], alpha_run: Run) -> tuple[dict[str, float], str]:
    """The claim's numbers: the better of the two forget variants (the paper's range covers both) with a
    ±1.96 s.e. interval, and the learnable α at the last step; and which variant was better."""
    better = min(("recurrent_pos", "recurrent_nopos"), key=lambda n: metrics[f"val_loss_{n}"])
    loss, se = metrics[f"val_loss_{better}"], metrics[f"val_loss_{better}.se"]
    found = {"val_loss_recurrent": loss, "val_loss_recurrent.ci_low": loss - 1.96 * se,
             "val_loss_recurrent.ci_high": loss + 1.96 * se,
             "alpha_learned": float(alpha_run.history.alpha.iloc[-1]),
             "alpha_raw": float(alpha_run.state.model.alpha_raw.detach())}
    return found, better


def plot_losses(runs: Mapping[str, Run], floor: float | None) -> Figure:
    """Validation loss against training FLOPs (the Note's Fig. 2), and train and validation loss by step."""
    fig, (left, right) = page_figure(2, row_height=3.6)
    for i, (name, run) in enumerate(runs.items()):
        h = run.history
        left.plot(h.train_flops, h.val_loss, "-o", ms=3, color=f"C{i}", label=MODEL_LABELS[name])
        right.plot(h.step, h.val_loss, "-", color=f"C{i}", label=f"{MODEL_LABELS[name]}: validation")
        right.plot(h.step, h.train_eval_loss, "--", color=f"C{i}", alpha=0.7)
    best_note = min(NOTE_SHAKESPEARE_LOSS["recurrent_pos"], NOTE_SHAKESPEARE_LOSS["recurrent_nopos"])
    for ax in (left, right):
        if floor is not None:
            ax.axhline(floor, color="grey", ls=":", label=f"{FLOOR_ORDER}-gram (validation)")
        ax.axhline(best_note, color="black", lw=0.8, ls="-.", label=f"Note: best recurrent, {best_note}")
    left.set(xscale="log", xlabel="training FLOPs (forward, our count)", ylabel="validation loss (nats/char)",
             title="Validation loss vs training compute")
    right.set(xlabel="step", ylabel="loss (nats/char)", title="Train (dashed) and validation (solid)")
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig


def plot_alpha(run: Run) -> Figure:
    """The learnable α against steps, with the claim's threshold."""
    fig, ax = page_figure(row_height=3.2)
    ax.plot(run.history.step, run.history.alpha, "-o", ms=3)
    ax.axhline(FORGET_ALPHA_MAX, color="grey", ls=":", label=f"claim's threshold {FORGET_ALPHA_MAX}")
    ax.set(xlabel="step", ylabel="α (clamped to [0, 1])", title="The learnable α", ylim=(-0.02, 1.02))
    ax.legend()
    return fig


def samples_markdown(runs: Mapping[str, Run], ngram: NGram, data: CharData, context: int, block: int,
                     n_chars: int, seed: int) -> str:
    """Each model's continuation of the same prompt (the validation split's first characters), same seed."""
    prompt = data.val[: max(32, block + 1)]
    samplers = {MODEL_LABELS[name]: lm_next_probs(run.state.model, context) for name, run in runs.items()}
    samplers[f"{ngram.order}-gram"] = ngram_next_probs(ngram)
    prompt_text = data.decode(prompt)
    lines = [f"**Prompt:** `{prompt_text!r}`", ""]
    for label, next_probs in samplers.items():
        continuation = data.decode(sample(next_probs, prompt.tolist(), n_chars, seed=seed))
        lines += [f"**{label}**", "", "```text", prompt_text + continuation, "```", ""]
    return "\n".join(lines)


def in_words(metrics: Mapping[str, float], better: str, deviation: str) -> str:
    """The verdicts in a few sentences: the ordering of the models, the n-gram floor, α."""
    m = metrics
    floor = m.get(f"val_loss_ngram{FLOOR_ORDER}")
    neural = {MODEL_LABELS[n]: m[f"val_loss_{n}"] for n in MODEL_LABELS}
    beat = [label for label, loss in neural.items() if floor is not None and loss < floor]
    ordering_holds = m["val_loss_recurrent"] < min(m["val_loss_regular_1"], m["val_loss_regular_6"])
    return (
        f"**In words.** The better recurrent variant ({MODEL_LABELS[better]}) reached {m['val_loss_recurrent']:.4f}, "
        f"the regular 1-layer model {m['val_loss_regular_1']:.4f} and the 6-layer model "
        f"{m['val_loss_regular_6']:.4f}; the paper's ordering (recurrent below both) "
        + ("holds" if ordering_holds else "does not hold") + " in this run. "
        + (f"Against the {FLOOR_ORDER}-gram floor ({floor:.3f}): " + (
            f"beaten by {', '.join(beat)}." if beat else
            "**no neural model beats it** in this run's budget, so these numbers say little about the paper's.")
           if floor is not None else "")
        + f" The learnable α ended at {m['alpha_learned']:.3f}"
        + (" (forgetting)." if m["alpha_learned"] <= FORGET_ALPHA_MAX else " (not forgetting).")
        + (f" Configuration: {deviation}: not comparable with the paper's numbers." if deviation else "")
    )


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

