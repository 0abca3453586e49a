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
# # Long-range image classification
#
# The Long Range Arena's *Image* task (Tay et al. 2020) reads CIFAR-10 in 8-bit grayscale as a
# sequence of 1,024 pixel tokens, with no convolution and no 2-D inductive bias. Kausik's technical
# note *Recurrent Transformers* (Table 4) reports that a **53.6K-parameter** single block-recurrent
# layer (forget, block length drawn from 16–48 in training and 32 at evaluation) reaches **43.09 %**,
# against **42.9 %** for a 90K-parameter **4-layer** transformer, at a twentieth of the FLOPs per
# sample. For scale: LRA's own Transformer scores 42.44 %, S4 88.65 %.
#
# Two things in the Note's protocol need care: its "validation" is 100 random batches of the **test**
# set, and the reported accuracy is the one at the best such loss, so the number is selected on the
# test set. Here a validation split is held out of the training images; selection uses it, and the
# test set scores the selected weights once. The paper-style number is reported too, labelled.
# The later code (Feb 2026) fixes the block at 32 and makes α learnable; both variants are trained.
#
# ```{important}
# **CIFAR-10 is not in any package registry.** Where it is not on the machine (offline, as in CI), the
# chapter runs on **Fashion-MNIST**, resized bilinearly from 28×28 to 32×32, as a labelled substitute:
# its numbers test the code and the models, never the paper's 43.09 %. The box below and section 1 say
# which data this page used; the introduction says how to supply CIFAR-10.
# ```

# %% tags=["parameters", "hide-input"]
profile: str = "cpu"  # run profile, set by paperlib run; one of quick, cpu, paper
dataset: str = "auto"  # auto takes CIFAR-10 when available and otherwise a labelled substitute; one of auto, cifar10, fashion_mnist, mnist
cifar_dir: str = ""  # folder of the CIFAR-10 python batches or archive, empty for PAPERLIB_CIFAR_DIR and the cache
fit: str = "resize"  # how a 28x28 substitute becomes 32x32, resize keeps every token a pixel of the image and pad adds a zero border; one of resize, pad
side: int = 32  # image side after averaging pixel squares, 32 keeps all 1,024 tokens, 16 gives 256; range 1..32
dropout: float = 0.05  # dropout of every model (paper 0.05); range 0.0..0.9
recurrent_steps: int = 80000  # optimizer steps of each recurrent model at most (Note 80,000); range 1..10000000
recurrent_batch: int = 256  # images per step of the recurrent models (Note 256); range 1..65536
regular_steps: int = 80000  # optimizer steps of the 4-layer model at most (Note 80,000), 0 for the training FLOPs of the recurrent model; range 0..10000000
regular_batch: int = 40  # images per step of the 4-layer model (Note 40); range 1..65536
lr: float = 0.0005  # Adam learning rate, constant (Note 5e-4); range 0.000001..1.0
early_stop: float = 0.1  # stop once the mean training loss between evaluations is below this (Note 0.1), 0 for never; range 0.0..10.0
evals: int = 800  # evaluations per model, evenly spaced (every 100 steps of 80,000); range 1..1000000
n_val: int = 5000  # training images held out as the validation split; range 10..30000
n_eval: int = 2000  # validation and test images scored at every evaluation; range 10..10000
n_test: int = 0  # test images that score the selected weights, 0 for the whole test set; range 0..10000
seed: int = 0  # seed of the data split and of the first run; range 0..1000000
seeds: int = 3  # runs of every model, seeds seed .. seed+seeds-1 (weights and order of the images); range 1..50
device: str = "auto"  # auto picks cuda when available, with bf16 autocast; one of auto, cpu, cuda
threads: int = 0  # torch CPU threads, 0 keeps the torch default; range 0..1024
checkpoint_every: int = 0  # save a resumable checkpoint in the cache every so many steps, 0 for never; range 0..10000000
resume: bool = False  # continue every run from its checkpoint when one exists

# %% tags=["hide-input"]
from IPython.display import Markdown, display
from myst_nb import glue

from paperlib.book.verdicts import not_comparable
from paperlib.book.page import configuration_words, glue_metrics, wrapping
from paperlib.book.records import record
from paperlib.book.render import verdict_table, verdicts_for_run
from paperlib.book.verdicts import run_record
from paperlib.chapters.long_range_image import (FLOP_COLUMNS, METRICS, RESULT_COLUMNS, SIZE_COLUMNS, collapse_reasons,
                                                comparison_basis, data_statement, evaluation_sets, image_metrics,
                                                in_words, judge_seeds, plot_confusions, plot_examples, plot_training,
                                                position_words, prepare, results, runs, scaled_down, seed_table,
                                                train_plan)
from paperlib.context import run_context
from paperlib.data.images import load_images
from paperlib.plots import use_book_style
from paperlib.training.device import configure_device
from paperlib.training.run import Checkpointing, execution

use_book_style()
run_ctx = run_context()
setup = configure_device(device, threads)
metrics = METRICS.new()
plan = runs(globals())
regular_steps_used = next(spec.steps for spec in plan if spec.family == "regular")
glue("regular_steps_used", regular_steps_used, display=False)
deviation = scaled_down({"side": side, "dropout": dropout, "recurrent_steps": recurrent_steps,
                         "recurrent_batch": recurrent_batch, "regular_steps": regular_steps_used,
                         "regular_batch": regular_batch, "lr": lr})
glue("configuration", configuration_words(deviation, "the Note's"), display=False)
glue("where", setup.description, display=False)

# %% [markdown]
# ## 1. The data
#
# {glue:md}`data_statement:myst`

