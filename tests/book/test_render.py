"""The dashboard's renderers and the chapters' verdict tables, judged by the same rules."""

import re

import pytest

from paperlib.book.claims import CLAIMS, CLAIMS_BY_ID, NOT_COMPARABLE, REPRODUCED, dashboard
from paperlib.book.records import load_records
from paperlib.book.render import BADGES, render_markdown, render_text, verdict_table, verdicts_for_run
from paperlib.paths import book_dir

LINEAR = {"time_exponent_recurrent": 1.02, "time_exponent_recurrent.ci_low": 0.98,
          "time_exponent_recurrent.ci_high": 1.06, "memory_exponent_recurrent": 1.3}
IDS = ["rt_linear_time", "rt_memory"]


def table_rows(markdown: str) -> list[list[str]]:
    """The body rows of the first Markdown table in `markdown`, split on the unescaped pipes."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in lines[start + 2:end]]


@pytest.mark.parametrize("profile, reasons", [("cpu", {}), ("quick", {}), ("paper", {"rt_memory": "tiny sweep"})])
def test_verdicts_for_run_judge_exactly_as_the_dashboard(profile, reasons):
    ours = verdicts_for_run(IDS, LINEAR, profile, reasons)
    record = {"linear_time": {"profile": profile, "metrics": LINEAR, "not_comparable": reasons}}
    assert ours == [v for v in dashboard(record) if v.claim.id in IDS]


def test_verdicts_for_run_outcomes():
    reproduced, not_reproduced = verdicts_for_run(IDS, LINEAR, "cpu")
    assert reproduced.status == REPRODUCED and not_reproduced.status != REPRODUCED
    assert {v.status for v in verdicts_for_run(IDS, LINEAR, "quick")} == {NOT_COMPARABLE}
    declared = verdicts_for_run(IDS, LINEAR, "cpu", {"rt_linear_time": "lengths 64 to 256 only"})[0]
    assert declared.status == NOT_COMPARABLE and declared.reason == "lengths 64 to 256 only"
    with pytest.raises(KeyError, match="no_such_claim"):
        verdicts_for_run(["rt_linear_time", "no_such_claim"], LINEAR, "cpu")


def test_verdict_table_has_one_row_per_verdict_with_badge_and_rule():
    verdicts = verdicts_for_run(IDS, LINEAR, "cpu", {"rt_memory": "a | b"})
    rows = table_rows(verdict_table(verdicts).data)
    assert len(rows) == len(verdicts) and all(len(row) == 6 for row in rows)
    linear, memory = rows
    assert linear[0] == "`rt_linear_time`" and linear[4] == BADGES[REPRODUCED]
    assert linear[5] == CLAIMS_BY_ID["rt_linear_time"].rule_text and linear[3] == "95 % CI [0.98, 1.06]"
    assert memory[4] == BADGES[NOT_COMPARABLE] and memory[5] == r"a \| b" and memory[3] == "—"


def test_renderers_list_every_claim():
    verdicts = dashboard({})
    text, page = render_text(verdicts), render_markdown(verdicts, {})
    assert len(text.splitlines()) == len(CLAIMS) + 2  # header, rule, one line per claim
    assert len(table_rows(page)) == len(CLAIMS)
    for claim in CLAIMS:
        assert claim.id in text and f"(claim-{claim.id})=" in page


def test_markdown_escapes_pipes_and_names_a_substitute():
    records = {"scaling_law": {"profile": "cpu", "metrics": {}, "not_comparable": {}, "wall_time_s": 12.0,
                               "started_at": "2026-01-01T00:00:00+00:00", "hardware": {"cpu": "a|b", "cpu_count": 2},
                               "datasets": [{"dataset": "d", "source": "s", "substitute": True}]}}
    page = render_markdown(dashboard(records), records)
    run = next(row for row in page.splitlines() if row.startswith("| [scaling_law]"))
    assert r"a\|b (2 cores)" in run and "d from s (substitute)" in run and "| 12 s |" in run


def test_the_committed_claims_page_is_up_to_date():
    records = load_records(book_dir() / "results")
    page = book_dir() / "claims.md"
    assert page.read_text() == render_markdown(dashboard(records), records), \
        "book/claims.md is stale: run `paperlib claims --write book/claims.md`"
