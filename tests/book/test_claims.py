"""Verdicts follow the registry's rules and thresholds; `not_comparable` builds a record's reasons."""

import pytest

from paperlib.book import paper_numbers
from paperlib.book.claims import CLAIMS, CLAIMS_BY_ID
from paperlib.book.verdicts import NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, judge, not_comparable

GAMMA = CLAIMS_BY_ID["gamma_interval"]


def rec(profile="cpu", **metrics):
    return {"scaling_law": {"profile": profile, "metrics": metrics, "not_comparable": {}}}


def test_no_record_is_not_run():
    assert judge(GAMMA, {}).status == NOT_RUN


def test_missing_metric_is_not_run():
    verdict = judge(GAMMA, rec(gamma_low=0.44, gamma_high=None))
    assert verdict.status == NOT_RUN and "gamma_high" in verdict.reason


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
    ("rt_accumulate", {"copy_acc": 1.0, "copy_stalled_forget": 0.0, "copy_compared_noise_len_forget": 1024,
                       "copy_acc_compared_forget": paper_numbers.FORGET_COPY_ACC_MAX - EPS}, "copy_acc_compared_forget", +1),
    ("rt_accumulate", {"copy_acc": paper_numbers.COPY_ACC_MIN, "copy_stalled_forget": 1.0, "copy_compared_noise_len_forget": 128,
                       "copy_acc_compared_forget": 0.9}, "copy_acc", -1),
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