# %% tags=["hide-input"]
data = load_images(dataset, cifar_dir or None, fit=fit)
provenance = data.provenance
splits = prepare(data, side, n_val, n_eval, n_test, seed)
glue("data_statement", Markdown(data_statement(provenance, side, splits, len(data.classes))), display=False)
print(f"{provenance.dataset}: {provenance.source} (sha256 {provenance.sha256[:16]}…)")
fig = plot_examples(splits, data.classes, side)

# %% [markdown]
# ## 2. Training
#
# Configuration: {glue:text}`configuration`. Adam with a constant learning rate, cross-entropy on the
# last position's output. Each run keeps the weights with the lowest validation loss; at every
# evaluation it is also scored on a fixed subset of the test set, only to compute the Note's
# test-selected number. Every model is trained with {glue:text}`seeds` seeds (its weights and the order
# of the images; the split stays fixed) on {glue:text}`where`. The Note compares its models at about
# equal training compute (8.7e13 and 8.2e13 FLOPs); the 4-layer model costs several times the recurrent
# layer's FLOPs per image, so with `regular_steps` 0 (the `cpu` profile) it gets as many steps as give it
# the recurrent model's training FLOPs: {glue:text}`regular_steps_used` steps here. The FLOPs table's
# *in training* column shows what each model got.
#
# A run **collapses** when it stops learning: its training loss ends at the chance level
# $\ln 10 \approx 2.303$, or it predicts one class for nine test images in ten. A collapsed run is named in
# the table below and left out of every number the chapter reports.

# %% tags=["hide-input"]
trained = train_plan(plan, splits, evaluate=image_metrics(evaluation_sets(splits, n_eval)), setup=setup,
                     checkpointing=Checkpointing(checkpoint_every, resume), context=run_ctx)
judged = judge_seeds(trained, splits, len(data.classes))

# %% tags=["hide-input"]
table, found = results(judged, side * side)
metrics.update(found)
glue("n_final", len(splits.final_test), display=False)
glue("n_eval", n_eval, display=False)
glue("seeds", seeds, display=False)
glue("position_words", position_words(metrics, side), display=False)
pct = "{:.2%}".format
display(wrapping(table[list(RESULT_COLUMNS)].style.format({"test acc": pct, "Note-style": pct, "paper": pct},
                                                          na_rep="—")))
display(wrapping(table[list(SIZE_COLUMNS)].style.format({"params": "{:,}", "steps": "{:,}", "train time (s)": "{:.0f}"})
                 .set_caption("Size and training")))
wrapping(table[list(FLOP_COLUMNS)].style.format("{:.3g}").set_caption("FLOPs: per sample (forward), and in training"))

# %% tags=["hide-input"]
wrapping(seed_table(judged).style.format({"test acc": "{:.2%}"}), ["collapsed"])

# %% [markdown]
# Selected on the validation split and scored once on {glue:text}`n_final` test images, the Note's
# recurrent model reaches {glue:text}`image_acc_recurrent:.2%` (95 % CI over seeds
# [{glue:text}`image_acc_recurrent.ci_low:.2%`, {glue:text}`image_acc_recurrent.ci_high:.2%`]) and the
# 4-layer transformer {glue:text}`image_acc_regular:.2%`. Read the Note's way (the tables' *Note-style*: the
# accuracy at the best loss on {glue:text}`n_eval` test images along the run, so selected on test) they would be
# {glue:text}`image_acc_recurrent_paper_style:.2%` and {glue:text}`image_acc_regular_paper_style:.2%`.
# Training FLOPs are forward FLOPs per image (our count; a random block length is charged its mean)
# times images seen, the paper's convention. The recurrent model has {glue:text}`position_words`.
#
# ## 3. Loss and accuracy against training compute (the Note's Fig. 3)

# %% [markdown]
# (long_range_image-key-figure)=

# %% tags=["hide-input"]
fig = plot_training(trained, provenance.substitute)

# %% [markdown]
# ## 4. Where the errors are
#
# Confusion matrices of the selected weights on the test images, pooled over the seeds that learned
# (rows: true class).

# %% tags=["hide-input"]
fig = plot_confusions(judged, data.classes)

# %% [markdown]
# ## Verdicts
#
# Decided by the rules of the claims registry, exactly as on the claims dashboard; the claim is
# judged on the Note's model (random blocks, forget) selected on validation.

# %% tags=["remove-input"]
reasons = not_comparable(["lra_image"], f"substitute dataset ({provenance.dataset}, not CIFAR-10)"
                         if provenance.substitute else None, f"scaled-down configuration ({deviation})" if deviation else None,
                         collapse_reasons(judged))
budget = {"recurrent_steps": recurrent_steps, "recurrent_batch": recurrent_batch}  # what the claim's budget reads
display(verdict_table(verdicts_for_run(["lra_image"], metrics, profile, reasons, parameters=budget)))
display(Markdown(in_words(run_record(metrics, profile, reasons, budget), provenance, comparison_basis(globals()),
                          seeds)))

# %% tags=["remove-cell"]
metrics |= execution(run for runs in trained.values() for run in runs)
glue_metrics(metrics)
record(metrics=metrics, context=run_ctx, datasets=[provenance], not_comparable=reasons, setup=setup,
       notes={"dataset": provenance.dataset + (" (substitute for CIFAR-10)" if provenance.substitute else ""),
              "image_acc": "test accuracy of the weights with the best validation loss, mean over the seeds that "
                           "learned; CI: Student t over those seeds",
              "paper_style": "test-subset accuracy at the best test-subset loss (selected on test)", "fit": fit,
              "collapsed": {name: [r.collapse for r in seeds if r.collapse] for name, seeds in judged.items()},
              "image_acc_recurrent": "the Note's model: forget, K drawn from 16..48 in training, 32 at evaluation",
              "side": side, "configuration": deviation or "the Note's"})
