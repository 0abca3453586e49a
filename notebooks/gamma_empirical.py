# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Measuring γ
#
# *Scaling Efficient LLMs* (Kausik, arXiv 2402.14746) claims that an **efficient** LLM, the one with the
# fewest parameters $N^*$ that reaches the accuracy its training corpus allows, grows with the corpus as
# $N^* \propto D^{\gamma}$ with $\gamma < 1$, in fact $\gamma \in [0.44, 0.72]$ ({doc}`scaling_law` reconstructs
# that interval from Chinchilla's fit). This chapter **measures that quantity directly, at toy scale**: it trains
# character-level transformers (about 3.5 thousand to 320 thousand non-embedding parameters) on slices of tiny
# Shakespeare (about 8 thousand to 125 thousand characters, the smallest at memorisation scale), several seeds at
# every size, with one stopping rule counted in passes; at each slice it finds the knee of the measured loss
# curve, the fewest parameters whose loss is within $\varepsilon$ of the plateau, and fits $\gamma$ to those knees.
# No loss law enters the definition; the additive law $L = E + A N^{-\alpha} + B D^{-\beta}$ is fitted as context
# only. Every definition and rule is restated on the {ref}`methods page <methods-gamma-empirical>`. **Scaled
# down**: the models, corpus and budget are far from the paper's LLMs, so the value of $\gamma$ here says nothing
# about theirs.

# %% tags=["parameters", "hide-input"]
profile: str = "cpu"  # run profile, set by paperlib run; one of quick, cpu, paper
d_min: int = 7812  # characters in the smallest training slice; range 1000..1000000
n_slices: int = 5  # slices, doubling from d_min; range 3..12
ladder: str = "12x2,16x2,20x2,24x2,30x2,36x2,44x2,54x2,66x2,80x2,96x2,116x2"  # every model size, smallest first, as WIDTHxLAYERS (2 heads)
rungs_per_slice: int = 8  # consecutive sizes of the ladder trained at each slice; range 4..64
ladder_starts: str = "0,0,1,3,4"  # each slice's smallest size, as its position in the ladder, smallest slice first
seeds: int = 3  # seeds of every (slice, size) cell; range 2..20
seed: int = 0  # first seed of the runs and seed of the bootstrap; range 0..1000000
context: int = 64  # characters per training window; range 8..1024
batch: int = 16  # windows per step; range 1..4096
patience: int = 5  # passes without a new best validation that make a plateau; range 1..1000
pass_cap: float = 100.0  # passes over its slice after which a run stops; range 1.0..100000.0
eval_windows: int = 256  # fixed validation windows scored after every pass; range 8..100000
kgram_max: int = 10  # longest k-gram counted (from 3); range 3..64
n_bootstrap: int = 1000  # bootstrap resamples of the seeds; range 10..100000
scheduler: str = ""  # Dask scheduler address for the runs; empty: $PAPERLIB_DASK_SCHEDULER, else a local cluster
workers: int = 0  # worker processes of the local cluster, 0 for one per core; range 0..1024
device: str = "auto"  # auto picks cuda when available; one of auto, cpu, cuda

# %% tags=["hide-input"]
from IPython.display import Markdown, display
from myst_nb import glue

from paperlib.book.page import glue_metrics, wrapping
from paperlib.book.records import record
from paperlib.book.render import plural, verdict_table, verdicts_for_run
from paperlib.book.runner import declared_parameters
from paperlib.book.verdicts import not_comparable, run_record
from paperlib.chapters.gamma_empirical import (
    BELOW_ONE, IN_BAND, METRICS, PILOT, WARMUP_PASSES, additive_table, additive_words, chapter_metrics, design_from,
    expected_precision, fit_additive_law, gamma_table, gamma_words, inconclusive_reasons, kgram_table, knee_table,
    ladder_table, measure, pilot_table, plot_additive_residuals, plot_kgrams, plot_knees, plot_learning_curves,
    plot_sizes, precision_words, published_table, published_words, read_pilot, run_counts, run_grid,
    run_rows, runs_frame, runs_table, slices_table, train_run, training_stream, training_words, unigram_losses)
