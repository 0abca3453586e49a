"""The grid of 'Measuring γ' from the notebook's parameters: the ladder of sizes, the slices and each slice's
rungs, each rung's learning rate from the committed pilot (`read_pilot`, `pilot_lrs`), the `Design`
(`design_from`), the static list of runs in the order they are trained (`run_plan`) and the chapter's run plan
(`runs`, one `RunSpec` a run, with the passes the committed record's runs took before their plateau ended them:
`stop_passes`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from paperlib.data.text import CharData, load_shakespeare
from paperlib.paths import book_dir
from paperlib.training.batches import tiled_windows
from paperlib.training.plan import RunSpec
from paperlib.training.slice_runs import PILOT, Design, Rung, parse_rungs, run_spec, training_stream

PILOT_COMMAND = "PAPERLIB_CHECKPOINTS=... python -m paperlib.chapters.gamma_lr_pilot"
RECORD = book_dir() / "results" / "gamma_empirical.json"  # the committed record, whose runs' passes the plan expects
RunKey = tuple[int, int, int]  # corpus size D, seed, rung


# ---------------------------------------------------------------------------------------------------------------
# The grid: the ladder, the slices and their rungs, the static list of runs


def parse_ladder(text: str, vocab_size: int, context: int) -> list[Rung]:
    """The ladder: at least four rungs whose non-embedding sizes grow."""
    rungs = parse_rungs(text)
    sizes = [r.non_embedding(vocab_size, context) for r in rungs]
    if len(rungs) < 4 or any(a >= b for a, b in pairwise(sizes)):
        raise ValueError(f"the ladder needs at least four sizes in increasing order of non-embedding parameters, "
                         f"got {sizes}")
    return rungs


def corpus_sizes(d_min: int, n_sizes: int, available: int) -> list[int]:
    """`n_sizes` slice lengths doubling from `d_min`; the largest must fit in the `available` characters."""
    sizes = [d_min * 2 ** i for i in range(n_sizes)]
    if sizes[-1] > available:
        raise ValueError(f"the largest slice, {sizes[-1]:,} characters, exceeds the {available:,} of the training split")
    return sizes


def slice_ladders(starts: str, per_slice: int, n_slices: int, n_rungs: int) -> tuple[tuple[int, ...], ...]:
    """Each slice's rungs: `per_slice` consecutive rungs of the ladder from the slice's start ("0,0,1,2,3", one
    position per slice, smallest slice first)."""
    try:
        first = [int(s) for s in starts.split(",")]
    except ValueError:
        raise ValueError(f"ladder_starts must be comma-separated rung positions, got {starts!r}") from None
    if len(first) != n_slices:
        raise ValueError(f"ladder_starts gives {len(first)} starts for {n_slices} slices: one per slice")
    if min(first) < 0 or max(first) + per_slice > n_rungs:
        raise ValueError(f"ladder_starts {starts!r} with {per_slice} rungs a slice runs past the ladder's "
                         f"{n_rungs} rungs")
    return tuple(tuple(range(s, s + per_slice)) for s in first)


def run_plan(design: Design) -> list[RunKey]:
    """The static grid, in the order it is trained: the largest slice first (its runs are the longest), each
    slice's rungs, every seed."""
    return [(D, seed, rung) for D in sorted(design.sizes, reverse=True) for rung in design.rungs_of(D)
            for seed in design.seeds]


def design_from(params: Mapping[str, Any], vocab_size: int, available: int, sha256: str, device: str) -> Design:
    """The grid from the notebook's parameters, the text's vocabulary, its training stream's length (`available`)
    and sha256, and the committed pilot's learning rates; `device` goes into the runs' configs only."""
    p = params
    rungs = parse_ladder(p["ladder"], vocab_size, p["context"])
    sizes = corpus_sizes(p["d_min"], p["n_slices"], available)
    ladders = slice_ladders(p["ladder_starts"], p["rungs_per_slice"], len(sizes), len(rungs))
    lrs = pilot_lrs(read_pilot(), [r.non_embedding(vocab_size, p["context"]) for r in rungs])
    return Design(sha256, tuple(sizes), tuple(rungs), tuple(lrs), ladders, tuple(p["seed"] + k for k in range(p["seeds"])),
                  p["context"], p["batch"], p["patience"], p["pass_cap"], p["eval_windows"], device)


def runs(params: Mapping[str, Any]) -> list[RunSpec]:
    """The chapter's plan: the static grid (`run_plan`) on the canonical text, one spec per run named
    D{D}-{rung}-seed{seed} (e.g. ``D15624-16x2-seed0``), at most its cap's steps (`Design.max_steps`) and expected
    to take the passes its slice's runs took in the committed record (`stop_passes`; its cap without one)."""
    text, provenance = load_shakespeare()
    data = CharData.from_text(text)
    stream = training_stream(data.train)
    design = design_from(params, data.vocab_size, len(stream), provenance.sha256, params["device"])
    scored = {D: len(tiled_windows(data.val, design.context)) + len(tiled_windows(stream[:D], design.context))
              for D in design.sizes}
    passes = stop_passes(params)
    specs = []
    for key in run_plan(design):
        spec, D = run_spec(design.config(*key), data.vocab_size, scored[key[0]]), key[0]
        expected = passes.get(D, passes.get(0))
        steps = spec.steps if expected is None else min(spec.steps, math.ceil(expected * design.steps_per_pass(D)))
        specs.append(replace(spec, schedule=((spec.length, steps),)))
    return specs


def stop_passes(params: Mapping[str, Any], path: Path = RECORD) -> dict[int, float]:
    """The passes a run is expected to take, by slice D: the median over the committed record's runs of that slice
    of the passes they trained before their plateau (or cap) ended them, and under 0 the median over all its runs;
    none when the record is missing or ran another plateau rule (patience), so that every run counts to its cap."""
    try:
        rec = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}
    if rec["parameters"].get("patience") != params["patience"]:
        return {}
    rows = rec["notes"]["runs"]
    by_slice: dict[int, list[float]] = {}
    for row in rows:
        by_slice.setdefault(row["D"], []).append(row["passes"])
    return {0: float(np.median([row["passes"] for row in rows])),
            **{D: float(np.median(passes)) for D, passes in by_slice.items()}}


# ---------------------------------------------------------------------------------------------------------------
# The learning rate of each rung, from the committed pilot


def read_pilot(path: Path = PILOT) -> dict[str, Any]:
    """The committed learning-rate pilot (`paperlib.chapters.gamma_lr_pilot` writes it)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"the learning-rate pilot {path} is missing: run `{PILOT_COMMAND}` once") from None


def pilot_lrs(pilot: Mapping[str, Any], sizes: Sequence[int]) -> list[float]:
    """Each size's peak learning rate: the pilot's best rates of its two rungs, interpolated linearly in log lr
    against log N between them and held constant beyond them."""
    best = {run["non_embedding"]: pilot["best_lr"][run["rung"]] for run in pilot["runs"]}
    (n0, lr0), (n1, lr1) = min(best.items()), max(best.items())
    if n0 == n1:
        return [lr0] * len(sizes)
    position = np.clip((np.log(sizes) - math.log(n0)) / (math.log(n1) - math.log(n0)), 0, 1)
    return [float(v) for v in np.exp(math.log(lr0) + position * (math.log(lr1) - math.log(lr0)))]
