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
# # Weber–Fechner on MNIST
#
# *Accelerating Machine Learning via the Weber–Fechner Law* (Kausik, arXiv 2204.11834) says that imposing
# the Weber–Fechner law on simple networks, with or without convolution, "via the logarithmic power
# series of their sorted output", gives surprising MNIST accuracy within a few training iterations. The
# follow-up, *Psychophysical Machine Learning* (arXiv 2208.11236, id unverified), puts the law into the
# loss function.
#
# ```{important}
# Only the two **abstracts** are public: no formula, architecture, iteration count or accuracy. Every
# model below is **our reading**, and every number is ours; none is "the paper's". The loss results
# are *our interpretation of arXiv 2208.11236*.
# ```
#
# **The reading.** The last linear layer emits $m$ units per class; after ReLU each class's units are
# sorted in descending order and summed with the coefficients of $-\ln(1-x) = \sum_k x^k/k$:
# $\text{logit}_c = \sum_{k=1}^{m} h_{c,(k)}/k$. If $n$ units fire at the same level $a$ the logit is
# $a H_n \approx a(\ln n + 0.577)$ — a logarithmic (Fechner) response whose $n$-th increment is $a/n$
# (Weber). The head goes on an MLP (784 → 128 ReLU → dropout 0.2, the Keras quickstart trunk) and on a
# small CNN (the Keras simple convnet: conv 3×3 → max-pool 2 → conv 3×3 → max-pool 2 → dropout 0.5).
# The CNN's widths are a parameter: the `paper` profile uses the convnet's 32 and 64 channels, the
# `cpu` profile 8 and 16 in this ablation, so that every reading fits two CPU cores; the verdicts
# (section 5) use the convnet's 32 and 64 in both profiles.
#
# **Alternatives and controls** differ only in the per-class reduction of the same $10m$ units:
#
# | name | reduction | | name | reduction (control) |
# |---|---|---|---|---|
# | `wf` | $\sum_k h_{(k)}/k$ | | `max` | $h_{(1)}$ (maxout) |
# | `wf_x50`, `wf_x90` | $\sum_k h_{(k)} x^k/k$, $x = 0.5, 0.9$ | | `mean` | $\frac1m\sum_k h_k$ |
# | `wf_m4`, `wf_m16` | `wf` with $m$ = 4, 16 (else 8) | | `sum` | $\sum_k h_k$ |
# | `alt` | $\sum_k (-1)^{k+1} h_{(k)}/k$, the $\ln(1+x)$ series | | `unsorted` | $\sum_k h_k/k$, no sort |
# | `log` | $\ln(1+\sum_k h_k)$ | | `scaled` | `wf` $/H_m$ (same rank profile, gain 1) |
# | `logpow` | $\sum_{k,p} w_{kp}\ln(1+h_{(k)})^p$, $p \le 3$, $w$ learned from $1/k$ | | `plain` | Linear(·, 10), the usual head |
# | `learned` | $\sum_k w_k h_{(k)}$, $w$ learned from $1/k$ | | | |
#
# Loss readings, all on the plain head: `l1` sorts each example's per-class errors $|p_c - y_c|$ and
# weighs them by $1/k$; `l1b` sorts the batch's per-example cross-entropies and weighs them by
# $1/(k H_B)$; `l2` is $\sum_c(\ln(\epsilon+p_c) - \ln(\epsilon+y_c))^2$ with $\epsilon = 10^{-3}$, so that
# equal *relative* errors count equally; `l3` is $\ln(1 + \mathrm{CE})$ per example.
#
# **Protocol.** Adam (lr $10^{-3}$, batch 32: the Keras defaults of the author's public MNIST code),
# the full 60,000 training images, the full 10,000-image test set evaluated after 10, 25, 50, 100, 200
# and 500 steps and after each epoch. Runs with the same seed share the batch order and the trunk's
# initial weights, so models are compared **paired by seed**. **Verdict rule** (fixed before running):
# a claim is reproduced only if, at two or more checkpoints of at most 200 steps, the paired 95 %
# t-interval of WF minus the best control excludes 0 in WF's favour. The best control is the one with
# the highest mean accuracy at that checkpoint among `plain`, `max`, `mean`, `sum` and `unsorted` on the
# same trunk; for the loss, `l1` is compared with cross-entropy on the same model.
#
# **Each model at its own learning rate.** A head that rescales the logits changes the effective step
# size, so at one shared learning rate a comparison partly measures which head happens to suit it. The
# verdicts therefore read the key models (`plain`, `wf`, `sum`, `max`, `learned`, and the loss `l1`) each
# trained at the learning rate that suits it best, chosen on a validation split carved from the training
# images (never the test set), on the MLP and on the **full-size** Keras convnet (32 and 64 channels).
# The fastest known simple MNIST recipes are run beside them as a yardstick for "surprising accuracy
# within a few iterations".