from paperlib.context import run_context
from paperlib.data.text import CharData, load_shakespeare
from paperlib.paths import display_path
from paperlib.plots import use_book_style
from paperlib.sweep import Sweep
from paperlib.training.device import configure_device

use_book_style()
run_ctx = run_context()
setup = configure_device(device)

# %% [markdown]
# ## 1. Before any training: the published fits
#
# Under the additive law $L(N, D) = E + A N^{-\alpha} + B D^{-\beta}$, the fewest parameters within a fixed
# fraction of the data-limited loss grow as $D^{\beta/\alpha}$ (methods page). So the paper's interval and the
# loss laws it draws on can be compared with arithmetic alone: does $\beta/\alpha$ lie in
# $[1 - 2\beta, 1 - \beta]$?

# %% tags=["hide-input"]
published = published_table()
published.style.format({"α": "{:.3f}", "β": "{:.3f}", "β/α": "{:.2f}", "1 − 2β": "{:.2f}", "1 − β": "{:.2f}"})

# %% tags=["remove-input"]
display(Markdown(published_words(published)))

# %% [markdown]
# ## 2. The grid
#
# nanoGPT's training split (the first 90 % of the text) is cut into chunks of 1,024 characters, shuffled once in
# a fixed order; a slice of $D$ characters is the first $D$ of that stream, so every slice contains the smaller
# ones and samples every play, as the held-out validation split (the last 10 %) does. The model sizes are GPTs of
# two blocks with two heads, growing by about 1.5 times in non-embedding parameters $N$ from one rung to the
# next (the table gives the total with the token and position embeddings beside it); each slice trains its own {glue:text}`rungs_words` of the ladder, shifted up with $D$ so that it reaches
# below the smallest knee and past the largest, and every (slice, size) cell is trained with
# {glue:text}`seed_words`.

# %% tags=["hide-input"]
text, provenance = load_shakespeare()
data = CharData.from_text(text)
stream = training_stream(data.train)
values = {name: globals()[name] for name in declared_parameters("gamma_empirical")}
design = design_from(values, data.vocab_size, len(stream), provenance.sha256, setup.device.type)
pilot = read_pilot()
unigram = unigram_losses(data, stream, design.sizes)
glue("rungs_words", plural(rungs_per_slice, "consecutive size"), display=False)
glue("seed_words", plural(seeds, "seed"), display=False)
slices_table(design, unigram).style.format({"1-gram loss (nats)": "{:.3f}"}, thousands=",")

# %% tags=["hide-input"]
wrapping(ladder_table(design, data.vocab_size).style.format(
    {"N": "{:,}", "total": "{:,}", "× below": "{:.2f}", "lr": "{:.4f}"}, na_rep=""), ["slices"])

# %% [markdown]
# **The learning rate** of each rung comes from a pilot run once and committed ({glue:text}`pilot_where`,
# made by `{glue:text}`pilot_command``): the rungs 16x2 and 66x2 at one slice of {glue:text}`pilot_D` characters,
# at five peak rates. Each rung's rate interpolates the two best rates linearly in $\log$ lr against $\log N$ and
# is held constant beyond them (the rungs below the smaller and above the larger take that end's rate). The pilot
# validated every hundred steps (an earlier stopping rule), not after every pass.

# %% tags=["hide-input"]
glue("pilot_where", display_path(PILOT), display=False)
glue("pilot_command", pilot["command"], display=False)
glue("pilot_D", f"{pilot['D']:,}", display=False)
pilot_table(pilot).style.format("{:.3f}").set_caption("Validation loss of the pilot's runs (nats per character)")

