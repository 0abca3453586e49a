"""What a chapter shows of its own verdicts: the same rules as the dashboard, applied to this run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from IPython.display import Markdown

from paperlib.claims import CLAIMS_BY_ID, Verdict, judge
from paperlib.dashboard import BADGES


def verdicts_for_run(claim_ids: Sequence[str], metrics: Mapping[str, float], profile: str,
                     not_comparable: Mapping[str, str] | None = None) -> list[Verdict]:
    """Judge ``claim_ids`` on this run's metrics exactly as the dashboard will judge its record."""
    unknown = [cid for cid in claim_ids if cid not in CLAIMS_BY_ID]
    if unknown:
        raise KeyError(f"unknown claim ids: {unknown}")
    results = []
    for cid in claim_ids:
        claim = CLAIMS_BY_ID[cid]
        rec = {"profile": profile, "metrics": dict(metrics), "not_comparable": dict(not_comparable or {})}
        results.append(judge(claim, {claim.notebook: rec}))
    return results


def verdict_table(verdicts: Sequence[Verdict]) -> Markdown:
    """A Markdown table of verdicts with the rule that decided each."""
    lines = ["| claim | paper | ours | spread | verdict | why |", "|---|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| `{v.claim.id}` | {v.claim.paper_value} | {v.ours} | {v.spread or '—'} | "
                     f"{BADGES[v.status]} | {v.reason} |")
    return Markdown("\n".join(lines))
