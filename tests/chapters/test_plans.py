"""Every chapter declares its run plan: `runs(params)` from its validated parameters under each profile, with
unique names; a chapter that trains nothing says what it computes (`work`)."""

import warnings

import pytest

from paperlib.book.runner import PROFILES, notebook_names, plan_run
from paperlib.chapters import chapter
from paperlib.data.text import load_shakespeare
from paperlib.training.plan import RunSpec


def needs_more_text(name, profile):
    """Whether the chapter's grid under `profile` asks for more text than this machine's Shakespeare has: the
    paper profile's 1M-character slice of measured γ on the approximation (no canonical file, offline)."""
    return name == "gamma_empirical" and profile == "paper" and load_shakespeare()[1].substitute


def params(name, profile):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the paper profile's warning on a machine without a GPU
        return plan_run(name, profile).parameters


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", notebook_names())
def test_every_chapter_plans_its_runs_from_its_parameters(name, profile):
    module = chapter(name)
    if needs_more_text(name, profile):  # a clear error before anything trains
        with pytest.raises(ValueError, match="exceeds the .* of the training split"):
            module.runs(params(name, profile))
        return
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


@pytest.mark.parametrize("profile", PROFILES)
def test_the_copy_plan_names_every_run_as_it_trains_with_the_model_it_trains(profile):
    from paperlib.chapters.copy_tasks import make_model, run_plan, runs
    from paperlib.chapters.copy_tasks.metrics import TASK_CHOICES
    from paperlib.models.configs import build_model

    p = params("copy_tasks", profile)
    configs, plan = run_plan(p), runs(p)
    assert [s.name for s in plan] == [c.name for c in configs]
    assert [(s.stage, s.family, s.seed) for s in plan] == [(c.task, c.family, c.seed) for c in configs]
    limit = min(p["limit"], p["cap"])
    for task, seeds in (("copy", p["seeds"]), ("selective_copy", p["selective_seeds"] or p["seeds"])):
        assert sorted(s.seed for s in plan if s.stage == task and s.family == "recurrent") == list(range(seeds))
        baselines = [s for s in plan if s.stage == task and s.family != "recurrent"]
        families = ("forget", "regular", f"{p['rnn']}_total", f"{p['rnn']}_dense")
        expected = [(f, k) for k in range(seeds) for f in families] if task in TASK_CHOICES[p["baselines"]] else []
        assert [(s.family, s.seed) for s in baselines] == expected
        compare = p["copy_compare_steps" if task == "copy" else "selective_compare_steps"]
        assert all(s.steps == compare for s in baselines if s.family != "forget")
    for config, spec in zip(configs, plan):
        assert str(build_model(spec.model)) == str(make_model(config.task, config.role, config.rnn, p["dropout"]))
        assert spec.length == limit + 32 and spec.curriculum.limit == limit
        assert sum(steps for _, steps in spec.schedule) <= spec.steps  # the forecast never exceeds the budget


@pytest.mark.parametrize("profile", PROFILES)
def test_the_gamma_plan_is_the_static_grid_at_its_caps(profile):
    from paperlib.chapters.gamma_empirical import design_from, runs, training_stream
    from paperlib.data.text import CharData

    if needs_more_text("gamma_empirical", profile):
        pytest.skip("the paper profile's grid needs the canonical tiny Shakespeare (../shared/data or the network)")
    p = params("gamma_empirical", profile)
    text, provenance = load_shakespeare()
    data = CharData.from_text(text)
    design = design_from(p, data.vocab_size, len(training_stream(data.train)), provenance.sha256, p["device"])
    plan = runs(p)
    rungs = [r.name for r in design.ladder]
    grid = [(D, rungs[r], p["seed"] + k) for D in sorted(design.sizes, reverse=True) for r in design.rungs_of(D)
            for k in range(p["seeds"])]
    assert [(int(s.stage.removeprefix("D")), s.family, s.seed) for s in plan] == grid
    assert plan[0].name == f"D{max(design.sizes)}-{rungs[design.rungs_of(max(design.sizes))[0]]}-seed{p['seed']}"
    for spec in plan:
        D, rung = int(spec.stage.removeprefix("D")), rungs.index(spec.family)
        assert spec.steps == design.max_steps(D) == spec.eval_steps[-1] and spec.ends_early.startswith("early stop")
        assert spec.eval_steps[0] == design.steps_per_pass(D), "a validation after every pass"
        assert spec.optimizer.lr == design.lrs[rung] and (spec.batch, spec.length) == (p["batch"], p["context"])
