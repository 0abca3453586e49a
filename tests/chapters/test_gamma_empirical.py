"""The γ chapter: its grid (static, per-slice ladders, cached on a rerun), one stopping rule in passes at every
slice, one real run, censoring, the measurement on synthetic knees of a known γ, the record's keys and per-run
rows, the two verdicts and their words, and the committed record refitted from its own rows."""

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

import paperlib.chapters.gamma_empirical as chapter
import paperlib.chapters.gamma_empirical.analysis as analysis
from paperlib.atomic import atomic_write_json
from paperlib.book.metrics import execution_metrics
from paperlib.book.verdicts import NOT_REPRODUCED, REPRODUCED, judge, not_comparable, run_record
from paperlib.book.wording import marked_in_myst, recheck_myst
from paperlib.chapters.gamma_empirical import (
    BELOW_ONE, CHUNK, IN_BAND, METRICS, RUN_COLUMNS, WARMUP_PASSES, Design, Rung, additive_table,
    additive_words, additivity_test, censored, chapter_metrics, corpus_sizes, expected_precision, fit_additive_law, frame_from_rows,
    gamma_table, gamma_words, inconclusive_reasons, kgram_table, knee_table, ladder_table, measure, parse_ladder,
    pilot_lrs, plot_additive_residuals, plot_kgrams, plot_knees, plot_learning_curves, plot_sizes, published_table,
    published_words, run_grid, run_plan, run_rows, runs_frame, runs_table, slice_ladders, slices_table,
    train_run, training_stream, training_words)
from paperlib.book.runner import plan_run
from paperlib.chapters.gamma_empirical.plan import stop_passes
from paperlib.data.text import load_shakespeare
from paperlib.paths import book_dir
from paperlib.scaling.knee import find_knees, knee_epsilon, knee_slope, pooled_seed_sd, simulate_runs
from paperlib.sweep import Sweep
from paperlib.training.slice_runs import _corpus

LADDER = "16x2,20x2,24x2,30x2,36x2,44x2,54x2,66x2"
E, A, B, ALPHA, BETA = 1.2, 56.0, 40.0, 0.5, 0.3  # the synthetic law: N*_f grows as D^(β/α) = D^0.6


def test_the_ladder_counts_non_embedding_parameters_and_is_checked():
    rungs = parse_ladder(LADDER, vocab_size=65, context=64)
    assert rungs[0] == Rung(16, 2) and rungs[0].config(65, 64).n_head == 2
    # two blocks of 12w² (attention 4w², MLP 8w²) + 2w (two norms), and the final norm
    assert [r.non_embedding(65, 64) for r in rungs] == [2 * (12 * w * w + 2 * w) + w for w in (16, 20, 24, 30, 36, 44, 54, 66)]
    assert rungs[0].params(65, 64) == rungs[0].non_embedding(65, 64) + (65 + 64) * 16
    ratios = np.diff(np.log([r.non_embedding(65, 64) for r in rungs]))
    assert np.all((np.exp(ratios) > 1.4) & (np.exp(ratios) < 1.6)), "sizes grow geometrically, about 1.5× a rung"
    for bad, message in (("16x2,15x2,20x2,24x2", "multiple of 2"), ("16x0,20x2,24x2,30x2", "WIDTHxLAYERS"),
                         ("16x2,20x2,24x2", "at least four"), ("20x2,16x2,24x2,30x2", "increasing")):
        with pytest.raises(ValueError, match=message):
            parse_ladder(bad, 65, 64)


def test_slices_nest_sample_the_whole_split_and_double():
    train = torch.arange(10 * CHUNK + 5)
    stream = training_stream(train)
    assert len(stream) == 10 * CHUNK and sorted(stream.tolist()) == list(range(10 * CHUNK)), "every chunk once"
    assert not torch.equal(stream, train[:10 * CHUNK]) and torch.equal(training_stream(train), stream), "one fixed order"
    assert torch.equal(stream[CHUNK:2 * CHUNK], torch.arange(stream[CHUNK].item(), stream[CHUNK].item() + CHUNK))
    assert corpus_sizes(15625, 6, 1_000_000) == [15625 * 2 ** i for i in range(6)]
    with pytest.raises(ValueError, match="exceeds"):
        corpus_sizes(15625, 6, 499_999)


