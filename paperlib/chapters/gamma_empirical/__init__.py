"""Chapter 'Measuring γ': the paper's N* ∝ D^γ measured at toy scale as the knee of the measured loss curve
(methods page, measuring γ).

A grid of character transformers (a ladder of sizes per corpus slice, several seeds a cell) is trained with one
stopping rule at every slice, counted in passes over the slice: a validation after every pass, a plateau of
`patience` passes without a new best cuts the learning rate tenfold once, the next ends the run, the best weights
are kept, a cap in passes. Every run is one task of a `paperlib.sweep.Sweep` (`train_run`: a JSON config to the
run's result). N*(D) is the fewest parameters whose seed-mean loss is within ε of the plateau measured at that D
(`paperlib.scaling.knee`); γ is the slope of ln N* on ln D with a bootstrap over seeds within each cell. The
additive law L = E + A·N^−α + B·D^−β is fitted as context only, with its goodness of fit. Every record key is
declared once, in `METRICS`; the grid's runs are the chapter's run plan (`runs`).

One run (the rungs, the `Design` every run shares, `train_run`, the stopping rule, `censored`) is
`paperlib.training.slice_runs`, shared with the learning-rate pilot (`paperlib.chapters.gamma_lr_pilot`). Here:

    plan      the grid from the notebook's parameters: the ladder, the slices and their rungs, each rung's learning
              rate from the committed pilot, `design_from`, `run_plan` and the run plan `runs`
    results   the grid through the sweep (`run_grid`), its runs as a frame and as the record's rows
    analysis  the measurement (ε, the knees and γ, the precision synthetic grids forecast) and the additive law
    metrics   the record's keys (`METRICS`) and their values (`chapter_metrics`)
    words     why a claim gets no verdict, and the sentences that state directions
    report    the tables and the figures

The names the notebook, the drivers and the tests use are re-exported here.
"""

from __future__ import annotations

from paperlib.chapters.gamma_empirical.analysis import (
    EPSILON_MULTIPLES, AdditiveLaw, Measured, additivity_test, expected_precision, fit_additive_law, measure)
from paperlib.chapters.gamma_empirical.metrics import METRICS, chapter_metrics, run_counts
from paperlib.chapters.gamma_empirical.plan import (
    corpus_sizes, design_from, parse_ladder, pilot_lrs, read_pilot, run_plan, runs, slice_ladders)
from paperlib.chapters.gamma_empirical.report import (
    additive_table, gamma_table, kgram_table, knee_table, ladder_table, pilot_table, plot_additive_residuals,
    plot_kgrams, plot_knees, plot_learning_curves, plot_sizes, published_table, runs_table, slices_table)
from paperlib.chapters.gamma_empirical.results import (
    RUN_COLUMNS, frame_from_rows, run_grid, run_rows, runs_frame, unigram_losses)
from paperlib.chapters.gamma_empirical.words import (
    BELOW_ONE, IN_BAND, additive_words, gamma_words, inconclusive_reasons, precision_words, published_words,
    training_words)
from paperlib.training.slice_runs import (
    CHUNK, PILOT, WARMUP_PASSES, Design, Rung, censored, train_run, training_stream)

__all__ = [
    "BELOW_ONE", "CHUNK", "EPSILON_MULTIPLES", "IN_BAND", "METRICS", "PILOT", "RUN_COLUMNS", "WARMUP_PASSES",
    "AdditiveLaw", "Design", "Measured", "Rung", "additive_table", "additive_words", "additivity_test",
    "censored", "chapter_metrics", "corpus_sizes", "design_from", "expected_precision", "fit_additive_law",
    "frame_from_rows", "gamma_table", "gamma_words", "inconclusive_reasons", "kgram_table", "knee_table",
    "ladder_table", "measure", "parse_ladder", "pilot_lrs", "pilot_table", "plot_additive_residuals", "plot_kgrams",
    "plot_knees", "plot_learning_curves", "plot_sizes", "precision_words", "published_table", "published_words",
    "read_pilot", "run_counts", "run_grid", "run_plan", "run_rows", "runs", "runs_frame", "runs_table",
    "slice_ladders", "slices_table", "train_run", "training_stream", "training_words", "unigram_losses",
]
