"""Named runs: where their checkpoints live, resuming or overwriting them, selection, early stopping and cost."""

import pytest
import torch

from paperlib.models.flops import count_flops, train_flops_per_sample
from paperlib.models import n_params
from paperlib.models.paper_configs import build, paper_config
from paperlib.training import checkpoint
from paperlib.training.batches import shuffled_batches, split_validation, tensor_batches
from paperlib.training.callbacks import KeepBest, StopBelow, best_model
from paperlib.training.device import configure_device
from paperlib.training.evaluation import score
from paperlib.training.loop import init
from paperlib.training.losses import model_loss
from paperlib.context import RunContext
from paperlib.training.optim import OptimizerConfig
from paperlib.training.plan import RunSpec
from paperlib.training.run import Checkpointing, checkpoint_path, eval_steps, fit, train_resumable

SEQ, BATCH = 16, 8


@pytest.fixture
def checkpoints(isolated_cache):
    """The temporary folder every checkpoint of the test goes to, never the user's cache."""
    return isolated_cache / "checkpoints"


def tiny_image_task(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, SEQ), generator=g).to(torch.uint8)
    return x, (x[:, -1] > 127).long()  # the label is in the last token


def make_cfg(**overrides):
    return paper_config("image", "recurrent", **{"n_positions": SEQ, "block": 4, "dropout": 0.0, **overrides})


def fresh_state(cfg):
    return init(lambda: build(cfg), OptimizerConfig(lr=1e-2), 0, configure_device("cpu"))


