"""The γ chapter: its grid (static, cached on a rerun), one real run, censoring, the definitions on synthetic
losses drawn from the additive law (which they must recover), the record's keys, the verdict and its words."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

import paperlib.chapters.gamma_empirical as chapter
from paperlib.atomic import atomic_write_json
from paperlib.book.claims import CLAIMS_BY_ID
from paperlib.book.verdicts import NOT_REPRODUCED, REPRODUCED, judge, not_comparable, run_record
from paperlib.book.wording import marked_in_myst, recheck_myst
from paperlib.chapters.gamma_empirical import (CHUNK, HEADLINE, METRICS, Design, Rung, _corpus, analyse, band_distance,
                                               bootstrap, censored, chapter_metrics, corpus_sizes, declared_keys,
                                               definitions, definitions_table, fit_table, gamma_curve,
                                               inconclusive_reason, kgram_table, ladder_table, parse_ladder,
                                               pilot_lrs, plot_gamma_vs_f, plot_kgrams, plot_learning_curves,
                                               plot_losses, plot_sizes, published_table, published_words,
                                               run_grid, run_plan, runs_frame, runs_table, second_seed_sizes, seed_std,
                                               sensitivity_table, size_table, slices_table, train_run,
                                               run_counts, training_stream, training_words, verdict_words)
from paperlib.data.text import load_shakespeare
from paperlib.sweep import Sweep

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
    assert second_seed_sizes([1, 2, 4, 8], "1,-1") == (2, 8)
    for bad in ("1", "1,9", "x"):
        with pytest.raises(ValueError, match="second.seed"):
            second_seed_sizes([1, 2, 4, 8], bad)


def design(sizes=(2048, 4096, 8192), ladder="8x1,10x1,12x1,16x1", seed_sizes=(2048, 8192), sha="x" * 64) -> Design:
    rungs = tuple(parse_ladder(ladder, 65, 16))
    return Design(sha, sizes, rungs, (0.004,) * len(rungs), 0, seed_sizes, 16, 8, 3, 2.0, 16, "cpu")


def test_the_grid_is_a_static_list_with_a_second_seed_at_chosen_slices():
    d = design()
    plan = run_plan(d)
    assert len(plan) == len(set(plan)) == 3 * 4 + 2 * 4
    assert {(D, s) for D, s, _ in plan} == {(2048, 0), (4096, 0), (8192, 0), (2048, 1), (8192, 1)}
    assert d.steps_per_pass(8192) == 64 and d.eval_every(8192) == 64 and d.max_steps(8192) == 128
    assert d.eval_every(10 ** 6) == chapter.EVAL_MAX_STEPS and d.max_steps(10 ** 6) % chapter.EVAL_MAX_STEPS == 0
    assert d.config(2048, 1, 3)["width"] == 16 and d.config(2048, 1, 3)["seed"] == 1


def test_a_rerun_finds_every_run_cached(isolated_cache):
    d = design()
    with Sweep("gamma_empirical", train_run) as first:  # as if every run had finished once
        for key in run_plan(d):
            atomic_write_json(first.path(d.config(*key)), {"config": d.config(*key), "result": {"key": list(key)}})
    with Sweep("gamma_empirical", train_run, scheduler="no-such-scheduler:1") as again:  # never connects
        results = run_grid(again, design())  # the same parameters build the same configs
    assert again.ran == 0 and again.cached == len(run_plan(d)) and results[(8192, 1, 2)] == {"key": [8192, 1, 2]}


def test_one_real_run_stops_keeps_its_best_weights_and_scores_the_whole_split(one_torch_thread):
    text, provenance = load_shakespeare()
    d = design(sizes=(2048,), ladder="8x1,10x1,12x1,16x1", seed_sizes=(), sha=provenance.sha256)
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


def law(noise: float, seed: int = 0) -> pd.DataFrame:
    """Runs whose validation loss is E + A·N^−α + B·D^−β times log-normal noise; a second seed at two slices."""
    rng = np.random.default_rng(seed)
    rows = []
    for D in 15625 * 2 ** np.arange(6):
        for s in (0, 1) if D in (31250, 125000) else (0,):
            for rung, N in enumerate(6000 * 1.5 ** np.arange(8)):
                loss = (E + A * N ** -ALPHA + B * D ** -BETA) * math.exp(rng.normal(0, noise))
                rows.append({"D": int(D), "seed": s, "rung": rung, "N": N, "N_total": N + 2000, "val_loss": loss,
                             "train_loss": loss - 0.05, "censored": False, "learned": True, "capped": False,
                             "passes": 10.0, "best_passes": 8.0})
    return pd.DataFrame(rows)


ONE_START = {"alpha": (0.5,), "beta": (0.5,), "e": (0.0,), "a": (5.0,), "b": (5.0,)}


@pytest.fixture(autouse=True)
def one_start(monkeypatch):
    """One start finds the synthetic law's optimum; the chapter's 243 starts are for real runs (and slow)."""
    monkeypatch.setattr(chapter, "FIT_STARTS", ONE_START)


def test_the_definitions_recover_the_law_and_n_star_f_grows_as_beta_over_alpha():
    exact = analyse(law(0.0), definitions(0.02, 2.0))
    assert (exact.fit.alpha, exact.fit.beta, exact.fit.E) == pytest.approx((ALPHA, BETA, E), abs=1e-3)
    for D, asymptote in exact.asymptotes.items():
        assert asymptote.L_inf == pytest.approx(E + B * D ** -BETA, rel=1e-3) and asymptote.b == pytest.approx(ALPHA, abs=1e-3)
    for f in chapter.FRACTIONS:
        gamma = exact.gammas[f"f{f:g}"]
        assert math.isnan(gamma) or gamma == pytest.approx(BETA / ALPHA, abs=0.02), f"N*_{f} ∝ D^(β/α)"
    assert exact.gammas[HEADLINE] == pytest.approx(BETA / ALPHA, abs=0.02) and exact.balance == pytest.approx(0.6, abs=1e-3)
    noisy = analyse(law(0.002), definitions(0.02, 2.0))
    assert noisy.gammas[HEADLINE] == pytest.approx(BETA / ALPHA, abs=0.1)
    assert gamma_curve(law(0.0), exact, [0.25])[0] == pytest.approx(exact.gammas[HEADLINE])


def test_controls_and_hestness_follow_the_additive_law():
    exact = analyse(law(0.0), definitions(0.3, 2.6))
    # a fixed excess ε over L∞(D) needs the same A·N^−α at every D: N* does not move (γ = 0)
    assert exact.gammas["hestness"] == pytest.approx(0.0, abs=0.02)
    assert exact.gammas["abs"] < 0, "a fixed absolute loss needs fewer parameters as the data term falls"
    lowest = exact.cells["lowest"]
    assert all(c.crossing.status == "above" for c in lowest), "the largest rung is best everywhere: censored"


def test_a_censored_run_never_defines_n_star():
    frame = law(0.0)
    point = analyse(frame, definitions(0.02, 2.0))
    cell = next(c for c in point.cells[HEADLINE] if c.usable)
    defining = frame[(frame.D == cell.D) & (frame.seed == cell.seed) & frame.rung.isin(cell.crossing.pair)]
    frame.loc[defining.index[-1], "censored"] = True
    again = analyse(frame, definitions(0.02, 2.0))
    mine = next(c for c in again.cells[HEADLINE] if (c.D, c.seed) == (cell.D, cell.seed))
    assert mine.censored_run and not mine.usable


@pytest.fixture(scope="module")
def measured():
    """The whole analysis of a noisy synthetic grid: its subsets, bootstraps and metrics."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chapter, "FIT_STARTS", ONE_START)
        frame = law(0.003)
        defs = definitions(2 * seed_std(frame), 1.9)
        analyses = {name: analyse(frame[frame.rung.isin(range(8)[part])], defs) for name, part in chapter.SUBSETS.items()}
        boots = {name: bootstrap(frame[frame.rung.isin(range(8)[chapter.SUBSETS[name]])], defs, a, 20, 0)
                 for name, a in analyses.items()}
        metrics = chapter_metrics(frame, analyses, boots, 2 * seed_std(frame), seed_std(frame))
    return frame, defs, analyses, boots, metrics


