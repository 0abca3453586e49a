"""Numbers decide words: the rules that choose a sentence stating a direction or a verdict from a run record,
and the marker that lets a test find every such sentence on the built pages and check it against its record.

A chapter never types "linear", "lower" or "reproduced" into prose that depends on a number. It calls
``decided(rule, record, keys, sentences)``: the rule gives an outcome on the record's metrics at ``keys`` and the
sentence written for that outcome comes back as MyST, wrapped in the ``{decided}`` role
(``{decided}`sentence <rule;outcome;key,key>` ``). The book's Sphinx extension (`paperlib.book.sphinx_pages`)
renders it as ``<span class="decided" data-rule=… data-outcome=… data-keys=…>``, so `marked_sentences` finds
each one in a built page and `recheck` decides its rule again on the page's record. The methods page states
the rules (`RULES`, section "How numbers decide words").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from paperlib.book.claims import CLAIMS_BY_ID
from paperlib.book.paper_numbers import LINEAR_EXPONENT_MAX
from paperlib.book.verdicts import Verdict, judge

Record = Mapping[str, Any]
LINEAR_BAND = (2 - LINEAR_EXPONENT_MAX, LINEAR_EXPONENT_MAX)  # an exponent whose CI lies inside is "linear"
RATIO_MARGIN = 1.1  # a measured ratio within [1/1.1, 1.1] is "about even"
ROLE = "decided"
SEPARATOR = ";"


@dataclass(frozen=True)
class WordRule:
    """How a record's numbers at some keys choose one of ``outcomes``; ``text`` states it on the methods page."""

    name: str
    text: str
    outcomes: tuple[str, ...]
    decide: Callable[[Record, tuple[str, ...]], str]


EXACT = "="  # a key that starts with it names an exact number (an n-gram model's loss, a count), read without
# interval; ``=NUMBER`` is that number itself (a fixed reference the sentence names: twice chance, the paper's length)


