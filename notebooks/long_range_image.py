# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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

# %% tags=["parameters"]
profile: str = "cpu"  # run profile, set by paperlib run; one of quick, cpu, paper
dataset: str = "auto"  # auto takes CIFAR-10 when available and otherwise a labelled substitute; one of auto, cifar10, fashion_mnist, mnist
cifar_dir: str = ""  # folder of the CIFAR-10 python batches or archive, empty for PAPERLIB_CIFAR_DIR and the cache
side: int = 32  # image side after averaging pixel squares, 32 keeps all 1,024 tokens, 16 gives 256; range 1..32
dropout: float = 0.05  # dropout of every model (paper 0.05); range 0.0..0.9
recurrent_steps: int = 80000  # optimizer steps of each recurrent model at most (Note 80,000); range 1..10000000
recurrent_batch: int = 256  # images per step of the recurrent models (Note 256); range 1..65536
regular_steps: int = 80000  # optimizer steps of the 4-layer model at most (Note 80,000); range 1..10000000
regular_batch: int = 40  # images per step of the 4-layer model (Note 40); range 1..65536
lr: float = 0.0005  # Adam learning rate, constant (Note 5e-4); range 0.000001..1.0
early_stop: float = 0.1  # stop once the mean training loss between evaluations is below this (Note 0.1), 0 for never; range 0.0..10.0
evals: int = 800  # evaluations per model, evenly spaced (every 100 steps of 80,000); range 1..1000000
n_val: int = 5000  # training images held out as the validation split; range 10..30000
n_eval: int = 2000  # validation and test images scored at every evaluation; range 10..10000
n_test: int = 0  # test images that score the selected weights, 0 for the whole test set; range 0..10000
seed: int = 0  # seed of the split, initialisation and batches; range 0..1000000
device: str = "auto"  # auto picks cuda when available, with bf16 autocast; one of auto, cpu, cuda
threads: int = 0  # torch CPU threads, 0 keeps the torch default; range 0..1024
checkpoint_every: int = 0  # save a resumable checkpoint in the cache every so many steps, 0 for never; range 0..10000000

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display
from myst_nb import glue

from paperlib.data.images import downsample, load_images
from paperlib.flops import paper_flops
from paperlib.imagecls import MODELS, image_configs, image_metrics, score, split_validation, train_model, wilson_interval
from paperlib.plots import use_book_style
from paperlib.report import verdict_table, verdicts_for_run
from paperlib.results import record
from paperlib.runs import best_model, deviations, setup

use_book_style()
run_device, where = setup(device, threads)
metrics: dict[str, float] = {}
PAPER = {"side": 32, "dropout": 0.05, "recurrent_steps": 80000, "recurrent_batch": 256, "regular_steps": 80000,
         "regular_batch": 40, "lr": 0.0005}  # the Note's Table 4 configuration
ours = {"side": side, "dropout": dropout, "recurrent_steps": recurrent_steps, "recurrent_batch": recurrent_batch,
        "regular_steps": regular_steps, "regular_batch": regular_batch, "lr": lr}
scaled_down = deviations(ours, PAPER)
glue("configuration", f"scaled down from the Note's: {scaled_down}" if scaled_down else "the Note's configuration",
     display=False)
glue("where", where, display=False)

# %% [markdown]
# ## 1. The data
#
# {glue:text}`data_statement`

# %%
data = load_images(dataset, cifar_dir or None)
provenance = data.provenance
train_x, test_x = (downsample(x, side) for x in (data.train_x, data.test_x)) if side < 32 else (data.train_x, data.test_x)
train_x, train_y, val_x, val_y = split_validation(train_x, data.train_y, n_val, seed=seed)
pick = torch.randperm(len(test_x), generator=torch.Generator().manual_seed(seed + 1))
eval_test = pick[:n_eval]
final_test = pick[:n_test] if n_test else torch.arange(len(test_x))
if provenance.substitute:
    statement = (f"**Substitute data: {provenance.dataset}, not CIFAR-10.** {provenance.note}. Every number on this "
                 f"page is therefore *not comparable* with the Note's or LRA's.")
else:
    statement = f"CIFAR-10 in 8-bit grayscale (PIL's L), from {provenance.source}."
statement += (f" Images of {side}×{side} = {side * side} tokens"
              + (" (averaged from 32×32: a shorter sequence than LRA's 1,024)" if side < 32 else "")
              + f"; {len(train_x):,} training, {len(val_x):,} validation (held out of the training set), "
              f"{len(test_x):,} test images; {len(data.classes)} classes.")
