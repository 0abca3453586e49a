"""The dashboard's renderers and the chapters' verdict tables, judged by the same rules."""

import re

import pytest

from paperlib.book.claims import CLAIMS, CLAIMS_BY_ID
from paperlib.book.verdicts import NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, dashboard
from paperlib.book.records import load_records
from paperlib.book.render import (ANSWER_FIELDS, BADGES, GROUPS, answer_fields, plural, render_markdown, render_text,
                                  run_summary, runs_table, summary_markdown, verdict_table, verdicts_for_run)
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


def test_renderers_list_every_claim_once_in_its_group():
    verdicts = dashboard({})
    text, page = render_text(verdicts), render_markdown(verdicts, {})
    rows = [line for line in text.splitlines() if not line.startswith("    why: ")]
    assert len(rows) == len(CLAIMS) + 2  # header, rule, one line per claim
    assert text.count("    why: no run record for notebook") == len(CLAIMS), "a claim without a verdict says why"
    *groups, runs = tables(page)
    assert len(groups) == len(GROUPS) and runs == []
    for (heading, _, holds), rows in zip(GROUPS, groups):
        assert f"## {heading}" in page
        assert [row[1] for row in rows] == [f"[{c.title}](claim-{c.id})" for c in CLAIMS if holds(c)]
    assert sum(map(len, groups)) == len(CLAIMS)
    for claim in CLAIMS:
        assert claim.id in text and f"(claim-{claim.id})=" in page


def test_the_verdict_column_comes_first_and_keeps_its_qualifier_and_its_reason():
    records = {"weber_fechner_mnist": {"profile": "cpu", "metrics": {
        "wf_mlp_advantage_100": -0.01, "wf_mlp_checkpoints_won": 0, "wf_cnn_advantage_100": 0.01,
        "wf_cnn_checkpoints_won": 3, "wf_loss_advantage_100": 0.0, "wf_loss_checkpoints_won": 0},
        "not_comparable": {}, "parameters": {"tuned_cnn_channels": "8,16"}}}
    rows = {row[1]: row for table in tables(render_markdown(dashboard(records), {})) for row in table}
    mlp = rows[f"[{CLAIMS_BY_ID['wf_mlp_few_iterations'].title}](claim-wf_mlp_few_iterations)"]
    cnn = rows[f"[{CLAIMS_BY_ID['wf_cnn_few_iterations'].title}](claim-wf_cnn_few_iterations)"]
    assert mlp[0] == f"{BADGES[NOT_REPRODUCED]} under our reading" and mlp[5] == "—"
    assert cnn[0] == BADGES[NOT_COMPARABLE] and "tuned_cnn_channels 8,16" in cnn[5]  # the reason, in the row


def test_markdown_escapes_pipes_and_names_a_substitute():
    records = {"scaling_law": {"profile": "cpu", "metrics": {}, "not_comparable": {}, "wall_time_s": 12.0,
                               "started_at": "2026-01-01T00:00:00+00:00", "hardware": {"cpu": "a|b", "cpu_count": 2},
                               "datasets": [{"dataset": "d", "source": "s", "substitute": True}]}}
    page = render_markdown(dashboard(records), records)
    run = next(row for row in page.splitlines() if "(scaling_law.ipynb)" in row)
    assert run.startswith("| [A natural scaling law?](scaling_law.ipynb)")
    assert r"a\|b (2 cores)" in run and "| d (substitute) |" in run and "| 12 s |" in run


def test_the_summary_names_the_claims_of_each_group_under_their_verdict():
    records = {"linear_time": {"profile": "cpu", "metrics": LINEAR, "not_comparable": {}}}
    words = summary_markdown(dashboard(records))
    linear, memory = (f"{{ref}}`{CLAIMS_BY_ID[cid].title} <claim-{cid}>`" for cid in IDS)
    lines = words.splitlines()
    experiment = lines.index("- **The papers' claims, tested by experiment**")
    assert lines[experiment + 1:experiment + 3] == [f"  - *reproduced*: {linear}", f"  - *not reproduced*: {memory}"]
    assert lines[experiment + 3].startswith("  - *not run*: ")
    assert words.count("- **") == len(GROUPS)  # every group is named, each once
    assert "*not run*: {ref}`γ interval holds on the refitted Chinchilla data <claim-gamma_refit>`" in words