# %% [markdown]
# ## 3. Training, with one stopping rule at every slice
#
# Every run trains on random windows of its slice with nanoGPT's AdamW: a warm-up over
# {glue:text}`warmup_words`, then a constant learning rate. Its validation loss on a fixed subset of the
# validation split is measured **after every pass** over the slice, so the rule is counted in passes at every
# $D$: a *plateau* is {glue:text}`patience_words` without a new best; the first cuts the learning rate tenfold,
# the second ends the run; the weights of the best validation are kept, and a cap of {glue:text}`cap_words` ends
# any run still going. A run whose best came in its last two validations at the cap was still improving: it is
# **censored**. The kept weights are then scored on the whole validation split, the loss every analysis below
# uses. The runs are tasks on {glue:text}`sweep_where`, each cached under a hash of its configuration.

# %% tags=["hide-input"]
with Sweep("gamma_empirical", train_run, scheduler or run_ctx.scheduler, workers) as sweep:
    results, executed = run_grid(sweep, design)
frame = runs_frame(design, results, data.vocab_size, unigram)
glue("warmup_words", plural(WARMUP_PASSES, "pass", "passes"), display=False)
glue("patience_words", plural(patience, "pass", "passes"), display=False)
glue("cap_words", plural(pass_cap, "pass", "passes"), display=False)
glue("sweep_where", sweep.where, display=False)
display(Markdown(training_words(run_record(run_counts(frame, executed), profile), frame)))

# %% [markdown]
# Seed-mean validation loss ± seed SD (nats per character, best weights, whole validation split); †: a cell with
# a censored run.

# %% tags=["hide-input"]
runs = runs_table(frame)
wrapping(runs.style, list(runs.columns), width_em=6)

# %% [markdown]
# Validation loss of the first seed's smallest, middle and largest size at each slice, against passes.

# %% tags=["hide-input"]
fig = plot_learning_curves(results, design)

# %% [markdown]
# ## 4. The knee at each slice
#
# The seed noise is pooled over every cell: its standard deviation is {glue:text}`seed_sd:.3f` nats, so
# $\varepsilon$, two standard errors of a cell's mean of {glue:text}`gamma_knee_seeds_min:.0f` seeds, is
# {glue:text}`gamma_knee_eps:.3f` nats. At each slice the **plateau** is the lowest value of a monotone
# (non-increasing) fit of the seed-mean loss against $\log N$; $N^*$ is the first size whose seed-mean loss is
# within $\varepsilon$ of it, interpolated in $\log N$ between it and the size before. A slice **counts** only when
# its plateau is confirmed: at least two sizes above $N^*$ are within $\varepsilon$ of it too. A slice flat from its
# smallest size, or still falling at the top of its ladder, does not count.

# %% tags=["hide-input"]
measured = measure(frame, n_bootstrap, seed)
fig = plot_knees(frame, measured)

# %% tags=["hide-input"]
knee_table(measured).style.format({"plateau (nats)": "{:.3f}", "plateau + ε": "{:.3f}"}, thousands=",")

# %% [markdown]
# ## 5. γ
#
# $\gamma$ is the least-squares slope of $\ln N^*$ on $\ln D$ over the slices that count; its 95 % interval comes
# from {glue:text}`n_bootstrap_words` bootstrap resamples of the **seeds within each (slice, size) cell**, so every
# size stays in every resample. The same resamples refit a cross-check that assumes a shape: one joint fit of
# $L = F(D) + s\,w\,\mathrm{softplus}((\ln K(D) - \ln N)/w)$ with a floor $F$ per slice, one slope $s$ and bend
# $w$, and $\ln K = c + \gamma \ln D$.

# %% tags=["hide-input"]
law = fit_additive_law(frame)
metrics = METRICS.new() | chapter_metrics(frame, executed, measured, law, expected_precision(frame, measured, seed))
glue("n_bootstrap_words", f"{n_bootstrap:,}", display=False)
gamma_table(metrics, measured).style.format({"ε (nats)": "{:.3f}", "γ": "{:.2f}"}, na_rep="—")

