"""The runs of 'Measuring γ' once trained: the grid through the sweep (`run_grid`: cached runs read, the others
trained) with what this execution trained and loaded, one row per run (`runs_frame`, its columns
`RUN_COLUMNS`, learned or not against the slice's 1-gram loss), and the per-run rows the record keeps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from torch import Tensor

from paperlib.book.metrics import execution_metrics
from paperlib.chapters.gamma_empirical.plan import RunKey, run_plan
from paperlib.data.text import CharData
from paperlib.models.ngram import NGram
from paperlib.sweep import Sweep
from paperlib.training.slice_runs import Design, censored

LEARNED_MARGIN = 0.25  # nats a run's validation loss must end below the slice's 1-gram validation loss


# ---------------------------------------------------------------------------------------------------------------
# The runs: a frame, the rows the record keeps, the sweep's cache


def unigram_losses(data: CharData, stream: Tensor, sizes: Sequence[int]) -> dict[int, float]:
    """Each slice's 1-gram model scored on the validation split (nats per character): what knowing only the
    slice's character frequencies gives."""
    return {D: NGram(1, data.vocab_size).fit(stream[:D].numpy()).loss(data.val.numpy()) for D in sizes}


RUN_COLUMNS = ("D", "seed", "rung", "N", "N_total", "lr", "val_loss", "train_loss", "steps", "passes", "best_passes",
               "stop", "capped", "censored", "learned", "train_time")  # the record's per-run rows


def runs_frame(design: Design, results: Mapping[RunKey, Mapping[str, Any]], vocab_size: int,
               unigram: Mapping[int, float]) -> pd.DataFrame:
    """One row per run (`RUN_COLUMNS`): its slice, seed, rung, non-embedding and total size, learning rate, losses
    of the best weights, steps, passes (all, and to the best weights), why it stopped, whether it is censored and
    whether it learned, and its training seconds."""
    rows = []
    for (D, seed, rung), result in results.items():
        per_pass = design.steps_per_pass(D)
        rows.append({"D": D, "seed": seed, "rung": design.ladder[rung].name,
                     "N": design.ladder[rung].non_embedding(vocab_size, design.context), "N_total": result["params"],
                     "lr": design.lrs[rung], "val_loss": result["val_loss"], "train_loss": result["train_loss"],
                     "steps": result["steps"], "passes": result["steps"] / per_pass,
                     "best_passes": result["best_step"] / per_pass, "stop": "cap" if result["capped"] else "plateau",
                     "capped": bool(result["capped"]), "censored": censored(result),
                     "learned": result["val_loss"] <= unigram[D] - LEARNED_MARGIN, "train_time": result["train_time"]})
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS)).sort_values(["D", "N", "seed"]).reset_index(drop=True)


def run_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The per-run rows the record keeps (JSON numbers and strings), so the grid can be refitted without
    retraining it."""
    return json.loads(frame.to_json(orient="records"))


def frame_from_rows(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The runs frame back from a record's per-run rows."""
    return pd.DataFrame(list(rows), columns=list(RUN_COLUMNS))


# ---------------------------------------------------------------------------------------------------------------
# Orchestration: the grid through the sweep


def run_grid(sweep: Sweep, design: Design) -> tuple[dict[RunKey, dict[str, Any]], dict[str, float]]:
    """Every run of `run_plan` through the sweep (cached runs are read, the others trained), and what was trained
    and what was loaded (`paperlib.book.metrics.execution_metrics`, from each run's training seconds)."""
    plan = run_plan(design)
    results = dict(zip(plan, sweep.run([design.config(*key) for key in plan], desc="runs")))
    seconds = [(float(results[key]["train_time"]), cached) for key, cached in zip(plan, sweep.from_cache)]
    return results, execution_metrics([s for s, cached in seconds if not cached], [s for s, cached in seconds if cached])