def test_each_slice_trains_its_own_consecutive_rungs():
    assert slice_ladders("0,0,1", 3, 3, 5) == ((0, 1, 2), (0, 1, 2), (1, 2, 3))
    for bad, message in (("0,1", "one per slice"), ("0,0,3", "runs past"), ("0,x,1", "comma-separated"),
                         ("-1,0,1", "runs past")):
        with pytest.raises(ValueError, match=message):
            slice_ladders(bad, 3, 3, 5)


def design(sizes=(2048, 4096, 8192), ladder="8x1,10x1,12x1,16x1,20x1", starts="0,0,1", seeds=(0, 1),
           sha="x" * 64) -> Design:
    rungs = tuple(parse_ladder(ladder, 65, 16))
    ladders = slice_ladders(starts, 4, len(sizes), len(rungs))
    return Design(sha, sizes, rungs, (0.004,) * len(rungs), ladders, seeds, 16, 8, 3, 2.0, 16, "cpu")


def test_the_grid_is_a_static_list_of_every_seed_of_every_slices_rungs():
    d = design()
    plan = run_plan(d)
    assert len(plan) == len(set(plan)) == 3 * 4 * 2
    assert {rung for D, _, rung in plan if D == 8192} == {1, 2, 3, 4} and plan[0][0] == 8192, "largest slice first"
    assert d.steps_per_pass(8192) == 64 and d.max_steps(8192) == 128
    assert d.config(2048, 1, 3)["width"] == 16 and d.config(2048, 1, 3)["seed"] == 1


def test_the_stopping_rule_is_the_same_in_passes_at_every_slice():
    d = design(sizes=(2048, 4096, 8192, 16384), starts="0,0,1,1")
    d = Design(d.sha256, d.sizes, d.ladder, d.lrs, d.ladders, d.seeds, 16, 8, 5, 7.0, 16, "cpu")
    for D in d.sizes:
        config, per_pass = d.config(D, 0, 1), d.steps_per_pass(D)
        assert config["eval_every"] == per_pass, "a validation after every pass"
        assert config["patience"] == 5 and config["cuts"] == 1, "patience counted in validations, so in passes"
        assert config["warmup"] == WARMUP_PASSES * per_pass and config["max_steps"] == 7 * per_pass


def test_a_rerun_finds_every_run_cached(isolated_cache):
    d = design()
    with Sweep("gamma_empirical", train_run) as first:  # as if every run had finished once
        for key in run_plan(d):
            atomic_write_json(first.path(d.config(*key)), {"config": d.config(*key), "result": {"key": list(key), "train_time": 2.0}})
    with Sweep("gamma_empirical", train_run, scheduler="no-such-scheduler:1") as again:  # never connects
        results, executed = run_grid(again, design())  # the same parameters build the same configs
    assert again.ran == 0 and again.cached == len(run_plan(d)) and results[(8192, 1, 2)]["key"] == [8192, 1, 2]
    assert all(again.from_cache) and executed == execution_metrics([], [2.0] * len(run_plan(d)))