# %% [markdown]
# (gamma_empirical-key-figure)=
# The key figure: $N^*$ against $D$ with the measured slope and, through the same points, the paper's
# $[0.44, 0.72]$, Chinchilla's compute-optimal $N \propto D$ and Kaplan et al.'s onset of overfitting
# ($D \propto N^{0.74}$, so $N \propto D^{1.35}$), so the reader sees which the toy runs resemble.

# %% tags=["hide-input"]
fig = plot_sizes(measured, metrics)

# %% tags=["remove-input"]
reasons = not_comparable([BELOW_ONE.id, IN_BAND.id], "approximation of tiny Shakespeare, not the canonical text"
                         if provenance.substitute else None)
reasons |= {claim: "; ".join(r for r in (reasons.get(claim), why) if r)
            for claim, why in inconclusive_reasons(metrics).items()}
page = run_record(metrics, profile, reasons)
display(Markdown(gamma_words(page)))

# %% tags=["remove-input"]
display(Markdown(precision_words(metrics)))

# %% [markdown]
# ## 6. Context, not verdict: the additive law
#
# The additive law $L = E + A N^{-\alpha} + B D^{-\beta}$, fitted to every learned run (Huber loss on $\log L$
# from a grid of starts, as Hoffmann et al. and Besiroglu et al. do), with and without the irreducible term $E$.
# Its one testable shape, with or without any power form: at every $D$ the same curve in $N$, shifted. The
# additivity test is a two-way analysis of variance over the sizes every slice trained, seeds as replicates.

# %% tags=["hide-input"]
additive_table(law).style.format("{:.3f}")

# %% tags=["hide-input"]
fig = plot_additive_residuals(frame, law)

# %% tags=["remove-input"]
display(Markdown(additive_words(page)))

# %% [markdown]
# ## 7. Context: distinct k-grams
#
# The paper's derivation ties $N^*$ to the number of distinct sequences in the corpus. Counted exactly as
# distinct $k$-character strings of each slice, their number grows as a local power of $D$ that rises with $k$
# and drifts with $D$. This is context only: no $k$ is picked to match $\gamma$, and nothing here predicts $N^*$.

# %% tags=["hide-input"]
ks = range(3, kgram_max + 1)
kgram_table(stream.numpy(), design.sizes, ks).style.format("{:.2f}")

# %% tags=["hide-input"]
fig = plot_kgrams(stream.numpy(), design.sizes, ks)

# %% [markdown]
# ## Verdict
#
# Decided by the rules of the claims registry, exactly as on the claims dashboard: *γ < 1* is reproduced when the
# 95 % interval of $\gamma$ lies wholly below 1 and not reproduced when it lies wholly above; *γ ∈ [0.44, 0.72]* is
# reproduced when the interval lies inside that band and not reproduced when it lies wholly outside. Otherwise,
# with fewer than three slices that count, or with a censored run in them, the claim is inconclusive, shown as not
# comparable with the reason. Both at toy scale, character level.

# %% tags=["remove-input"]
display(verdict_table(verdicts_for_run([BELOW_ONE.id, IN_BAND.id], metrics, profile, reasons)))

# %% tags=["remove-cell"]
glue_metrics(metrics)
record(metrics=metrics, datasets=[provenance], not_comparable=reasons, setup=setup, context=run_ctx,
       notes={"gamma": "γ: the least-squares slope of ln N*(D) on ln D over the slices whose plateau is confirmed; "
                       "N*(D) the smallest size whose seed-mean validation loss is within ε of the plateau (the lowest "
                       "value of a monotone fit of loss against ln N), interpolated in ln N; ε = 2 × pooled seed SD / "
                       "√seeds; a slice counts with ≥ 2 sizes above N* within ε; 95 % CI from resampling seeds "
                       "within each (D, N) cell",
              "training": f"warm-up over {WARMUP_PASSES} passes then constant lr, validation after every pass, "
                          f"plateaus of {patience} passes (one tenfold cut, then stop), best weights kept, cap "
                          f"{pass_cap:g} passes",
              "learning_rate_pilot": pilot["command"], "runs_where": sweep.where,
              "runs": run_rows(frame)})
