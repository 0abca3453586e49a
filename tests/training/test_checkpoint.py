"""Checkpoints: a resumed run continues the same curve bitwise on the CPU (model, optimizer, curriculum, RNG),
and the one resume policy sets aside what it cannot use."""

import warnings

import pytest
import torch
from torch import nn

from paperlib.data.synthetic import copy_batch
from paperlib.models.paper_configs import paper_model
from paperlib.training import checkpoint
from paperlib.training.curriculum import Curriculum
from paperlib.training.device import configure_device
from paperlib.training.loop import Callback, init, train
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig

CPU = configure_device("cpu")
STEPS, EVALS = 16, [0, 4, 8, 12, 16]
META = {"task": "copy", "lr": 5e-4}


class Crash(Callback):
    def __init__(self, at: int):
        self.at = at

    def on_step(self, state, loss):
        if state.step == self.at:
            raise KeyboardInterrupt


def copy_state(seed: int = 3):
    return init(lambda: paper_model("copy", "recurrent", block=8), OptimizerConfig(lr=5e-4), seed, CPU)


def copy_run(steps: int, callbacks=(), state=None):
    """The paper's copy model (dropout 0.05) with K = 8 under a curriculum from 8 noise tokens (T > 2K), on fresh
    batches."""
    curriculum = Curriculum(start=8, cap=32, threshold=10.0, lr_rule="code", n_data=16, verbose=False)  # threshold 10: doubles at every evaluation
    state = state or copy_state()

    def sample(st):
        return copy_batch(4, st.extra["noise_len"], generator=st.generator)

    def validate(st):
        return {"val_loss": model_loss()(st.model, sample(st)).item(), "val_acc": 0.0}

    return train(state, sample, model_loss(), steps, eval_steps=EVALS, evaluate=validate,
                 callbacks=[curriculum, *callbacks], show_progress=False)


def random_batch(state):
    return torch.randn(8, 3, generator=state.generator), torch.randint(2, (8,), generator=state.generator)


def linear_state(seed: int = 0):
    state = init(lambda: nn.Linear(3, 2), OptimizerConfig(lr=0.1), seed, CPU)
    state.extra["note"] = [seed]
    return state


def small_state(seed: int = 0, steps: int = 3):
    """A linear model after `steps` Adam steps on random data, evaluated at the last one."""
    return train(linear_state(seed), random_batch, model_loss(), steps, eval_steps=[steps], show_progress=False)


def untimed(history):
    return [{k: v for k, v in r.items() if k != "time"} for r in history]


def assert_same_state(a, b):
    assert a.step == b.step and untimed(a.history) == untimed(b.history) and a.extra.keys() == b.extra.keys()
    for (name, p), q in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(p, q), name
    ours, theirs = a.optimizer.state_dict()["state"], b.optimizer.state_dict()["state"]
    assert ours.keys() == theirs.keys()
    for index, s in ours.items():
        assert all(torch.equal(s[k], theirs[index][k]) for k in s), index
    assert a.lr == b.lr and a.loss_count == b.loss_count
    assert torch.equal(a.generator.get_state(), b.generator.get_state())


def assert_same_copy_run(a, b):
    assert_same_state(a, b)
    assert a.extra["noise_len"] == b.extra["noise_len"] and a.extra["lr0"] == b.extra["lr0"]
    assert a.extra["length_changes"] == b.extra["length_changes"]


@pytest.fixture(scope="module")
def straight():
    return copy_run(STEPS)