glue("data_statement", statement, display=False)
print(f"{provenance.dataset}: {provenance.source} (sha256 {provenance.sha256[:16]}…)")
fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
for c, ax in enumerate(axes):
    ax.imshow(train_x[train_y == c][0].reshape(side, side), cmap="gray", vmin=0, vmax=255)
    ax.set_title(data.classes[c], fontsize=8)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 2. Training
#
# Configuration: {glue:text}`configuration`. Adam with a constant learning rate, cross-entropy on the
# last position's output. Each model keeps the weights with the lowest validation loss; at every
# evaluation it is also scored on a fixed subset of the test set, only to compute the Note's
# test-selected number. All models share the seed, hence the split and the order of the images; runs
# on {glue:text}`where`.

# %%
configs = image_configs(side * side, dropout)
evaluate = image_metrics({"val": (val_x[:n_eval], val_y[:n_eval]), "test": (test_x[eval_test], data.test_y[eval_test])})
runs = {}
for name, cfg in configs.items():
    recurrent = name != "regular"
    runs[name] = train_model(name, cfg, train_x, train_y, batch_size=recurrent_batch if recurrent else regular_batch,
                             steps=recurrent_steps if recurrent else regular_steps, lr=lr, seed=seed, evals=evals,
                             evaluate=evaluate, early_stop=early_stop, device=device, notebook="long_range_image",
                             checkpoint_every=checkpoint_every)

# %%
paper_acc = {"recurrent": 0.4309, "regular": 0.429}
paper_params = {"recurrent": "53.6K", "regular": "90K"}
scores, rows = {}, []
for name, run in runs.items():
    selected = run.best("val_loss")
    scores[name] = score(best_model(run.state), test_x[final_test], data.test_y[final_test])
    correct = int((scores[name].predictions == scores[name].labels).sum())
    low, high = wilson_interval(correct, len(final_test))
    paper_style = run.best("test_loss")
    metrics |= {f"image_acc_{name}": scores[name].acc, f"image_acc_{name}.ci_low": low,
                f"image_acc_{name}.ci_high": high, f"image_acc_{name}_paper_style": float(paper_style["test_acc"]),
                f"image_val_acc_{name}": float(selected["val_acc"]), f"params_{name}": run.params}
    rows.append({"model": MODELS[name], "params": run.params, "paper params": paper_params.get(name, "—"),
                 "FLOPs/sample, paper formula": paper_flops(run.cfg, side * side),
                 "FLOPs/sample, ours": run.flops_per_sample, "steps": run.state.step,
                 "training FLOPs": run.history.train_flops.iloc[-1], "selected at step": int(selected["step"]),
                 "val acc there": selected["val_acc"], "test acc (selected on validation)": scores[name].acc,
                 "95 % CI": f"[{100 * low:.1f}, {100 * high:.1f}]",
                 "paper-style: test-subset acc at best test-subset loss": paper_style["test_acc"],
                 "paper": paper_acc.get(name, float("nan")), "train time (s)": run.state.train_time})
    if "alpha" in run.history:
        metrics[f"alpha_{name}"] = float(run.history.alpha.iloc[-1])
for name in ("recurrent", "regular"):
    glue(f"acc_{name}", 100 * metrics[f"image_acc_{name}"], display=False)
    glue(f"acc_{name}_paper_style", 100 * metrics[f"image_acc_{name}_paper_style"], display=False)
glue("n_final", len(final_test), display=False)
glue("n_eval", n_eval, display=False)
pct = "{:.2%}".format
pd.DataFrame(rows).set_index("model").style.format(
    {"params": "{:,}", "FLOPs/sample, paper formula": "{:.3g}", "FLOPs/sample, ours": "{:.3g}",
     "training FLOPs": "{:.3g}", "val acc there": pct, "test acc (selected on validation)": pct,
     "paper-style: test-subset acc at best test-subset loss": pct, "paper": pct, "train time (s)": "{:.0f}"}, na_rep="—")

# %% [markdown]
# Selected on the validation split and scored once on {glue:text}`n_final` test images, the Note's
# recurrent model reaches {glue:text}`acc_recurrent:.2f` % and the 4-layer transformer
# {glue:text}`acc_regular:.2f` % (the 95 % intervals are Wilson intervals over the test images, one
# seed). Read the Note's way — the best of {glue:text}`n_eval` test images along the run — they would
# be {glue:text}`acc_recurrent_paper_style:.2f` % and {glue:text}`acc_regular_paper_style:.2f` %.
# Training FLOPs are forward FLOPs per image (our count; a random block length is charged its mean)
# times images seen, the paper's convention.
#
# ## 3. Loss and accuracy against training compute (the Note's Fig. 3)

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.6))
for i, (name, run) in enumerate(runs.items()):
    h = run.history
    left.plot(h.train_flops, h.val_loss, "-o", ms=3, color=f"C{i}", label=f"{MODELS[name]}: validation")
    left.plot(h.train_flops, h.train_loss, "--", color=f"C{i}", alpha=0.6)
    right.plot(h.train_flops, 100 * h.val_acc, "-o", ms=3, color=f"C{i}", label=MODELS[name])
