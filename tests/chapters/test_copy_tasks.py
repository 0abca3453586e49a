"""The copy chapter's pieces: evaluation seeds, model sizes, what a run reports, resuming, and its caveats."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from paperlib.chapters import copy_tasks
from paperlib.chapters.copy_tasks import (AT_CHANCE_BELOW, PAPER_PARAMS, CopyRun, Experiment, Settings, StepVariant,
                                          alpha_of, eval_seed, length_log, make_model, not_comparable_reasons, results,
                                          stall_words, step_benchmark, step_variants, train_copy)
from paperlib.data.synthetic import copy_batch
from paperlib.models import n_params
from paperlib.stats import mean_ci
from paperlib.training.device import configure_device
from paperlib.training.run import Checkpointing

CPU = configure_device("cpu")


def _drawn(seed: int, n: int = 2) -> torch.Tensor:
    """The first `n` selective-copy batches a generator seeded with `seed` draws (inputs and targets, flat)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.cat([torch.cat([x.flatten(), y.flatten()]) for x, y in
                      (copy_batch(4, 32, selective=True, generator=generator) for _ in range(n))])


def test_eval_batches_differ_by_seed_purpose_and_step_and_from_training():
    """The batches drawn, not the seed integers: torch's CPU generator keeps only 32 bits of its seed."""
    streams = {("train", s, 0): _drawn(s) for s in range(3)}  # a run's training stream is seeded by its seed
    streams |= {(purpose, s, step): _drawn(eval_seed(s, purpose, step))
                for s in range(3) for purpose in ("validation", "final") for step in (0, 25, 50)}
    batches = list(streams.values())
    assert all(not torch.equal(a, b) for i, a in enumerate(batches) for b in batches[i + 1:])
    assert torch.equal(_drawn(eval_seed(1, "final")), _drawn(eval_seed(1, "final")))  # stable


def test_eval_seed_refuses_what_it_cannot_keep_apart():
    assert eval_seed(127, "final", 2**23 - 1) < 2**32
    with pytest.raises(ValueError, match="step"):
        eval_seed(0, "validation", 2**23)
    with pytest.raises(ValueError, match="seed"):
        eval_seed(128, "final")


def test_models_are_the_papers_size():
    assert n_params(make_model("copy", "recurrent")) == PAPER_PARAMS == 508_705
    for kind in ("gru", "lstm"):
        assert abs(n_params(make_model("selective_copy", kind)) - PAPER_PARAMS) <= 0.01 * PAPER_PARAMS
    assert alpha_of(make_model("copy", "forget")) is None and alpha_of(make_model("copy", "gru")) is None
    fixed = make_model("selective_copy", "recurrent")  # alpha fixed at 0.5: a buffer, not a parameter
    assert alpha_of(fixed) == 0.5 and n_params(fixed) == PAPER_PARAMS - 1
    with pytest.raises(ValueError, match="kind"):
        make_model("copy", "mamba")


def hand_built(changes, history_lengths, step=20, batch_size=8, seed=3, kind="recurrent", losses=None, cap=4096):
    """A run validated every 10 steps at the given noise lengths, with the curriculum's log `changes`."""
    losses = losses or [1.0] * len(history_lengths)
    history = [{"step": 10 * i, "noise_len": n, "val_loss": loss, "val_acc": 1 - loss / 2}
               for i, (n, loss) in enumerate(zip(history_lengths, losses))]
    state = SimpleNamespace(history=history, step=step, extra={"length_changes": changes}, model=nn.Linear(1, 1),
                            setup=CPU, seed=seed, train_time=2.0)
    return CopyRun("copy", kind, state, batch_size, wall_s=1.0, cap=cap)


def test_a_change_logged_at_the_last_validation_is_not_a_length_reached():
    run = hand_built([{"step": 10, "from": 32, "to": 64}, {"step": 20, "from": 64, "to": 128}], [32, 32, 64])
    assert run.final_len == 64
    assert run.samples == 160 and run.samples_to_final_len == 80
    assert run.history["samples"].tolist() == [0, 80, 160]
    fixed = hand_built([], [64, 64, 64])
    assert fixed.final_len == 64 and fixed.samples_to_final_len == 0


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


def test_trained_at_is_every_length_the_curriculum_trained_at():
    run = hand_built([{"step": 10, "from": 32, "to": 64}, {"step": 20, "from": 64, "to": 128}], [32, 32, 64])
    assert run.trained_at(32) and run.trained_at(64)
    assert not run.trained_at(128)  # set at the last validation, never trained
    assert not hand_built([], [32]).trained_at(32)  # only the validation before the first step


def test_length_log_counts_steps_and_best_loss_per_length():
    run = hand_built([{"step": 20, "from": 32, "to": 64}], [32, 32, 32, 64, 64], step=40,
                     losses=[2.0, 0.5, 0.2, 0.9, 0.4])
    log = length_log(Experiment({"copy": {"recurrent": [run]}}), batch_size=8)
    assert log[["length", "steps there", "samples there", "passed"]].values.tolist() == [
        [64, 20, 160, "yes"], [96, 20, 160, "no"]]
    assert log["best val loss"].tolist() == [0.2, 0.4]


def fake_scores(monkeypatch, acc_by_length: dict):
    """final_eval returns acc_by_length[(kind, seed)][noise_len] with a +-0.01 interval."""
    def final_eval(self, noise_len, n_batches, batch_size):
        acc = acc_by_length[(self.kind, self.seed)][noise_len]
        return acc, acc - 0.01, acc + 0.01
    monkeypatch.setattr(CopyRun, "final_eval", final_eval)


