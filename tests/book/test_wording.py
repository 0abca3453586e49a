"""Numbers decide words: each rule's outcomes at its edges, the marker a sentence carries, and the check that finds
marked sentences on a page and decides them again on the record."""

import pytest

from paperlib.paths import book_dir

from paperlib.book import paper_numbers
from paperlib.book.records import load_records
from paperlib.book.sphinx_pages import CHAPTERS
from paperlib.book.metrics import Declaration, Metric
from paperlib.book.wording import (LINEAR_BAND, RATIO_MARGIN, RULES, Marked, decided, decided_verdict, mark,
                                   marked_in_myst, marked_sentences, parse_role, recheck, recheck_myst)
from paperlib.chapters import declared_record

EXPONENT = {"time_exponent_recurrent": 1.0}
LINEAR = {"linear": "Time grows linearly.", "faster than linear": "Time grows faster than linearly.",
          "slower than linear": "Time grows more slowly than linearly.", "undecided": "The exponent is undecided."}


def rec(**metrics) -> dict:
    return {"profile": "cpu", "metrics": metrics, "not_comparable": {}, "parameters": {}}


def interval(name: str, value: float, low: float, high: float) -> dict:
    return {name: value, f"{name}.ci_low": low, f"{name}.ci_high": high}


@pytest.mark.parametrize("low, high, outcome", [
    (LINEAR_BAND[0], LINEAR_BAND[1], "linear"),  # the band's edges belong to it
    (0.97, 0.99, "linear"),  # the linear-time page's memory exponent, which its old sentence called not linear
    (LINEAR_BAND[1] + 1e-6, 2.1, "faster than linear"),
    (0.2, LINEAR_BAND[0] - 1e-6, "slower than linear"),
    (1.1, LINEAR_BAND[1] + 1e-6, "undecided"),
])
def test_an_exponent_is_linear_only_when_its_interval_lies_in_the_band(low, high, outcome):
    assert RULES["exponent"].decide(rec(**interval("e", (low + high) / 2, low, high)), ("e",)) == outcome
    assert LINEAR_BAND == (2 - paper_numbers.LINEAR_EXPONENT_MAX, paper_numbers.LINEAR_EXPONENT_MAX)


def test_a_comparison_needs_intervals_that_do_not_overlap():
    a, b = interval("a", 1.9, 1.8, 2.0), interval("b", 2.3, 2.01, 2.5)
    compare = RULES["equal_compute"].decide
    assert compare(rec(**a, **b), ("a", "b")) == "lower" and compare(rec(**a, **b), ("b", "a")) == "higher"
    assert compare(rec(**a, **interval("b", 2.3, 2.0, 2.5)), ("a", "b")) == "not separated"  # touching: overlap
    with pytest.raises(KeyError, match="no 95 % interval"):  # an estimate is never read as exact
        compare(rec(**a, b=2.3), ("a", "b"))


def test_a_model_against_a_fixed_reference_needs_its_interval_to_exclude_it():
    reference = RULES["reference"].decide
    a = interval("a", 1.9, 1.8, 2.0)
    assert reference(rec(**a, ngram=2.049), ("a", "=ngram")) == "lower"
    assert reference(rec(**a, ngram=1.7), ("a", "=ngram")) == "higher"
    assert reference(rec(**a, ngram=1.9), ("a", "=ngram")) == "not separated"
    with pytest.raises(KeyError, match="'ngram'"):
        reference(rec(**a), ("a", "=ngram"))


def test_a_reference_may_be_a_number_the_sentence_names_and_a_count_is_read_without_interval():
    reference = RULES["reference"].decide
    a = interval("a", 0.5, 0.4, 0.6)
    assert reference(rec(**a), ("a", "=0.7")) == "lower" and reference(rec(**a), ("a", "=0")) == "higher"
    assert reference(rec(**a), ("a", "=0.45")) == "not separated"
    assert reference(rec(reached=160), ("=reached", "=4096")) == "lower"
    assert reference(rec(reached=4096), ("=reached", "=4096")) == "not separated"  # a count: equal
    with pytest.raises(KeyError, match="'inf'"):  # only a finite number is a number; anything else names a metric
        reference(rec(**a), ("a", "=inf"))


