"""Chapter 'Does it run in linear time?': the Note's FLOP table against our count and the clock, and
time and peak memory against length for recurrent and regular transformers (methods page, FLOPs).

A *series* is one model measured over lengths (`paperlib.bench.measure_series`); its exponents are fitted on the
lengths from `fit_min` up. The verdict reads the recurrent series at the paper's block length.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from paperlib.bench import Series, crossover, local_exponents, measure, time_call
from paperlib.book.metrics import Declaration, Metric
from paperlib.book.render import plural
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.models.flops import count_flops, paper_flops, train_flops_per_sample
from paperlib.models.paper_configs import PAPER_MODELS, PaperModel, build, paper_config, paper_model
from paperlib.plots import page_figure
from paperlib.progress import progress
from paperlib.stats import PowerFit
from paperlib.training.device import DeviceSetup
from paperlib.training.loop import forward_backward
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig, make_optimizer
from paperlib.training.plan import RunSpec

# (label, model, arch, overrides, the Note's FLOPs/sample); the image row is the July-2025 forget model.
NOTE_TABLE = [
    ("Shakespeare regular, 1 layer", "shakespeare", "regular", {}, 6.29e7),
    ("Shakespeare regular, 6 layers", "shakespeare", "regular", {"n_layer": 6}, 3.77e8),
    ("Shakespeare recurrent, K = 1", "shakespeare", "recurrent", {"block": 1}, 7.59e7),
    ("image regular, 4 layers", "image", "regular", {}, 1.38e8),
    ("image recurrent, K = 32", "image", "recurrent", {"alpha": "forget"}, 6.29e6),
    ("copy recurrent, accumulate, K = 32", "copy", "recurrent", {}, 1.27e8),
]
SERIES_KEYS = ("recurrent", "recurrent_alt", "regular", "regular_math")  # metric names of the four series
FLOP_COUNT_COLUMNS = ("Note", "paper formula", "ours", "ours / paper")  # `flop_table`'s, shown in two tables
FLOP_TIME_COLUMNS = ("N", "forward (ms)", "ours / time (GFLOP/s)")
RATIO_COLUMNS = ("paper formula", "our count", "measured, forward", "measured, forward+backward")  # `cost_ratios`'
RATE_COLUMNS = ("recurrent GFLOP/s", "regular GFLOP/s")
FIT_COLUMNS = (("time, forward", "fwd"), ("time, forward+backward", "train"), ("memory, training", "train_bytes"),
               ("memory, inference", "fwd_bytes"))
TIME_FITS, MEMORY_FITS = (tuple(name for name, _ in FIT_COLUMNS[i:i + 2]) for i in (0, 2))  # `exponent_table`, shown as two
METRICS = Declaration("linear_time", [
    Metric("time_exponent_recurrent", "exponent", "b of forward time ∝ N^b of the recurrent model at the paper's K, "
           "fitted on N ≥ fit_min; its interval the fit's OLS t-interval", headline=True, ci=True),
    Metric("memory_exponent_recurrent", "exponent", "b of training peak memory ∝ N^b of that model, fitted the same "
           "way", headline=True, ci=True),
    Metric("memory_ratio_at_max_len", "×", "training peak memory of the regular model over the recurrent one's at the "
           "longest length both ran", headline=True),
    Metric("time_exponent_{other}", "exponent", "b of forward time ∝ N^b of the series (see SERIES_KEYS)", ci=True),
    Metric("time_exponent_{series}_train", "exponent", "b of forward+backward time ∝ N^b of the series", ci=True),
    Metric("memory_exponent_{other}", "exponent", "b of training peak memory ∝ N^b of the series", ci=True),
    Metric("memory_exponent_{series}_inference", "exponent", "b of inference peak memory ∝ N^b of the series (the "
           "peak of one forward call without gradients)", ci=True),
    Metric("inference_memory_ratio_at_max_len", "×", "inference peak memory of the regular model over the recurrent "
           "one's at the longest length both ran"),
    Metric("max_len_{series}", "tokens", "the longest length the series measured"),
    Metric("max_len_common", "tokens", "the longest length both the recurrent and the regular series measured"),
    Metric("speedup_at_max_len", "×", "regular over recurrent forward time at `max_len_common`"),
    Metric("speedup_at_max_len_train", "×", "regular over recurrent forward+backward time at `max_len_common`"),
    Metric("crossover_len", "tokens", "from this length on the recurrent model's forward pass is the faster "
           "(interpolated in log-log; NaN: at no measured length)"),
    Metric("crossover_len_train", "tokens", "the same for forward+backward"),
    Metric("flop_table_reproduced", "0 or 1", "1 when the paper's formulas reproduce every entry of the Note's FLOP "
           "table to its printed digits"),
    Metric("copy_flops_ours_over_paper", "×", "our FLOP count of the copy model over the paper's formula"),
    Metric("image_flop_ratio_{count}", "×", "the regular image model's FLOPs over the recurrent one's (the paper's "
           "formula, our count)"),
    Metric("image_time_ratio", "×", "the regular image model's forward time over the recurrent one's"),
    Metric("unit_flop_ratio_paper", "×", "the unit recurrence's (K = 1) FLOPs over the 1-layer Shakespeare model's, "
           "by the paper's formula"),
    Metric("unit_time_ratio", "×", "the unit recurrence's forward time over the 1-layer Shakespeare model's"),
    Metric("flop_ratio_{count}_at_max_len", "×", "regular over recurrent FLOPs at `max_len_common` (the paper's "
           "formula, our count)"),
    Metric("gflops_{arch}_at_max_len", "GFLOP/s", "the model's forward FLOP rate (our count) at `max_len_common`"),
    Metric("matmul_peak_tflops", "TFLOP/s", "the throughput benchmark's peak: one large matrix product"),
    Metric("tokens_per_s.{bench}", "tokens/s", "training tokens per second of the throughput benchmark's model "
           "(TASK_kK_nLENGTH_bBATCH)"),
    Metric("mfu.{bench}", "fraction", "that step's training FLOP rate (our count) over `matmul_peak_tflops`"),
], fields={"series": SERIES_KEYS, "other": SERIES_KEYS[1:], "count": ["paper", "ours"], "arch": ["recurrent", "regular"],
           "bench": r"[a-z_]+_k[0-9]+_n[0-9]+_b[0-9]+"})


def runs(params: Mapping[str, Any]) -> list[RunSpec]:
    """The chapter trains nothing: it benchmarks (`work` says what it measures)."""
    return []


def work(params: Mapping[str, Any]) -> list[str]:
    """What the chapter measures, in words, from its parameters."""
    p, ns = params, lengths(params["n_min"], params["n_max"])
    calls = (f"{p['warmup']} warm-up and {plural(p['repeats'], 'timed call')} per length in each of "
             f"{plural(p['rounds'], 'pass', 'passes')}")
    lines = [f"the Note's FLOP table: {p['warmup']} warm-up and {p['repeats'] * p['rounds']} timed forward passes of "
             f"each of its {len(NOTE_TABLE)} models",
             f"time and peak memory of the {p['task']} model, recurrent at K = {p['block']} and {p['block_alt']} and "
             f"regular with two attention kernels, at {len(ns)} lengths {ns[0]:,}–{ns[-1]:,}, batch "
             f"{p['batch']}: {calls}; a series stops before a length predicted over {p['time_budget_s']:g} s per "
             f"forward+backward or {p['memory_budget_gib']:g} GiB"]
    if p["throughput"]:
        lines.append(f"training throughput of {', '.join(p['throughput'].split(','))} at batches "
                     f"{p['throughput_batches']}, and one large matrix product (the peak)")
    return lines


def lengths(n_min: int, n_max: int) -> list[int]:
    """The powers of two from `n_min` to `n_max` (both powers of two): the lengths every series measures."""
    return [2**k for k in range(int(math.log2(n_min)), int(math.log2(n_max)) + 1)]


def note_table() -> list[dict]:
    """The Note's FLOPs/sample table: its value, the paper's formula recomputed, and our count."""
    rows = []
    for label, model, arch, overrides, note in NOTE_TABLE:
        cfg = paper_config(model, arch, **overrides)
        n = cfg.n_positions
        rows.append({"model": label, "N": n, "note": note, "paper_formula": paper_flops(cfg, n),
                     "ours": count_flops(cfg, n)})
    return rows


def flop_table(settings: dict, repeats: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """The Note's table with our count and one measured forward pass per configuration, and its metrics."""
    rows = []
    for row, (_, model, arch, overrides, _) in zip(note_table(), NOTE_TABLE):
        cfg = paper_config(model, arch, dropout=0.0, **overrides)
        point = measure(build(cfg), cfg.n_positions, **{**settings, "vocab_size": cfg.vocab_size, "repeats": repeats})
        rows.append({"model": row["model"], "N": row["N"], "Note": row["note"], "paper formula": row["paper_formula"],
                     "ours": row["ours"], "ours / paper": row["ours"] / row["paper_formula"],
                     "forward (ms)": 1e3 * point.fwd,
                     "ours / time (GFLOP/s)": row["ours"] * settings["batch"] / point.fwd / 1e9})
    table = pd.DataFrame(rows).set_index("model")
    exact = all(f"{r['paper formula']:.2e}" == f"{r['Note']:.2e}" for r in rows)
    image_reg, image_rec = table.loc["image regular, 4 layers"], table.loc["image recurrent, K = 32"]
    unit, one_layer = table.loc["Shakespeare recurrent, K = 1"], table.loc["Shakespeare regular, 1 layer"]
    metrics = {"flop_table_reproduced": float(exact),
               "copy_flops_ours_over_paper": table.loc["copy recurrent, accumulate, K = 32", "ours / paper"],
               "image_flop_ratio_paper": image_reg["paper formula"] / image_rec["paper formula"],
               "image_flop_ratio_ours": image_reg["ours"] / image_rec["ours"],
               "image_time_ratio": image_reg["forward (ms)"] / image_rec["forward (ms)"],
               "unit_flop_ratio_paper": unit["paper formula"] / one_layer["paper formula"],
               "unit_time_ratio": unit["forward (ms)"] / one_layer["forward (ms)"]}
    return table, {k: float(v) for k, v in metrics.items()}


