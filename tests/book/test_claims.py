"""Verdicts follow the registry's rules and thresholds; `not_comparable` builds a record's reasons."""

import pytest

from paperlib.book import paper_numbers
from paperlib.book.claims import CLAIMS, CLAIMS_BY_ID, PROVENANCES
from paperlib.book.verdicts import NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, judge, not_comparable

GAMMA = CLAIMS_BY_ID["gamma_interval"]


def rec(profile="cpu", **metrics):
    return {"scaling_law": {"profile": profile, "metrics": metrics, "not_comparable": {}}}


def test_no_record_is_not_run():
    assert judge(GAMMA, {}).status == NOT_RUN


def test_missing_metric_is_not_run():
    verdict = judge(GAMMA, rec(gamma_low=0.44, gamma_high=None))
    assert verdict.status == NOT_RUN and "gamma_high" in verdict.reason
    # a notebook's NaN is the record's null: judged while the notebook runs, it gives the record's verdict
    assert judge(GAMMA, rec("quick", gamma_low=0.44, gamma_high=float("nan"))).status == NOT_RUN
    # a chapter that says why it could not measure them is not comparable for that reason, not "not run"
    records = rec(gamma_low=0.44, gamma_high=None)
    records["scaling_law"]["not_comparable"] = {"gamma_interval": "inconclusive: too few slices"}
    verdict = judge(GAMMA, records)
    assert verdict.status == NOT_COMPARABLE and verdict.reason == "inconclusive: too few slices (no gamma_high)"


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


def test_not_comparable_joins_the_reasons_given():
    assert not_comparable(["copy_4128", "rt_accumulate"], "cpu profile", None, "", "short run") == {
        "copy_4128": "cpu profile; short run", "rt_accumulate": "cpu profile; short run"}
    assert not_comparable(["copy_4128"], None, "") == {}
    assert not_comparable(["copy_4128"]) == {}
    with pytest.raises(KeyError, match="no_such_claim"):
        not_comparable(["copy_4128", "no_such_claim"], "reason")


EPS = 1e-9
# claim id, metrics exactly at its threshold (reproduced), the metric to move and the direction that fails
AT_THE_LINE = [
    ("rt_linear_time", {"time_exponent_recurrent": 1.0, "time_exponent_recurrent.ci_high": paper_numbers.LINEAR_EXPONENT_MAX},
     "time_exponent_recurrent.ci_high", +1),
    ("rt_memory", {"memory_exponent_recurrent": 1.0, "memory_exponent_recurrent.ci_high": paper_numbers.LINEAR_EXPONENT_MAX,
                   "memory_ratio_at_max_len": 1.5}, "memory_exponent_recurrent.ci_high", +1),
    ("rt_memory", {"memory_exponent_recurrent": 1.0, "memory_exponent_recurrent.ci_high": 1.0,
                   "memory_ratio_at_max_len": 1.0 + 1e-6}, "memory_ratio_at_max_len", -1),
    ("shakespeare_forget", {"alpha_learned": paper_numbers.FORGET_ALPHA_MAX}, "alpha_learned", +1),
    ("copy_4128", {"copy_acc": paper_numbers.COPY_ACC_MIN}, "copy_acc", -1),
    ("selective_copy_4128", {"selective_copy_acc": paper_numbers.SELECTIVE_COPY_ACC_MIN}, "selective_copy_acc", -1),
    ("rt_accumulate", {"copy_acc": 1.0, "copy_final_noise_len": 1024, "copy_stalled_forget": 0.0,
                       "copy_final_noise_len_forget": 1024, "copy_acc_own_len_forget": 0.3,
                       "copy_acc_own_len_forget.ci_high": paper_numbers.FORGET_COPY_ACC_MAX - EPS},
     "copy_acc_own_len_forget.ci_high", +1),
    ("rt_accumulate", {"copy_acc": paper_numbers.COPY_ACC_MIN, "copy_final_noise_len": 1024, "copy_stalled_forget": 1.0,
                       "copy_final_noise_len_forget": 128, "copy_acc_own_len_forget": 0.9,
                       "copy_acc_own_len_forget.ci_high": 0.95}, "copy_acc", -1),
    ("lra_image", {"image_acc_recurrent": paper_numbers.NOTE_IMAGE_ACC["recurrent"] - paper_numbers.IMAGE_ACC_TOLERANCE + EPS,
                   "image_acc_regular": 0.40}, "image_acc_recurrent", -1),
    ("shakespeare_val_loss", {"val_loss_recurrent": paper_numbers.NOTE_SHAKESPEARE_LOSS["recurrent_pos"]
                              + paper_numbers.SHAKESPEARE_LOSS_TOLERANCE,
                              "val_loss_regular_1": 1.6, "val_loss_regular_6": 1.5},
     "val_loss_recurrent", +1),
]