def test_the_record_holds_exactly_the_declared_keys_and_the_claim_reads_them(measured):
    frame, defs, analyses, boots, metrics = measured
    assert sorted(metrics) == sorted(declared_keys())
    for key in ("alpha_hat", "beta_hat", "gamma_balance", "gamma_f0.25", "gamma_f0.25.ci_low", "gamma_f0.25.ci_high",
                "gamma_pred_low", "gamma_pred_high", "censored_runs", "censored_headline", "n_runs"):
        assert key in metrics, key
    assert set(CLAIMS_BY_ID["gamma_empirical"].metrics) <= set(metrics)
    assert metrics["gamma_pred_low"] == pytest.approx(1 - 2 * metrics["beta_hat"])
    assert metrics["gamma_f0.25.ci_low"] <= metrics["gamma_f0.25"] <= metrics["gamma_f0.25.ci_high"]
    assert metrics["seed_std"] == pytest.approx(0.003 * 2.0, rel=0.5) and metrics["n_runs"] == len(frame)
    assert METRICS.undeclared(["censored_runs", "censored_headline", "gamma_f0.1.ci_low"]) == []


def test_band_distance_and_the_verdict_rule():
    assert band_distance(0.5, 0.3) == 0 and band_distance(0.8, 0.3) == pytest.approx(0.1)
    assert band_distance(0.3, 0.3) == pytest.approx(-0.1) and math.isnan(band_distance(math.nan, 0.3))
    claim = CLAIMS_BY_ID["gamma_empirical"]
    base = {"gamma_f0.25": 0.5, "gamma_f0.25.ci_low": 0.3, "gamma_f0.25.ci_high": 0.7, "beta_hat": 0.3,
            "gamma_pred_low": 0.4, "gamma_pred_high": 0.7, "distance_f0.25.ci_low": -0.1, "distance_f0.25.ci_high": 0.0,
            "censored_headline": 0, "sensitivity_inside": 3, "sensitivity_cells": 15}
    rec = lambda **m: {"gamma_empirical": {"profile": "cpu", "not_comparable": {}, "metrics": base | m}}  # noqa: E731
    assert judge(claim, rec()).status == REPRODUCED and inconclusive_reason(base) is None
    assert judge(claim, rec(**{"gamma_f0.25": 0.9})).status == NOT_REPRODUCED
    assert judge(claim, rec(**{"distance_f0.25.ci_low": 0.05})).status == NOT_REPRODUCED, "the interval excludes 0"
    outside = base | {"gamma_f0.25": 0.9, "distance_f0.25.ci_low": 0.1, "distance_f0.25.ci_high": 0.3}
    assert "inconclusive" in inconclusive_reason(outside) and "3 of the 15" in inconclusive_reason(outside)
    assert inconclusive_reason(outside | {"sensitivity_inside": 0}) is None, "outside everywhere: not reproduced"
    assert "still improving" in inconclusive_reason(base | {"censored_headline": 2})
    short = inconclusive_reason(base | {"gamma_f0.25": math.nan, "slices_f0.25": 2, "above_ladder_f0.25": 5,
                                        "below_ladder_f0.25": 0, "slices_below_E": 2})
    assert "inside the ladder at 2 slices (γ needs three)" in short and "in 5 cells even the largest" in short
    assert "2 slices with an asymptote at or below Ê" in short