def test_a_run_is_expected_to_take_the_passes_its_slice_took_in_the_committed_record(tmp_path):
    rows = [{"D": 100, "passes": p} for p in (10.0, 30.0, 20.0)] + [{"D": 200, "passes": 50.0}]
    path = atomic_write_json(tmp_path / "record.json", {"parameters": {"patience": 5}, "notes": {"runs": rows}})
    assert stop_passes({"patience": 5}, path) == {0: 25.0, 100: 20.0, 200: 50.0}  # by slice, and over every run
    assert stop_passes({"patience": 3}, path) == {}, "another plateau rule: every run counts to its cap"
    assert stop_passes({"patience": 5}, tmp_path / "none.json") == {}
    values = plan_run("gamma_empirical", "cpu").parameters
    committed = stop_passes(values)
    for spec in chapter.runs(values):
        D = int(spec.stage[1:])
        per_pass = spec.eval_every  # one validation a pass
        expected = min(spec.steps, math.ceil(committed.get(D, committed.get(0, math.inf)) * per_pass))
        assert spec.stays == ((spec.length, expected),)


def test_the_runs_keep_the_cache_key_they_had_when_train_run_lived_in_the_chapter_module():
    assert train_run.__module__ == "paperlib.training.slice_runs"
    assert train_run.cache_name == "paperlib.chapters.gamma_empirical.train_run"  # every cached run's key hashes it


def test_one_real_run_stops_keeps_its_best_weights_and_scores_the_whole_split(one_torch_thread):
    text, provenance = load_shakespeare()
    d = design(sizes=(2048,), starts="0", sha=provenance.sha256)
    result = train_run(d.config(2048, 0, 3))
    history = pd.DataFrame(result["history"])
    assert result["params"] == Rung(16, 1).params(len(set(text)), 16)
    assert result["steps"] == history.step.max() <= d.max_steps(2048) and result["capped"] == (result["steps"] == 32)
    assert result["best_step"] == history.step[history.val_loss.idxmin()], "the best weights are the best validation's"
    assert 0 < result["train_loss"] < 5 and 0 < result["val_loss"] < 5
    with pytest.raises(ValueError, match="sha256"):
        _corpus("0" * 64, CHUNK)


def run(steps, best, capped):
    return {"history": [{"step": s} for s in steps], "best_step": best, "capped": capped}


def test_a_run_still_improving_at_its_cap_is_censored():
    assert censored(run([10, 20, 30, 40], 40, capped=True))
    assert censored(run([10, 20, 30, 40], 30, capped=True))
    assert not censored(run([10, 20, 30, 40], 20, capped=True)), "its best came earlier: converged"
    assert not censored(run([10, 20, 30, 40], 40, capped=False)), "stopped on a plateau"


SLICES = {7812 * 2 ** j: [int(3000 * 1.5 ** i * 2 ** (0.8 * j)) for i in range(9)] for j in range(5)}  # knee 4th of 9
TRUE_GAMMA = 0.8


def synthetic(sd: float = 0.006, seed: int = 0, gamma: float = TRUE_GAMMA) -> pd.DataFrame:
    """Runs with the chapter's columns whose seed-mean losses bend at knees growing as D^gamma (the joint model
    of `paperlib.scaling.knee`), three seeds a cell, Gaussian seed noise of SD `sd`."""
    floors = {D: 2.6 - 0.15 * j for j, D in enumerate(SLICES)}
    runs = simulate_runs(SLICES, 3, gamma, math.log(15000) - gamma * math.log(7812), floors, 0.1, 0.3, sd,
                         np.random.default_rng(seed))
    return runs.assign(rung=[f"{n}" for n in runs.N], N_total=runs.N + 5000, lr=0.008, train_loss=runs.val_loss - 0.1,
                       steps=100, passes=20.0, best_passes=12.0, stop="plateau", capped=False, censored=False,
                       learned=True, train_time=1.5)[list(RUN_COLUMNS)]


ONE_START = {"alpha": (0.5,), "beta": (0.5,), "e": (0.0,), "a": (5.0,), "b": (5.0,)}


