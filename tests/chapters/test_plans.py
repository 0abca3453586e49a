"""Every chapter declares its run plan: `runs(params)` from its validated parameters under each profile, with
unique names; a chapter that trains nothing says what it computes (`work`). The copy tasks and measured γ
declare theirs in phase 2 of issue #22."""

import warnings

import pytest

from paperlib.book.runner import PROFILES, notebook_names, plan_run
from paperlib.chapters import chapter
from paperlib.training.plan import RunSpec

PHASE_2 = {"copy_tasks", "gamma_empirical"}  # issue #22, phase 2: their plans come with their rewrite


def params(name, profile):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the paper profile's warning on a machine without a GPU
        return plan_run(name, profile).parameters


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", notebook_names())
def test_every_chapter_plans_its_runs_from_its_parameters(name, profile):
    if name in PHASE_2:
        pytest.xfail(f"{name} declares its run plan in phase 2 of issue #22")
    module = chapter(name)
    plan = module.runs(params(name, profile))
    assert all(isinstance(spec, RunSpec) and spec.chapter == name for spec in plan)
    assert len({spec.name for spec in plan}) == len(plan), "a run's name is its only name: unique in the chapter"
    if not plan:
        assert module.work(params(name, profile)), "a chapter that trains nothing says what it computes"


def test_the_shakespeare_plan_is_every_model_once_per_seed_at_its_batch():
    from paperlib.chapters.shakespeare import MODEL_LABELS, runs

    p = params("shakespeare", "cpu")
    plan = runs(p)
    assert [s.family for s in plan] == [n for n in MODEL_LABELS for _ in range(p["seeds"])]
    assert {s.seed for s in plan} == set(range(p["seed"], p["seed"] + p["seeds"]))
    by_family = {s.family: s for s in plan}
    assert by_family["regular_6"].batch == p["batch_regular_6"] and by_family["recurrent_pos"].batch == p["batch_recurrent"]
    assert by_family["recurrent_pos"].model.vocab_size == 65 and runs(p, vocab_size=40)[0].model.vocab_size == 40
    assert by_family["regular_1"].lr_schedule.total == p["steps"] and by_family["regular_1"].optimizer.lr == p["lr"]
    assert runs({**p, "schedule": "constant"})[0].lr_schedule is None


def test_the_image_plan_gives_the_regular_model_the_recurrent_ones_compute_when_its_steps_are_zero():
    from paperlib.chapters.long_range_image import equal_compute_steps, image_configs, runs

    p = params("long_range_image", "cpu")
    assert p["regular_steps"] == 0
    regular = next(s for s in runs(p) if s.family == "regular")
    n = p["side"] ** 2
    assert regular.steps == equal_compute_steps(image_configs(n, p["dropout"]), n, p["recurrent_steps"],
                                                p["recurrent_batch"], p["regular_batch"])
    assert regular.ends_early.startswith("early stop") and regular.final_samples == p["n_test"]
    assert next(s for s in runs({**p, "regular_steps": 7}) if s.family == "regular").steps == 7