def test_a_conclusion_from_runs_selected_at_their_last_evaluation_is_budget_bound():
    assert RULES["budget_bound"].decide(rec(selected_last=8), ("selected_last",)) == "budget-bound"
    assert RULES["budget_bound"].decide(rec(selected_last=0), ("selected_last",)) == "settled"
    assert RULES["budget_bound"].decide(rec(a=0, b=1), ("a", "b")) == "budget-bound"  # any run of those compared
    assert RULES["budget_bound"].decide(rec(a=0, b=0), ("a", "b")) == "settled"


def test_a_measured_ratio_without_an_interval_needs_the_margin():
    ratio = RULES["ratio"].decide
    assert ratio(rec(r=RATIO_MARGIN + 1e-9), ("r",)) == "above" and ratio(rec(r=1 / RATIO_MARGIN - 1e-9), ("r",)) == "below"
    assert ratio(rec(r=RATIO_MARGIN), ("r",)) == ratio(rec(r=1 / RATIO_MARGIN), ("r",)) == "about even"
    assert ratio(rec(a=51.5, b=5.7), ("a", "b")) == "above" and ratio(rec(a=5.7, b=51.5), ("a", "b")) == "below"


def test_a_check_with_an_exact_answer_holds_only_at_one():
    assert RULES["check"].decide(rec(exact=1.0), ("exact",)) == "holds"
    assert RULES["check"].decide(rec(exact=0.0), ("exact",)) == "fails"


def test_a_verdict_sentence_states_the_registrys_verdict_with_its_qualifier():
    wf = rec(wf_mlp_advantage_100=-0.01, wf_mlp_checkpoints_won=0)
    assert RULES["verdict"].decide(wf, ("wf_mlp_few_iterations",)) == "not reproduced under our reading"
    assert RULES["verdict"].decide({**wf, "profile": "quick"}, ("wf_mlp_few_iterations",)) == "not comparable"


def test_a_verdict_sentence_is_chosen_by_status_and_names_the_verdict_and_its_reason():
    wf = rec(wf_mlp_advantage_100=-0.01, wf_mlp_checkpoints_won=0)
    sentences = {"reproduced": "Faster: {words}.", "not reproduced": "Not faster: {words}.",
                 "not comparable": "No verdict ({reason})."}
    assert decided_verdict(wf, "wf_mlp_few_iterations", sentences) == (
        "{decided}`Not faster: not reproduced under our reading. "
        "<verdict;not reproduced under our reading;wf_mlp_few_iterations>`")
    quick = decided_verdict({**wf, "profile": "quick"}, "wf_mlp_few_iterations", sentences)
    assert "No verdict (quick profile: proves the code path only)." in quick
    with pytest.raises(KeyError, match="'not comparable'"):
        decided_verdict({**wf, "profile": "quick"}, "wf_mlp_few_iterations", {"reproduced": "Faster."})


def test_decided_picks_the_sentence_of_the_outcome_and_marks_it():
    record = rec(**interval("time_exponent_recurrent", 0.98, 0.97, 0.99))
    text = decided("exponent", record, ["time_exponent_recurrent"], LINEAR)
    assert text == "{decided}`Time grows linearly. <exponent;linear;time_exponent_recurrent>`"
    assert parse_role(text.removeprefix("{decided}`").removesuffix("`")) == (
        "Time grows linearly.", "exponent", "linear", ("time_exponent_recurrent",))
    with pytest.raises(KeyError, match="'undecided'"):
        decided("exponent", rec(**interval("e", 1.1, 1.0, 1.3)), ["e"], {"linear": "Linear."})