def series_plans(model: PaperModel, block: int, block_alt: int) -> list[tuple[str, Callable[[int], nn.Module], dict]]:
    """(label, model of length n, extra measure arguments) for the four series, in `SERIES_KEYS` order."""
    def factory(arch: str, **overrides: object) -> Callable[[int], nn.Module]:
        return lambda n: paper_model(model, arch, n_positions=n, dropout=0.0, **overrides)

    return [(f"recurrent K = {block}", factory("recurrent", block=block), {}),
            (f"recurrent K = {block_alt}", factory("recurrent", block=block_alt), {}),
            ("regular", factory("regular"), {}),
            ("regular, math attention", factory("regular"), {"math_attention": True})]


def measured_table(series: Sequence[Series]) -> pd.DataFrame:
    """Every measured point: series, length, median times (ms) and peak memory (MiB)."""
    return pd.concat([pd.DataFrame({"series": s.label, "N": s.ns.astype(int), "forward (ms)": 1e3 * s.column("fwd"),
                                    "forward+backward (ms)": 1e3 * s.column("train"),
                                    "inference peak (MiB)": s.column("fwd_bytes") / 2**20,
                                    "training peak (MiB)": s.column("train_bytes") / 2**20}) for s in series])


def exponent_fits(series: Sequence[Series], fit_min: int) -> dict[str, dict[str, PowerFit | None]]:
    """Per series label, the power-law fit of each measured column on N >= fit_min (None: too few points)."""
    return {s.label: {col: s.exponent(col, fit_min) for _, col in FIT_COLUMNS} for s in series}