# %% tags=["parameters", "hide-input"]
profile: str = "cpu"  # run profile, set by paperlib run; one of quick, cpu, paper
mlp_variants: str = "plain,wf,max,mean,sum,unsorted,scaled,wf_x90,wf_m4,alt,log,logpow,learned,l1,l2"  # MLP models, comma-separated (see the table above)
cnn_variants: str = "plain,wf,max,mean,sum"  # CNN models, comma-separated
cnn_channels: str = "8,16"  # channels of the CNN's two 3x3 conv layers (the Keras convnet: 32,64)
seeds: int = 5  # seeds of every tuned model (the verdicts), 0..seeds-1; range 2..50
ablation_seeds: int = 3  # seeds of every reading in the ablation at the shared learning rate; range 2..50
epochs: int = 1  # training epochs; range 1..20
batch_size: int = 32  # Adam batch size (Keras default 32); range 8..1024
lr: float = 0.001  # Adam learning rate (Keras default 1e-3); range 1e-5..0.1
train_size: int = 60000  # training images used, the first n (fewer only to prove the code path); range 320..60000
test_size: int = 10000  # test images evaluated at every checkpoint, the first n (fewer only to prove the code path); range 500..10000
tuned_mlp: str = "plain,wf,sum,max,learned,l1"  # MLP models trained at their own best learning rate, comma-separated
tuned_cnn: str = "plain,wf,sum,max,learned"  # CNN models trained at their own best learning rate, comma-separated
tuned_cnn_channels: str = "32,64"  # channels of the CNN the verdicts read (the Keras convnet: 32,64)
lrs: str = "0.0001,0.0003,0.001,0.003,0.01,0.03"  # Adam learning rates each tuned model is tried at, comma-separated
tune_seeds: int = 3  # seeds of every learning rate tried; range 1..50
tune_steps: int = 200  # steps of every learning rate tried; range 10..100000
n_val: int = 5000  # training images held out to choose the learning rates on; range 100..30000
tuned_steps: int = 500  # steps of the tuned models, at their chosen learning rate; range 10..1000000
fast_seeds: int = 3  # seeds of each fast baseline, one epoch at batch 256 with a one-cycle schedule; range 1..50
keras_init: bool = False  # Keras's initialisation, Glorot-uniform weights and zero biases, instead of PyTorch's
checkpoint_every: int = 0  # save a resumable checkpoint in the cache every so many steps, 0 for never; range 0..1000000
resume: bool = False  # continue every run from its checkpoint when one exists
threads: int = 1  # torch CPU threads, 0 for torch's default (1 avoids oversubscribing a shared 2-core machine); range 0..64

# %% tags=["hide-input"]
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from paperlib.book.verdicts import not_comparable
from paperlib.book.page import glue_metrics, wrapping
from paperlib.book.records import record
from paperlib.book.render import verdict_table, verdicts_for_run
from paperlib.book.verdicts import run_record
from paperlib.chapters.weber_fechner_mnist import (COST_COLUMNS, FAST_MODELS, METRICS, ablation_table,
                                                   accuracy_metrics, best_lrs, claim_evidence, compute_table, in_words,
                                                   model_names, model_sizes, parse_channels, plan_stage,
                                                   plot_against_time, plot_learning_curves, plot_lr_sweep, run_plan,
                                                   runs, tuned_metrics)
