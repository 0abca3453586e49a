"""KeepBest keeps a copy of the best weights, StopBelow stops early, best_model restores the kept weights."""

import pytest
import torch
from torch import nn

from paperlib.training.callbacks import EarlyStop, KeepBest, OneCycle, ScheduledLR, StopBelow, WarmupCosine, best_model
from paperlib.training.device import configure_device
from paperlib.training.loop import Callback, init, train
from paperlib.training.optim import OptimizerConfig


def fresh_state():
    return init(lambda: nn.Linear(2, 1), OptimizerConfig(lr=1e-3), seed=0, setup=configure_device("cpu"))


def evaluate_with(callback, state, values, key="val_loss"):
    """Feed one record per value, setting the weight to the value before each, as if training moved it."""
    for value in values:
        with torch.no_grad():
            state.model.weight.fill_(value)
        callback.on_eval(state, {key: value})


@pytest.mark.parametrize("mode, best", [("min", 0.2), ("max", 0.9)])
def test_keep_best_keeps_the_record_and_a_copy_of_the_weights(mode, best):
    state = fresh_state()
    evaluate_with(KeepBest("val_loss", mode), state, [0.5, 0.2, 0.9, 0.3])
    kept = state.extra["best"]
    assert kept["record"] == {"val_loss": best}
    assert torch.equal(kept["weights"]["weight"], torch.full((1, 2), best))
    assert state.model.weight[0, 0].item() == pytest.approx(0.3)  # the model itself is untouched


def test_keep_best_keeps_the_first_of_equal_values_and_skips_records_without_the_metric():
    state = fresh_state()
    keep = KeepBest("val_loss")
    evaluate_with(keep, state, [0.4, 0.4])
    evaluate_with(keep, state, [0.1], key="train_loss")
    assert state.extra["best"]["record"] == {"val_loss": 0.4}
    with pytest.raises(ValueError, match="mode"):
        KeepBest("val_loss", "lowest")


def test_best_model_is_an_eval_mode_copy_with_the_kept_weights():
    state = fresh_state()
    final = best_model(state)  # nothing kept: the final weights
    assert torch.equal(final.weight, state.model.weight) and final is not state.model and not final.training
    evaluate_with(KeepBest("val_loss"), state, [0.1, 0.7])
    model = best_model(state)
    assert torch.equal(model.weight, torch.full((1, 2), 0.1)) and state.model.weight[0, 0].item() == pytest.approx(0.7)
    assert state.model.training


def test_stop_below_stops_only_when_the_training_loss_is_below_the_threshold():
    state, stop = fresh_state(), StopBelow(0.5)
    for record in ({"val_loss": 0.1}, {"train_loss": 0.5}):
        stop.on_eval(state, record)
        assert not state.stop
    stop.on_eval(state, {"train_loss": 0.49})
    assert state.stop


def test_early_stop_cuts_the_rate_at_the_first_plateau_and_stops_at_the_next():
    state, stop = fresh_state(), EarlyStop("val_loss", patience=2, cuts=1)
    state.extra["peak_lr"] = state.lr  # as a Schedule keeps it
    lr = state.lr
    for value in (0.5, 0.4, 0.45, 0.41):  # two validations without a new lowest: a plateau
        stop.on_eval(state, {"val_loss": value})
    assert state.lr == pytest.approx(lr / 10) and state.extra["peak_lr"] == pytest.approx(lr / 10) and not state.stop
    for value in (0.39, 0.4):  # a new lowest resets the count
        stop.on_eval(state, {"val_loss": value})
    assert not state.stop
    stop.on_eval(state, {"train_loss": 0.1})  # records without the metric do not count
    stop.on_eval(state, {"val_loss": 0.39})  # equal is not lower
    assert state.stop and state.extra["lowest"] == 0.39 and len(state.extra["lr_cuts"]) == 1
    with pytest.raises(ValueError, match="patience"):
        EarlyStop("val_loss", patience=0)


def test_early_stopping_keeps_the_best_checkpoint():
    """A real run whose validation loss rises after a while: it stops on a plateau and the kept weights are
    those of its lowest validation, not its last."""
    state = init(lambda: nn.Linear(1, 1, bias=False), OptimizerConfig(lr=0.1), seed=0, setup=configure_device("cpu"))
    with torch.no_grad():
        state.model.weight.fill_(0.0)
    sample = lambda st: (torch.ones(1, 1), torch.full((1, 1), 2.0))  # noqa: E731 - training pulls the weight to 2
    loss = lambda model, batch: ((model(batch[0]) - batch[1]) ** 2).mean()  # noqa: E731
    weights = {}

    def evaluate(st):  # validation wants a weight of 1: it falls, then rises as training overshoots it
        weights[st.step] = st.model.weight.item()
        return {"val_loss": (st.model.weight.item() - 1.0) ** 2}

    train(state, sample, loss, 200, eval_steps=range(1, 201), evaluate=evaluate,
          callbacks=[KeepBest("val_loss"), EarlyStop("val_loss", patience=3)], show_progress=False)
    best = state.extra["best"]["record"]
    assert state.stop and state.step < 200 and best["step"] == min(weights, key=lambda s: abs(weights[s] - 1.0))
    assert best_model(state).weight.item() == pytest.approx(weights[best["step"]])
    assert state.model.weight.item() != pytest.approx(weights[best["step"]]), "the final weights moved on"


def test_warmup_cosine_follows_nanogpts_schedule():
    schedule = WarmupCosine(warmup=10, total=110, min_ratio=0.1)
    lrs = [schedule.lr_at(step, 1e-3) for step in range(130)]
    assert lrs[0] == pytest.approx(1e-3 / 11) and lrs[9] == pytest.approx(1e-3 * 10 / 11)  # linear warm-up
    assert lrs[10] == pytest.approx(1e-3) and lrs[60] == pytest.approx(0.55e-3)  # cosine from the peak, half way
    assert lrs[110] == lrs[129] == pytest.approx(1e-4)  # the floor after `total`
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))


def test_warmup_cosine_drives_the_optimizer_and_survives_a_resume():
    state = init(lambda: nn.Linear(2, 1), OptimizerConfig(lr=1e-2), seed=0, setup=configure_device("cpu"))
    schedule = WarmupCosine(warmup=2, total=6)
    sample = lambda st: (torch.ones(4, 2), torch.zeros(4, 1))  # noqa: E731
    loss = lambda model, batch: ((model(batch[0]) - batch[1]) ** 2).mean()  # noqa: E731
    seen = []

    class Spy(Callback):
        def on_step(self, st, _):
            seen.append(st.lr)

    train(state, sample, loss, 3, callbacks=[ScheduledLR(schedule, 1e-2), Spy()], show_progress=False)
    train(state, sample, loss, 8, callbacks=[ScheduledLR(WarmupCosine(warmup=2, total=6), 1e-2), Spy()],
          show_progress=False)
    assert seen == pytest.approx([schedule.lr_at(step, 1e-2) for step in range(1, 9)])
    with pytest.raises(ValueError):
        WarmupCosine(warmup=-1, total=5)


def test_one_cycle_equals_pytorchs_one_cycle_lr():
    optimizer = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=0.01)
    reference = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=235, cycle_momentum=False)
    schedule, expected = OneCycle(235), []
    for _ in range(235):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if len(expected) < 235:
            reference.step()
    assert [schedule.lr_at(step, 0.01) for step in range(235)] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError):
        OneCycle(1)