def test_results_score_the_paper_model_over_seeds_and_baselines_only_where_they_trained(monkeypatch):
    grow = [{"step": 10, "from": 32, "to": 64}]
    alpha = nn.Parameter(torch.tensor(0.7))
    paper = [hand_built(grow, [32, 32, 64], seed=s) for s in (0, 1)]
    paper[0].state.model.alpha, paper[0].state.model.alpha_raw = alpha, alpha
    forget = hand_built([], [32, 32, 32], seed=0, kind="forget")  # never got past 32
    regular = hand_built(grow, [32, 32, 64], seed=0, kind="regular")
    capped = hand_built([], [32, 32, 32], seed=0, kind="gru", cap=32)  # its curriculum could not go further
    fake_scores(monkeypatch, {("recurrent", 0): {32: 1.0, 64: 0.98}, ("recurrent", 1): {32: 1.0, 64: 0.96},
                              ("forget", 0): {32: 0.07}, ("regular", 0): {32: 0.5, 64: 0.3}, ("gru", 0): {32: 0.9}})
    experiment = Experiment({"copy": {"recurrent": paper, "forget": [forget], "regular": [regular], "rnn": [capped]}})
    table, m = results(experiment, final_batches=2, batch_size=8)
    assert m["copy_final_noise_len"] == 64 and m["copy_seeds"] == 2
    assert m["copy_acc"] == pytest.approx(0.97)
    low, high = mean_ci([0.98, 0.96])[1:]
    assert (m["copy_acc.ci_low"], m["copy_acc.ci_high"]) == (pytest.approx(low), pytest.approx(min(high, 1.0)))
    assert m["copy_acc.seed1"] == 0.96 and m["copy_final_noise_len.seed0"] == 64
    assert "copy_acc_forget" not in m and m["copy_reached_forget"] == 0.0 and m["copy_learned_forget"] == 0.0
    assert m["copy_compared_noise_len_forget"] == 32 and m["copy_paper_acc_compared_forget"] == 1.0
    assert m["copy_acc_regular"] == 0.3 and m["copy_reached_regular"] == 1.0 and m["copy_learned_regular"] == 1.0
    assert (m["copy_stalled_forget"], m["copy_stalled_regular"], m["copy_stalled_rnn"]) == (1.0, 0.0, 0.0)
    assert table.loc[("copy", "forget", 0), "at the paper model's length"] == "not trained there"
    assert table.loc[("copy", "forget", 0), "learned"] == "no: at chance"
    assert 0.07 < AT_CHANCE_BELOW < 0.3
    assert m["alpha"] == pytest.approx(0.7)


def test_curricula_set_the_start_and_block_rule():
    assert Settings(CPU).start == 128 and Settings(CPU).make_curriculum().block(128) is None
    july = Settings(CPU, curriculum="july2025")
    assert july.start == 32 and july.make_curriculum().block(32) == 16
    assert Settings(CPU, cap=64).start == 64
    with pytest.raises(ValueError, match="curriculum"):
        Settings(CPU, curriculum="march")


def tiny(steps: int, checkpointing: Checkpointing) -> CopyRun:
    settings = Settings(CPU, batch_size=4, curriculum="july2025", cap=64, threshold=10.0, eval_every=2,
                        eval_batches=1, checkpointing=checkpointing)
    return train_copy("copy", "recurrent", steps, settings, show_progress=False)


def test_a_resumed_run_continues_bitwise(isolated_cache):
    straight = tiny(4, Checkpointing())
    assert straight.final_len == 64 and straight.resumed_at is None
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


def test_stall_words_name_where_each_seed_stopped_and_how_far_its_loss_moved():
    stuck = hand_built([{"step": 10, "from": 32, "to": 64}], [32, 32, 64], losses=[2.6, 0.2, 0.9], seed=1)
    done = hand_built([{"step": 10, "from": 32, "to": 64}], [32, 32, 64], cap=64)
    words = stall_words(Experiment({"copy": {"recurrent": [stuck]}}), 0.3)
    assert "seed 1: at length 96 for 10 steps, validation loss 0.900 → 0.900 (threshold 0.3)" in words
    assert "reached the cap" in stall_words(Experiment({"copy": {"recurrent": [done]}}), 0.3)


def test_step_benchmark_times_each_variant_from_the_same_weights_and_compares_outputs():
    fp32, bf16 = configure_device("cpu", precision="fp32"), configure_device("cpu", precision="bf16")
    variants = [StepVariant("before", fp32, 0.05), StepVariant("dropout off", fp32, 0.0), StepVariant("bf16", bf16, 0.0)]
    table = step_benchmark(variants, noise_len=96, batch_size=2, repeats=1)
    assert table.index.tolist() == ["before", "dropout off", "bf16"]
    assert table.loc["before", "speed-up"] == 1.0 and (table["seconds per step"] > 0).all()
    # eval mode: dropout off changes nothing, bf16 changes the numbers a little
    assert table.loc["dropout off", "|Δ loss|"] == 0 and table.loc["dropout off", "max |Δ grad| / max |grad|"] == 0
    assert 0 < table.loc["bf16", "|Δ loss|"] < 0.05 and 0 < table.loc["bf16", "max |Δ grad| / max |grad|"] < 0.1


def test_step_variants_name_the_runs_own_step():
    levers = step_variants("cpu", 0, configure_device("cpu", precision="fp32"), 0.0)
    assert [v.name for v in levers][1] == "dropout off = this run's step" and len(levers) == 4
    own = step_variants("cpu", 0, configure_device("cpu", precision="bf16"), 0.05)
    assert own[-1].name == "this run's step" and len(own) == 5
