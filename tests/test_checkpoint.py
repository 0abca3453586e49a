"""Checkpoint -> resume continues the same curve, bitwise on the CPU (model, optimizer, curriculum, RNG)."""

import pytest
import torch

from paperlib import checkpoint
from paperlib.copying import Settings, copy_loss, make_model, train_copy
from paperlib.curriculum import Curriculum
from paperlib.data.synthetic import copy_batch
from paperlib.train import Callback, init, train

STEPS, EVALS = 16, [0, 4, 8, 12, 16]


@pytest.fixture(autouse=True)
def one_thread():
    """Small ops on shared, oversubscribed cores run many times faster on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Crash(Callback):
    def __init__(self, at: int):
        self.at = at

    def on_step(self, state, loss):
        if state.step == self.at:
            raise KeyboardInterrupt


def run(steps: int, callbacks=(), state=None):
    """The paper's copy model (dropout 0.05) under a curriculum from 8 noise tokens, on fresh batches."""
    curriculum = Curriculum(start=8, cap=32, threshold=10.0, verbose=False)  # threshold 10: doubles at every evaluation
    state = curriculum.attach(state or init(lambda: make_model("copy", "recurrent"), lr=5e-4, seed=3, device="cpu"))
    sample = lambda st: copy_batch(4, st.extra["noise_len"], generator=st.generator)  # noqa: E731
    done = state.history[-1]["step"] if state.history else -1
    validate = lambda m: {"val_loss": copy_loss(m, sample(state)).item(), "val_acc": 0.0}  # noqa: E731
    return train(state, sample, copy_loss, steps, eval_steps=[e for e in EVALS if e > done], evaluate=validate,
                 callbacks=[curriculum, *callbacks], show_progress=False)


def untimed(history):
    return [{k: v for k, v in r.items() if k != "time"} for r in history]


def assert_same_run(a, b):
    assert a.step == b.step and untimed(a.history) == untimed(b.history)
    assert a.extra["noise_len"] == b.extra["noise_len"] and a.extra["lr0"] == b.extra["lr0"]
    assert [c["step"] for c in a.extra["length_changes"]] == [c["step"] for c in b.extra["length_changes"]]
    for (name, p), q in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(p, q), name
    assert a.lr == b.lr
    assert torch.equal(a.generator.get_state(), b.generator.get_state())


@pytest.mark.parametrize("crash_at", [6, 8, 12])  # between evaluations, on one (saved before it runs), late
def test_a_run_killed_after_a_checkpoint_resumes_the_same_curve(tmp_path, crash_at):
    straight = run(STEPS)
    path = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        run(STEPS, [checkpoint.Checkpointer(path, every=4), Crash(crash_at)])
    resumed = init(lambda: make_model("copy", "recurrent"), lr=5e-4, seed=99, device="cpu")  # wrong seed on purpose
    torch.manual_seed(12345)  # the global RNG (dropout) must come from the checkpoint too
    checkpoint.load(path, resumed)
    assert resumed.step == 4 * (crash_at // 4)
    assert_same_run(run(STEPS, state=resumed), straight)
    assert straight.extra["noise_len"] == 32 and len(straight.extra["length_changes"]) == 2


def test_save_is_atomic_and_keeps_meta(tmp_path):
    state = init(lambda: make_model("copy", "forget"), seed=0, device="cpu")
    path = checkpoint.save(tmp_path / "a" / "ck.pt", state, {"task": "copy"})
    assert [p.name for p in path.parent.iterdir()] == ["ck.pt"]
    assert checkpoint.load(path, init(lambda: make_model("copy", "forget"), device="cpu")) == {"task": "copy"}
    with pytest.raises(ValueError):
        checkpoint.Checkpointer(path, every=0)


def test_train_copy_resumes_from_its_checkpoint_and_refuses_another_configuration(tmp_path):
    settings = Settings(batch_size=4, start=8, cap=32, threshold=10.0, eval_every=4, eval_batches=1, seed=1,
                        device="cpu", checkpoint_dir=tmp_path)
    straight = train_copy("selective_copy", "recurrent", 12, Settings(**{**vars(settings), "checkpoint_dir": None}),
                          show_progress=False)
    first = train_copy("selective_copy", "recurrent", 8, settings, show_progress=False)
    assert first.resumed_at is None
    settings.resume = True
    second = train_copy("selective_copy", "recurrent", 12, settings, show_progress=False)
    assert second.resumed_at == 8
    assert_same_run(second.state, straight.state)
    assert second.final_len == straight.final_len == 32 and second.samples == 48
    with pytest.raises(ValueError, match="another configuration"):
        train_copy("selective_copy", "recurrent", 12, Settings(**{**vars(settings), "lr": 1e-3}), show_progress=False)