def tiny_spec(steps, cfg=None, lr=1e-2):
    """A tiny recurrent image classifier's run, with `steps // 2` evaluations."""
    return RunSpec("t", "", "tiny", 0, cfg or make_cfg(), "tiny image task", steps, BATCH, SEQ, OptimizerConfig(lr=lr),
                   None, tuple(eval_steps(steps, steps // 2)), 16, 0, "")


def run(steps, every=0, resume=False, stop=0.0, cfg=None, lr=1e-2):
    """The tiny run trained by `fit`."""
    tx, ty, vx, vy = split_validation(*tiny_image_task(), 16)
    callbacks = [KeepBest("val_loss")] + ([StopBelow(stop)] if stop else [])
    return fit(tiny_spec(steps, cfg, lr), configure_device("cpu"), shuffled_batches(tx, ty, BATCH), model_loss(),
               evaluate=lambda st: score(st.model, tensor_batches(vx, vy)).summary("val_"),
               checkpointing=Checkpointing(every, resume), context=RunContext(), callbacks=callbacks)


def saved_step(folder):
    """The step of the one checkpoint of the tiny run under `folder`."""
    [path] = (folder / "t").glob("tiny-seed0-*.pt")
    return torch.load(path, weights_only=False)["counters"]["step"]


def assert_same_weights(a, b):
    for (name, p), q in zip(a.state.model.named_parameters(), b.state.model.parameters()):
        assert torch.equal(p, q), name


def test_eval_steps_spread_evenly_and_end_at_the_last_step():
    assert eval_steps(100, 4) == [25, 50, 75, 100]
    assert eval_steps(3, 10) == [1, 2, 3]
    assert eval_steps(10, 3) == [3, 7, 10]


def test_checkpoint_path_is_stable_per_configuration_and_under_the_checkpoints_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PAPERLIB_CHECKPOINTS", str(tmp_path / "elsewhere"))
    meta = {"lr": 1e-3, "seed": 0}
    path = checkpoint_path("copy_tasks", "run", meta)
    assert path.parent == tmp_path / "elsewhere" / "copy_tasks" and path.name.startswith("run-") and path.suffix == ".pt"
    assert checkpoint_path("copy_tasks", "run", {"seed": 0, "lr": 1e-3}) == path
    assert checkpoint_path("copy_tasks", "run", {"lr": 1e-3, "seed": 1}) != path
    assert checkpoint_path("copy_tasks", "run", {**meta, "extra": "x"}) != path


def test_without_the_checkpoints_variable_they_live_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERLIB_CHECKPOINTS", raising=False)
    monkeypatch.setenv("PAPERLIB_CACHE", str(tmp_path))
    assert checkpoint_path("c", "n", {}).parent == tmp_path / "checkpoints" / "c"


@pytest.mark.parametrize("bad", [{"every": 0, "resume": True}, {"every": -1}])
def test_checkpointing_settings_that_cannot_work_are_refused(bad):
    with pytest.raises(ValueError):
        Checkpointing(**bad)


def test_best_weights_and_cost_columns(checkpoints):
    cfg = make_cfg(block_range=(3, 5))
    result = run(6, cfg=cfg)
    best = result.best("val_loss")
    assert best["val_loss"] == result.history.val_loss.min()
    assert best["step"] == result.state.extra["best"]["record"]["step"]
    assert result.best("val_acc", "max")["val_acc"] == result.history.val_acc.max()
    assert torch.equal(best_model(result.state).wte.weight, result.state.extra["best"]["weights"]["wte.weight"])
    assert result.history.step.tolist() == [2, 4, 6] and (result.history.model == "tiny-seed0").all()
    assert (result.history.samples == result.history.step * BATCH).all()
    assert (result.history.train_flops == result.history.samples * result.flops_per_sample).all()
    assert result.flops_per_sample == train_flops_per_sample(cfg, SEQ) != count_flops(cfg, SEQ)  # a random block's mean
    assert result.params == n_params(result.state.model) and result.resumed_at is None
    assert not checkpoints.exists()  # checkpointing off: nothing written


def test_early_stop_ends_the_run_at_an_evaluation(checkpoints):
    result = run(10, stop=100.0)
    assert result.state.step == 2 and len(result.history) == 1


def test_a_resumed_run_continues_the_uninterrupted_one_bitwise(checkpoints, capsys):
    straight = run(8)
    first = run(4, every=2)
    assert first.resumed_at is None and saved_step(checkpoints) == 4
    resumed = run(8, every=2, resume=True)
    assert resumed.resumed_at == 4 and "tiny-seed0: resumed from step 4" in capsys.readouterr().out
    assert saved_step(checkpoints) == 8
    untimed = [c for c in straight.history.columns if c != "time"]
    assert resumed.history[untimed].equals(straight.history[untimed])
    assert_same_weights(resumed, straight)
    assert torch.equal(resumed.state.extra["best"]["weights"]["wte.weight"],
                       straight.state.extra["best"]["weights"]["wte.weight"])


def test_the_spec_is_the_checkpoints_key_whatever_its_length(checkpoints):
    run(4, every=2)
    assert run(8, every=2, resume=True).resumed_at == 4  # more steps (and evaluations): the same run, continued
    other = run(8, every=2, resume=True, lr=5e-3)  # another learning rate: another run, with its own file
    assert other.resumed_at is None and len(list((checkpoints / "t").glob("tiny-seed0-*.pt"))) == 2
    assert tiny_spec(4).checkpoint_key == tiny_spec(8).checkpoint_key != tiny_spec(4, lr=5e-3).checkpoint_key


def test_without_resume_a_saved_run_is_overwritten_by_a_fresh_one(checkpoints):
    run(4, every=2)
    fresh = run(6, every=2)
    assert fresh.resumed_at is None and fresh.history.step.tolist() == [2, 4, 6]  # evaluated from scratch
    assert_same_weights(fresh, run(6))
    assert saved_step(checkpoints) == 6


def test_train_resumable_saves_under_the_run_name_and_resumes_from_its_file(checkpoints):
    cfg, meta = make_cfg(), {"what": "direct"}
    x, y = tiny_image_task()

    def go(steps, resume):
        state = fresh_state(cfg)
        resumed = train_resumable(state, shuffled_batches(x, y, BATCH), model_loss(), steps, chapter="c", name="n",
                                  meta=meta, checkpointing=Checkpointing(every=3, resume=resume), context=RunContext(),
                                  show_progress=False)
        return resumed, state

    assert go(3, resume=False)[0] is None
    path = checkpoint_path("c", "n", meta)
    assert path.is_file() and [p.name for p in checkpoints.rglob("*.pt")] == [path.name]
    resumed, state = go(5, resume=True)
    assert resumed == 3 and state.step == 5
    assert checkpoint.resume(path, fresh_state(cfg), meta) == 5  # saved again at the end


def test_execution_counts_runs_trained_now_and_runs_read_back_finished():
    from types import SimpleNamespace

    from paperlib.training.run import execution

    def run(step, resumed_at, train_time, history):
        return SimpleNamespace(resumed_at=resumed_at, state=SimpleNamespace(step=step, train_time=train_time,
                                                                           history=history))

    fresh = run(10, None, 60.0, [{"step": 0, "time": 0.0}, {"step": 10, "time": 60.0}])
    partly = run(10, 5, 120.0, [{"step": 5, "time": 90.0}, {"step": 10, "time": 120.0}])  # 30 s of it now
    finished = run(10, 10, 600.0, [{"step": 10, "time": 600.0}])
    m = execution([fresh, partly, finished])
    assert (m["runs_trained_now"], m["runs_loaded"]) == (2, 1)
    assert m["trained_worker_min"] == 1.5 and m["loaded_worker_min"] == 10.0
