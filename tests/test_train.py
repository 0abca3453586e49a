"""The shared training loop on small synthetic tensors."""

import torch
from torch import nn

from paperlib.train import (Callback, classification, classification_metrics, eval_schedule, init, pick_device,
                            shuffled_batches, steps_per_epoch, train)

X = torch.randn(200, 4, generator=torch.Generator().manual_seed(0))
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2))


def run(steps: int, seed: int = 0, state=None, **kwargs):
    state = state or init(make_model, lr=1e-2, seed=seed, device="cpu")
    return train(state, shuffled_batches(X, Y, 16), classification(), steps, eval_steps=[0, 10, 50, 100],
                 evaluate=lambda m: classification_metrics(m, X, Y), show_progress=False, **kwargs)


def untimed(history):
    return [{k: v for k, v in r.items() if k != "time"} for r in history]


def test_learns_and_records_plain_history():
    state = run(100)
    assert [r["step"] for r in state.history] == [0, 10, 50, 100]
    assert "train_loss" not in state.history[0] and state.history[-1]["train_loss"] > 0
    assert state.history[0]["acc"] < 0.9 < state.history[-1]["acc"]
    assert all(type(v) in (int, float) for r in state.history for v in r.values())
    times = [r["time"] for r in state.history]
    assert times == sorted(times) and times[0] == 0.0


def test_seed_reproduces_the_run_and_resuming_equals_one_run():
    assert untimed(run(100).history) == untimed(run(100).history)
    assert untimed(run(100).history) != untimed(run(100, seed=1).history)
    assert untimed(run(100, state=run(30)).history) == untimed(run(100).history)


def test_callbacks_change_lr_and_stop_and_see_evaluations():
    class Curriculum(Callback):
        seen: list[int] = []

        def on_step(self, state, loss):
            assert loss.ndim == 0
            if state.step == 5:
                state.lr = 1e-3
            if state.step == 60:
                state.stop = True

        def on_eval(self, state, record):
            self.seen.append(record["step"])

    cb = Curriculum()
    state = run(100, callbacks=[cb])
    assert state.step == 60 and cb.seen == [0, 10, 50]
    assert state.lr == 1e-3 and state.history[-1]["lr"] == 1e-3


def test_bf16_autocast_runs_on_cpu():
    state = run(10, autocast=True)
    assert state.history[-1]["step"] == 10 and 0 <= state.history[-1]["acc"] <= 1


def test_shuffled_batches_cover_each_epoch_once_and_pair_by_seed():
    x, y = torch.arange(10).float()[:, None], torch.arange(10)
    sample = shuffled_batches(x, y, 4)
    assert steps_per_epoch(10, 4) == 3
    state = init(make_model, seed=3, device="cpu")
    epochs = []
    for epoch in range(2):
        batches = []
        for _ in range(3):
            batches.append(sample(state)[1])
            state.step += 1
        assert [len(b) for b in batches] == [4, 4, 2]
        assert sorted(torch.cat(batches).tolist()) == list(range(10))
        epochs.append(torch.cat(batches).tolist())
    assert epochs[0] != epochs[1]
    other = init(make_model, seed=3, device="cpu")
    assert sample(other)[1].tolist() == epochs[0][:4]


def test_eval_schedule_and_device():
    assert eval_schedule((10, 25, 50), every=20, steps=45) == [10, 20, 25, 40]
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_classification_metrics_by_hand():
    model = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    x, y = torch.tensor([[1.0], [-1.0], [2.0]]), torch.tensor([0, 0, 1])
    m = classification_metrics(model, x, y, batch_size=2)
    assert m["acc"] == 1 / 3
    expected = torch.nn.functional.cross_entropy(model(x), y).item()
    assert abs(m["loss"] - expected) < 1e-6
