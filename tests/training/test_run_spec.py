"""A run of a chapter's plan: its name, its checks, its cost, what it asks of the loop, its checkpoint's key."""

import pytest

from paperlib.models.configs import forward_flops
from paperlib.models.paper_configs import paper_config
from paperlib.training.callbacks import EarlyStop, KeepBest, ScheduledLR, StopBelow, WarmupCosine
from paperlib.training.optim import OptimizerConfig
from paperlib.training.plan import RunSpec, Stop

CFG = paper_config("shakespeare", "regular", n_embd=16, n_head=2, n_positions=32)


def spec(**changes):
    fields = dict(chapter="ch", stage="", family="regular_1", seed=3, model=CFG, task="text", steps=10, batch=4,
                  length=32, optimizer=OptimizerConfig(lr=1e-3), lr_schedule=None, eval_steps=(5, 10), eval_samples=8,
                  final_samples=2, ends_early="")
    return RunSpec(**{**fields, **changes})


def test_the_name_is_stage_family_and_seed():
    assert spec().name == "regular_1-seed3"
    assert spec(stage="sweep-lr0.001").name == "sweep-lr0.001-regular_1-seed3"
    with pytest.raises(ValueError, match="run names"):
        spec(family="a/b")
    with pytest.raises(ValueError, match="positive"):
        spec(steps=0)


def test_cost_is_three_forward_passes_per_training_sample_and_one_per_scored_one():
    run = spec()
    assert run.forward_flops == forward_flops(CFG, 32) > 0
    assert run.eval_total == 2 * 8 + 2
    assert run.flops() == pytest.approx(run.forward_flops * (3 * 10 * 4 + 18))


def test_the_schedule_gets_the_optimizers_learning_rate_and_a_chosen_optimizer_is_needed():
    assert spec().callbacks() == []
    [scheduled] = spec(lr_schedule=WarmupCosine(2, 10)).callbacks()
    assert isinstance(scheduled, ScheduledLR) and scheduled.peak == 1e-3
    unchosen = spec(optimizer=None, lr_schedule=WarmupCosine(2, 10))
    with pytest.raises(ValueError, match="with_optimizer"):
        unchosen.callbacks()
    assert unchosen.with_optimizer(OptimizerConfig(lr=0.1)).callbacks()[0].peak == 0.1


def test_the_checkpoint_key_is_everything_but_the_runs_length():
    assert spec().checkpoint_key == spec(steps=20, eval_steps=(10, 20)).checkpoint_key
    for changed in (spec(seed=4), spec(batch=8), spec(optimizer=OptimizerConfig(lr=2e-3)),
                    spec(lr_schedule=WarmupCosine(2, 10)), spec(ends_early="early stop at 0.1")):
        assert changed.checkpoint_key != spec().checkpoint_key


def test_stop_rules_become_the_loops_callbacks_after_the_schedule():
    rules = Stop(keep_best=True, patience=2, lr_cuts=1, train_loss_below=0.1)
    scheduled, best, plateau, below = spec(lr_schedule=WarmupCosine(2, 10), stop=rules, ends_early="early").callbacks()
    assert isinstance(scheduled, ScheduledLR) and isinstance(best, KeepBest) and isinstance(below, StopBelow)
    assert isinstance(plateau, EarlyStop) and (plateau.patience, plateau.cuts) == (2, 1)
    assert [type(c) for c in spec(stop=Stop(keep_best=True)).callbacks()] == [KeepBest]
    assert spec(stop=rules, ends_early="early").checkpoint_key != spec(stop=Stop(), ends_early="early").checkpoint_key


def test_stop_rules_are_checked_and_a_run_that_may_end_sooner_says_why():
    with pytest.raises(ValueError, match="ends_early"):
        spec(stop=Stop(patience=3))
    with pytest.raises(ValueError, match="patience"):
        Stop(lr_cuts=1)
    with pytest.raises(ValueError, match=">= 0"):
        Stop(train_loss_below=-1.0)
    assert not Stop(keep_best=True).ends_runs and Stop(train_loss_below=0.1).ends_runs