@pytest.mark.parametrize("claim_id, metrics, moved, direction", AT_THE_LINE, ids=[row[0] for row in AT_THE_LINE])
def test_rules_apply_the_registry_thresholds_at_the_line(claim_id, metrics, moved, direction):
    claim = CLAIMS_BY_ID[claim_id]
    assert claim.rule(metrics)
    assert not claim.rule({**metrics, moved: metrics[moved] + direction * 1e-6})


def test_the_linear_time_rule_falls_back_to_the_point_estimate_without_an_interval():
    rule = CLAIMS_BY_ID["rt_linear_time"].rule
    assert rule({"time_exponent_recurrent": paper_numbers.LINEAR_EXPONENT_MAX})
    assert not rule({"time_exponent_recurrent": paper_numbers.LINEAR_EXPONENT_MAX + 1e-6})
    assert f"≤ {paper_numbers.LINEAR_EXPONENT_MAX}" in CLAIMS_BY_ID["rt_linear_time"].rule_text


def test_every_claim_says_what_it_is_its_caveat_and_its_budget():
    for claim in CLAIMS:
        assert claim.headline and claim.caveat and claim.provenance in PROVENANCES
        budget = claim.budget({}, {})
        assert budget.words and budget.fraction is None  # nothing recorded, nothing claimed
    assert CLAIMS_BY_ID["gamma_refit"].provenance == "robustness"
    assert CLAIMS_BY_ID["gamma_empirical"].provenance == "toy_scale"
    assert CLAIMS_BY_ID["wf_loss_variant"].provenance == "third_paper"


def copy_record(samples: float, acc: float, **parameters) -> dict:
    return {"copy_tasks": {"profile": "cpu", "metrics": {"copy_acc": acc, "copy_samples": samples},
                           "not_comparable": {}, "parameters": parameters}}


COPY = CLAIMS_BY_ID["copy_4128"]


def test_a_budget_is_ours_as_a_share_of_the_papers():
    budget = COPY.budget({"copy_samples": 17_600.0}, {})
    assert budget.fraction == pytest.approx(17_600 / paper_numbers.NOTE_COPY_SAMPLES)
    assert budget.words == "31 % of the paper's samples (17,600 of 57,600)"
    image = CLAIMS_BY_ID["lra_image"].budget({}, {"recurrent_steps": 400, "recurrent_batch": 32})
    assert image.fraction == pytest.approx(400 * 32 / paper_numbers.NOTE_IMAGE_SAMPLES)
    assert image.words == "0.062 % of the paper's samples (12,800 of 2.05e7)"
    assert "not recorded" in CLAIMS_BY_ID["lra_image"].budget({}, {"recurrent_steps": 400}).words
    assert CLAIMS_BY_ID["gamma_interval"].budget({}, {}).words.startswith("none:")
    assert CLAIMS_BY_ID["rt_linear_time"].budget({}, {}).words.startswith("no budget published")