def exponent_table(series: Sequence[Series], fits: dict[str, dict[str, PowerFit | None]]) -> pd.DataFrame:
    """Exponents with their 95 % intervals per series (its lengths and local slopes: `slope_table`)."""
    def shown(fit: PowerFit | None) -> str:
        return "—" if fit is None else f"{fit.exponent:.2f} [{fit.ci_low:.2f}, {fit.ci_high:.2f}]"

    rows = [{"series": s.label, **{name: shown(fits[s.label][col]) for name, col in FIT_COLUMNS}} for s in series]
    return pd.DataFrame(rows).set_index("series")


def slope_table(series: Sequence[Series]) -> pd.DataFrame:
    """Per series: the lengths it measured and the local forward-time slopes between neighbouring lengths."""
    rows = [{"series": s.label, "lengths": f"{int(s.ns[0]):,}–{int(s.ns[-1]):,}",
             "local forward-time slopes": ", ".join(f"{x:.2f}" for x in local_exponents(s.ns, s.column("fwd")))}
            for s in series]
    return pd.DataFrame(rows).set_index("series")


def sweep_metrics(series: Sequence[Series], fits: dict[str, dict[str, PowerFit | None]]) -> dict[str, float]:
    """Exponents (with CIs) and longest length of each series, and how the recurrent model compares with
    the regular one at the lengths both reached."""
    metrics: dict[str, float] = {}
    for key, s in zip(SERIES_KEYS, series):
        for name, col in ((f"time_exponent_{key}", "fwd"), (f"time_exponent_{key}_train", "train"),
                          (f"memory_exponent_{key}", "train_bytes"), (f"memory_exponent_{key}_inference", "fwd_bytes")):
            fit = fits[s.label][col]
            metrics |= {name: math.nan if fit is None else fit.exponent,
                        f"{name}.ci_low": math.nan if fit is None else fit.ci_low,
                        f"{name}.ci_high": math.nan if fit is None else fit.ci_high}
        metrics[f"max_len_{key}"] = float(s.ns[-1])
    rec, reg, common = series[0], series[2], common_lengths(series)
    metrics.update(
        max_len_common=float(common[-1]),
        speedup_at_max_len=float(at(reg, "fwd", common)[-1] / at(rec, "fwd", common)[-1]),
        speedup_at_max_len_train=float(at(reg, "train", common)[-1] / at(rec, "train", common)[-1]),
        memory_ratio_at_max_len=float(at(reg, "train_bytes", common)[-1] / at(rec, "train_bytes", common)[-1]),
        inference_memory_ratio_at_max_len=float(at(reg, "fwd_bytes", common)[-1] / at(rec, "fwd_bytes", common)[-1]),
        crossover_len=crossover(common, at(rec, "fwd", common), at(reg, "fwd", common)),
        crossover_len_train=crossover(common, at(rec, "train", common), at(reg, "train", common)),
    )
    return metrics