@pytest.mark.parametrize("sentence, rule, outcome, keys", [
    ("Has a `code` span.", "exponent", "linear", ["e"]),
    ("  ", "exponent", "linear", ["e"]),
    ("Fine.", "exponent", "lin;ear", ["e"]),
    ("Fine.", "exponent", "linear", ["a,b"]),
])
def test_a_marker_refuses_what_it_could_not_carry(sentence, rule, outcome, keys):
    with pytest.raises(ValueError):
        mark(sentence, rule, outcome, keys)


@pytest.mark.parametrize("content", ["no target", "Text <exponent;linear>", "Text <nonesuch;linear;e>",
                                     "Text <exponent;linear;>"])
def test_a_malformed_role_is_an_error(content):
    with pytest.raises(ValueError, match="decided"):
        parse_role(content)


PAGE = """<p>Before. <span class="decided" data-rule="exponent" data-outcome="linear" data-keys="e">Time grows
<strong>linearly</strong> <span class="math">(b = 0.98)</span>.</span> After.</p>
<p><span class="decided other" data-rule="equal_samples" data-outcome="lower" data-keys="a,b">A is lower.</span>
<span class="not-decided">ignored</span></p>"""


def test_marked_sentences_are_found_with_their_rule_outcome_and_keys():
    assert marked_sentences(PAGE) == [
        Marked("Time grows linearly (b = 0.98).", "exponent", "linear", ("e",)),
        Marked("A is lower.", "equal_samples", "lower", ("a", "b"))]


def test_marked_sentences_are_found_in_myst_before_the_book_is_built():
    text = "Before. " + decided("exponent", rec(**interval("e", 0.98, 0.97, 0.99)), ["e"], LINEAR) + " After " + \
        mark("A is\nlower.", "equal_samples", "lower", ["a", "b"])
    assert marked_in_myst(text) == [Marked("Time grows linearly.", "exponent", "linear", ("e",)),
                                    Marked("A is lower.", "equal_samples", "lower", ("a", "b"))]
    moved = rec(**interval("e", 1.2, 1.17, 1.25), **interval("a", 1.0, 0.9, 1.1), **interval("b", 2.0, 1.9, 2.1))
    assert len(recheck_myst(text, moved)) == 1 and "gives 'faster than linear'" in recheck_myst(text, moved)[0]


def test_recheck_reads_the_record_through_the_chapters_declaration():
    declared = {**rec(), "metrics": Declaration("x", [Metric("e", "1", "an exponent", ci=True)]).view(
        interval("e", 0.98, 0.97, 0.99) | {"stray": 1.0})}
    assert recheck(Marked("Linear.", "exponent", "linear", ("e",)), declared) == ""
    assert "UndeclaredMetric" in recheck(Marked("Above.", "ratio", "above", ("stray",)), declared)


def test_recheck_decides_a_marked_sentence_again_on_the_record():
    linear, lower = marked_sentences(PAGE)
    record = rec(**interval("e", 0.98, 0.97, 0.99), **interval("a", 1.0, 0.9, 1.1), **interval("b", 2.0, 1.9, 2.1))
    assert recheck(linear, record) == "" and recheck(lower, record) == ""
    moved = rec(**interval("e", 1.2, 1.17, 1.25))
    assert "gives 'faster than linear'" in recheck(linear, moved)
    assert "cannot be applied" in recheck(lower, moved)  # the record lacks a and b
    assert "unknown rule" in recheck(Marked("x", "nonesuch", "y", ("e",)), record)


@pytest.mark.slow
def test_every_marked_sentence_of_the_built_book_matches_its_record(book_build, chapters_without_marked_sentences):
    records = load_records(book_dir() / "results")
    problems, unmarked = [], set()
    for name in sorted(CHAPTERS):
        marked = marked_sentences((book_build.html / "book" / f"{name}.html").read_text())
        unmarked |= {name} if not marked else set()
        record = declared_record(records[name])
        problems += [f"{name}: {problem}" for sentence in marked if (problem := recheck(sentence, record))]
    assert not problems, "\n".join(problems)
    assert unmarked == chapters_without_marked_sentences, (
        f"chapters marking no sentence: {sorted(unmarked)}; expected {sorted(chapters_without_marked_sentences)}")
