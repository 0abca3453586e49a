"""Deadlines and deferrals of named runs: a clean stop with the checkpoint saved, and a resume that finishes
exactly as the uninterrupted run does."""

import pytest
import torch

from paperlib.context import RunContext
from paperlib.models.paper_configs import build, paper_config
from paperlib.training import checkpoint
from paperlib.training.batches import shuffled_batches
from paperlib.training.deadline import Deadline, DeadlineReached, RunDeferred
from paperlib.training.device import configure_device
from paperlib.training.loop import init, train
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig
from paperlib.training.run import Checkpointing, checkpoint_path, train_resumable

SEQ, BATCH, STEPS = 16, 8, 12
META = {"what": "deadline"}


class FakeClock:
    """Seconds that advance by one per reading: a run's steps take one second each, whatever the machine."""

    def __init__(self, start: float = 0.0):
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def tiny_state():
    cfg = paper_config("image", "recurrent", n_positions=SEQ, block=4, dropout=0.1)  # dropout: the RNG matters
    return init(lambda: build(cfg), OptimizerConfig(lr=1e-2), 0, configure_device("cpu"))


def sampler():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, SEQ), generator=g).to(torch.uint8)
    return shuffled_batches(x, (x[:, -1] > 127).long(), BATCH)


def weight_sum(state):
    return {"w": float(state.model.wte.weight.sum())}


def go(state, steps=STEPS, resume=False, callbacks=(), context=RunContext()):
    return train_resumable(state, sampler(), model_loss(), steps, chapter="t", name="tiny", meta=META,
                           checkpointing=Checkpointing(every=5, resume=resume), context=context,
                           callbacks=callbacks, eval_steps=[4, 8, 12], evaluate=weight_sum, show_progress=False)


def test_the_callback_stops_before_a_step_that_could_end_inside_the_margin():
    state = tiny_state()
    clock = FakeClock()  # on_start reads 1; step k ends at reading k + 1
    deadline = Deadline(at=20.0, steps=100, margin_s=5.0, clock=clock)
    with pytest.raises(DeadlineReached, match="at step 13 of 100"):
        train(state, sampler(), model_loss(), 100, callbacks=[deadline], show_progress=False)
    assert state.step == 13  # after step 13 (time 14), one more second would reach 15 = 20 - 5
    finished = Deadline(at=0.0, steps=13, clock=FakeClock())
    train(state, sampler(), model_loss(), 13, callbacks=[finished], show_progress=False)  # nothing left: no raise


def test_a_deadline_in_the_past_stops_a_run_before_its_first_step(isolated_cache):
    state = tiny_state()
    with pytest.raises(DeadlineReached, match="tiny: .*at step 0 of 12.*checkpoint saved"):
        go(state, context=RunContext(deadline=0.0))
    assert state.step == 0 and checkpoint.resume(checkpoint_path("t", "tiny", META), tiny_state(), META) == 0


def test_a_run_stopped_at_a_deadline_resumes_and_finishes_as_the_uninterrupted_one(isolated_cache):
    straight = tiny_state()
    go(straight)
    (isolated_cache / "checkpoints").rename(isolated_cache / "straight")  # the next run starts afresh
    interrupted = tiny_state()
    with pytest.raises(DeadlineReached, match="checkpoint saved to .*run again with resume"):
        go(interrupted, callbacks=[Deadline(at=39.0, steps=STEPS, margin_s=30.0, clock=FakeClock())])
    assert interrupted.step == 7  # between the checkpoints every 5 steps, and before the evaluation at 8
    resumed = tiny_state()
    assert go(resumed, resume=True) == 7
    assert resumed.step == STEPS
    untimed = [{k: v for k, v in r.items() if k != "time"} for r in resumed.history]
    assert untimed == [{k: v for k, v in r.items() if k != "time"} for r in straight.history]
    for (name, p), q in zip(resumed.model.named_parameters(), straight.model.parameters()):
        assert torch.equal(p, q), name


def test_a_deferred_run_raises_before_training_but_a_finished_one_passes(isolated_cache):
    go(tiny_state(), steps=5)
    others = RunContext(only_runs=("other-*",))
    finished = tiny_state()
    assert go(finished, steps=5, resume=True, context=others) == 5  # nothing left to train: not deferred
    unfinished = tiny_state()
    with pytest.raises(RunDeferred, match="tiny: deferred at step 5 of 12 .*other-\\*"):
        go(unfinished, resume=True, context=others)
    assert unfinished.step == 5
