"""Verdicts follow the registry's rules, and the book's claims page matches the committed records."""

import pytest

from paperlib.claims import (CLAIMS, CLAIMS_BY_ID, NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, dashboard,
                             judge)
from paperlib.dashboard import render_markdown, render_text
from paperlib.paths import book_dir
from paperlib.results import load_records

GAMMA = CLAIMS_BY_ID["gamma_interval"]


def rec(profile="cpu", **metrics):
    return {"scaling_law": {"profile": profile, "metrics": metrics, "not_comparable": {}}}


def test_no_record_is_not_run():
    assert judge(GAMMA, {}).status == NOT_RUN


def test_missing_metric_is_not_run():
    assert judge(GAMMA, rec(gamma_low=0.44)).status == NOT_RUN


def test_rule_decides_on_a_full_run():
    assert judge(GAMMA, rec(gamma_low=0.44, gamma_high=0.72)).status == REPRODUCED
    assert judge(GAMMA, rec(gamma_low=0.27, gamma_high=0.63)).status == NOT_REPRODUCED


def test_quick_profile_and_declared_substitutes_are_never_reproduced():
    assert judge(GAMMA, rec("quick", gamma_low=0.44, gamma_high=0.72)).status == NOT_COMPARABLE
    records = rec(gamma_low=0.44, gamma_high=0.72)
    records["scaling_law"]["not_comparable"] = {"gamma_interval": "substitute data"}
    verdict = judge(GAMMA, records)
    assert verdict.status == NOT_COMPARABLE and verdict.reason == "substitute data"


def test_every_claim_is_registered_once_with_a_rule():
    assert len({c.id for c in CLAIMS}) == len(CLAIMS) >= 15
    for claim in CLAIMS:
        assert claim.statement and claim.paper_value and claim.rule_text and claim.metrics


def test_renderers_list_every_claim():
    verdicts = dashboard({})
    text, page = render_text(verdicts), render_markdown(verdicts, {})
    for claim in CLAIMS:
        assert claim.id in text and claim.id in page


def test_the_committed_claims_page_is_up_to_date():
    records = load_records(book_dir() / "results")
    page = book_dir() / "claims.md"
    assert page.read_text() == render_markdown(dashboard(records), records), \
        "book/claims.md is stale: run `paperlib claims --write book/claims.md`"