from paperlib.context import run_context
from paperlib.data.mnist import as_images, load_mnist
from paperlib.plots import use_book_style
from paperlib.stats import ci_table
from paperlib.training.batches import split_validation, steps_per_epoch
from paperlib.training.device import configure_device
from paperlib.training.optim import OptimizerConfig
from paperlib.training.run import Checkpointing, execution

use_book_style()
run_ctx = run_context()
setup = configure_device("auto", threads)
plan = runs(globals())
names = model_names(mlp_variants, cnn_variants)
tuned = model_names(tuned_mlp, tuned_cnn)
channels, tuned_channels = parse_channels(cnn_channels), parse_channels(tuned_cnn_channels)
metrics = METRICS.new()

# %% [markdown]
# ## 1. Data and models

# %% tags=["hide-input"]
mnist = load_mnist()
train_x, train_y = as_images(mnist.train_images[:train_size]), mnist.train_labels[:train_size]
test_x, test_y = as_images(mnist.test_images[:test_size]), mnist.test_labels[:test_size]
epoch = steps_per_epoch(train_size, batch_size)
fit_x, fit_y, val_x, val_y = split_validation(train_x, train_y, n_val, seed=0)
print(f"MNIST: {len(train_x)} training and {len(test_x)} test images from {mnist.provenance.source}; "
      f"one epoch = {epoch} steps of {batch_size}; CNN channels {channels} (ablation) and {tuned_channels} "
      f"(tuned); {setup.description}")
sizes = model_sizes(names, channels)
sizes

# %% [markdown]
# Every WF variant and every control except `plain` has exactly the same parameters (`logpow` and
# `learned` add their rank weights); `plain` is smaller. The head's sort costs no multiply-adds.
#
# ## 2. Training

# %% tags=["hide-input"]
checkpointing = Checkpointing(checkpoint_every, resume)
ablation, ablation_fits = run_plan(plan_stage(plan, "ablation"), train_x, train_y, test_x, test_y, setup,
                                   checkpointing=checkpointing, context=run_ctx)
acc = ci_table(ablation, ["model", "step"], "acc")
metrics.update(accuracy_metrics(acc, names, epoch))
metrics["train_seconds_total"] = float(ablation[ablation.step == epochs * epoch].time.sum())
glue("train_minutes", metrics["train_seconds_total"] / 60, display=False)
glue("n_runs", len(names) * ablation_seeds, display=False)
glue("seeds", seeds, display=False)
glue("ablation_seeds", ablation_seeds, display=False)
for key, value in {"shared_lr": f"{lr:g}", "tune_seeds": tune_seeds, "tune_steps": tune_steps, "n_fit": len(fit_x),
                   "n_val": n_val, "tuned_cnn_channels": tuned_cnn_channels, "tuned_steps": tuned_steps,
                   "fast_seeds": fast_seeds}.items():
    glue(key, value, display=False)

# %% [markdown]
# {glue:text}`n_runs` runs ({glue:text}`ablation_seeds` seeds per model) took {glue:text}`train_minutes:.1f`
# minutes of training. After one epoch the plain MLP reaches {glue:text}`acc_epoch1.mlp_plain:.2%`
# (95 % CI {glue:text}`acc_epoch1.mlp_plain.ci_low:.2%`–{glue:text}`acc_epoch1.mlp_plain.ci_high:.2%`)
# on the test set — the range usually quoted for the Keras quickstart after one epoch is about
# 95–96.5 % — and the plain CNN {glue:text}`acc_epoch1.cnn_plain:.2%`
# ({glue:text}`acc_epoch1.cnn_plain.ci_low:.2%`–{glue:text}`acc_epoch1.cnn_plain.ci_high:.2%`).
#
# ## 3. Learning curves
#
# Test accuracy against optimizer steps (log scale): mean over seeds with its 95 % confidence band.

# %% [markdown]
# (weber_fechner_mnist-key-figure)=

# %% tags=["hide-input"]
fig = plot_learning_curves(acc, names)