def common_lengths(series: Sequence[Series]) -> np.ndarray:
    """The lengths measured for both the recurrent (first) and the regular (third) series."""
    return np.intersect1d(series[0].ns, series[2].ns)


def at(s: Series, column: str, lengths: np.ndarray) -> np.ndarray:
    """Column of series `s` on `lengths` (a subset of its measured lengths)."""
    return s.column(column)[np.isin(s.ns, lengths)]


def crossover_words(n: float, shortest: float) -> str:
    """Prose for a crossover length: below the shortest measured one, interpolated, or never."""
    if math.isnan(n):
        return "at no measured length"
    return f"at every measured length (N ≥ {int(n):,})" if n == shortest else f"from about N = {n:,.0f} on"


def plot_series(series: Sequence[Series], columns: tuple[str, str], scale: float, ylabel: str,
                titles: tuple[str, str], fit_min: int) -> Figure:
    """Two log-log panels of `columns` against length, each series with its fitted line, and slopes 1 and 2."""
    fig, axes = page_figure(2, row_height=3.8, sharex=True)
    for ax, column, title in zip(axes, columns, titles):
        _plot_column(ax, series, column, scale, fit_min)
        ax.set(xscale="log", yscale="log", ylabel=ylabel, title=title)
        ax.set_xscale("log", base=2)
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[-1].set_xlabel("sequence length N")
    return fig


def _plot_column(ax: Axes, series: Sequence[Series], column: str, scale: float, fit_min: int) -> None:
    for i, s in enumerate(series):
        fit = s.exponent(column, fit_min)
        label = s.label if fit is None else f"{s.label}: slope {fit.exponent:.2f}"
        ax.plot(s.ns, s.column(column) * scale, "o-", color=f"C{i}", label=label)
        if fit is not None:
            x = s.ns[s.ns >= fit_min]
            ax.plot(x, scale * fit.prefactor * x**fit.exponent, "--", color=f"C{i}", lw=1, alpha=0.8)
    x0, y0 = series[0].ns[0], series[0].column(column)[0] * scale
    for slope, style in ((1, ":"), (2, "-.")):
        ax.plot(series[0].ns, y0 * (series[0].ns / x0) ** slope, style, color="grey", lw=1, label=f"slope {slope}")