def _number(text: str) -> float | None:
    """``text`` as a finite number, or None when it is a metric's name."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _interval(metrics: Mapping[str, Any], key: str) -> tuple[float, float]:
    """The 95 % interval of metric ``key`` (``key.ci_low``, ``key.ci_high``), or, for ``=key``, its exact value (for
    ``=NUMBER``, the number); a metric that lacks what is asked is an error, so no estimate is ever read as exact."""
    name = key.removeprefix(EXACT)
    if key.startswith(EXACT) and (number := _number(name)) is not None:
        return number, number
    if metrics.get(name) is None:
        raise KeyError(f"the record has no value for {name!r}")
    if key.startswith(EXACT):
        return metrics[name], metrics[name]
    low, high = metrics.get(f"{name}.ci_low"), metrics.get(f"{name}.ci_high")
    if low is None or high is None:
        raise KeyError(f"{name!r} has no 95 % interval in the record (write {EXACT}{name} for an exact number)")
    return low, high


def _exponent(record: Record, keys: tuple[str, ...]) -> str:
    low, high = _interval(record["metrics"], keys[0])
    if LINEAR_BAND[0] <= low and high <= LINEAR_BAND[1]:
        return "linear"
    if low > LINEAR_BAND[1]:
        return "faster than linear"
    if high < LINEAR_BAND[0]:
        return "slower than linear"
    return "undecided"


def _compare(record: Record, keys: tuple[str, ...]) -> str:
    (a_low, a_high), (b_low, b_high) = (_interval(record["metrics"], key) for key in keys)
    if a_high < b_low:
        return "lower"
    if a_low > b_high:
        return "higher"
    return "not separated"


def _budget_bound(record: Record, keys: tuple[str, ...]) -> str:
    return "budget-bound" if sum(record["metrics"][key] for key in keys) > 0 else "settled"


def _ratio(record: Record, keys: tuple[str, ...]) -> str:
    metrics = record["metrics"]
    ratio = metrics[keys[0]] / (metrics[keys[1]] if len(keys) > 1 else 1.0)
    return "above" if ratio > RATIO_MARGIN else "below" if ratio < 1 / RATIO_MARGIN else "about even"


def _check(record: Record, keys: tuple[str, ...]) -> str:
    return "holds" if record["metrics"][keys[0]] == 1 else "fails"


def _judged(record: Record, claim_id: str) -> Verdict:
    return judge(CLAIMS_BY_ID[claim_id], {CLAIMS_BY_ID[claim_id].notebook: record})


def _verdict(record: Record, keys: tuple[str, ...]) -> str:
    return _judged(record, keys[0]).words


_COMPARE_TEXT = ("A comparison of two models names its basis and holds it equal — {basis} — never equal steps; it "
                 "reads the two metrics' 95 % intervals over seeds (over evaluation batches where one seed of each is "
                 "compared, the page says so; a score the chapter has no interval for is read as a point): *lower* "
                 "or *higher* only where the intervals do not overlap, else *not separated*.")
RULES: dict[str, WordRule] = {rule.name: rule for rule in (
    WordRule("exponent", f"A fitted log-log exponent of time or memory against length is *linear* when its 95 % "
                         f"interval lies within [{LINEAR_BAND[0]:.2f}, {LINEAR_BAND[1]:.2f}]; *faster than linear* "
                         f"when the whole interval is above it, *slower than linear* when below, else *undecided*.",
             ("linear", "faster than linear", "slower than linear", "undecided"), _exponent),
    WordRule("equal_compute", _COMPARE_TEXT.format(basis="the same training FLOPs"),
             ("lower", "higher", "not separated"), _compare),
    WordRule("equal_samples", _COMPARE_TEXT.format(basis="the same training samples"),
             ("lower", "higher", "not separated"), _compare),
    WordRule("reference", "A measured value against a fixed reference (an n-gram model's loss, chance, a number the "
                          "paper gives, a band's edge, another estimate read as a point) is *lower* or *higher* only "
                          "where the value's 95 % interval over seeds excludes the reference, else *not separated*. A "
                          "value read without interval (a count, a length reached, or a mean a chapter's stated "
                          "criterion reads as a point) is *not separated* only when it equals the reference. The "
                          "marker names the reference: a recorded metric, or the number itself.",
             ("lower", "higher", "not separated"), _compare),
    WordRule("budget_bound", "A conclusion drawn from runs of which any was selected at its last evaluation (still "
                             "improving when the budget ran out; the metrics count such runs) is *budget-bound*: it is "
                             "worded as holding within this budget, never as a property of the model; else *settled*.",
             ("budget-bound", "settled"), _budget_bound),
    WordRule("ratio", f"A measured ratio that has no interval over seeds (of two times or two peak memories at one "
                      f"length, of a FLOP count to a measured speed-up) is *above* or *below* 1 only by more than "
                      f"{100 * (RATIO_MARGIN - 1):.0f} % (above {RATIO_MARGIN:g}, below 1/{RATIO_MARGIN:g}), else "
                      f"*about even*; with two metrics the ratio is the first over the second.",
             ("above", "below", "about even"), _ratio),
    WordRule("check", "A check with an exact answer (a 0-or-1 metric: a published table recomputed to its printed "
                      "digits, or a flag a chapter sets by a criterion its page states, such as a baseline that "
                      "stalled) *holds* when the metric is 1, else *fails*.", ("holds", "fails"), _check),
    WordRule("verdict", "A sentence that states a claim's verdict states the verdict the registry's rule gives on the "
                        "page's own record, with its qualifier (the claims dashboard's rule).",
             ("reproduced", "not reproduced", "not comparable", "not run", "… with the claim's qualifier"), _verdict),
)}


def decided(rule: str, record: Record, keys: Sequence[str], sentences: Mapping[str, str]) -> str:
    """The sentence written for the outcome of ``rule`` on ``record`` at ``keys``, marked for the book: MyST
    ``{decided}`sentence <rule;outcome;keys>` ``. ``record`` is the run record, or as much of it as a notebook
    knows (``profile``, ``metrics``, ``parameters``, ``not_comparable``); ``sentences`` maps outcomes to
    sentences, and one that lacks the outcome reached is an error naming it."""
    outcome = RULES[rule].decide(record, tuple(keys))
    if outcome not in sentences:
        raise KeyError(f"no sentence for the outcome {outcome!r} of rule {rule!r}")
    return mark(sentences[outcome], rule, outcome, keys)


def decided_verdict(record: Record, claim_id: str, sentences: Mapping[str, str]) -> str:
    """The sentence for the verdict the registry gives ``claim_id`` on ``record`` (rule ``verdict``), marked.
    ``sentences`` maps a verdict's status ("reproduced", "not reproduced", "not comparable", "not run") to a
    sentence, which may name the verdict with its qualifier as ``{words}`` and its reason as ``{reason}``."""
    verdict = _judged(record, claim_id)
    if verdict.status not in sentences:
        raise KeyError(f"no sentence for the verdict {verdict.status!r} of claim {claim_id!r}")
    return mark(sentences[verdict.status].format(words=verdict.words, reason=verdict.reason), "verdict",
                verdict.words, [claim_id])


def mark(sentence: str, rule: str, outcome: str, keys: Sequence[str]) -> str:
    """``sentence`` in the ``{decided}`` role, with the rule, the outcome and the keys it was decided on."""
    if "`" in sentence or not sentence.strip():
        raise ValueError(f"a marked sentence is non-empty plain MyST without backticks: {sentence!r}")
    for part in (rule, outcome, *keys):
        if re.search(r"[;,<>`]", part):
            raise ValueError(f"{part!r}: rule names, outcomes and keys hold no ; , < > or backtick")
    return f"{{{ROLE}}}`{sentence} <{rule}{SEPARATOR}{outcome}{SEPARATOR}{','.join(keys)}>`"


def parse_role(content: str) -> tuple[str, str, str, tuple[str, ...]]:
    """(sentence, rule, outcome, keys) from the content of a ``{decided}`` role; a malformed one is an error."""
    found = re.fullmatch(r"(?s)(.+?)\s*<([^<>]*)>", content)
    parts = found.group(2).split(SEPARATOR) if found else []
    if len(parts) != 3 or parts[0] not in RULES or not parts[2]:
        raise ValueError(f"a {ROLE} role reads `sentence <rule;outcome;key,key>` with a known rule: {content!r}")
    return found.group(1), parts[0], parts[1], tuple(parts[2].split(","))


@dataclass(frozen=True)
class Marked:
    """A marked sentence as found on a built page."""

    text: str
    rule: str
    outcome: str
    keys: tuple[str, ...]


class _MarkedFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[Marked] = []
        self._open: list[tuple[dict[str, str], list[str]] | None] = []  # one entry per open <span>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "span":
            attributes = {name: value or "" for name, value in attrs}
            self._open.append((attributes, []) if ROLE in attributes.get("class", "").split() else None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._open:
            entry = self._open.pop()
            if entry is not None:
                attributes, text = entry
                self.found.append(Marked(" ".join("".join(text).split()), attributes.get("data-rule", ""),
                                         attributes.get("data-outcome", ""),
                                         tuple(filter(None, attributes.get("data-keys", "").split(",")))))

    def handle_data(self, data: str) -> None:
        for entry in self._open:
            if entry is not None:
                entry[1].append(data)


def marked_sentences(html: str) -> list[Marked]:
    """Every sentence of a built page that carries the ``decided`` marker, in page order of their ends."""
    finder = _MarkedFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def marked_in_myst(text: str) -> list[Marked]:
    """Every marked sentence of MyST text (a notebook's Markdown output, before the book is built)."""
    return [Marked(" ".join(sentence.split()), rule, outcome, keys)
            for sentence, rule, outcome, keys in map(parse_role, re.findall(rf"\{{{ROLE}\}}`([^`]+)`", text))]


def recheck_myst(text: str, record: Record) -> list[str]:
    """Why each marked sentence of MyST ``text`` does not match ``record`` (`recheck`); empty when all match."""
    return [problem for marked in marked_in_myst(text) if (problem := recheck(marked, record))]


def recheck(marked: Marked, record: Record) -> str:
    """Why ``marked`` does not match ``record`` (its rule now gives another outcome, or cannot be applied), or ""."""
    rule = RULES.get(marked.rule)
    if rule is None:
        return f"{marked.text!r}: unknown rule {marked.rule!r}"
    try:
        outcome = rule.decide(record, marked.keys)
    except (LookupError, TypeError, ZeroDivisionError) as error:  # LookupError: also an undeclared metric
        return f"{marked.text!r}: rule {marked.rule!r} cannot be applied to the record at {marked.keys}: {error!r}"
    if outcome != marked.outcome:
        return f"{marked.text!r} says {marked.outcome!r}, but rule {marked.rule!r} gives {outcome!r} on the record"
    return ""