# %% [markdown]
# ## 4. Ablation: every reading against its best control
#
# Test accuracy (%) as mean ± 95 % CI half-width over seeds; then **Δ**: the paired difference in
# percentage points against the best control of the same trunk at that checkpoint (named in
# brackets without its trunk; a loss reading against cross-entropy). `*` marks a paired CI that excludes 0.
#
# The controls separate the rank weights from the output scale. With the same units, `sum` scales the
# logits by about $m$, WF by about $H_m$ (2.7 for $m = 8$), `scaled` and `max` by 1, and a larger scale
# acts like a larger step size early in training. If WF beats `plain` but not `sum`, and `scaled` loses
# WF's lead, the early gain comes from the scale, not from sorting. Every model here shares one learning
# rate ({glue:text}`shared_lr`); section 5 gives the key models their own.

# %% tags=["hide-input"]
accuracy_table, difference_table = ablation_table(ablation, sorted({50, 100, 200, epoch} & set(ablation.step)))
display(accuracy_table.style.set_caption("Test accuracy (%), mean ± 95 % CI half-width"))
wrapping(difference_table.style.set_caption("Δ: paired difference against the best control (points)"),
         difference_table.columns, width_em=7)

# %% [markdown]
# ## 5. Each model at its own learning rate
#
# Every key model is tried at each learning rate of the grid ({glue:text}`tune_seeds` seeds,
# {glue:text}`tune_steps` steps, trained on {glue:text}`n_fit` images and scored on the
# {glue:text}`n_val` held-out ones); it keeps the learning rate with the best validation accuracy averaged
# over the checkpoints of at most 200 steps, the regime the claims are about. The CNN here has
# {glue:text}`tuned_cnn_channels` channels.

# %% tags=["hide-input"]
sweep, sweep_fits = run_plan(plan_stage(plan, "sweep"), fit_x, fit_y, val_x, val_y, setup,
                             checkpointing=checkpointing, context=run_ctx)
best = best_lrs(sweep)
fig = plot_lr_sweep(sweep, best)

# %% [markdown]
# Then each model is trained at its own learning rate with {glue:text}`seeds` seeds for
# {glue:text}`tuned_steps` steps and scored on the test set; the fastest known simple recipes run beside
# them: the small CNN of train_mnist_fast (two 5×5 convolutions, 24 and 32 channels, a 256-unit layer;
# Adam at 0.01 with β = (0.7, 0.9) under a one-cycle schedule, batch 256, one epoch; 99 % in one epoch on a
# GPU as published) and the same recipe on the MLP, {glue:text}`fast_seeds` seeds each. Curves against
# steps and against training time on this machine: the batch sizes differ (32 and 256), time is the
# common currency.

# %% tags=["hide-input"]
tuned_plan = [spec.with_optimizer(OptimizerConfig(lr=best[spec.family])) for spec in plan_stage(plan, "tuned")]
tuned_runs, tuned_fits = run_plan(tuned_plan, fit_x, fit_y, test_x, test_y, setup, checkpointing=checkpointing,
                                  context=run_ctx)
fast_plan = plan_stage(plan, "fast")
fast_runs, fast_fits = run_plan(fast_plan, fit_x, fit_y, test_x, test_y, setup, checkpointing=checkpointing,
                                context=run_ctx)
metrics |= execution([*ablation_fits, *sweep_fits, *tuned_fits, *fast_fits])
metrics.update(tuned_metrics(tuned_runs, best))
metrics.update(tuned_metrics(fast_runs, {spec.family: spec.optimizer.lr for spec in fast_plan}))
shown = [n for n in tuned if n.split("_", 1)[1] in ("plain", "wf")] + list(FAST_MODELS)
fig = plot_against_time(pd.concat([tuned_runs, fast_runs]), shown)

# %% [markdown]
# ## 6. Compute
#
# Multiply-adds per image (forward), training seconds per 100 steps on this run's hardware (noisy when
# the machine is shared), each model's learning rate, and the steps and training seconds to the first
# checkpoint at which the mean test accuracy reaches 97 %, 98 % and 99 % (an upper bound: the checkpoints
# are sparse; blank if never reached), for the tuned models and the fast baselines.