for ax in (left, right):
    ax.set(xscale="log", xlabel="training FLOPs (forward, our count)")
left.set(ylabel="cross-entropy", title="Loss: validation (solid), training (dashed)")
if not provenance.substitute:
    right.axhline(43.09, color="black", lw=0.8, ls="-.", label="Note: recurrent 43.09 %")
right.axhline(10, color="grey", ls=":", label="chance")
right.set(ylabel="validation accuracy (%)", title="Accuracy")
handles, labels = left.get_legend_handles_labels()
extra = right.get_legend_handles_labels()
fig.legend(handles + extra[0][len(runs):], labels + extra[1][len(runs):], loc="upper center",
           bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Where the errors are
#
# Confusion matrices of the selected weights on the test images (rows: true class).

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 5.4))
for ax, name in zip(axes, ("recurrent", "regular")):
    counts = scores[name].confusion(len(data.classes))
    shares = counts / counts.sum(axis=1, keepdims=True)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (r, c), v in np.ndenumerate(shares):
        ax.text(c, r, f"{100 * v:.0f}", ha="center", va="center", fontsize=7, color="white" if v > 0.5 else "black")
    ax.set_xticks(range(len(data.classes)), data.classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(data.classes)), data.classes, fontsize=8)
    ax.set(title=f"{MODELS[name]} ({100 * scores[name].acc:.1f} %)", xlabel="predicted")
    ax.grid(False)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Verdicts
#
# Decided by the rules of the claims registry, exactly as on the claims dashboard; the claim is
# judged on the Note's model (random blocks, forget) selected on validation.

# %% tags=["remove-input"]
not_comparable = {}
if scaled_down:
    not_comparable["lra_image"] = f"scaled-down configuration ({scaled_down})"
if provenance.substitute:
    not_comparable["lra_image"] = f"substitute dataset ({provenance.dataset}, not CIFAR-10)" + (
        f" and scaled-down configuration ({scaled_down})" if scaled_down else "")
display(verdict_table(verdicts_for_run(["lra_image"], metrics, profile, not_comparable)))
best_name = max(runs, key=lambda n: metrics[f"image_acc_{n}"])
display(Markdown(
    f"**In words.** On {provenance.dataset}{' (a substitute)' if provenance.substitute else ''}, the Note's recurrent "
    f"model reached {100 * metrics['image_acc_recurrent']:.2f} % against {100 * metrics['image_acc_regular']:.2f} % for "
    f"the 4-layer transformer; the best model of this run is the {MODELS[best_name]} "
    f"({100 * metrics[f'image_acc_{best_name}']:.2f} %). The same layer with the block fixed at 32 reached "
    f"{100 * metrics['image_acc_recurrent_fixed']:.2f} %, so drawing the block length at random "
    + ("held the Note's model back in this budget. "
       if metrics["image_acc_recurrent_fixed.ci_low"] > metrics["image_acc_recurrent.ci_high"] else
       "helped. " if metrics["image_acc_recurrent_fixed.ci_high"] < metrics["image_acc_recurrent.ci_low"] else
       "made no clear difference (the 95 % intervals overlap). ")
    + (f"Configuration: {scaled_down}; " if scaled_down else "")
    + ("none of these numbers is comparable with the Note's 43.09 % on CIFAR-10." if not_comparable else
       "the verdict compares with the Note's 43.09 % on CIFAR-10.")
))

# %%
record(metrics=metrics, datasets=[provenance], not_comparable=not_comparable, device=run_device.type,
       notes={"dataset": provenance.dataset + (" (substitute for CIFAR-10)" if provenance.substitute else ""),
              "image_acc": "test accuracy of the weights with the best validation loss; CI: Wilson over test images, "
                           "one seed", "paper_style": "test-subset accuracy at the best test-subset loss (selected on test)",
              "image_acc_recurrent": "the Note's model: forget, K drawn from 16..48 in training, 32 at evaluation",
              "side": side, "configuration": scaled_down or "the Note's"})
