"""Every metric a page or a claim cites is declared by its chapter and present in the committed record, and the
committed records hold only declared metrics: a renamed metric fails here, without building the book."""

import json
import re

import pytest

from paperlib.book.claims import CLAIMS
from paperlib.book.runner import notebook_names
from paperlib.book.verdicts import dashboard
from paperlib.chapters import chapter, declarations
from paperlib.paths import book_dir, notebooks_dir

NUMBERS_ONLY_IN_GENERATED_WORDS = {"copy_tasks"}  # its page cites no metric itself: its sentences are generated
CITATION = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)")
LITERAL = re.compile(r"""["']([A-Za-z_][\w.]*)["']""")


def committed(name):
    return json.loads((book_dir() / "results" / f"{name}.json").read_text())["metrics"]


def declared(name):
    return chapter(name).METRICS


@pytest.mark.parametrize("name", notebook_names())
def test_the_committed_record_holds_only_declared_metrics(name):
    assert declared(name).undeclared(committed(name)) == []


@pytest.mark.parametrize("name", notebook_names())
def test_every_metric_the_page_cites_is_declared_and_in_the_committed_record(name):
    metrics = declared(name)
    source = (notebooks_dir() / f"{name}.py").read_text()
    code = "\n".join(line for line in source.splitlines() if not line.startswith("#"))
    glued_in_code = set(LITERAL.findall(code))  # glue("where", ...), or the keys of a dict glued in a loop
    cited = set(CITATION.findall(source)) - glued_in_code
    assert cited or name in NUMBERS_ONLY_IN_GENERATED_WORDS, "the page cites its metrics"
    assert metrics.undeclared(cited) == [], "cited, neither glued by the notebook nor declared"
    assert sorted(cited - set(committed(name))) == [], "declared, but the committed record lacks them"
    assert "METRICS.new()" in code, "the notebook keeps its metrics through the declaration (the record refuses others)"


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_metric_a_claim_cites_is_declared_and_in_the_committed_record(claim):
    metrics = declared(claim.notebook)
    assert metrics.undeclared(claim.metrics) == []
    assert sorted(set(claim.metrics) - set(committed(claim.notebook))) == []


def test_the_claims_are_judged_through_the_declarations_without_reading_an_undeclared_name():
    records = {name: json.loads((book_dir() / "results" / f"{name}.json").read_text()) for name in notebook_names()}
    found = declarations()
    assert set(found) == set(notebook_names())
    assert len(dashboard(records, found)) == len(CLAIMS)  # a rule reading an undeclared name raises UndeclaredMetric
