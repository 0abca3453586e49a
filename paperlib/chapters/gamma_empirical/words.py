"""The verdicts of 'Measuring γ' and the sentences that state directions, generated from the metrics, never typed:
why a claim gets no verdict (`inconclusive_reasons`), how the runs ended, γ and its cross-check, its precision,
the additive law, and the published fits before any training.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from paperlib.book.claims import CLAIMS_BY_ID
from paperlib.book.paper_numbers import CHINCHILLA_GAMMA, GAMMA_BAND
from paperlib.book.render import plural
from paperlib.book.wording import Record, decided, decided_verdict
from paperlib.chapters.gamma_empirical.analysis import SIMULATED_GRIDS, SIMULATED_RESAMPLES
from paperlib.chapters.gamma_empirical.metrics import _missing

BELOW_ONE, IN_BAND = CLAIMS_BY_ID["gamma_below_one"], CLAIMS_BY_ID["gamma_empirical"]


# ---------------------------------------------------------------------------------------------------------------
# The verdicts and the sentences that state directions (generated from the metrics, never typed)


def inconclusive_reasons(metrics: Mapping[str, float | None]) -> dict[str, str]:
    """Why each claim gets no verdict (the record then marks it not comparable), by claim id: no γ (fewer than
    three confirmed slices), a censored run in a counted slice, or an interval that straddles the claim's bounds."""
    m = metrics
    if _missing(m["gamma_knee"]):
        why = (f"inconclusive: only {plural(m['gamma_knee_slices'], 'slice')} of the grid confirm a plateau (γ needs "
               f"three); {plural(m['gamma_knee_unconfirmed'], 'slice')} still fall at the top of the ladder and "
               f"{plural(m['gamma_knee_below'], 'slice')} are flat from the smallest size")
        return {BELOW_ONE.id: why, IN_BAND.id: why}
    if m["censored_counted"]:
        why = (f"inconclusive: {plural(m['censored_counted'], 'run')} in the counted slices were still improving at "
               "the pass cap")
        return {BELOW_ONE.id: why, IN_BAND.id: why}
    low, high = m["gamma_knee.ci_low"], m["gamma_knee.ci_high"]
    reasons = {}
    if low <= CHINCHILLA_GAMMA <= high:
        reasons[BELOW_ONE.id] = f"inconclusive: γ's 95 % interval [{low:.2f}, {high:.2f}] contains 1"
    if not (high < GAMMA_BAND[0] or low > GAMMA_BAND[1]) and not (GAMMA_BAND[0] <= low and high <= GAMMA_BAND[1]):
        reasons[IN_BAND.id] = (f"inconclusive: γ's 95 % interval [{low:.2f}, {high:.2f}] overlaps "
                               f"[{GAMMA_BAND[0]}, {GAMMA_BAND[1]}] without lying inside it")
    return reasons


def training_words(record: Record, frame: pd.DataFrame) -> str:
    """How the runs ended (the record's counts): stopped on a plateau or at the cap, censored (rule
    ``budget_bound``), not learned, their passes, and what this execution trained and loaded."""
    m = record["metrics"]
    runs, capped, censored_runs = m["n_runs"], m["capped_runs"], m["censored_runs"]
    text = (f"Of the {plural(runs, 'run')}, {runs - capped:.0f} stopped on a plateau and {capped:.0f} reached the pass "
            "cap. " + decided("budget_bound", record, ["censored_runs"], {
                "budget-bound": f"{plural(censored_runs, 'run')} {'was' if censored_runs == 1 else 'were'} still "
                                "improving there (censored): their losses hold within this cap only.",
                "settled": "None was still improving there: no run is censored."})
            + f" {plural(m['not_learned_runs'], 'run')} did not learn. The best weights came after "
            f"{frame.best_passes.min():.1f} to {frame.best_passes.max():.1f} passes over the slice "
            f"(median {frame.best_passes.median():.1f}). ")
    return text + cache_words(m)


def cache_words(m: Mapping[str, float]) -> str:
    """What this execution trained and what it loaded, with the worker-minutes of each."""
    trained = (f"This execution trained {plural(m['runs_trained_now'], 'run')} "
               f"({m['trained_worker_min']:.1f} worker-minutes)")
    if not m["runs_loaded"]:
        return trained + " and loaded none from the cache."
    return (f"{trained} and loaded {plural(m['runs_loaded'], 'run')} from the cache, which took "
            f"{m['loaded_worker_min']:.1f} worker-minutes when they were trained: the wall time in the box above "
            "does not include them.")