@pytest.fixture(scope="module")
def measured():
    """The whole analysis of a noisy synthetic grid: knees, γ, the additive law (from one start) and metrics."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analysis, "FIT_STARTS", ONE_START)
        frame = synthetic()
        result = measure(frame, 100, 0)
        law = fit_additive_law(frame)
        metrics = chapter_metrics(frame, execution_metrics([20.0] * 30, [20.0] * 45), result, law, expected_precision(frame, result, 0))
    return frame, result, law, metrics


def declared(metrics) -> list[str]:
    """Every key METRICS declares, each field's values and interval bounds expanded."""
    names = {m.pattern.format(end=end, multiple=k) for m in METRICS.metrics for end in ("low", "high")
             for k in chapter.EPSILON_MULTIPLES}
    return sorted(n + s for n in names for s in ("", *((".ci_low", ".ci_high") if METRICS.metric(n).ci else ())))


def test_the_knees_recover_a_known_gamma_and_the_record_holds_exactly_the_declared_keys(measured):
    frame, result, law, metrics = measured
    assert sorted(metrics) == declared(metrics)
    assert metrics["gamma_knee.ci_low"] <= TRUE_GAMMA <= metrics["gamma_knee.ci_high"]
    assert metrics["gamma_knee_slices"] >= 4 and metrics["gamma_knee_seeds_min"] == 3
    assert metrics["seed_sd"] == pytest.approx(0.006, rel=0.25)
    assert metrics["gamma_knee_eps"] == pytest.approx(knee_epsilon(metrics["seed_sd"], 3))
    assert metrics["gamma_knee_half_eps"] != metrics["gamma_knee_double_eps"]
    assert abs(metrics["gamma_joint"] - TRUE_GAMMA) < 0.2 and metrics["gamma_knee_minus_joint.ci_low"] <= 0
    assert metrics["runs_trained_now"] == 30 and metrics["loaded_worker_min"] == 15
    assert 0 < metrics["simulated_half_width"] < 0.25 and metrics["simulated_coverage"] >= 0.8
    assert set(BELOW_ONE.metrics) | set(IN_BAND.metrics) <= set(metrics)


def test_a_slice_whose_plateau_is_not_confirmed_does_not_count(measured):
    frame, before, *_ = measured
    largest = max(SLICES)
    assert before.main.knees[largest].counted
    top = sorted(SLICES[largest])[-4:]
    falling = frame.copy()
    for k, N in enumerate(top):  # still falling at the top of its ladder: 0.05 nats a size, every seed alike
        falling.loc[(falling.D == largest) & (falling.N == N), "val_loss"] -= 0.05 * (k + 1)
    result = measure(falling, 10, 0)
    assert result.main.knees[largest].status == "unconfirmed" and not result.main.knees[largest].counted
    assert sum(k.counted for k in result.main.knees.values()) == sum(k.counted for k in before.main.knees.values()) - 1


def test_the_verdicts_read_gammas_interval():
    base = {"gamma_knee": 0.6, "gamma_knee.ci_low": 0.5, "gamma_knee.ci_high": 0.7, "gamma_knee_slices": 5,
            "gamma_knee_unconfirmed": 0, "gamma_knee_below": 0, "censored_counted": 0}
    rec = lambda **m: {"gamma_empirical": {"profile": "cpu", "not_comparable": {}, "metrics": base | m}}  # noqa: E731
    assert judge(BELOW_ONE, rec()).status == REPRODUCED and judge(IN_BAND, rec()).status == REPRODUCED
    assert inconclusive_reasons(base) == {}
    above = {"gamma_knee": 1.3, "gamma_knee.ci_low": 1.1, "gamma_knee.ci_high": 1.5}
    assert judge(BELOW_ONE, rec(**above)).status == NOT_REPRODUCED == judge(IN_BAND, rec(**above)).status
    assert inconclusive_reasons(base | above) == {}, "wholly outside both: decided"
    straddles = base | {"gamma_knee": 0.9, "gamma_knee.ci_low": 0.6, "gamma_knee.ci_high": 1.2}
    reasons = inconclusive_reasons(straddles)
    assert "contains 1" in reasons[BELOW_ONE.id] and "overlaps [0.44, 0.72]" in reasons[IN_BAND.id]
    below_band = base | {"gamma_knee": 0.8, "gamma_knee.ci_low": 0.75, "gamma_knee.ci_high": 0.9}
    assert inconclusive_reasons(below_band) == {} and judge(IN_BAND, rec(**below_band)).status == NOT_REPRODUCED
    none = inconclusive_reasons(base | {"gamma_knee": math.nan, "gamma_knee_slices": 2, "gamma_knee_unconfirmed": 3})
    assert "2 slices" in none[IN_BAND.id] and "(γ needs three)" in none[BELOW_ONE.id]
    assert "still improving" in inconclusive_reasons(base | {"censored_counted": 2})[IN_BAND.id]


