"""Verdicts and runs as the reader sees them: the dashboard (terminal text and the book's page), the
verdict table that ends each chapter (judged by the same rules), and the box that says on each page
what was run, where and how long it took.

Markdown here is MyST (the book renders notebook Markdown outputs as MyST): verdicts are coloured
sphinx-design badges that carry their word, so they read without a colour-emoji font.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import nbformat
from IPython.display import Markdown

from paperlib.book.claims import CLAIMS_BY_ID, PROVENANCES, Claim
from paperlib.book.verdicts import NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, Verdict, judge, run_record
from paperlib.paths import notebooks_dir

BADGES = {REPRODUCED: "{bdg-success}`reproduced`", NOT_REPRODUCED: "{bdg-danger}`not reproduced`",
          NOT_COMPARABLE: "{bdg-warning}`not comparable`", NOT_RUN: "{bdg-secondary}`not run`"}
# The dashboard's groups, in order: (heading, what the group's verdicts can say, which claims it holds)
GROUPS: tuple[tuple[str, str, Callable[[Claim], bool]], ...] = (
    ("Arithmetic checks of the paper's derivation",
     "These only check that our reconstruction of the derivation gives the paper's numbers from the paper's own "
     "inputs; they show the derivation is consistent, not that it is true.",
     lambda c: c.kind == "arithmetic"),
    ("The papers' claims, tested by experiment",
     "Each is decided by experiments run for this book, under the rule in its row's details.",
     lambda c: c.kind == "empirical" and c.provenance == "paper"),
    ("The paper's relation, tested at toy scale",
     "The paper states the relation; it runs no experiment. We measure it on models far smaller than an LLM.",
     lambda c: c.kind == "empirical" and c.provenance == "toy_scale"),
    ("The book's robustness tests",
     "Not the paper's claim: whether it survives a change of its input that the paper did not make.",
     lambda c: c.kind == "empirical" and c.provenance == "robustness"),
    ("A third paper's idea, under our reading",
     "An idea from another paper of the author's, known from its abstract: the verdict is on our interpretation.",
     lambda c: c.kind == "empirical" and c.provenance == "third_paper"),
)
PROFILE_WORDS = {"quick": "proves the code path only; its numbers mean nothing",
                 "cpu": "the most faithful run that fits two CPU cores",
                 "paper": "the paper's own configuration"}
ANSWER_FIELDS = ("answer", "claim", "number", "budget", "caveat")  # the verdict box's fields, besides the figure link


def plural(n: float, noun: str, many: str | None = None) -> str:
    """'1 run', '3 runs' ('1 pass', '2 passes' with `many`)."""
    count = int(n) if float(n).is_integer() else n
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


def render_text(verdicts: Sequence[Verdict]) -> str:
    """The dashboard as a plain-text table for the terminal; under a claim that got no verdict (not comparable,
    not run), the reason, as the book shows it."""
    header = ("claim", "paper", "ours", "spread", "profile", "verdict")
    rows = [(v.claim.id, v.claim.paper_value, v.ours, v.spread, v.profile, v.words) for v in verdicts]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[Any]) -> str:
        return "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip()

    lines = [line(header), line(["-" * w for w in widths])]
    for v, row in zip(verdicts, rows):
        lines.append(line(row))
        if v.status not in (REPRODUCED, NOT_REPRODUCED) and v.reason:
            lines.append(f"    why: {v.reason}")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def verdict_words(v: Verdict) -> str:
    """The verdict as MyST: its badge, and the qualifier it keeps ("under our reading")."""
    return f"{BADGES[v.status]} {v.qualifier}".strip()


def _number(v: Verdict) -> str:
    return v.ours + (f" ({v.spread})" if v.spread else "")


def claim_link(v: Verdict) -> str:
    """A MyST reference to the claim's entry on the dashboard."""
    return f"{{ref}}`{v.claim.title} <claim-{v.claim.id}>`"


def summary_markdown(verdicts: Sequence[Verdict], lead: str = "**In short.**") -> str:
    """"In short": for each group of the dashboard, its claims named (and linked) under each verdict, after
    ``lead`` ("" for none)."""
    lines = [lead, ""] if lead else []
    for heading, _, holds in GROUPS:
        group = [v for v in verdicts if holds(v.claim)]
        if not group:
            continue
        by_verdict: dict[str, list[Verdict]] = {}
        for v in sorted(group, key=lambda v: list(BADGES).index(v.status)):
            by_verdict.setdefault(v.words, []).append(v)
        parts = [f"*{words}*: " + ", ".join(map(claim_link, named)) for words, named in by_verdict.items()]
        if len(parts) == 1:
            lines.append(f"- **{heading}** — {parts[0]}.")
        else:
            lines += [f"- **{heading}**", *(f"  - {part}" for part in parts)]
    return "\n".join(lines)


