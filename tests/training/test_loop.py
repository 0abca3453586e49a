"""The shared training loop on small synthetic tensors: schedule, history, seeds, callbacks, precision."""

import pytest
import torch
from torch import nn

from paperlib.training.batches import shuffled_batches, tensor_batches
from paperlib.training.device import configure_device
from paperlib.training.evaluation import score
from paperlib.training.loop import Callback, State, init, train
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig, nanogpt_adamw

X = torch.randn(200, 4, generator=torch.Generator().manual_seed(0))
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()
EVALS = [0, 10, 50, 100]


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2))


def evaluate(state: State) -> dict[str, float]:
    return score(state.model, tensor_batches(X, Y)).summary()


def fresh(seed: int = 0, precision: str = "fp32"):
    return init(make_model, OptimizerConfig(lr=1e-2), seed, configure_device("cpu", precision=precision))


def run(steps: int, seed: int = 0, state=None, precision: str = "fp32", **kwargs):
    return train(state or fresh(seed, precision), shuffled_batches(X, Y, 16), model_loss(), steps, eval_steps=EVALS,
                 evaluate=evaluate, show_progress=False, **kwargs)


def untimed(history):
    return [{k: v for k, v in r.items() if k != "time"} for r in history]


class Spy(Callback):
    """Records each hook call as (hook, step) and each step's loss."""

    def __init__(self):
        self.calls, self.losses = [], []

    def on_start(self, state):
        self.calls.append(("start", state.step))

    def on_step(self, state, loss):
        self.calls.append(("step", state.step))
        self.losses.append(loss.item())

    def on_eval(self, state, record):
        self.calls.append(("eval", record["step"]))


def test_learns_and_records_plain_history():
    state = run(100)
    assert [r["step"] for r in state.history] == EVALS and state.step == 100
    assert "train_loss" not in state.history[0] and state.history[-1]["train_loss"] > 0
    assert state.history[0]["acc"] < 0.9 < state.history[-1]["acc"]
    assert all(type(v) in (int, float) for r in state.history for v in r.values())
    times = [r["time"] for r in state.history]
    assert times == sorted(times) and times[0] == 0.0
    assert state.model.training  # evaluation switches to eval mode and back


def test_init_seeds_the_weights_and_builds_the_configured_optimizer():
    a, b, c = fresh(0), fresh(0), fresh(1)
    assert torch.equal(a.model[0].weight, b.model[0].weight) and not torch.equal(a.model[0].weight, c.model[0].weight)
    assert type(a.optimizer) is torch.optim.Adam and a.lr == 1e-2 and a.device == torch.device("cpu")
    adamw = init(make_model, nanogpt_adamw(3e-4), 0, configure_device("cpu"))
    assert type(adamw.optimizer) is torch.optim.AdamW and adamw.lr == 3e-4


def test_seed_reproduces_the_run_and_a_continued_run_equals_one_run():
    assert untimed(run(100).history) == untimed(run(100).history)
    assert untimed(run(100).history) != untimed(run(100, seed=1).history)
    assert untimed(run(100, state=run(30)).history) == untimed(run(100).history)


def test_train_loss_is_the_mean_of_the_step_losses_since_the_last_evaluation():
    spy = Spy()
    state = run(50, callbacks=[spy])
    losses = spy.losses
    assert len(losses) == 50
    assert state.history[1]["train_loss"] == pytest.approx(sum(losses[:10]) / 10, rel=1e-5)
    assert state.history[2]["train_loss"] == pytest.approx(sum(losses[10:]) / 40, rel=1e-5)


def test_hooks_run_in_order_and_see_every_evaluation():
    spy = Spy()
    run(10, callbacks=[spy])
    assert spy.calls == [("start", 0), ("eval", 0), *[("step", s) for s in range(1, 11)], ("eval", 10)]


def test_callbacks_change_lr_and_stop():
    class Schedule(Callback):
        def on_step(self, state, loss):
            assert loss.ndim == 0
            if state.step == 5:
                state.lr = 1e-3
            if state.step == 60:
                state.stop = True

    state = run(100, callbacks=[Schedule()])
    assert state.step == 60 and [r["step"] for r in state.history] == [0, 10, 50]
    assert state.lr == 1e-3 and state.history[-1]["lr"] == 1e-3 and state.history[1]["lr"] == 1e-3


def test_bf16_autocast_computes_in_bf16_and_still_learns():
    seen = {}

    def loss_fn(model, batch):
        seen["train"] = model(batch[0]).dtype
        return model_loss()(model, batch)

    def spying_evaluate(state):
        seen["eval"] = state.model(X[:2]).dtype
        return evaluate(state)

    bf16 = train(fresh(precision="bf16"), shuffled_batches(X, Y, 16), loss_fn, 100, eval_steps=EVALS,
                 evaluate=spying_evaluate, show_progress=False)
    assert seen == {"train": torch.bfloat16, "eval": torch.bfloat16}
    fp32 = run(100)
    assert bf16.history[-1]["train_loss"] != fp32.history[-1]["train_loss"]  # really other arithmetic
    assert bf16.history[-1]["acc"] > 0.9 and bf16.model[0].weight.dtype == torch.float32
