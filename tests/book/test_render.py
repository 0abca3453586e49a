"""The dashboard's renderers and the chapters' verdict tables, judged by the same rules."""

import re

import pytest

from paperlib.book.claims import CLAIMS, CLAIMS_BY_ID
from paperlib.book.verdicts import NOT_COMPARABLE, REPRODUCED, dashboard
from paperlib.book.records import load_records
from paperlib.book.render import (BADGES, render_markdown, render_text, run_summary, summary_words, verdict_table,
                                  verdicts_for_run)
from paperlib.paths import book_dir

LINEAR = {"time_exponent_recurrent": 1.02, "time_exponent_recurrent.ci_low": 0.98,
          "time_exponent_recurrent.ci_high": 1.06, "memory_exponent_recurrent": 1.3, "memory_ratio_at_max_len": 0.8}
IDS = ["rt_linear_time", "rt_memory"]


def tables(markdown: str) -> list[list[list[str]]]:
    """The body rows of every Markdown table in `markdown`, each row split on the unescaped pipes."""
    found, current = [], None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        if current is None:
            current = []
            found.append(current)
        current.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return [table[2:] for table in found]  # without the header and the separator


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
    [rows] = tables(verdict_table(verdicts).data)
    assert len(rows) == len(verdicts) and all(len(row) == 6 for row in rows)
    linear, memory = rows
    assert linear[0] == CLAIMS_BY_ID["rt_linear_time"].title and linear[4] == BADGES[REPRODUCED]
    assert linear[5] == CLAIMS_BY_ID["rt_linear_time"].rule_text and linear[3] == "95 % CI [0.98, 1.06]"
    assert memory[4] == BADGES[NOT_COMPARABLE] and memory[5] == r"a \| b" and memory[3] == "—"


def test_renderers_list_every_claim():
    verdicts = dashboard({})
    text, page = render_text(verdicts), render_markdown(verdicts, {})
    assert len(text.splitlines()) == len(CLAIMS) + 2  # header, rule, one line per claim
    arithmetic, empirical, runs = tables(page)
    assert len(arithmetic) + len(empirical) == len(CLAIMS) and runs == []
    assert [row[0] for row in arithmetic] == [f"[{c.title}](claim-{c.id})" for c in CLAIMS if c.kind == "arithmetic"]
    for claim in CLAIMS:
        assert claim.id in text and f"(claim-{claim.id})=" in page


def test_markdown_escapes_pipes_and_names_a_substitute():
    records = {"scaling_law": {"profile": "cpu", "metrics": {}, "not_comparable": {}, "wall_time_s": 12.0,
                               "started_at": "2026-01-01T00:00:00+00:00", "hardware": {"cpu": "a|b", "cpu_count": 2},
                               "datasets": [{"dataset": "d", "source": "s", "substitute": True}]}}
    page = render_markdown(dashboard(records), records)
    run = next(row for row in page.splitlines() if "(scaling_law.ipynb)" in row)
    assert run.startswith("| [A natural scaling law?](scaling_law.ipynb)")
    assert r"a\|b (2 cores)" in run and "| d (substitute) |" in run and "| 12 s |" in run


def test_the_summary_counts_each_kind_of_claim():
    records = {"linear_time": {"profile": "cpu", "metrics": LINEAR, "not_comparable": {}}}
    words = summary_words(dashboard(records))
    assert "0 of the 3 arithmetic checks" in words
    assert "Of the 13 claims tested by experiment: 1 reproduced; 1 not reproduced; " in words and "11 not run" in words


def test_each_page_opens_with_what_was_run_where_and_for_how_long():
    rec = {"notebook": "copy_tasks", "profile": "cpu", "wall_time_s": 754.0, "started_at": "2026-11-29T20:53:01+00:00",
           "hardware": {"where": "AMD EPYC (1 thread), fp32"}, "source": {"commit": "98eac27" + "0" * 33, "dirty": True},
           "datasets": [{"dataset": "mnist", "sha256": "abcdef0123456789"}]}
    box = run_summary(rec)
    assert box.startswith("```{admonition} This run") and box.endswith("```")
    for part in ("**cpu**", "AMD EPYC (1 thread), fp32", "**12.6 min**", "2026-11-29 20:53 UTC",
                 "`98eac27000` with uncommitted changes", "mnist, sha256 abcdef012345…", "book/results/copy_tasks.json"):
        assert part in box


def test_the_committed_claims_page_is_up_to_date():
    records = load_records(book_dir() / "results")
    page = book_dir() / "claims.md"
    assert page.read_text() == render_markdown(dashboard(records), records), \
        "book/claims.md is stale: run `paperlib claims --write book/claims.md`"