@pytest.mark.parametrize("crash_at", [6, 8, 12])  # between evaluations, on one (saved before it runs), late
def test_a_run_killed_after_a_checkpoint_resumes_the_same_curve(tmp_path, straight, crash_at):
    path = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        copy_run(STEPS, [checkpoint.Checkpointer(path, every=4, meta=META), Crash(crash_at)])
    resumed = copy_state(seed=99)  # wrong seed on purpose: everything must come from the checkpoint
    torch.manual_seed(12345)  # the global RNG (dropout) must come from the checkpoint too
    assert checkpoint.resume(path, resumed, META) == 4 * (crash_at // 4)
    assert resumed.seed == 3
    assert_same_copy_run(copy_run(STEPS, state=resumed), straight)
    assert straight.extra["noise_len"] == 32 and len(straight.extra["length_changes"]) == 2


def test_save_is_atomic_and_a_matching_checkpoint_resumes(tmp_path):
    saved = small_state(seed=1)
    path = checkpoint.save(tmp_path / "a" / "ck.pt", saved, META)
    assert [p.name for p in path.parent.iterdir()] == ["ck.pt"]  # no temporary file left behind
    state = linear_state(seed=2)
    assert checkpoint.resume(path, state, dict(reversed(META.items()))) == 3  # the order of the keys is no matter
    assert_same_state(state, saved)
    assert state.extra == {"note": [1]} and path.is_file()


def test_resume_without_a_file_starts_afresh_silently(tmp_path):
    state = small_state()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checkpoint.resume(tmp_path / "none.pt", state, META) is None
    assert state.step == 3


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def change_meta(path):
    checkpoint.save(path, small_state(seed=5), {**META, "lr": 1e-3})


@pytest.mark.parametrize("spoil, why", [(truncate, "cannot be read"), (change_meta, "another configuration")])
def test_an_unusable_checkpoint_is_set_aside_with_a_warning_and_the_run_starts_afresh(tmp_path, spoil, why):
    path = checkpoint.save(tmp_path / "run.pt", small_state(seed=4), META)
    spoil(path)
    spoiled = path.read_bytes()
    state, untouched = small_state(), small_state()
    with pytest.warns(UserWarning, match=why) as caught:
        assert checkpoint.resume(path, state, META) is None
    assert str(path) in str(caught[0].message)
    assert not path.exists()
    [aside] = tmp_path.iterdir()
    assert aside.name.startswith("run.pt.unusable-") and aside.read_bytes() == spoiled  # nothing is lost
    assert aside.name in str(caught[0].message)
    assert_same_state(state, untouched)
    assert state.extra == {"note": [0]}


def test_checkpointer_saves_every_few_steps_and_refuses_zero(tmp_path, monkeypatch):
    saved = []
    monkeypatch.setattr(checkpoint, "save", lambda path, state, meta: saved.append((path, state.step, meta)))
    train(linear_state(), random_batch, model_loss(), 7,
          callbacks=[checkpoint.Checkpointer(tmp_path / "ck.pt", every=3, meta=META)], show_progress=False)
    assert saved == [(tmp_path / "ck.pt", 3, META), (tmp_path / "ck.pt", 6, META)]
    with pytest.raises(ValueError, match="every"):
        checkpoint.Checkpointer(tmp_path / "ck.pt", every=0)


def test_a_resumed_run_does_not_evaluate_a_step_already_in_its_history(tmp_path):
    evaluated = []

    def go(state, steps):
        return train(state, random_batch, model_loss(), steps, eval_steps=[2, 4],
                     evaluate=lambda st: evaluated.append(st.step) or {}, show_progress=False)

    path = checkpoint.save(tmp_path / "ck.pt", go(linear_state(), 2), META)  # saved after its evaluation
    state = linear_state()
    assert checkpoint.resume(path, state, META) == 2
    go(state, 4)
    assert evaluated == [2, 4] and [r["step"] for r in state.history] == [2, 4]


def test_checkpoints_set_aside_one_after_another_are_all_kept(tmp_path):
    path = tmp_path / "run.pt"
    for seed in (1, 2, 3):  # within the same second, as a fast retry loop would
        checkpoint.save(path, small_state(seed=seed), {"other": seed})
        with pytest.warns(UserWarning, match="another configuration"):
            checkpoint.resume(path, linear_state(), META)
    assert len(list(tmp_path.glob("run.pt.unusable-*"))) == 3
