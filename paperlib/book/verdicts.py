"""Verdicts: a claim of the registry judged on the latest run record of its notebook.

*not run* (no record, or the record lacks the metrics), *not comparable* (quick profile, or the run
declared a substitute dataset or a scaled-down configuration for this claim), else *reproduced* or
*not reproduced* by the claim's rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from paperlib.book.claims import CLAIMS, CLAIMS_BY_ID, Claim
from paperlib.book.metrics import Declaration

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_COMPARABLE = "not comparable"
NOT_RUN = "not run"


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    status: str
    ours: str = "—"
    spread: str = ""
    profile: str = "—"
    reason: str = ""


def judge(claim: Claim, records: Mapping[str, Mapping[str, Any]]) -> Verdict:
    """The verdict on ``claim`` from the latest records (by notebook name)."""
    rec = records.get(claim.notebook)
    if rec is None:
        return Verdict(claim, NOT_RUN, reason=f"no run record for notebook {claim.notebook!r}")
    metrics = rec.get("metrics", {})
    missing = [name for name in claim.metrics if metrics.get(name) is None]
    if missing:
        return Verdict(claim, NOT_RUN, profile=rec["profile"], reason=f"the record lacks {', '.join(missing)}")
    ours, spread = claim.ours(metrics), claim.spread(metrics)
    if rec["profile"] == "quick":
        return Verdict(claim, NOT_COMPARABLE, ours, spread, "quick", "quick profile: proves the code path only")
    reason = rec.get("not_comparable", {}).get(claim.id) or _configuration_differs(claim, rec.get("parameters", {}))
    if reason:
        return Verdict(claim, NOT_COMPARABLE, ours, spread, rec["profile"], reason)
    status = REPRODUCED if claim.rule(metrics) else NOT_REPRODUCED
    return Verdict(claim, status, ours, spread, rec["profile"], claim.rule_text)


def _configuration_differs(claim: Claim, parameters: Mapping[str, Any]) -> str:
    """Why the run's configuration is not the claim's (a parameter the claim requires differs or was not
    recorded), or ""."""
    differ = [f"{name} {parameters.get(name, 'not recorded')} (the claim's: {value})"
              for name, value in claim.requires.items() if parameters.get(name) != value]
    return f"scaled-down configuration: {', '.join(differ)}" if differ else ""


def dashboard(records: Mapping[str, Mapping[str, Any]], declarations: Mapping[str, Declaration] | None = None
              ) -> list[Verdict]:
    """Every claim judged on the records (by notebook name), each record's metrics read through its chapter's
    declaration where `declarations` has one: a rule that reads an undeclared name raises `UndeclaredMetric`."""
    declared = declarations or {}
    viewed = {name: {**rec, "metrics": declared[name].view(rec.get("metrics", {}))} if name in declared else rec
              for name, rec in records.items()}
    return [judge(claim, viewed) for claim in CLAIMS]


def not_comparable(claim_ids: Iterable[str], *reasons: str | None) -> dict[str, str]:
    """Each claim id mapped to every reason given (the empty ones dropped, the rest joined with "; "),
    or an empty mapping when there is no reason: the `not_comparable` of a run record."""
    unknown = [cid for cid in claim_ids if cid not in CLAIMS_BY_ID]
    if unknown:
        raise KeyError(f"unknown claim ids: {unknown}")
    why = "; ".join(r for r in reasons if r)
    return {cid: why for cid in claim_ids} if why else {}