def test_words_follow_the_numbers(measured):
    frame, defs, analyses, boots, metrics = measured
    reasons = not_comparable(["gamma_empirical"], inconclusive_reason(metrics))
    page = run_record(metrics, "cpu", reasons)
    words = verdict_words(page)
    gamma, low, high = metrics["gamma_f0.25"], metrics["gamma_pred_low"], metrics["gamma_pred_high"]
    where = "inside" if low <= gamma <= high else "below" if gamma < low else "above"
    assert f"D^{gamma:.2f}" in words and f"{where} the band" in words and "cannot decide" in words
    assert "(s)" not in words
    marked = marked_in_myst(words)
    assert [m.rule for m in marked] == ["reference", "reference", "reference", "verdict"]
    assert marked[0].keys == ("=distance_f0.25", "=0") and marked[2].keys == ("gamma_f0.25", "=gamma_balance")
    assert marked[-1].outcome == judge(CLAIMS_BY_ID["gamma_empirical"], {"gamma_empirical": page}).words
    assert recheck_myst(words, page) == []
    inside = {"gamma_f0.25": (low + high) / 2, "distance_f0.25": 0.0, "distance_f0.25.ci_low": -0.1,
              "distance_f0.25.ci_high": 0.1, "censored_headline": 0}
    reproduced = verdict_words(run_record(metrics | inside, "cpu"))
    assert "inside the band" in reproduced and "includes 0" in reproduced
    assert "the internal test is reproduced at toy scale." in reproduced
    above = verdict_words(run_record(metrics | inside | {"distance_f0.25": 0.2, "distance_f0.25.ci_low": 0.1}, "cpu"))
    assert "above the band" in above and "excludes 0: above it" in above
    quick = verdict_words(run_record(metrics, "quick", reasons))
    assert "gets no verdict: quick profile" in quick
    assert "No γ could be measured" in verdict_words(run_record(metrics | {"gamma_f0.25": math.nan}, "cpu"))
    table = published_table()
    assert table.loc["Hoffmann 2022, rounded", "β/α"] == pytest.approx(0.28 / 0.34)
    assert table.loc["Hoffmann 2022, rounded", "β/α in [1 − 2β, 1 − β]"] == "no", "0.82 is above 0.72"
    assert "none of them" in published_words(table)