def test_the_answer_box_fields_of_a_judged_and_of_an_unjudged_claim():
    copy = {"copy_acc": 1.0, "copy_acc.ci_low": 0.99, "copy_acc.ci_high": 1.0, "copy_samples": 28_800.0}
    judged, short = verdicts_for_run(["copy_4128", "selective_copy_4128"],
                                     {**copy, "selective_copy_acc": 0.2, "selective_copy_samples": 28_800.0}, "cpu",
                                     parameters={"dropout": 0.0, "eval_every": 100, "eval_batches": 100})
    fields = answer_fields(judged)
    assert set(fields) == {*ANSWER_FIELDS, "kept"} and all(fields.values())
    assert fields["answer"] == BADGES[REPRODUCED] and fields["kept"] == "dropout 0 (paper 0.05)"
    assert fields["number"] == "ours 100.00 % (95 % CI [99.00, 100.00] %) · paper 100 %"
    assert fields["budget"] == "50 % of the paper's samples (28,800 of 57,600)"
    assert fields["caveat"] == CLAIMS_BY_ID["copy_4128"].caveat
    fields = answer_fields(short)
    assert set(fields) == set(ANSWER_FIELDS) and fields["answer"] == BADGES[NOT_COMPARABLE]
    assert fields["caveat"] == short.reason and "budget short of the paper's stopping point" in short.reason
    not_run = answer_fields(dashboard({})[0])
    assert not_run["answer"] == BADGES[NOT_RUN] and not_run["budget"] == "—" and all(not_run.values())


def test_each_page_opens_with_what_was_run_where_and_for_how_long():
    rec = {"notebook": "copy_tasks", "profile": "cpu", "wall_time_s": 754.0, "started_at": "2026-11-29T20:53:01+00:00",
           "hardware": {"where": "AMD EPYC (1 thread), fp32"}, "source": {"commit": "98eac27" + "0" * 33, "dirty": True},
           "datasets": [{"dataset": "mnist", "sha256": "abcdef0123456789"}]}
    box = run_summary(rec)
    assert box.startswith("```{admonition} This run") and box.endswith("```")
    for part in ("**cpu**", "AMD EPYC (1 thread), fp32", "**12.6 min**", "2026-11-29 20:53 UTC",
                 "`98eac27000` with uncommitted changes", "mnist, sha256 abcdef012345…", "book/results/copy_tasks.json"):
        assert part in box
    assert "cache" not in box and "forecast" not in box
    forecast = run_summary(rec | {"forecast": {"seconds": 660.0, "words": "Expected: about 11 min ..."}})
    assert "**12.6 min** wall time (forecast before it ran: 11.0 min of training and evaluation on this CPU)" in forecast
    cached = run_summary(rec | {"metrics": {"runs_loaded": 64, "loaded_worker_min": 173.2}})
    assert "wall time · 64 runs read from the cache, not trained in this wall time (173 worker-minutes" in cached
    row = tables(runs_table({"copy_tasks": rec | {"metrics": {"runs_loaded": 64, "loaded_worker_min": 173.2}}}))[0][0]
    assert row[2] == "12.6 min + 64 cached runs (173 worker-min)"
    assert tables(runs_table({"copy_tasks": rec}))[0][0][2] == "12.6 min", "nothing loaded: the wall time alone"


def test_the_committed_claims_page_is_up_to_date():
    records = load_records(book_dir() / "results")
    page = book_dir() / "claims.md"
    assert page.read_text() == render_markdown(dashboard(records), records), \
        "book/claims.md is stale: run `paperlib claims --write book/claims.md`"


def test_a_count_is_worded_with_its_plural():
    assert plural(1, "run") == "1 run" and plural(3, "pass", "passes") == "3 passes"
    assert plural(2.5, "pass", "passes") == "2.5 passes" and plural(2, "process", "processes") == "2 processes"