def _note(v: Verdict) -> str:
    """Why a claim was not judged, or the changes stated beside its verdict, or ""."""
    if v.status in (NOT_RUN, NOT_COMPARABLE):
        return v.reason
    return "stated beside it: " + "; ".join(v.kept) if v.kept else ""


def _budget(v: Verdict) -> str:
    return v.budget.words if v.budget else "—"


def render_markdown(verdicts: Sequence[Verdict], records: Mapping[str, Mapping[str, Any]]) -> str:
    """The book's claims page: the summary, the claims grouped by provenance, the runs, then each claim in full."""
    lines = [
        "# Claims dashboard",
        "",
        summary_markdown(verdicts),
        "",
        "```{note}",
        "This page is generated by `paperlib claims --write book/claims.md` from the claims registry",
        "(`paperlib/book/claims.py`) and the run records in `book/results/`. Do not edit it by hand.",
        "One rule decides which runs get a verdict ({ref}`methods-deviations`): the paper's task and data, its",
        "model and a budget that reaches its stopping point give *reproduced* or *not reproduced*; a change of",
        "regularisation on fresh data or of validation cadence keeps the verdict and is stated beside it; a",
        "substitute dataset, a scaled-down model, a budget short of the stopping point or the quick profile makes",
        "it *not comparable*, with the reason in its row.",
        "```",
    ]
    for heading, explanation, holds in GROUPS:
        group = [v for v in verdicts if holds(v.claim)]
        if not group:
            continue
        lines += ["", f"## {heading}", "", explanation, "",
                  "| verdict | claim | paper | ours | budget | reason or note |", "|---|---|---|---|---|---|"]
        lines += [f"| {verdict_words(v)} | [{_cell(v.claim.title)}](claim-{v.claim.id}) | {_cell(v.claim.paper_value)} | "
                  f"{_cell(_number(v))} | {_cell(_budget(v))} | {_cell(_note(v) or '—')} |"
                  for v in group]
    lines += ["", "## Runs", "", runs_table(records)]
    lines += ["", "## The claims", ""]
    for v in verdicts:
        chapter = (f"[{chapter_title(v.claim.notebook)}]({v.claim.notebook}.ipynb)" if v.claim.notebook in records
                   else f"{chapter_title(v.claim.notebook)} (not yet run)")
        lines += [
            f"(claim-{v.claim.id})=",
            f"### {v.claim.title}",
            "",
            f"*{v.claim.paper}*: {v.claim.statement}",
            "",
            f"- **What it is:** {PROVENANCES[v.claim.provenance]}",
            f"- **Paper's value:** {v.claim.paper_value}",
            f"- **Ours:** {_number(v)}",
            f"- **Budget:** {_budget(v)}",
            f"- **Rule:** {v.claim.rule_text}",
            f"- **Verdict:** {verdict_words(v)}" + (f" — {_note(v)}" if _note(v) else ""),
            f"- **Caveat:** {v.claim.caveat}",
            f"- **Chapter:** {chapter}; claim id `{v.claim.id}`",
            "",
        ]
    return "\n".join(lines)


def runs_table(records: Mapping[str, Mapping[str, Any]]) -> str:
    """Each chapter's latest run as a Markdown table (profile, wall time, machine, start and data), its links
    relative to a page beside the chapters."""
    lines = ["| chapter | profile | wall time | where | started (UTC) | data |", "|---|---|---|---|---|---|"]
    lines += [f"| [{_cell(chapter_title(name))}]({name}.ipynb) | {rec['profile']} | {_wall_cell(rec)} | "
              f"{_cell(_where(rec))} | {rec['started_at'][:16].replace('T', ' ')} | {_cell(_data(rec))} |"
              for name, rec in sorted(records.items())]
    return "\n".join(lines)


def answer_fields(v: Verdict) -> dict[str, str]:
    """What the verdict box at the top of a chapter says of one claim, as MyST: the verdict with its qualifier,
    the claim in one line, our number with its interval beside the paper's, the budget reached and the one caveat
    that matters (the reason, where the claim could not be judged) — `ANSWER_FIELDS` — and, where the run changed
    something that keeps the verdict, ``kept``."""
    judged = v.status in (REPRODUCED, NOT_REPRODUCED)
    fields = {
        "answer": verdict_words(v),
        "claim": v.claim.headline,
        "number": f"ours {_number(v)} · paper {v.claim.paper_value}",
        "budget": _budget(v),
        "caveat": v.claim.caveat if judged else v.reason,
    }
    return {**fields, "kept": "; ".join(v.kept)} if judged and v.kept else fields