def test_a_run_short_of_the_papers_budget_that_fails_the_claim_is_not_comparable():
    short_fail = judge(COPY, copy_record(28_800.0, 0.5))
    assert short_fail.status == NOT_COMPARABLE
    assert short_fail.reason == "budget short of the paper's stopping point: 50 % of the paper's samples (28,800 of 57,600)"
    assert judge(COPY, copy_record(28_800.0, 1.0)).status == REPRODUCED  # the claim met with less: stopping point reached
    assert judge(COPY, copy_record(paper_numbers.NOTE_COPY_SAMPLES, 0.5)).status == NOT_REPRODUCED  # the full budget


def test_a_declared_reason_and_a_short_budget_are_both_given():
    records = copy_record(28_800.0, 0.5)
    records["copy_tasks"]["not_comparable"] = {"copy_4128": "substitute data"}
    assert judge(COPY, records).reason.startswith("substitute data; budget short of the paper's stopping point")


def test_a_claim_the_record_says_it_did_not_run_is_not_run_with_its_reason_even_beside_metrics():
    records = copy_record(57_600.0, 1.0)
    records["copy_tasks"]["not_run"] = {"copy_4128": "this execution trained selective copy only"}
    verdict = judge(COPY, records)
    assert (verdict.status, verdict.reason) == (NOT_RUN, "this execution trained selective copy only")
    assert judge(CLAIMS_BY_ID["selective_copy_4128"], records).reason == "the record lacks selective_copy_acc"


def test_a_change_of_regularisation_or_cadence_keeps_the_verdict_and_is_stated_beside_it():
    verdict = judge(COPY, copy_record(57_600.0, 1.0, dropout=0.0, eval_every=25, eval_batches=100, lr=0.001))
    assert verdict.status == REPRODUCED
    assert verdict.kept == ("dropout 0 (paper 0.05)", "steps between validations 25 (paper 100)")
    assert judge(COPY, copy_record(57_600.0, 1.0, dropout=0.05)).kept == ()


def test_a_verdict_keeps_its_claims_qualifier_only_where_the_claim_was_judged():
    wf = CLAIMS_BY_ID["wf_mlp_few_iterations"]
    metrics = {"wf_mlp_advantage_100": -0.01, "wf_mlp_checkpoints_won": 0}
    judged = judge(wf, {"weber_fechner_mnist": {"profile": "cpu", "metrics": metrics, "not_comparable": {}}})
    assert (judged.status, judged.qualifier) == (NOT_REPRODUCED, "under our reading")
    quick = judge(wf, {"weber_fechner_mnist": {"profile": "quick", "metrics": metrics, "not_comparable": {}}})
    assert (quick.status, quick.qualifier) == (NOT_COMPARABLE, "")


def test_the_shakespeare_row_shows_the_n_gram_floor_when_the_record_has_it():
    ours = CLAIMS_BY_ID["shakespeare_val_loss"].ours
    losses = {"val_loss_recurrent": 1.9, "val_loss_regular_1": 2.3, "val_loss_regular_6": 2.2}
    assert ours(losses) == "1.9000 (regular 1-layer 2.3000, 6-layer 2.2000)"
    assert ours({**losses, "val_loss_ngram5": 1.67}) == "1.9000 (regular 1-layer 2.3000, 6-layer 2.2000; 5-gram floor 1.6700)"


def test_a_copy_row_names_the_length_its_seeds_were_scored_at_when_one_stopped_short_of_4128():
    ours = CLAIMS_BY_ID["selective_copy_4128"].ours
    seeds = {"selective_copy_acc": 0.6, "selective_copy_acc.seed0": 0.4, "selective_copy_acc.seed1": 0.8}
    assert ours({**seeds, "selective_copy_final_noise_len": 256.0}) == "60.00 % at length 288 (seeds: 40.0, 80.0 %)"
    assert ours({**seeds, "selective_copy_final_noise_len": 4096.0}) == "60.00 % (seeds: 40.0, 80.0 %)"
    assert CLAIMS_BY_ID["copy_4128"].ours({"copy_acc": 1.0, "copy_final_noise_len": 1024.0}) == "100.00 % at length 1,056"