def cost_ratios(series: Sequence[Series], model: PaperModel, block: int, batch: int) -> pd.DataFrame:
    """Per common length: regular/recurrent cost by the paper's formula, our count and the clock, and the
    GFLOP/s (our count) each model reaches in the forward pass."""
    rec, reg, common = series[0], series[2], common_lengths(series)
    cfg_rec, cfg_reg = paper_config(model, "recurrent", block=block), paper_config(model, "regular")
    return pd.DataFrame({
        "N": common.astype(int),
        "paper formula": [paper_flops(cfg_reg, n) / paper_flops(cfg_rec, n) for n in common],
        "our count": [count_flops(cfg_reg, int(n)) / count_flops(cfg_rec, int(n)) for n in common],
        "measured, forward": at(reg, "fwd", common) / at(rec, "fwd", common),
        "measured, forward+backward": at(reg, "train", common) / at(rec, "train", common),
        "recurrent GFLOP/s": [count_flops(cfg_rec, int(n)) * batch / t / 1e9 for n, t in zip(common, at(rec, "fwd", common))],
        "regular GFLOP/s": [count_flops(cfg_reg, int(n)) * batch / t / 1e9 for n, t in zip(common, at(reg, "fwd", common))],
    }).set_index("N")


def ratio_metrics(ratios: pd.DataFrame) -> dict[str, float]:
    return {"flop_ratio_paper_at_max_len": float(ratios["paper formula"].iloc[-1]),
            "flop_ratio_ours_at_max_len": float(ratios["our count"].iloc[-1]),
            "gflops_recurrent_at_max_len": float(ratios["recurrent GFLOP/s"].iloc[-1]),
            "gflops_regular_at_max_len": float(ratios["regular GFLOP/s"].iloc[-1])}


def plot_cost_ratios(ratios: pd.DataFrame, block: int) -> Figure:
    """Regular/recurrent cost against length: the formula, our count and the two measured times."""
    fig, ax = page_figure(row_height=4.0)
    for column, style in zip(ratios.columns[:4], ("s--", "d--", "o-", "o-")):
        ax.plot(ratios.index, ratios[column], style, label=column)
    ax.axhline(1, color="grey", lw=1)
    ax.set(xscale="log", yscale="log", xlabel="sequence length N", ylabel="regular / recurrent",
           title=f"Cost ratio, regular against recurrent K = {block}")
    ax.set_xscale("log", base=2)
    ax.legend()
    return fig


def _exponent_sentence(record: Record, key: str, subject: str, why: str = "") -> str:
    """`subject` grows linearly, faster or more slowly (rule ``exponent`` on metric `key`), with the exponent and
    its interval; `why` follows a linear outcome."""
    m = record["metrics"]
    shown = ("too few lengths to fit an exponent" if math.isnan(m[key]) else
             f"exponent {m[key]:.2f}, 95 % interval [{m[f'{key}.ci_low']:.2f}, {m[f'{key}.ci_high']:.2f}]")
    return decided("exponent", record, [key], {
        "linear": f"{subject} grows linearly ({shown}){why}.",
        "faster than linear": f"{subject} grows faster than linearly ({shown}).",
        "slower than linear": f"{subject} grows more slowly than linearly ({shown}).",
        "undecided": f"{subject} grows at a rate this fit cannot call linear or not ({shown}).",
    })


def _times(ratio: float, more: str, less: str, even: str) -> dict[str, str]:
    """Sentences for the outcomes of rule ``ratio`` on `ratio`, each with ``{x}``: the ratio or its inverse."""
    return {"above": more.format(x=f"{ratio:.1f}"), "below": less.format(x=f"{1 / ratio:.1f}"),
            "about even": even.format(x=f"{ratio:.2f}")}