def test_tables_and_figures(measured, one_torch_thread):
    frame, defs, analyses, boots, metrics = measured
    point = analyses["all rungs"]
    sens = sensitivity_table(analyses, boots)
    assert list(sens.columns) == list(chapter.SUBSETS) and sens.shape[0] == len(chapter.SENSITIVITY_ROWS) + 1
    assert all(cell == "—" or cell.endswith((" in", " out")) for cell in sens.iloc[:-1].to_numpy().ravel())
    kinds = {label.split(":")[0] for label in definitions_table(point, metrics, defs).index}
    assert kinds == {"primary", "Hestness", "control"}, "every definition is labelled with its kind"
    assert fit_table(metrics).loc["β̂", "estimate"] == metrics["beta_hat"]
    sizes = size_table(point, defs, 6000 * 1.5 ** 7)
    assert sizes.shape == (len(defs), 6) and not any("(s)" in str(v) for v in sizes.to_numpy().ravel())
    counted = training_words(run_record(run_counts(frame), "cpu"), frame)
    assert "stopped on a plateau" in counted and "(s)" not in counted
    assert recheck_myst(counted, run_record(metrics, "cpu")) == [] and len(marked_in_myst(counted)) == 1
    censored = training_words(run_record(run_counts(frame) | {"censored_runs": 2}, "cpu"), frame)
    assert ("2 runs were still improving there (censored): their losses hold within this cap only. "
            "<budget_bound;budget-bound;censored_runs>") in censored
    runs = runs_table(frame)
    assert runs.shape == (8, 6) and all(re_number(v) for v in runs.to_numpy().ravel())
    tokens = np.frombuffer(b"to be or not to be that is the question " * 40, dtype=np.uint8)
    assert kgram_table(tokens, [100, 200, 400, 800, 1600], range(3, 6)).shape == (3, 4)
    for fig in (plot_losses(frame, point), plot_sizes(point, metrics, 6000 * 1.5 ** 7),
                plot_gamma_vs_f([0.1, 0.25, 0.5], [0.5, 0.6, 0.6], metrics),
                plot_kgrams(tokens, [100, 200, 400, 800, 1600], range(3, 6))):
        assert fig.axes


def re_number(text: str) -> bool:
    """A loss with three decimals, a dagger for a censored run, or "not learned": never "2.153000"."""
    import re

    return bool(re.fullmatch(r"\d\.\d{3}( †)?|not learned", text))


def test_slices_ladder_and_learning_curves_of_real_results():
    d = design()
    results = {key: {"params": 1000, "train_time": 1.0, "steps": 40, "capped": key[2] == 3, "lr_cuts": [20],
                     "best_step": 40 if key[2] == 3 else 30, "val_loss": 3.0 - 0.1 * key[2], "train_loss": 2.9,
                     "history": [{"step": s, "val_loss": 3.5 - s / 100} for s in (10, 20, 30, 40)]}
               for key in run_plan(d)}
    frame = runs_frame(d, results, 65, {D: 4.0 for D in d.sizes})
    assert len(frame) == len(results) and frame.censored.sum() == 5 and frame.learned.all()
    assert slices_table(d, {D: 4.0 for D in d.sizes}).seeds.tolist() == [2, 1, 2]
    assert ladder_table(d, 65)["× the rung below"].isna().sum() == 1
    assert plot_learning_curves(results, d, 65).axes


def test_learning_rates_interpolate_between_the_pilots_rungs():
    pilot = {"runs": [{"rung": "16x2", "non_embedding": 1000}, {"rung": "66x2", "non_embedding": 100_000}],
             "best_lr": {"16x2": 0.008, "66x2": 0.002}}
    assert pilot_lrs(pilot, [500, 1000, 10_000, 100_000, 200_000]) == pytest.approx([0.008, 0.008, 0.004, 0.002, 0.002])
    same = pilot | {"best_lr": {"16x2": 0.004, "66x2": 0.004}}
    assert pilot_lrs(same, [1000, 5000]) == pytest.approx([0.004, 0.004])
