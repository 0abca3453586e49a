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
# # Does it run in linear time?
#
# *Scaling Efficient LLMs* (Kausik, arXiv 2402.14746, v4–v6) proposes **recurrent transformers**: one
# causal transformer layer applied progressively over a window of $2K$ tokens, the previous block's
# outputs (the state) followed by the next $K$ input tokens. It claims that they run in **linear
# time** and are **memory-efficient**. The only support offered is a FLOP formula (the author's
# technical note, Table 1): $L(N^2D + ND^2)$ for a regular transformer against
# $L\frac{N}{K}(4DK^2 + 2KD^2)$ for the block recurrence. Neither the note nor the code times anything.
#
# This chapter recomputes the FLOP table, counts the FLOPs the code actually performs, and then
# **measures** time and peak memory against the sequence length $N$ for the recurrent model at two
# block lengths and for a regular full-attention transformer of the same width.

# %% tags=["parameters", "hide-input"]
profile: str = "cpu"  # run profile, set by paperlib run; one of quick, cpu, paper
task: str = "copy"  # the paper model whose width, heads and head the benchmark uses; one of copy, selective_copy, image, shakespeare
block: int = 32  # block length K of the paper (copy, image); range 1..65536
block_alt: int = 128  # a second block length K for comparison; range 1..65536
n_min: int = 256  # shortest sequence, a power of two; range 16..4194304
n_max: int = 16384  # longest sequence, a power of two; range 16..4194304
fit_min: int = 1024  # exponents are fitted on the measured lengths from here up; range 16..4194304
batch: int = 1  # sequences per call; range 1..4096
warmup: int = 1  # untimed calls before the timed ones at each length; range 0..100
repeats: int = 2  # timed calls at each length in each pass; range 1..1000
rounds: int = 3  # passes over the lengths, so a burst of load on the machine hits one pass only; range 1..100
time_budget_s: float = 20.0  # a series stops before a length whose forward+backward is predicted to take longer; range 0.001..3600
memory_budget_gib: float = 2.0  # a series stops before a length whose training peak memory is predicted to exceed this; range 0.001..4096
device: str = "auto"  # auto picks cuda when available; one of auto, cpu, cuda
precision: str = "auto"  # auto is bf16 autocast on cuda and fp32 on cpu; one of auto, fp32, bf16
threads: int = 1  # torch CPU threads, 0 keeps the torch default; range 0..1024
throughput: str = "copy:1056,shakespeare:256,shakespeare/1:256"  # models of the training-throughput benchmark as TASK[/K]:LENGTH, empty to skip it
throughput_batches: str = "16,64,256"  # batch sizes of the throughput benchmark
throughput_threads: int = 0  # torch CPU threads of the throughput benchmark, 0 for every core; range 0..1024
clock: str = "auto"  # auto times by process CPU time on cpu with one thread, robust to other load on shared cores, else by wall clock; one of auto, wall, cpu

# %% tags=["hide-input"]
import os

import pandas as pd

from IPython.display import Markdown, display
from myst_nb import glue

from paperlib.bench import measure_series
from paperlib.book.page import glue_metrics
from paperlib.book.records import record
from paperlib.book.render import verdict_table, verdicts_for_run
from paperlib.book.verdicts import run_record
from paperlib.chapters.linear_time import (
                                           FLOP_COUNT_COLUMNS,
                                           FLOP_TIME_COLUMNS,
                                           MEMORY_FITS,
                                           METRICS,
                                           RATE_COLUMNS,
                                           RATIO_COLUMNS,
                                           SERIES_KEYS,
                                           TIME_FITS,
                                           common_lengths,
                                           cost_ratios,
                                           cost_words,
                                           exponent_fits,
                                           exponent_table,
                                           flop_table,
                                           flop_words,
                                           in_words,
                                           lengths,
                                           matmul_peak,
                                           measured_table,
                                           memory_words,
                                           plot_cost_ratios,
                                           plot_series,
                                           plot_throughput,
                                           ratio_metrics,
                                           series_plans,
                                           slope_table,
                                           sweep_metrics,
                                           throughput_models,
                                           time_words,
                                           training_throughput,
)
from paperlib.context import run_context
from paperlib.models.paper_configs import paper_config
from paperlib.plots import use_book_style
from paperlib.training.device import configure_device

use_book_style()
run_ctx = run_context()
setup = configure_device(device, threads, precision)
series_lengths = lengths(n_min, n_max)
cpu_time = clock == "cpu" or (clock == "auto" and setup.device.type == "cpu" and setup.threads == 1)
settings = dict(vocab_size=paper_config(task, "regular").vocab_size, batch=batch, device=setup.device,
                warmup=warmup, repeats=repeats, bf16=setup.precision == "bf16", cpu_time=cpu_time)