def test_words_follow_the_numbers(measured):
    frame, result, law, metrics = measured
    reasons = not_comparable([BELOW_ONE.id, IN_BAND.id], None) | inconclusive_reasons(metrics)
    page = run_record(metrics, "cpu", reasons)
    words = gamma_words(page)
    assert f"D^{metrics['gamma_knee']:.2f}" in words and "cannot decide" in words and "(s)" not in words
    marked = marked_in_myst(words)
    assert [m.rule for m in marked] == ["reference", "reference", "verdict", "verdict"]
    assert marked[0].keys == ("gamma_knee", "=1") and marked[1].keys == ("gamma_knee_minus_joint", "=0")
    assert marked[0].outcome == ("lower" if metrics["gamma_knee.ci_high"] < 1 else
                                 "higher" if metrics["gamma_knee.ci_low"] > 1 else "not separated")
    assert recheck_myst(words, page) == []
    assert "No γ could be measured" in gamma_words(run_record(metrics | {"gamma_knee": math.nan}, "cpu"))
    straddles = metrics | {"gamma_knee": 0.9, "gamma_knee.ci_low": 0.6, "gamma_knee.ci_high": 1.2}
    undecided = gamma_words(run_record(straddles, "cpu", inconclusive_reasons(straddles)))
    assert "γ < 1 gets no verdict (inconclusive: γ's 95 % interval [0.60, 1.20] contains 1" in undecided
    assert "not separated from N ∝ D" in undecided and recheck_myst(undecided, run_record(straddles, "cpu",
                                                                                          inconclusive_reasons(straddles))) == []
    context = additive_words(page)
    assert f"β̂ = {metrics['beta_hat']:.2f}" in context and recheck_myst(context, page) == []
    cached = training_words(run_record(metrics, "cpu"), frame)
    assert "trained 30 runs (10.0 worker-minutes) and loaded 45 runs" in cached and "15.0 worker-minutes" in cached
    assert "loaded none" in training_words(run_record(metrics | {"runs_loaded": 0}, "cpu"), frame)
    table = published_table()
    assert table.loc["Hoffmann 2022, rounded", "β/α"] == pytest.approx(0.28 / 0.34)
    assert table.loc["Hoffmann 2022, rounded", "β/α in [1 − 2β, 1 − β]"] == "no", "0.82 is above 0.72"
    assert "none of them" in published_words(table)


def test_the_additivity_test_rejects_a_curve_that_changes_with_D():
    rng = np.random.default_rng(0)
    rows = [{"D": D, "N": N, "seed": s, "val_loss": 2 - 0.1 * math.log(N) * (1 + (D == 2)) + rng.normal(0, 0.01)}
            for D in (1, 2, 3) for N in (10, 20, 40, 80) for s in range(3)]
    F, p, shared = additivity_test(pd.DataFrame(rows))
    assert shared == 4 and p < 1e-6
    parallel = [r | {"val_loss": 2 - 0.1 * math.log(r["N"]) + 0.2 * r["D"] + rng.normal(0, 0.01)} for r in rows]
    assert additivity_test(pd.DataFrame(parallel))[1] > 0.01


