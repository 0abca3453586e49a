"""The γ chapter: its ladder, slices and targets, one real run, the size search on a synthetic loss law (which
it must recover), censoring, the tables, figures and prose."""

import math

import numpy as np
import pytest

from paperlib.book.claims import CLAIMS_BY_ID
from paperlib.book.verdicts import NOT_REPRODUCED, REPRODUCED, judge
from paperlib.chapters.gamma_empirical import (Design, Rung, _corpus, cells, chapter_targets, corpus_sizes, gamma_table,
                                               in_words, kgram_table, ladder_table, measure, parse_ladder, plot_boundary,
                                               plot_kgrams, plot_sizes, runs_table, size_table, slices_table, steps_for,
                                               train_run)
from paperlib.data.text import load_shakespeare

LADDER = "8x1,16x1,24x1,32x1,32x2,48x2,64x2,64x3,96x3,128x3"
TRUE_GAMMA = 0.6


def test_the_ladder_is_parsed_and_checked():
    rungs = parse_ladder("16x1, 24x1,32x2", vocab_size=65, context=64)
    assert rungs == [Rung(16, 1), Rung(24, 1), Rung(32, 2)] and rungs[0].params(65, 64) == 5184
    assert rungs[2].config(65, 64).n_head == 4
    for bad, message in (("16x1,12x1", "multiple of 8"), ("16x1,16x0", "WIDTHxLAYERS"), ("16", "WIDTHxLAYERS"),
                         ("24x1,16x1", "increasing"), ("16x1", "at least two")):
        with pytest.raises(ValueError, match=message):
            parse_ladder(bad, 65, 64)


def test_slices_double_and_must_fit_and_the_budget_takes_the_larger_demand():
    assert corpus_sizes(31250, 6, 1_003_854) == [31250, 62500, 125000, 250000, 500000, 1_000_000]
    with pytest.raises(ValueError, match="exceeds"):
        corpus_sizes(31250, 7, 1_003_854)
    assert steps_for(1000, tokens=2048, epochs=1.0, batch=16, context=64) == 2
    assert steps_for(100_000, tokens=2048, epochs=2.0, batch=16, context=64) == math.ceil(200_000 / 1024)


def test_targets_and_their_thresholds():
    targets = chapter_targets("2.1, 1.8", excess=0.1, within=0.01)
    assert [t.name for t in targets] == ["abs2.1", "abs1.8", "excess", "hestness"]
    best = {"train_eval_loss": 1.2, "val_loss": 2.0}
    assert [t.threshold(best) for t in targets] == pytest.approx([2.1, 1.8, 1.3, 2.02])
    assert [t.metric for t in targets][-2:] == ["train_eval_loss", "val_loss"]
    with pytest.raises(ValueError, match="numbers"):
        chapter_targets("two", 0.1, 0.01)
    with pytest.raises(ValueError, match="positive"):
        chapter_targets("", 0.0, 0.01)


def design(sizes=tuple(1000 * 2 ** i for i in range(6)), seeds=(0, 1), ladder=LADDER, sha="x" * 64) -> Design:
    return Design(sha, sizes, seeds, tuple(parse_ladder(ladder, 65, 16)), 16, 4, 1024, 0.0, 0.01, 2, 4, "cpu")


def test_one_real_run_trains_and_scores_its_slice(one_torch_thread):
    text, provenance = load_shakespeare()
    config = design(sizes=(2000,), ladder="8x1,16x1", sha=provenance.sha256).config(2000, 0, 1)
    result = train_run(config)
    assert result["params"] == Rung(16, 1).params(len(set(text)), 16)  # 65 symbols in the canonical text
    assert [h["step"] for h in result["history"]] == [8, 16] and config["steps"] == 16
    assert all(0 < h["train_eval_loss"] < 5 and 0 < h["val_loss"] < 5 for h in result["history"])
    with pytest.raises(ValueError, match="sha256"):
        _corpus("0" * 64)


def law(D: float, N: float, seed: int) -> float:
    """A synthetic loss: the capacity a slice needs grows as D^0.6 (seeds shift it by a few per cent)."""
    return 1.0 + math.sqrt((1 + 0.03 * seed) * D ** TRUE_GAMMA / N)


class FakeSweep:
    """Answers runs from `law` and remembers every config asked for."""

    def __init__(self):
        self.asked: list[dict] = []

    def run(self, configs, desc=""):
        self.asked += configs
        results = []
        for c in configs:
            N = Rung(c["width"], c["layers"]).params(65, c["context"])
            loss = law(c["D"], N, c["seed"])
            results.append({"params": N, "train_time": 0.0, "history": [
                {"step": 1, "train_eval_loss": loss + 1, "val_loss": loss + 1.1},
                {"step": 2, "train_eval_loss": loss, "val_loss": loss + 0.1}]})
        return results