def chapter_title(name: str) -> str:
    """The first heading of notebook `name`, or the name itself."""
    path = notebooks_dir() / f"{name}.ipynb"
    if path.is_file():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown" and cell.source.startswith("# "):
                return cell.source.splitlines()[0][2:].strip()
    return name


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _where(rec: Mapping[str, Any]) -> str:
    hw = rec.get("hardware", {})
    return hw.get("where") or f"{hw.get('gpu') or hw.get('cpu', '?')} ({hw.get('cpu_count', '?')} cores)"


def _data(rec: Mapping[str, Any]) -> str:
    """Each dataset of a record: its name, whether it is a substitute, and the start of its sha256."""
    return "; ".join(d["dataset"] + (" (substitute)" if d.get("substitute") else "")
                     + (f", sha256 {d['sha256'][:12]}…" if d.get("sha256") else "")
                     for d in rec.get("datasets", [])) or "—"


def _loaded(rec: Mapping[str, Any]) -> tuple[float, float] | None:
    """What the wall time leaves out, for a record whose runs were partly read from a cache (metrics
    ``runs_loaded`` and ``loaded_worker_min``): how many, and the training minutes they took when trained."""
    metrics = rec.get("metrics", {})
    loaded = metrics.get("runs_loaded")
    return (loaded, metrics.get("loaded_worker_min") or 0) if loaded else None


def _cached(rec: Mapping[str, Any]) -> str:
    """`_loaded` in the words of the "This run" box (empty when nothing was loaded)."""
    loaded = _loaded(rec)
    return "" if loaded is None else (f" · {plural(loaded[0], 'run')} read from the cache, not trained in this wall "
                                      f"time ({loaded[1]:.0f} worker-minutes when they were trained)")


def _forecast(rec: Mapping[str, Any]) -> str:
    """The forecast the runner printed before the run, in the words of the "This run" box (empty without one)."""
    forecast = rec.get("forecast")
    return "" if not forecast else (f" (forecast before it ran: {_minutes(forecast['seconds'])} of training and "
                                    "evaluation on this CPU)")


def _wall_cell(rec: Mapping[str, Any]) -> str:
    """The wall time in the runs table, with the cached runs it leaves out (`_loaded`)."""
    loaded = _loaded(rec)
    return _minutes(rec["wall_time_s"]) + ("" if loaded is None else
                                           f" + {plural(loaded[0], 'cached run')} ({loaded[1]:.0f} worker-min)")


def run_summary(rec: Mapping[str, Any]) -> str:
    """The box each page opens with: profile, machine, wall time (and the runs it did not train), date, source
    commit and data."""
    source = rec.get("source") or {}
    commit = source.get("commit")
    revision = "" if not commit else f" · source `{commit[:10]}`" + (" with uncommitted changes" if source.get("dirty") else "")
    data = _data(rec)
    return "\n".join([
        "```{admonition} This run",
        ":class: note",
        f"Profile **{rec['profile']}** ({PROFILE_WORDS.get(rec['profile'], 'custom')}) · ran on {_where(rec)} · "
        f"**{_minutes(rec['wall_time_s'])}** wall time{_cached(rec)}{_forecast(rec)} · started {rec['started_at'][:16].replace('T', ' ')} UTC"
        f"{revision}" + ("" if data == "—" else f" · data: {data}") + f" · record `book/results/{rec['notebook']}.json`",
        "```",
    ])


def verdicts_for_run(claim_ids: Sequence[str], metrics: Mapping[str, float], profile: str,
                     not_comparable: Mapping[str, str] | None = None,
                     parameters: Mapping[str, Any] | None = None, not_run: Mapping[str, str] | None = None
                     ) -> list[Verdict]:
    """Judge ``claim_ids`` on this run's metrics (and parameters, and the claims it did not run) exactly as the
    dashboard will judge its record."""
    unknown = [cid for cid in claim_ids if cid not in CLAIMS_BY_ID]
    if unknown:
        raise KeyError(f"unknown claim ids: {unknown}")
    rec = run_record(dict(metrics), profile, not_comparable, parameters, not_run)
    return [judge(CLAIMS_BY_ID[cid], {CLAIMS_BY_ID[cid].notebook: rec}) for cid in claim_ids]


def verdict_table(verdicts: Sequence[Verdict]) -> Markdown:
    """A table of verdicts with the rule (or the reason) that decided each."""
    lines = ["| claim | paper | ours | spread | verdict | why |", "|---|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {_cell(v.claim.title)} | {_cell(v.claim.paper_value)} | {_cell(v.ours)} | "
                     f"{_cell(v.spread or '—')} | {verdict_words(v)} | {_cell(v.reason)} |")
    return Markdown("\n".join(lines))
