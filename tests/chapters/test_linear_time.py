"""The linear-time chapter's pure pieces: the Note's FLOP table, metrics of hand-made sweeps, the prose."""

import math
from dataclasses import replace

import pytest

from paperlib.bench import Point, Series
from paperlib.book.runner import plan_run
from paperlib.book.verdicts import run_record
from paperlib.book.wording import marked_in_myst, recheck_myst
from paperlib.chapters.linear_time import (METRICS, NOTE_TABLE, cost_ratios, cost_words, crossover_words,
                                           exponent_fits, exponent_table, flop_words, in_words, matmul_peak,
                                           memory_words, note_table, ratio_metrics, slope_table, sweep_metrics,
                                           throughput_models, time_words, training_throughput, work)
from paperlib.models.flops import paper_flops, train_flops_per_sample
from paperlib.models.paper_configs import paper_config
from paperlib.training.device import configure_device

EXACT = {  # reference §6, recomputed from the formulas
    "Shakespeare regular, 1 layer": 62_914_560,
    "Shakespeare regular, 6 layers": 377_487_360,
    "Shakespeare recurrent, K = 1": 75_890_688,
    "image regular, 4 layers": 138_412_032,
    "image recurrent, K = 32": 6_291_456,
    "copy recurrent, accumulate, K = 32": 126_812_418,
}


def test_note_table_is_reproduced_exactly_and_to_the_printed_digits():
    rows = note_table()
    assert [r["model"] for r in rows] == list(EXACT) == [row[0] for row in NOTE_TABLE]
    for row in rows:
        assert row["paper_formula"] == EXACT[row["model"]]
        assert f"{row['paper_formula']:.2e}" == f"{row['note']:.2e}"  # three significant digits, as printed
        assert row["ours"] > row["paper_formula"]  # our count includes the projections the formula leaves out


def series(label, ns, time_exponent, memory_exponent, scale=1.0):
    """A series measured exactly on a power law: time 1e-6 n^a (forward), 3x that (training), memory 1e3 n^b."""
    return Series(label, [Point(n, [scale * 1e-6 * n**time_exponent], [scale * 3e-6 * n**time_exponent],
                                500 * n**memory_exponent, 1000 * n**memory_exponent) for n in ns])


def sweep(recurrent_time_exponent=1.0):
    lengths = [256, 512, 1024, 2048]
    return [series("recurrent K = 32", lengths, recurrent_time_exponent, 1.0),
            series("recurrent K = 64", lengths, 1.0, 1.0),
            series("regular", lengths[:3], 2.0, 1.0, scale=1e-3),  # as fast as the recurrent one at N = 1000
            series("regular, math attention", lengths[:3], 2.0, 2.0, scale=1e-3)]


def test_sweep_metrics_of_exact_power_laws():
    measured = sweep()
    m = sweep_metrics(measured, exponent_fits(measured, 256))
    assert m["time_exponent_recurrent"] == pytest.approx(1.0) and m["time_exponent_regular_train"] == pytest.approx(2.0)
    assert m["memory_exponent_regular"] == pytest.approx(1.0)
    assert m["memory_exponent_regular_math"] == pytest.approx(2.0)
    assert m["time_exponent_recurrent.ci_high"] == pytest.approx(1.0)  # no noise: a zero-width interval
    assert (m["max_len_recurrent"], m["max_len_regular"], m["max_len_common"]) == (2048, 1024, 1024)
    assert m["speedup_at_max_len"] == pytest.approx(1.024) and m["memory_ratio_at_max_len"] == pytest.approx(1.0)
    assert m["crossover_len"] == pytest.approx(1000) and m["crossover_len_train"] == pytest.approx(1000)
    late = sweep_metrics(measured, exponent_fits(measured, 2048))  # one point at most: no exponent
    assert math.isnan(late["time_exponent_recurrent"]) and math.isnan(late["time_exponent_regular.ci_high"])
    assert late["memory_exponent_regular_inference"] != late["memory_exponent_regular_inference"]  # NaN
    assert m["memory_exponent_regular_math_inference"] == pytest.approx(2.0)
    assert m["inference_memory_ratio_at_max_len"] == pytest.approx(1.0)
    assert exponent_table(measured, exponent_fits(measured, 2048)).loc["regular", "time, forward"] == "—"
    assert slope_table(measured).loc["regular", "lengths"] == "256–1,024"


def test_cost_ratios_follow_the_formula_and_the_clock():
    ratios = cost_ratios(sweep(), "copy", 32, batch=1)
    reg, rec = paper_config("copy", "regular"), paper_config("copy", "recurrent", block=32)
    assert ratios.index.tolist() == [256, 512, 1024]
    assert ratios["paper formula"].tolist() == pytest.approx([paper_flops(reg, n) / paper_flops(rec, n)
                                                              for n in (256, 512, 1024)])
    assert ratios["measured, forward"].tolist() == pytest.approx([0.256, 0.512, 1.024])
    assert ratio_metrics(ratios)["flop_ratio_paper_at_max_len"] == ratios["paper formula"].iloc[-1]