def test_tables_and_figures(measured, one_torch_thread):
    frame, result, law, metrics = measured
    assert (knee_table(result)["counts"] == "counts").sum() == metrics["gamma_knee_slices"]
    table = gamma_table(metrics, result)
    assert table.loc["knees, ε (headline)", "γ"] == metrics["gamma_knee"] and len(table) == 4
    assert additive_table(law).loc["without E", "Ê"] == 0
    runs = runs_table(frame)
    assert runs.shape[1] == 5 and all(re.fullmatch(r"\d\.\d{3} ± \d\.\d{3}( †)?|", v) for v in runs.to_numpy().ravel())
    tokens = np.frombuffer(b"to be or not to be that is the question " * 40, dtype=np.uint8)
    assert kgram_table(tokens, [100, 200, 400, 800, 1600], range(3, 6)).shape == (3, 4)
    for fig in (plot_knees(frame, result), plot_sizes(result, metrics), plot_additive_residuals(frame, law),
                plot_kgrams(tokens, [100, 200, 400, 800, 1600], range(3, 6))):
        assert fig.axes


def test_per_run_rows_round_trip(measured):
    frame, *_ = measured
    back = frame_from_rows(run_rows(frame))
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_slices_ladder_and_learning_curves_of_real_results():
    d = design()
    results = {key: {"params": 1000, "train_time": 1.0, "steps": 40, "capped": key[2] == 4, "lr_cuts": [20],
                     "best_step": 40 if key[2] == 4 else 30, "val_loss": 3.0 - 0.1 * key[2], "train_loss": 2.9,
                     "history": [{"step": s, "val_loss": 3.5 - s / 100} for s in (10, 20, 30, 40)]}
               for key in run_plan(d)}
    frame = runs_frame(d, results, 65, {D: 4.0 for D in d.sizes})
    assert len(frame) == len(results) and frame.censored.sum() == 2 and frame.learned.all()
    assert list(frame.columns) == list(RUN_COLUMNS)
    assert slices_table(d, {D: 4.0 for D in d.sizes}).rungs.tolist() == ["8x1 – 16x1", "8x1 – 16x1", "10x1 – 20x1"]
    assert ladder_table(d, 65)["× below"].isna().sum() == 1
    assert plot_learning_curves(results, d).axes


def test_the_committed_record_refits_from_its_own_rows():
    """The per-run rows of the committed cpu record give its γ again under the stated rule."""
    import json

    record = json.loads((book_dir() / "results" / "gamma_empirical.json").read_text())
    frame = frame_from_rows(record["notes"]["runs"])
    learned = frame[frame.learned]
    m = record["metrics"]
    seeds = int(learned.groupby(["D", "N"]).seed.nunique().min())
    assert seeds == m["gamma_knee_seeds_min"] >= 2 and len(frame) == m["n_runs"]
    assert pooled_seed_sd(learned) == pytest.approx(m["seed_sd"])
    knees = find_knees(learned, knee_epsilon(pooled_seed_sd(learned), seeds))
    assert sum(k.counted for k in knees.values()) == m["gamma_knee_slices"]
    gamma = knee_slope(knees)
    assert (math.isnan(gamma) and m["gamma_knee"] is None) or gamma == pytest.approx(m["gamma_knee"])


def test_learning_rates_interpolate_between_the_pilots_rungs():
    pilot = {"runs": [{"rung": "16x2", "non_embedding": 1000}, {"rung": "66x2", "non_embedding": 100_000}],
             "best_lr": {"16x2": 0.008, "66x2": 0.002}}
    assert pilot_lrs(pilot, [500, 1000, 10_000, 100_000, 200_000]) == pytest.approx([0.008, 0.008, 0.004, 0.002, 0.002])
    same = pilot | {"best_lr": {"16x2": 0.004, "66x2": 0.004}}
    assert pilot_lrs(same, [1000, 5000]) == pytest.approx([0.004, 0.004])
