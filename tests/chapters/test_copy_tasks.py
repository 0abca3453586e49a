"""The copy chapter's pieces: evaluation seeds, model sizes, what a run reports, resuming, and its caveats."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from paperlib.chapters import copy_tasks
from paperlib.chapters.copy_tasks import (PAPER_PARAMS, CopyRun, Settings, alpha_of, eval_seed, make_model,
                                          not_comparable_reasons, train_copy)
from paperlib.models import n_params
from paperlib.stats import mean_ci
from paperlib.training.device import configure_device
from paperlib.training.run import Checkpointing

CPU = configure_device("cpu")


def test_eval_seeds_are_stable_and_disjoint():
    assert eval_seed(0, "validation", 500) == 2**32 + 500 and eval_seed(3, "final") == 14 * 2**32
    validation = {eval_seed(s, "validation", step) for s in range(4) for step in range(0, 10_000, 500)}
    final = {eval_seed(s, "final", step) for s in range(4) for step in range(0, 10_000, 500)}
    assert len(validation) == 80 and len(final) == 80 and not validation & final
    assert min(validation | final) >= 2**32  # never a training seed (the run's seed itself)


def test_models_are_the_papers_size():
    assert n_params(make_model("copy", "recurrent")) == PAPER_PARAMS == 508_705
    for kind in ("gru", "lstm"):
        assert abs(n_params(make_model("selective_copy", kind)) - PAPER_PARAMS) <= 0.01 * PAPER_PARAMS
    assert alpha_of(make_model("copy", "forget")) is None and alpha_of(make_model("copy", "gru")) is None
    fixed = make_model("selective_copy", "recurrent")  # alpha fixed at 0.5: a buffer, not a parameter
    assert alpha_of(fixed) == 0.5 and n_params(fixed) == PAPER_PARAMS - 1
    with pytest.raises(ValueError, match="kind"):
        make_model("copy", "mamba")


def hand_built(changes, history_lengths, step=20, batch_size=8):
    """A run validated every 10 steps at the given noise lengths, with the curriculum's log `changes`."""
    history = [{"step": 10 * i, "noise_len": n, "val_loss": 1.0} for i, n in enumerate(history_lengths)]
    state = SimpleNamespace(history=history, step=step, extra={"length_changes": changes}, model=nn.Linear(1, 1),
                            setup=CPU, seed=3)
    return CopyRun("copy", "recurrent", state, batch_size, wall_s=1.0)


def test_a_change_logged_at_the_last_validation_is_not_a_length_reached():
    run = hand_built([{"step": 10, "from": 32, "to": 64}, {"step": 20, "from": 64, "to": 128}], [32, 32, 64])
    assert run.final_len == 64 and run.doublings == 1
    assert run.samples == 160 and run.samples_to_final_len == 80
    assert run.history["samples"].tolist() == [0, 80, 160]
    fixed = hand_built([], [64, 64, 64])
    assert fixed.final_len == 64 and fixed.doublings == 0 and fixed.samples_to_final_len == 0


@pytest.mark.parametrize("accs, clipped", [([1.0, 1.0, 0.97], "high"), ([0.0, 0.0, 0.03], "low")])
def test_final_eval_is_a_clipped_t_interval_over_batches_and_is_cached(monkeypatch, accs, clipped):
    calls = []

    def fake_per_batch(model, task, noise_len, n_batches, batch_size, seed):
        calls.append((task, noise_len, n_batches, batch_size, seed))
        return torch.zeros(n_batches), torch.tensor(accs)

    monkeypatch.setattr(copy_tasks, "per_batch", fake_per_batch)
    run = hand_built([], [64])
    mean, low, high = run.final_eval(64, 3, 5)
    exact = mean_ci(torch.tensor(accs).tolist())
    assert mean == pytest.approx(exact[0])
    assert (low, high) == ((0.0, pytest.approx(exact[2])) if clipped == "low" else (pytest.approx(exact[1]), 1.0))
    assert calls == [("copy", 64, 3, 5, eval_seed(3, "final"))]
    assert run.final_eval(64, 3, 5) == (mean, low, high) and len(calls) == 1
    run.final_eval(128, 3, 5)
    assert len(calls) == 2


def tiny(steps: int, checkpointing: Checkpointing) -> CopyRun:
    settings = Settings(CPU, batch_size=4, start=32, cap=64, threshold=10.0, eval_every=2, eval_batches=1,
                        checkpointing=checkpointing)
    return train_copy("copy", "recurrent", steps, settings, show_progress=False)


def test_a_resumed_run_continues_bitwise(isolated_cache):
    straight = tiny(4, Checkpointing())
    assert straight.final_len == 64 and straight.doublings == 1 and straight.resumed_at is None
    assert [c["step"] for c in straight.state.extra["length_changes"]] == [0]  # threshold 10: doubles at once
    first = tiny(2, Checkpointing(every=2))
    assert first.state.step == 2 and list((isolated_cache / "checkpoints" / "copy_tasks").glob("*.pt"))
    resumed = tiny(4, Checkpointing(every=2, resume=True))
    assert resumed.resumed_at == 2 and resumed.state.step == 4
    assert resumed.state.history[:2] == first.state.history  # read back (timings included), not trained again
    ours, theirs = resumed.state.model.state_dict(), straight.state.model.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    untimed = lambda run: [{k: v for k, v in h.items() if k != "time"} for h in run.state.history]  # noqa: E731
    assert untimed(resumed) == untimed(straight) and resumed.state.extra == straight.state.extra


def test_claims_at_4128_are_not_comparable_short_of_it():
    short = {"copy_final_noise_len": 64, "selective_copy_final_noise_len": 4096}
    reasons = not_comparable_reasons(short, "cpu")
    assert set(reasons) == {"copy_4128", "rt_accumulate"}
    assert reasons["copy_4128"] == "cpu profile: the curriculum reached length 96, not 4128"
    assert not_comparable_reasons({"copy_final_noise_len": 4096, "selective_copy_final_noise_len": 4096}, "paper") == {}
