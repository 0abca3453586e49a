"""KeepBest keeps a copy of the best weights, StopBelow stops early, best_model restores the kept weights."""

import pytest
import torch
from torch import nn

from paperlib.training.callbacks import KeepBest, StopBelow, best_model
from paperlib.training.device import configure_device
from paperlib.training.loop import init


def fresh_state():
    return init(lambda: nn.Linear(2, 1), seed=0, setup=configure_device("cpu"))


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
