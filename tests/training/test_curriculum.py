"""The length curriculum: when it doubles, the cap, both learning-rate rules, its log, and inside `train`."""

import math

import pytest
import torch
from torch import nn

from paperlib.training.curriculum import Curriculum, StopAtCap, step_reaching
from paperlib.training.device import configure_device
from paperlib.training.loop import init, train
from paperlib.training.optim import OptimizerConfig



def author_curriculum(**changes) -> Curriculum:
    """The author's curriculum (start 128, cap 4,096, threshold 0.3, the code's lr rule, 16 data tokens), changed by
    `changes`."""
    return Curriculum(**({"start": 128, "cap": 4096, "threshold": 0.3, "lr_rule": "code", "n_data": 16} | changes))

def fresh_state(lr: float = 5e-4):
    return init(lambda: nn.Linear(2, 2), OptimizerConfig(lr=lr), seed=0, setup=configure_device("cpu"))


def feed(curriculum: Curriculum, losses, acc: float = 0.5, lr: float = 5e-4):
    """Attach to a fresh state and evaluate once per loss; return the state and the length after each."""
    state = curriculum.attach(fresh_state(lr))
    lengths = []
    for step, loss in enumerate(losses, 1):
        state.step = step
        curriculum.on_eval(state, {"step": step, "val_loss": loss, "val_acc": acc})
        lengths.append(state.extra["noise_len"])
    return state, lengths


def test_doubles_only_below_the_threshold_and_stops_at_the_cap():
    losses = [0.9, 0.3, 0.2999, 0.31, 0.1, 0.1, 0.1, 0.1, 0.0, 0.0]
    state, lengths = feed(author_curriculum(start=128, cap=4096, verbose=False), losses)
    assert lengths == [128, 128, 256, 256, 512, 1024, 2048, 4096, 4096, 4096]
    log = state.extra["length_changes"]
    assert [(c["step"], c["from"], c["to"]) for c in log] == [(3, 128, 256), (5, 256, 512), (6, 512, 1024),
                                                              (7, 1024, 2048), (8, 2048, 4096)]
    assert log[0]["val_loss"] == 0.2999


def test_never_past_a_cap_that_is_not_a_doubling_of_the_start():
    _, lengths = feed(author_curriculum(start=100, cap=300, lr_rule="none", verbose=False), [0.0] * 4)
    assert lengths == [200, 300, 300, 300]


def test_code_rule_compounds_to_the_reference_values():
    state, _ = feed(author_curriculum(start=128, verbose=False), [0.1] * 5)
    lrs = [c["lr"] for c in state.extra["length_changes"]]
    assert [float(f"{lr:.3g}") for lr in lrs] == [4.84e-4, 4.54e-4, 3.97e-4, 2.98e-4, 1.49e-4]  # reference §10
    assert state.lr == lrs[-1] == pytest.approx(5e-4 * (1 - 256 / 4096 / 2) * (1 - 512 / 4096 / 2)
                                                * (1 - 1024 / 4096 / 2) * 0.75 * 0.5)
    state32, _ = feed(author_curriculum(start=32, verbose=False), [0.1] * 7)
    assert state32.lr == pytest.approx(1.46e-4, abs=5e-7)


def test_code_rule_at_the_cap_lowers_the_lr_only():
    curriculum = author_curriculum(start=2048, cap=4096, verbose=False)
    state, _ = feed(curriculum, [0.1])
    lr0 = 5e-4 * 0.5
    assert state.lr == pytest.approx(lr0)
    curriculum.on_eval(state, {"val_loss": 0.05, "val_acc": 0.5})
    assert state.lr == pytest.approx(lr0 * (1 - math.exp(-0.05)))
    curriculum.on_eval(state, {"val_loss": 1.0, "val_acc": 0.5})
    assert state.lr == pytest.approx(lr0 * (1 - math.exp(-0.05)))


def test_note_rule_sets_the_lr_from_the_context_length_and_decays_at_the_cap():
    state = author_curriculum(start=32, lr_rule="note", verbose=False).attach(fresh_state())
    assert state.lr == pytest.approx(5e-4 * (1 - 0.5 * 64 / 4128))
    state, _ = feed(author_curriculum(start=32, lr_rule="note", verbose=False), [0.1] * 7)
    assert [c["lr"] for c in state.extra["length_changes"]] == pytest.approx(
        [5e-4 * (1 - 0.5 * (n + 32) / 4128) for n in (64, 128, 256, 512, 1024, 2048, 4096)])
    curriculum = author_curriculum(start=32, lr_rule="note", verbose=False)
    state, _ = feed(curriculum, [0.1] * 7 + [0.2, 0.02])  # two evaluations at the cap, not compounded
    assert state.lr == pytest.approx(2.5e-4 * (1 - math.exp(-0.02)))