def flop_words(record: Record, where: str) -> str:
    """The FLOP table in words: whether the formulas reproduce the Note's column, and how the image and unit
    recurrences' measured times compare with what their FLOPs say (rules ``check`` and ``ratio``)."""
    m = record["metrics"]
    reproduced = decided("check", record, ["flop_table_reproduced"], {
        "holds": "The formulas reproduce every entry of the Note's FLOPs/sample column to the printed digits.",
        "fails": "The formulas do not reproduce every entry of the Note's FLOPs/sample column to the printed digits."})
    image = decided("ratio", record, ["image_time_ratio"], _times(
        m["image_time_ratio"],
        f"One forward pass of the recurrent image model on {where} is {{x}}× faster than the 4-layer model's.",
        f"One forward pass of the recurrent image model on {where} is {{x}}× slower than the 4-layer model's.",
        f"One forward pass of the recurrent image model on {where} takes about as long as the 4-layer model's "
        "(ratio {x})."))
    unit = decided("ratio", record, ["unit_time_ratio"], _times(
        m["unit_time_ratio"],
        "Its sequential two-token windows take {x}× as long as the one-layer model's forward pass: small windows "
        "waste the hardware, which a FLOP count does not see.",
        "Its sequential two-token windows run {x}× faster than the one-layer model's forward pass.",
        "Its sequential two-token windows take about as long as the one-layer model's forward pass (ratio {x})."))
    return (f"{reproduced} The code does about {m['copy_flops_ours_over_paper']:.0f}× the formula's count on the copy "
            f"model. Ratios matter more than absolute counts, and they move too: the Note puts the regular image model "
            f"at {m['image_flop_ratio_paper']:.0f}× the recurrent one's FLOPs; counting every matmul gives "
            f"{m['image_flop_ratio_ours']:.1f}×. {image} The other way round, the Note prices the Shakespeare unit "
            f"recurrence (K = 1) at {m['unit_flop_ratio_paper']:.2f}× the one-layer regular model. {unit}")


def time_words(record: Record, block: int, block_alt: int, where: str, shortest: int) -> str:
    """Time against length in words: each model's exponent (rule ``exponent``), where the curves cross, and the
    speed-ups at the longest common length (rule ``ratio``); `shortest` is the shortest common length."""
    m = record["metrics"]
    longest = f"{int(m['max_len_common']):,}"
    speed = [decided("ratio", record, [key], _times(
        m[key], f"At N = {longest} the recurrent model is {{x}}× faster in {mode}.",
        f"At N = {longest} the recurrent model is {{x}}× slower in {mode}.",
        f"At N = {longest} the two models take about as long in {mode} (ratio {{x}})."))
        for key, mode in (("speedup_at_max_len", "inference"), ("speedup_at_max_len_train", "training"))]
    return " ".join([
        f"On {where}:",
        _exponent_sentence(record, "time_exponent_recurrent", f"The forward time of the recurrent model at K = {block}"),
        _exponent_sentence(record, "time_exponent_recurrent_alt", f"At K = {block_alt} it"),
        _exponent_sentence(record, "time_exponent_recurrent_train", f"Its training time at K = {block}"),
        _exponent_sentence(record, "time_exponent_regular", "The regular transformer's forward time"),
        "Its local slopes (the table of slopes) show the mix: the projections are linear in N, attention quadratic.",
        f"The recurrent model's time falls below the regular one's {crossover_words(m['crossover_len'], shortest)} "
        f"in inference and {crossover_words(m['crossover_len_train'], shortest)} in training "
        "(interpolated in log-log).", *speed])


def memory_ratio_sentence(record: Record, panel: Literal["training", "inference"]) -> str:
    """Whether the regular model needs more or less peak memory than the recurrent one at the longest common
    length, in training or in inference (rule ``ratio``)."""
    key = "memory_ratio_at_max_len" if panel == "training" else "inference_memory_ratio_at_max_len"
    longest = f"{int(record['metrics']['max_len_common']):,}"
    return decided("ratio", record, [key], _times(
        record["metrics"][key],
        f"In {panel}, at N = {longest}, the regular model needs more memory than the recurrent one ({{x}}×).",
        f"In {panel}, at N = {longest}, the regular model needs less memory than the recurrent one (the recurrent "
        f"model needs {{x}}× as much).",
        f"In {panel}, at N = {longest}, the two models need about the same memory (ratio {{x}})."))