def test_crossover_words():
    assert crossover_words(math.nan, 256) == "at no measured length"
    assert crossover_words(256.0, 256) == "at every measured length (N ≥ 256)"
    assert crossover_words(1000.4, 256) == "from about N = 1,000 on"


def page(recurrent_time_exponent=1.0, regular_memory=1.0, regular_inference=1.0, profile="cpu"):
    """The record of a hand-made sweep: the regular model's training and inference memory `regular_memory` and
    `regular_inference` × the recurrent one's."""
    measured = sweep(recurrent_time_exponent)
    m = METRICS.new()
    m.update(sweep_metrics(measured, exponent_fits(measured, 256)))
    m.update(ratio_metrics(cost_ratios(measured, "copy", 32, batch=1)))
    m.update(flop_table_reproduced=1.0, copy_flops_ours_over_paper=16.0, image_flop_ratio_paper=22.0,
             image_flop_ratio_ours=9.5, image_time_ratio=4.4, unit_flop_ratio_paper=1.2, unit_time_ratio=9.4,
             memory_ratio_at_max_len=regular_memory, inference_memory_ratio_at_max_len=regular_inference)
    return run_record(m, profile)


def prose(record):
    return [flop_words(record, "a CPU"), time_words(record, 32, 64, "a CPU", 256), memory_words(record, "It stopped."),
            cost_words(record), in_words(record, record["profile"] == "quick")]


def test_every_direction_and_verdict_is_decided_from_the_record():
    for record in (page(), page(1.3), page(regular_memory=2.0), page(profile="quick")):
        for text in prose(record):
            assert marked_in_myst(text) and recheck_myst(text, record) == [], text
    decided = lambda record: {(m.keys[0], m.outcome) for text in prose(record) for m in marked_in_myst(text)}  # noqa: E731
    linear, steeper = decided(page()), decided(page(1.3))
    assert ("time_exponent_recurrent", "linear") in linear and ("rt_linear_time", "reproduced") in linear
    assert ("time_exponent_recurrent", "faster than linear") in steeper and ("rt_linear_time", "not reproduced") in steeper
    assert ("time_exponent_regular", "faster than linear") in linear
    assert ("memory_exponent_recurrent", "linear") in linear  # the page once called an interval inside the band "not shown"
    assert ("flop_ratio_paper_at_max_len", "above") in linear  # the formula overstates the measured speed-up
    assert ("memory_ratio_at_max_len", "about even") in linear and ("rt_memory", "not reproduced") in linear
    more = decided(page(regular_memory=2.0))
    assert ("memory_ratio_at_max_len", "above") in more and ("rt_memory", "not reproduced") in more  # inference even
    assert ("rt_memory", "reproduced") in decided(page(regular_memory=2.0, regular_inference=2.0))  # both panels
    assert ("rt_linear_time", "not comparable") in decided(page(profile="quick"))
    assert prose(page(profile="quick"))[-1].startswith("*Quick profile")


def test_throughput_models_parse_task_block_and_length_and_refuse_anything_else():
    assert throughput_models("copy:4128, shakespeare/1:256,") == [("copy", None, 4128), ("shakespeare", 1, 256)]
    for bad in ("mamba:10", "copy", "copy:x", "copy/k:10"):
        with pytest.raises(ValueError, match="TASK"):
            throughput_models(bad)


def test_training_throughput_reports_tokens_and_mfu_by_our_flop_count():
    setup = configure_device("cpu", precision="fp32")
    table = training_throughput("copy", 16, 96, [1, 2], setup, peak=1e12, repeats=1)
    assert table["batch"].tolist() == [1, 2] and (table["model"] == "copy, K = 16").all()
    per_sample = train_flops_per_sample(replace(paper_config("copy", "recurrent"), block=16), 96)
    assert table["tokens/s"].tolist() == pytest.approx((table["batch"] * 96 / table["seconds per step"]).tolist())
    assert table["MFU"].tolist() == pytest.approx((per_sample * table["batch"] / table["seconds per step"] / 1e12).tolist())
    assert matmul_peak(setup, repeats=1) > 0


@pytest.mark.parametrize("repeats, rounds, words", [(1, 1, "1 timed call per length in each of 1 pass"),
                                                    (2, 3, "2 timed calls per length in each of 3 passes")])
def test_the_plan_words_its_counts_with_their_plurals(repeats, rounds, words):
    params = plan_run("linear_time", "cpu", {"repeats": repeats, "rounds": rounds}).parameters
    assert words in "\n".join(work(params))