def gamma_words(record: Record) -> str:
    """γ with its interval against 1 (rule ``reference``) and against the paper's band, the cross-check of the
    joint fit (``reference`` on the paired difference against 0), and the two verdicts."""
    m = record["metrics"]
    if _missing(m["gamma_knee"]):
        text = (f"**In words.** No γ could be measured: "
                f"{inconclusive_reasons(m)[IN_BAND.id].removeprefix('inconclusive: ')}. ")
    else:
        grows = (f"The fewest parameters within ε of the plateau grow as D^{m['gamma_knee']:.2f} "
                 f"(95 % CI [{m['gamma_knee.ci_low']:.2f}, {m['gamma_knee.ci_high']:.2f}], "
                 f"{plural(m['gamma_knee_slices'], 'slice')})")
        text = "**In words.** " + decided("reference", record, ["gamma_knee", "=1"], {
            "lower": f"{grows}: slower than N ∝ D.", "higher": f"{grows}: faster than N ∝ D.",
            "not separated": f"{grows}: not separated from N ∝ D."}) + " "
        text += _joint_sentence(record) + " "
    for claim, name in ((BELOW_ONE, "γ < 1"), (IN_BAND, "γ ∈ [0.44, 0.72]")):
        text += decided_verdict(record, claim.id, {
            "reproduced": f"{name} is {{words}}.", "not reproduced": f"{name} is {{words}}.",
            "not comparable": f"{name} gets no verdict ({{reason}}).",
            "not run": f"{name} gets no verdict ({{reason}})."}) + " "
    return text + ("Both are measured at toy scale, character-level models of thousands to a few hundred thousand "
                   "parameters on slices of one small corpus: they cannot decide the value of γ for LLMs.")


def _joint_sentence(record: Record) -> str:
    """Whether the joint fit's γ agrees with the knees' (rule ``reference``: the paired interval of their
    difference against 0)."""
    m = record["metrics"]
    if _missing(m["gamma_joint"]) or _missing(m["gamma_knee_minus_joint.ci_low"]):
        return "The joint fit gave no γ to compare."
    told = (f"The joint fit (one knee shape, a floor per slice) gives γ = {m['gamma_joint']:.2f}; the paired 95 % "
            f"interval of the difference, [{m['gamma_knee_minus_joint.ci_low']:+.2f}, "
            f"{m['gamma_knee_minus_joint.ci_high']:+.2f}],")
    return decided("reference", record, ["gamma_knee_minus_joint", "=0"], {
        "not separated": f"{told} contains 0: the two agree.",
        "lower": f"{told} lies below 0: they disagree.", "higher": f"{told} lies above 0: they disagree."})


def precision_words(m: Mapping[str, float]) -> str:
    """The precision the real runs gave beside what synthetic grids like them give."""
    real = (f"The real runs gave a 95 % interval {m['gamma_knee_half_width']:.2f} wide on each side"
            if not _missing(m["gamma_knee_half_width"]) else "The real runs gave no interval")
    if _missing(m["simulated_half_width"]):
        return real + "; without a joint fit there is no synthetic grid to compare it with."
    return (f"{real}. Synthetic grids of the same sizes, seeds and seed noise, drawn from the joint fit "
            f"({SIMULATED_GRIDS} of them, {SIMULATED_RESAMPLES} resamples each), give a mean half-width of "
            f"{m['simulated_half_width']:.2f}, and their intervals held the true γ in "
            f"{100 * m['simulated_coverage']:.0f} % of them.")


def additive_words(record: Record) -> str:
    """Where the additive law fails on these runs (rule ``reference``: the test's p against 0.05) and what the
    paper's relation makes of its β̂ under both conventions."""
    m = record["metrics"]
    test = (f"The additivity test gives F = {m['additive_F']:.2f}, p = {m['additive_p']:.2g}"
            if not _missing(m["additive_p"]) else "")
    shape = "" if not test else decided("reference", record, ["=additive_p", "=0.05"], {
        "lower": f"{test}: the curve in N changes with D, so no additive law describes these runs and its α̂, β̂ "
                 "and Ê are a summary, not a measurement.",
        "higher": f"{test}: these runs do not reject one curve in N shifted with D.",
        "not separated": f"{test}: at the 5 % level."}) + " "
    return (f"**In words.** {shape}With E the fit gives β̂ = {m['beta_hat']:.2f}, so [1 − 2β̂, 1 − β̂] = "
            f"[{m['gamma_pred_low']:.2f}, {m['gamma_pred_high']:.2f}]; without E, β̂ = {m['beta_hat_no_E']:.2f} and "
            f"[{m['gamma_pred_no_E_low']:.2f}, {m['gamma_pred_no_E_high']:.2f}]. Its residuals at a seed mean run "
            f"from {m['additive_residual_low']:+.3f} to {m['additive_residual_high']:+.3f} nats, against a seed SD of "
            f"{m['seed_sd']:.3f}. This band is the paper's relation applied to a fitted law, so it is context here: "
            "γ is measured from the knees, which assume no law.")


def published_words(table: pd.DataFrame) -> str:
    """Whether the paper's interval and its own loss law agree, fit by fit, before any training."""
    outside = table[table["β/α in [1 − 2β, 1 − β]"] == "no"]
    parts = [f"{name} gives β/α = {row['β/α']:.2f} against [{row['1 − 2β']:.2f}, {row['1 − β']:.2f}]"
             for name, row in table.iterrows()]
    verdict = ("none of them puts β/α inside the paper's interval" if len(outside) == len(table) else
               "every one puts β/α inside the paper's interval" if outside.empty else
               f"β/α lies inside the paper's interval for {len(table) - len(outside)} of the {len(table)} fits")
    return f"**Before any training.** {'; '.join(parts)}: {verdict}."