glue("rounds", rounds, display=False)
glue("clock", "process CPU time (one thread, so unaffected by other load on the cores)" if cpu_time else "wall-clock time",
     display=False)
metrics = METRICS.new()
page = run_record(metrics, profile)  # what the sentences below are decided on (paperlib.book.wording)

# %% [markdown]
# ## 1. The paper's FLOP table, and what the code computes
#
# The formulas count one FLOP per multiply-add and leave out the QKV, output and MLP projections
# except for a $2D^2$ term. Our count follows the code: two FLOPs per multiply-add, every matmul of
# the layer ($24TC^2 + 4T^2C$ for $T$ tokens of width $C$), the head, and the windows the recurrence
# really runs — the first block, $N/K - 1$ windows of $2K$ tokens and the closing step, so every
# token passes through the layer twice. It agrees exactly with PyTorch's own FLOP counter on the
# forward pass (a unit test checks it).

# %% tags=["hide-input"]
table, found = flop_table(settings, repeats * rounds)
metrics.update(found)
glue("flop_words", Markdown(flop_words(page, setup.description)), display=False)
display(table[list(FLOP_COUNT_COLUMNS)].style.format(
    {"Note": "{:.3g}", "paper formula": "{:,.0f}", "ours": "{:,.0f}", "ours / paper": "{:.1f}"}).set_caption(
    "FLOPs per sample: the Note's, the paper's formula and our count"))
table[list(FLOP_TIME_COLUMNS)].style.format({"N": "{:,}", "forward (ms)": "{:.2f}", "ours / time (GFLOP/s)": "{:.1f}"}
                                            ).set_caption(f"One forward pass at batch {batch}, measured")

# %% [markdown]
# {glue:md}`flop_words:myst`

# %% [markdown]
# ## 2. Time and memory against length
#
# Each series builds the paper's model (width, heads and head of the task, dropout off, a position
# table as long as the sequence) at every power of two from `n_min` to `n_max`, and measures a
# forward pass without gradients (inference) and a forward+backward pass (training): warm-up calls,
# then timed repeats, in {glue:text}`rounds` passes over the lengths so that a burst of load on the
# machine hits one pass only; we report the median, timed by {glue:text}`clock`. Peak memory is the largest number of bytes allocated at once
# during one call (on CPU read from the allocator's events, on CUDA from its peak statistics). A
# series stops before a length whose forward+backward time or training memory, extrapolated from the
# last two lengths, would exceed the budget. The regular model runs with the attention kernel PyTorch
# picks (a flash-style kernel that never stores the $N \times N$ weights) and, for contrast, with the
# math kernel that does.

# %% tags=["hide-input"]
series = [measure_series(make, series_lengths, label=label, time_budget_s=time_budget_s,
                         memory_budget_bytes=memory_budget_gib * 2**30, rounds=rounds, **settings, **extra)
          for label, make, extra in series_plans(task, block, block_alt)]
display(Markdown("\n".join(f"- **{s.label}**: {s.stopped or f'ran every length up to N = {series_lengths[-1]:,}'}."
                           for s in series)))

# %% tags=["hide-input"]
measured_table(series).pivot(index="N", columns="series", values="forward (ms)").style.format(
    "{:.2f}", na_rep="—").set_caption("Forward time (ms, median)")

# %% tags=["hide-input"]
fits = exponent_fits(series, fit_min)
metrics.update(sweep_metrics(series, fits))
shortest = common_lengths(series)[0]
glue("time_words", Markdown(time_words(page, block, block_alt, setup.description, int(shortest))), display=False)
math_series = series[SERIES_KEYS.index("regular_math")]
glue("memory_words", Markdown(memory_words(page, f"It {math_series.stopped}." if math_series.stopped else "")),
     display=False)
glue("fit_min", fit_min, display=False)
display(Markdown(f"Exponents $b$ of $y \\propto N^b$ fitted on N ≥ {fit_min:,}, with 95 % intervals "
                 "(least squares in log-log; the interval widens with noise and with curvature):"))
exponents = exponent_table(series, fits)
display(exponents[list(TIME_FITS)].style.set_caption("Time"))
display(exponents[list(MEMORY_FITS)].style.set_caption("Peak memory"))
slope_table(series).style.set_caption("Lengths measured, and the local forward-time slope between neighbours")

# %% [markdown]
# (linear_time-key-figure)=