def memory_words(record: Record, stopped: str) -> str:
    """Peak memory against length in words, training and inference panels: exponents (rule ``exponent``), the
    regular model against the recurrent one (rule ``ratio``), and what the inference panel measures."""
    return " ".join([
        _exponent_sentence(record, "memory_exponent_recurrent", "The recurrent model's training memory",
                           ": backpropagation keeps the activations of all N/K windows, each token twice"),
        _exponent_sentence(record, "memory_exponent_regular", "The regular model's training memory, with PyTorch's "
                                                              "default attention kernel,"),
        memory_ratio_sentence(record, "training"),
        "In inference the Note says the recurrence needs only two blocks of working memory; what we measure is the "
        "peak of one whole forward call, which also holds the embeddings and outputs of all N tokens, so it does not "
        "isolate those two blocks.",
        _exponent_sentence(record, "memory_exponent_recurrent_inference", "The recurrent model's inference peak"),
        _exponent_sentence(record, "memory_exponent_regular_inference", "The regular model's inference peak"),
        memory_ratio_sentence(record, "inference"),
        _exponent_sentence(record, "memory_exponent_regular_math", "Attention that stores the N × N weights (the "
                                                                    "math-kernel series)") + (f" {stopped}" if stopped else "")])


def cost_words(record: Record) -> str:
    """FLOPs against time in words: the formula's and our count's ratio against the measured speed-up, and the
    FLOP rates each model reaches (rule ``ratio``)."""
    m = record["metrics"]
    predicted = [decided("ratio", record, [key, "speedup_at_max_len"], _times(
        m[key] / m["speedup_at_max_len"],
        f"{count} overstates the measured speed-up {{x}}-fold ({m[key]:.1f}× against {m['speedup_at_max_len']:.1f}×).",
        f"{count} understates the measured speed-up {{x}}-fold ({m[key]:.1f}× against "
        f"{m['speedup_at_max_len']:.1f}×).",
        f"{count} about matches the measured speed-up ({m[key]:.1f}× against {m['speedup_at_max_len']:.1f}×)."))
        for key, count in (("flop_ratio_paper_at_max_len", "The paper's formula"),
                           ("flop_ratio_ours_at_max_len", "Our count"))]
    rates = decided("ratio", record, ["gflops_regular_at_max_len", "gflops_recurrent_at_max_len"], _times(
        m["gflops_regular_at_max_len"] / m["gflops_recurrent_at_max_len"],
        f"The regular model's large matrix products run at {m['gflops_regular_at_max_len']:.0f} GFLOP/s, {{x}}× the "
        f"rate of the recurrent model's sequence of small 2K-token windows, each a separate call "
        f"({m['gflops_recurrent_at_max_len']:.0f} GFLOP/s): a large constant cost per window.",
        f"The recurrent model's windows run at {m['gflops_recurrent_at_max_len']:.0f} GFLOP/s, {{x}}× the regular "
        f"model's {m['gflops_regular_at_max_len']:.0f} GFLOP/s.",
        f"Both models run at about the same FLOP rate ({m['gflops_recurrent_at_max_len']:.0f} and "
        f"{m['gflops_regular_at_max_len']:.0f} GFLOP/s)."))
    return " ".join([*predicted, rates])


def in_words(record: Record, quick: bool) -> str:
    """The verdicts in a few sentences (rule ``verdict``) and what each memory panel shows."""
    unjudged = {"not comparable": "{words}: {reason}.", "not run": "without a verdict: {reason}."}
    linear = decided_verdict(record, "rt_linear_time", {
        "reproduced": "**Linear time** is reproduced in measurement, not only on paper.",
        "not reproduced": "**Linear time** is not reproduced: the upper end of the time exponent's interval lies "
                          "above the linear band.",
        **{status: "**Linear time** is " + text for status, text in unjudged.items()}})
    memory = decided_verdict(record, "rt_memory", {
        "reproduced": "**Memory-efficient** is reproduced: peak memory grows linearly and stays below a regular "
                      "transformer's, in training and in inference.",
        "not reproduced": "**Memory-efficient** is not reproduced: in training or in inference, peak memory grows "
                          "faster than linearly or is not below a regular transformer's with PyTorch's default "
                          "attention kernel. Per panel:",
        **{status: "**Memory-efficient** is " + text for status, text in unjudged.items()}})
    return (("*Quick profile: these numbers only prove the code path.* " if quick else "")
            + f"**In words.** {linear} {memory} {memory_ratio_sentence(record, 'training')} "
            f"{memory_ratio_sentence(record, 'inference')}")