# %% tags=["hide-input"]
all_sizes = pd.concat([model_sizes(tuned, tuned_channels),
                       model_sizes(list(FAST_MODELS), tuned_channels, FAST_MODELS)])
compute = compute_table(pd.concat([tuned_runs, fast_runs]), all_sizes)
times = compute.drop(columns=list(COST_COLUMNS))
display(times.style.format({c: "{:.0f}" if c.startswith("steps") else "{:.1f}" for c in times}, na_rep="").set_caption(
    "Steps and training seconds to each accuracy"))
compute[list(COST_COLUMNS)].style.format({"parameters": "{:,}", "multiply-adds / image": "{:,}",
                                          "s / 100 steps": "{:.2f}", "lr": "{:g}"}).set_caption("Size and cost")

# %% [markdown]
# ## Verdicts
#
# For each claim, on the models at their own learning rates: the paired difference at 100 steps against
# the best control, with its 95 % CI, and the number of checkpoints of at most 200 steps at which that CI
# lies above 0 (two are needed). The CNN claim reads the {glue:text}`tuned_cnn_channels`-channel CNN.

# %% tags=["hide-input"]
found, evidence = claim_evidence(tuned_runs, tuned)
metrics.update(found)
glue("checkpoints_checked", sum(1 for s in tuned_runs.step.unique() if 0 < s <= 200), display=False)

# %% [markdown]
# At 100 steps, the test accuracy of WF minus that of its best control is
# {glue:text}`wf_mlp_advantage_100:+.2%` (95 % CI {glue:text}`wf_mlp_advantage_100.ci_low:+.2%` to
# {glue:text}`wf_mlp_advantage_100.ci_high:+.2%`) on the MLP and {glue:text}`wf_cnn_advantage_100:+.2%`
# ({glue:text}`wf_cnn_advantage_100.ci_low:+.2%` to {glue:text}`wf_cnn_advantage_100.ci_high:+.2%`) on the
# CNN; the `l1` loss minus cross-entropy is {glue:text}`wf_loss_advantage_100:+.2%`
# ({glue:text}`wf_loss_advantage_100.ci_low:+.2%` to {glue:text}`wf_loss_advantage_100.ci_high:+.2%`), all in
# points of accuracy. Of the {glue:text}`checkpoints_checked` checkpoints of at most 200 steps, the paired CI
# lies above 0 at {glue:text}`wf_mlp_checkpoints_won:.0f` (MLP), {glue:text}`wf_cnn_checkpoints_won:.0f` (CNN)
# and {glue:text}`wf_loss_checkpoints_won:.0f` (loss).

# %% tags=["remove-input"]
reduced = train_size < 60000 or test_size < 10000
reduction = f"code-path run: {train_size} training and {test_size} test images" if reduced else None
page = run_record(metrics, profile, not_comparable(evidence, reduction), {"tuned_cnn_channels": tuned_cnn_channels})
display(verdict_table(verdicts_for_run(list(evidence), metrics, profile, page["not_comparable"], page["parameters"])))
tuned_acc = ci_table(tuned_runs, ["model", "step"], "acc")
display(Markdown(in_words(page, tuned_runs, tuned_acc, tuned, evidence)))

# %% tags=["remove-cell"]
glue_metrics(metrics)
record(metrics=metrics, datasets=[mnist.provenance], not_comparable=not_comparable(evidence, reduction),
       setup=setup, context=run_ctx,
       notes={"models": ",".join(names), "cnn_channels": cnn_channels, "tuned_models": ",".join(tuned),
              "tuned_cnn_channels": tuned_cnn_channels, "best_lr": best, "init": "Keras" if keras_init else "PyTorch",
              "best_controls_at_100": {claim: control for claim, (_, control) in evidence.items()},
              "reading": "per-class groups of m ReLU units, sorted descending, weighted 1/k (methods page, "
                         "Weber–Fechner); losses: our interpretation of arXiv 2208.11236",
              "test_set": "full 10k" if test_size == 10000 else f"first {test_size} test images (code-path run)"})
