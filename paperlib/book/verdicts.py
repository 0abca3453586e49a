"""Verdicts: a claim of the registry judged on the latest run record of its notebook, under one rule for
deviations from the paper's set-up (methods page, deviations):

*not run* (no record, a record that says why it did not run the claim, or one that lacks the metrics); *not
comparable* (the quick profile; a substitute
dataset or a scaled-down configuration the run declared for this claim; a parameter the claim requires that
differs; or a budget short of the paper's stopping point: less training than the paper's without meeting the
claim); else *reproduced* or *not reproduced* by the claim's rule, with the claim's qualifier ("under our
reading") and any change of regularisation or validation cadence stated beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from paperlib.book.claims import CLAIMS, CLAIMS_BY_ID, Budget, Claim
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
    budget: Budget | None = None  # None when not run
    kept: tuple[str, ...] = ()  # changes that keep the verdict, stated beside it ("dropout 0 (paper 0.05)")

    @property
    def qualifier(self) -> str:
        """The claim's qualifier where the claim was judged ("under our reading"), else ""."""
        return self.claim.qualifier if self.status in (REPRODUCED, NOT_REPRODUCED) else ""

    @property
    def words(self) -> str:
        """The verdict with the qualifier it keeps: "not reproduced under our reading"."""
        return f"{self.status} {self.qualifier}".strip()


def judge(claim: Claim, records: Mapping[str, Mapping[str, Any]]) -> Verdict:
    """The verdict on ``claim`` from the latest records (by notebook name)."""
    rec = records.get(claim.notebook)
    if rec is None:
        return Verdict(claim, NOT_RUN, reason=f"no run record for notebook {claim.notebook!r}")
    if claim.id in rec.get("not_run", {}):  # an execution of part of the chapter says which part
        return Verdict(claim, NOT_RUN, profile=rec["profile"], reason=rec["not_run"][claim.id])
    metrics, parameters = rec.get("metrics", {}), rec.get("parameters", {})
    missing = [name for name in claim.metrics if _absent(metrics.get(name))]
    stated = rec.get("not_comparable", {}).get(claim.id)
    if missing and stated and rec["profile"] != "quick":  # the chapter says why it could not measure them
        return Verdict(claim, NOT_COMPARABLE, profile=rec["profile"], reason=f"{stated} (no {', '.join(missing)})")
    if missing:
        return Verdict(claim, NOT_RUN, profile=rec["profile"], reason=f"the record lacks {', '.join(missing)}")
    ours, spread, budget = claim.ours(metrics), claim.spread(metrics), claim.budget(metrics, parameters)
    shown = dict(ours=ours, spread=spread, profile=rec["profile"], budget=budget, kept=_kept(claim, parameters))
    if rec["profile"] == "quick":
        return Verdict(claim, NOT_COMPARABLE, reason="quick profile: proves the code path only", **shown)
    met = claim.rule(metrics)
    reasons = [stated, _configuration_differs(claim, parameters),
               _short_budget(budget, met)]
    if any(reasons):
        return Verdict(claim, NOT_COMPARABLE, reason="; ".join(r for r in reasons if r), **shown)
    return Verdict(claim, REPRODUCED if met else NOT_REPRODUCED, reason=claim.rule_text, **shown)


def _absent(value: Any) -> bool:
    """A metric the record lacks: missing, or not finite (a notebook's NaN, which the record stores as null)."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _configuration_differs(claim: Claim, parameters: Mapping[str, Any]) -> str:
    """Why the run's configuration is not the claim's (a parameter the claim requires differs or was not
    recorded), or ""."""
    differ = [f"{name} {parameters.get(name, 'not recorded')} (the claim's: {value})"
              for name, value in claim.requires.items() if parameters.get(name) != value]
    return f"scaled-down configuration: {', '.join(differ)}" if differ else ""


def _short_budget(budget: Budget, met: bool) -> str:
    """Why a run that did not meet the claim says nothing against it: it had less training than the paper's
    (it stopped short of the paper's stopping point), or ""."""
    if met or budget.fraction is None or budget.fraction >= 1:
        return ""
    return f"budget short of the paper's stopping point: {budget.words}"


def _kept(claim: Claim, parameters: Mapping[str, Any]) -> tuple[str, ...]:
    """The run's changes of regularisation or validation cadence, which keep the verdict (stated beside it)."""
    return tuple(f"{what} {parameters[name]:g} (paper {paper:g})"
                 for name, (what, paper) in claim.stated_beside.items()
                 if name in parameters and parameters[name] != paper)


def dashboard(records: Mapping[str, Mapping[str, Any]], declarations: Mapping[str, Declaration] | None = None
              ) -> list[Verdict]:
    """Every claim judged on the records (by notebook name), each record's metrics read through its chapter's
    declaration where `declarations` has one: a rule that reads an undeclared name raises `UndeclaredMetric`."""
    declared = declarations or {}
    viewed = {name: {**rec, "metrics": declared[name].view(rec.get("metrics", {}))} if name in declared else rec
              for name, rec in records.items()}
    return [judge(claim, viewed) for claim in CLAIMS]


def run_record(metrics: Mapping[str, float | None], profile: str, not_comparable: Mapping[str, str] | None = None,
               parameters: Mapping[str, Any] | None = None, not_run: Mapping[str, str] | None = None) -> dict[str, Any]:
    """As much of a run record as a notebook knows while it runs, which is what `judge` and the wording rules
    (`paperlib.book.wording`) read: its profile, its metrics (as given, e.g. through the chapter's declaration), the
    claims it declares not comparable, its parameters and the claims it did not run (each with why)."""
    return {"profile": profile, "metrics": metrics, "not_comparable": dict(not_comparable or {}),
            "parameters": dict(parameters or {}), "not_run": dict(not_run or {})}


def not_comparable(claim_ids: Iterable[str], *reasons: str | None) -> dict[str, str]:
    """Each claim id mapped to every reason given (the empty ones dropped, the rest joined with "; "),
    or an empty mapping when there is no reason: the `not_comparable` of a run record."""
    unknown = [cid for cid in claim_ids if cid not in CLAIMS_BY_ID]
    if unknown:
        raise KeyError(f"unknown claim ids: {unknown}")
    why = "; ".join(r for r in reasons if r)
    return {cid: why for cid in claim_ids} if why else {}