def matmul_peak(setup: DeviceSetup, repeats: int = 3) -> float:
    """FLOP/s of a large square matrix product at the set-up's precision: the practical peak an MFU is
    measured against (a 2,048² product on a CPU, 8,192² on a GPU)."""
    size = 8192 if setup.device.type == "cuda" else 2048
    dtype = torch.bfloat16 if setup.precision == "bf16" else torch.float32
    a, b = (torch.randn(size, size, device=setup.device, dtype=dtype) for _ in range(2))
    return 2 * size**3 / min(time_call(lambda: a @ b, setup.device, warmup=1, repeats=repeats))


def throughput_models(spec: str) -> list[tuple[PaperModel, int | None, int]]:
    """Parse ``TASK[/K]:LENGTH,...`` (e.g. ``copy:4128,shakespeare/1:256``) into (task, block or None for the
    paper's, length)."""
    models = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, length = item.partition(":")
        task, _, block = name.partition("/")
        if task not in PAPER_MODELS or not length.isdigit() or (block and not block.isdigit()):
            raise ValueError(f"throughput model {item!r}: expected TASK[/K]:LENGTH with TASK one of "
                             f"{PAPER_MODELS}, K and LENGTH positive integers")
        models.append((task, int(block) if block else None, int(length)))
    return models


def training_throughput(task: PaperModel, block: int | None, length: int, batches: Sequence[int],
                        setup: DeviceSetup, peak: float, repeats: int = 2) -> pd.DataFrame:
    """Per batch size: seconds per training step (forward, backward, Adam) of the paper's recurrent `task`
    model (block `block`, None: the paper's) at `length` on random tokens, tokens per second, and model
    FLOP/s (training FLOPs by our count, `paperlib.models.flops`) as a fraction of `peak` (the MFU)."""
    base = paper_config(task, "recurrent")
    cfg = replace(base, n_positions=max(length, base.n_positions), block=block or base.block)
    torch.manual_seed(0)
    model = setup.prepare(build(cfg))
    optimizer = make_optimizer(model, OptimizerConfig(lr=1e-4), setup.device)
    loss_fn = model_loss()
    with torch.no_grad():
        out_shape = model(torch.zeros(1, length, dtype=torch.long, device=setup.device)).shape
    flops_per_sample = train_flops_per_sample(cfg, length)
    rows = []
    for batch in progress(batches, desc=f"throughput {task}"):
        x = torch.randint(cfg.vocab_size, (batch, length), device=setup.device)
        y = torch.randint(out_shape[-1], (batch, *out_shape[1:-1]), device=setup.device)

        def step(x: torch.Tensor = x, y: torch.Tensor = y) -> None:
            forward_backward(model, loss_fn, (x, y), setup)
            optimizer.step()

        seconds = min(time_call(step, setup.device, warmup=1, repeats=repeats))
        rows.append({"model": f"{task}, K = {cfg.block}", "length": length, "batch": batch, "seconds per step": seconds,
                     "tokens/s": batch * length / seconds, "TFLOP/s": flops_per_sample * batch / seconds / 1e12,
                     "MFU": flops_per_sample * batch / seconds / peak})
    return pd.DataFrame(rows)


def plot_throughput(table: pd.DataFrame) -> Figure:
    """Tokens per second and MFU against batch size, one line per model."""
    fig, (ax_tokens, ax_mfu) = page_figure(1, 2)
    for (task, length), g in table.groupby(["model", "length"], sort=False):
        label = f"{task}, length {length:,}"
        ax_tokens.plot(g["batch"], g["tokens/s"], "o-", label=label)
        ax_mfu.plot(g["batch"], 100 * g["MFU"], "o-", label=label)
    batches = sorted(table["batch"].unique())
    for ax, ylabel in ((ax_tokens, "training tokens per second (log scale)"), (ax_mfu, "MFU (% of the matmul peak)")):
        ax.set(xscale="log", xlabel="batch size (sequences)", ylabel=ylabel)
        ax.minorticks_off()
        ax.set_xticks(batches, [str(b) for b in batches])
    ax_tokens.set_yscale("log")
    ax_mfu.set_ylim(bottom=0)
    ax_tokens.legend()
    return fig