def test_a_limit_stops_the_growth_but_keeps_the_caps_learning_rates():
    limited, lengths = feed(author_curriculum(start=128, cap=4096, limit=512, verbose=False), [0.1] * 4)
    full, _ = feed(author_curriculum(start=128, cap=4096, verbose=False), [0.1] * 2)
    assert lengths == [256, 512, 512, 512]
    assert limited.lr == full.lr == pytest.approx(5e-4 * (1 - 256 / 4096 / 2) * (1 - 512 / 4096 / 2))  # no decay
    with pytest.raises(ValueError, match="limit"):
        author_curriculum(start=128, cap=4096, limit=64)


def at_cap(stop: StopAtCap, records) -> tuple[bool, dict]:
    """A state that reached the cap (128) at step 10, then validated every 10 steps with `records`."""
    state = fresh_state()
    state.extra["length_changes"] = [{"step": 10, "from": 64, "to": 128}]
    state.history = [{"step": 0, "noise_len": 64, "val_loss": 3.0, "val_acc": 0.0}]
    for i, (loss, acc) in enumerate(records, 2):
        state.step = 10 * i
        record = {"step": state.step, "noise_len": 128, "val_loss": loss, "val_acc": acc}
        state.history.append(record)
        stop.on_eval(state, record)
        if state.stop:
            break
    return state.stop, state.extra.get("cap_stop", {})


def test_stop_at_cap_ends_a_run_at_the_target_a_plateau_or_its_steps_there():
    records = [(0.5, 0.9), (0.4, 0.95), (0.45, 0.97), (0.41, 0.99)]
    assert at_cap(StopAtCap(128, acc=0.985), records) == (True, {"step": 50, "reason": "accuracy"})
    assert at_cap(StopAtCap(128, patience=2), records) == (True, {"step": 50, "reason": "plateau"})
    assert at_cap(StopAtCap(128, steps=20), records) == (True, {"step": 30, "reason": "steps"})
    assert at_cap(StopAtCap(128), records) == (False, {})
    short = StopAtCap(256, acc=0.5)  # a run below its cap is never stopped
    assert at_cap(short, records) == (False, {})
    with pytest.raises(ValueError):
        StopAtCap(128, patience=0)


def test_step_reaching_reads_the_curriculums_log():
    state = fresh_state()
    state.history = [{"step": 0, "noise_len": 128}]
    state.extra["length_changes"] = [{"step": 30, "from": 128, "to": 256}]
    assert (step_reaching(state, 128), step_reaching(state, 256), step_reaching(state, 512)) == (0, 30, None)


def test_attach_keeps_a_resumed_state_and_logs_changes(capsys):
    curriculum = author_curriculum(start=16, cap=64, label="copy-recurrent-seed0")
    state, _ = feed(curriculum, [0.1])
    assert "curriculum (copy-recurrent-seed0): step 1, val_loss 0.1000 < 0.3: noise length 16 -> 32" in capsys.readouterr().out
    curriculum.attach(state)
    assert state.extra["noise_len"] == 32


def test_bad_configurations_are_refused():
    with pytest.raises(ValueError):
        author_curriculum(start=256, cap=128)
    with pytest.raises(ValueError):
        author_curriculum(lr_rule="cosine")


def test_inside_train_the_sampler_sees_the_new_length_after_the_evaluation():
    seen: list[int] = []

    def sample(state):
        seen.append(state.extra["noise_len"])
        return torch.randn(4, 2, generator=state.generator), torch.zeros(4, dtype=torch.long)

    curriculum = author_curriculum(start=8, cap=32, verbose=False)
    state = fresh_state()  # train attaches the curriculum when it starts
    losses = iter([1.0, 0.1, 0.1, 0.1])
    train(state, sample, lambda m, b: nn.functional.cross_entropy(m(b[0]), b[1]), 12, eval_steps=[0, 3, 6, 9],
          evaluate=lambda st: {"val_loss": next(losses), "val_acc": 0.0}, callbacks=[curriculum], show_progress=False)
    assert seen == [8] * 3 + [16] * 3 + [32] * 6
    assert [r["noise_len"] for r in state.history] == [8, 8, 16, 32]


def test_july_rule_halves_the_block_at_short_lengths_only():
    model = nn.Linear(2, 2)
    model.block = 32  # a model with a block length, like the recurrent transformer
    curriculum = author_curriculum(start=32, cap=256, block_cap=32, verbose=False)
    state = curriculum.attach(init(lambda: model, OptimizerConfig(lr=1e-3), seed=0, setup=configure_device("cpu")))
    assert state.model.block == 16  # K = min(32 / 2, 32) at the first length
    blocks = []
    for _ in range(1, 5):
        record = {"val_loss": 0.1, "val_acc": 0.5}
        curriculum.on_eval(state, record)
        blocks.append((record["noise_len"], record["block"], state.model.block))
    assert blocks == [(32, 16, 32), (64, 32, 32), (128, 32, 32), (256, 32, 32)]
    assert author_curriculum(start=128, block_cap=None).block(128) is None
    with pytest.raises(ValueError, match="block_cap"):
        author_curriculum(start=32, block_cap=0)