# %% tags=["hide-input"]
fig = plot_series(series, ("fwd", "train"), 1e3, "time (ms, median)",
                  ("Forward (inference)", "Forward + backward (training)"), fit_min)

# %% [markdown]
# Dashed lines are the fits on $N \ge$ {glue:text}`fit_min`; grey lines have slopes 1 and 2.
# {glue:md}`time_words:myst`

# %% tags=["hide-input"]
fig = plot_series(series, ("train_bytes", "fwd_bytes"), 2**-20, "peak memory (MiB)",
                  ("Training peak memory", "Inference peak memory"), fit_min)

# %% [markdown]
# {glue:md}`memory_words:myst`

# %% [markdown]
# ## 3. FLOPs against measured time
#
# How much faster the recurrent model should be, by the paper's formula and by our count, against how
# much faster it is.

# %% tags=["hide-input"]
ratios = cost_ratios(series, task, block, batch)
metrics.update(ratio_metrics(ratios))
glue("cost_words", Markdown(cost_words(page)), display=False)
fig = plot_cost_ratios(ratios, block)
display(ratios[list(RATIO_COLUMNS)].style.format("{:.2f}").set_caption("Regular over recurrent"))
ratios[list(RATE_COLUMNS)].style.format("{:.1f}").set_caption("Forward FLOP rate (our count)")

# %% [markdown]
# At N = {glue:text}`max_len_common:,.0f` the paper's formula gives the regular model
# {glue:text}`flop_ratio_paper_at_max_len:.1f`× the recurrent model's FLOPs and our count
# {glue:text}`flop_ratio_ours_at_max_len:.1f`×; the clock gives a speed-up of {glue:text}`speedup_at_max_len:.1f`×.
# {glue:md}`cost_words:myst`

# %% [markdown]
# ## 4. Throughput in large batches
#
# The paper says recurrent transformers are "amenable to parallel processing in large batches". A
# training step (forward, backward and Adam, the paper's dropout included) of the paper's copy and
# Shakespeare models at growing batch sizes, on every core: tokens per second, and the model's FLOP
# rate (our count of training FLOPs) as a fraction of the machine's practical peak, the rate of one
# large matrix product at the same precision (the MFU). A recurrence over many small windows is bound
# by everything around its matrix products; larger batches make each window's products larger.

# %% tags=["hide-input"]
if throughput:
    with setup.scoped_threads(throughput_threads or os.cpu_count() or 1) as bench_setup:  # this cell's threads only
        peak = matmul_peak(bench_setup)
        batches = [int(b) for b in throughput_batches.split(",")]
        throughput_table = pd.concat([training_throughput(task_, k, n, batches, bench_setup, peak)
                                      for task_, k, n in throughput_models(throughput)], ignore_index=True)
    metrics["matmul_peak_tflops"] = peak / 1e12
    for row in throughput_table.to_dict("records"):
        key = f"{row['model'].replace(', K = ', '_k')}_n{row['length']}_b{row['batch']}"
        metrics |= {f"tokens_per_s.{key}": row["tokens/s"], f"mfu.{key}": row["MFU"]}
    glue("peak_tflops", peak / 1e12, display=False)
    glue("bench_where", bench_setup.description, display=False)
    fig = plot_throughput(throughput_table)
    display(throughput_table.style.format({"seconds per step": "{:.3f}", "tokens/s": "{:,.0f}", "TFLOP/s": "{:.3f}",
                                           "MFU": "{:.1%}"}).hide(axis="index"))
else:
    print("throughput benchmark skipped (throughput is empty)")

# %% [markdown]
# The peak here is {glue:text}`peak_tflops:.3f` TFLOP/s on {glue:text}`bench_where`. On a GPU the same
# cell measures the curve the paper's claim is about; `scripts/paper_on_gpu.sh` reads an MFU measured
# there (`notebooks/profiles/paper_throughput.json`) to predict its run times.

# %% [markdown]
# ## Verdicts
#
# Decided by the rules of the claims registry, exactly as on the claims dashboard.

# %% tags=["remove-input"]
display(verdict_table(verdicts_for_run(["rt_linear_time", "rt_memory"], metrics, profile)))
display(Markdown(in_words(page, profile == "quick")))

# %% tags=["remove-cell"]
glue_metrics(metrics)
record(metrics=metrics, context=run_ctx, setup=setup,
       notes={"task": task, "precision": setup.precision,
              "stopped": {s.label: s.stopped for s in series if s.stopped},
              "time": "median of the repeats; forward without gradients, training = forward + backward",
              "memory": "peak bytes allocated during one call (CPU: profiler allocator events; CUDA: max_memory_allocated)"})