@pytest.fixture(scope="module")
def searched():
    d, sweep = design(), FakeSweep()
    targets = chapter_targets("1.1", excess=0.05, within=0.01)
    params = [r.params(65, 16) for r in d.ladder]
    return d, sweep, targets, params, measure(sweep, d, targets)


def test_the_search_recovers_the_exponent_of_a_synthetic_law(searched):
    d, sweep, targets, params, m = searched
    found = cells(m, targets, params)
    table, metrics = gamma_table(found, targets, n_bootstrap=200, seed=0)
    assert metrics["gamma_abs1.1"] == pytest.approx(TRUE_GAMMA, abs=0.05)
    assert metrics["gamma_abs1.1.ci_low"] < TRUE_GAMMA + 0.05 and metrics["gamma_abs1.1.ci_high"] > TRUE_GAMMA - 0.05
    assert metrics["points_abs1.1"] == 12 and metrics["censored_abs1.1"] == 0
    assert metrics["gamma_paper"] == metrics["gamma_excess"] and metrics["gamma_hestness.ci_low"] <= metrics["gamma_hestness"]
    assert list(table.index.get_level_values("definition")) == ["paper", "paper", "Hestness"]


def test_the_search_runs_each_config_once_and_fewer_than_the_grid(searched):
    d, sweep, targets, params, m = searched
    keys = [(c["D"], c["seed"], c["width"], c["layers"]) for c in sweep.asked]
    assert len(keys) == len(set(keys)) == len(m.runs) < len(d.sizes) * len(d.seeds) * len(d.ladder)
    assert m.rounds <= 1 + math.ceil(math.log2(len(d.ladder) + 1))


def test_cells_outside_the_ladder_are_censored_not_invented(searched):
    d, sweep, targets, params, m = searched
    every = chapter_targets("9.0,1.0001", 0.05, 0.01)
    easy, hard = every[:2]
    found = cells(measure(FakeSweep(), d, every), every, params)
    assert {c.status for c in found if c.target == easy.name} == {"below"}
    assert {c.status for c in found if c.target == hard.name} == {"above"}
    table, metrics = gamma_table(found, every, 50, 0)
    assert math.isnan(metrics["gamma_abs9"]) and metrics["censored_abs9"] == 12
    sizes = size_table(found, [easy, hard])
    assert sizes.loc[easy.label, "D = 1K"] == "≤ 1.44K ×2" and sizes.loc[hard.label, "D = 32K"].startswith("> ")


def test_tables_figures_and_prose(searched):
    d, sweep, targets, params, m = searched
    found = cells(m, targets, params)
    _, metrics = gamma_table(found, targets, 100, 0)
    unigram = {D: 4.0 for D in d.sizes}
    runs, run_metrics = runs_table(m, d, params, unigram)
    assert run_metrics["runs_made"] == len(m.runs) and run_metrics["runs_not_learned"] == 0
    assert runs.shape == (len(d.ladder), len(d.sizes)) and runs.isna().any().any(), "blank where never run"
    assert slices_table(d, unigram)["steps"].tolist() == [16] * 6 and list(ladder_table(d, params).parameters) == params
    tokens = np.frombuffer(b"to be or not to be that is the question " * 40, dtype=np.uint8)
    kgrams, kgram_metrics = kgram_table(tokens, [100, 200, 400, 800, 1600], range(3, 6))
    assert kgrams.loc[3, "D = 1.6K"] == len({tokens[i:i + 3].tobytes() for i in range(1598)})
    metrics |= kgram_metrics
    for fig in (plot_sizes(found, targets, metrics, params), plot_boundary(m, targets, params, 0),
                plot_kgrams(tokens, [100, 200, 400, 800, 1600], range(3, 6), metrics)):
        assert fig.axes
    words = in_words(metrics, targets, range(3, 6))
    assert f"D^{metrics['gamma_paper']:.2f}" in words and "toy scale" in words
    assert "no exponent is fitted" in in_words({**metrics, "gamma_paper": math.nan}, targets, range(3, 6))


def test_the_claim_reads_the_headline_interval_against_the_band():
    claim = CLAIMS_BY_ID["gamma_empirical"]
    rec = lambda low, high: {"gamma_empirical": {"profile": "cpu", "not_comparable": {}, "metrics": {  # noqa: E731
        "gamma_paper": (low + high) / 2, "gamma_paper.ci_low": low, "gamma_paper.ci_high": high}}}
    assert judge(claim, rec(0.3, 0.5)).status == REPRODUCED
    assert judge(claim, rec(0.7, 0.9)).status == REPRODUCED
    assert judge(claim, rec(-0.2, 0.4)).status == NOT_REPRODUCED
    assert judge(claim, rec(0.75, 0.9)).status == NOT_REPRODUCED
