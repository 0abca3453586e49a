"""The copy chapter's pieces: evaluation seeds, model sizes, the run plan and its expected schedule, the one
scoring rule, what a run reports, resuming, workers, and the words decided from the record."""

from dataclasses import replace
from functools import partial
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
from torch import nn

from paperlib.book.metrics import UndeclaredMetric
from paperlib.book.runner import plan_run
from paperlib.book.verdicts import run_record
from paperlib.book.wording import marked_in_myst, recheck_myst
from paperlib.chapters import copy_tasks
from paperlib.chapters.copy_tasks import models as copy_models
from paperlib.chapters.copy_tasks.metrics import AT_CHANCE_BELOW, METRICS, PAPER_PARAMS, RNN_MATCHED, key
from paperlib.chapters.copy_tasks.models import alpha_of, eval_seed, make_model, model_facts, scoring_at
from paperlib.chapters.copy_tasks.plan import RunConfig, compare_steps, expected_schedule, run_plan
from paperlib.chapters.copy_tasks.record import (claims_not_run, not_comparable_reasons, pass_metrics, results,
                                                 validation_noise)
from paperlib.chapters.copy_tasks.steps import (StepVariant, step_benchmark, step_breakdown, step_seconds,
                                                step_variants)
from paperlib.chapters.copy_tasks.tables import length_log
from paperlib.chapters.copy_tasks.train import CopyRun, Experiment, Settings, train_all, train_copy
from paperlib.chapters.copy_tasks.words import accounting_words, comparison_words, speed_words, this_run_words
from paperlib.context import RunContext
from paperlib.data.synthetic import copy_batch
from paperlib.models import n_params
from paperlib.stats import mean_ci
from paperlib.training.device import configure_device, resolve_setup
from paperlib.training.deadline import RunDeferred
from paperlib.training.run import Checkpointing
from paperlib.training.plan import After

CPU = configure_device("cpu")


def make_settings(**changes) -> Settings:
    """Settings with the Feb-2026 code's own values (the paper profile's but the cadence), changed by `changes`."""
    base = Settings(setup=CPU, batch_size=64, lr=5e-4, curriculum="feb2026", cap=4096, threshold=0.3, lr_rule="code",
                    eval_every=500, eval_batches=500, final_batches=16,
                    compare_steps={"copy": 500, "selective_copy": 500}, dropout=None, cap_steps=None,
                    cap_patience=None, stop_at_target=False, checkpointing=Checkpointing(), context=RunContext())
    return replace(base, **changes)


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


def test_models_are_the_papers_size_and_the_rnns_match_it_two_ways():
    assert n_params(make_model("copy", "recurrent")) == PAPER_PARAMS == 508_705
    paper = model_facts("copy", "recurrent", "gru", 128)
    assert paper["dense_params"] == RNN_MATCHED["rnn_dense"] == 112_417  # 396,288 of its parameters are positions
    for cell in ("gru", "lstm"):
        for role, target in RNN_MATCHED.items():
            assert abs(n_params(make_model("selective_copy", role, cell)) - target) <= 0.01 * target
    total, dense = model_facts("copy", "rnn_total", "gru", 128), model_facts("copy", "rnn_dense", "gru", 128)
    assert (total["params"], dense["params"]) == (508_608, 112_828) and total["dense_params"] == total["params"]
    assert dense["macs"] < paper["macs"] < total["macs"]  # per token at length 160
    assert alpha_of(make_model("copy", "forget")) is None and alpha_of(make_model("copy", "rnn_total")) is None
    fixed = make_model("selective_copy", "recurrent")  # alpha fixed at 0.5: a buffer, not a parameter
    assert alpha_of(fixed) == 0.5 and n_params(fixed) == PAPER_PARAMS - 1
    with pytest.raises(ValueError, match="role"):
        make_model("copy", "mamba")


def hand_built(changes, history_lengths, step=20, batch_size=8, seed=3, role="recurrent", losses=None, limit=4096,
               task="copy", extra=None, compared=None):
    """A run validated every 10 steps at the given noise lengths, with the curriculum's log `changes`, scored where
    it is compared (after 10 steps, at its first length) with the accuracies `compared`."""
    losses = losses or [1.0] * len(history_lengths)
    history = [{"step": 10 * i, "time": 1.0 * i, "noise_len": n, "val_loss": loss, "val_loss_se": 0.01 * loss,
                "val_acc": 1 - loss / 2} for i, (n, loss) in enumerate(zip(history_lengths, losses))]
    scored = {} if compared is None else {"compared": {"step": 10, "noise_len": history_lengths[0], "accs": compared,
                                                       "losses": [0.0] * len(compared)}}
    state = SimpleNamespace(history=history, step=step, extra={"length_changes": changes, **scored, **(extra or {})},
                            model=nn.Linear(1, 1), setup=CPU, seed=seed, train_time=2.0)
    return CopyRun(RunConfig(task, role, seed, step, limit), state, batch_size, wall_s=1.0)


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

    monkeypatch.setattr(copy_models, "per_batch", fake_per_batch)
    run = hand_built([], [64])
    mean, low, high = run.final_eval(64, 3, 5)
    exact = mean_ci(torch.tensor(accs).tolist())
    assert mean == pytest.approx(exact[0])
    assert (low, high) == ((0.0, pytest.approx(exact[2])) if clipped == "low" else (pytest.approx(exact[1]), 1.0))
    assert calls == [("copy", 64, 3, 5, eval_seed(3, "final"))]
    assert run.final_eval(64, 3, 5) == (mean, low, high) and len(calls) == 1
    run.final_eval(128, 3, 5)
    assert len(calls) == 2


def test_scoring_follows_the_july_block_rule_and_restores_the_model():
    model = make_model("copy", "recurrent")
    model.train()
    with scoring_at(model, 32, block_cap=32) as scored:
        assert scored.block == 16 and not scored.training and not torch.is_grad_enabled()
    assert model.block == 32 and model.training
    with scoring_at(model, 32, block_cap=None) as scored:
        assert scored.block == 32  # Feb 2026: the model's own K at every length


def test_stays_count_steps_validations_and_how_each_length_was_left():
    run = hand_built([{"step": 20, "from": 32, "to": 64}], [32, 32, 32, 64, 64], step=40, limit=64,
                     losses=[2.0, 0.5, 0.2, 0.9, 0.4], extra={"cap_stop": {"step": 40, "reason": "plateau"}})
    stays = run.stays
    assert [(s.noise_len, s.set_at, s.steps, s.validations, s.outcome, s.cap_stop) for s in stays] == [
        (32, 0, 20, 2, "passed", None), (64, 20, 20, 2, "limit", "plateau")]
    assert [s.best_loss for s in stays] == [0.2, 0.4] and [s.seconds for s in stays] == [2.0, 2.0]
    assert run.steps_at_limit == 20 and run.cap_stop == "plateau"
    short = hand_built([{"step": 20, "from": 32, "to": 64}], [32, 32, 32, 64, 64], step=40, limit=4096)
    assert short.stays[-1].outcome == "budget" and short.steps_at_limit == 0


def test_length_log_names_every_model_and_says_what_happened_at_the_cap():
    paper = hand_built([{"step": 20, "from": 32, "to": 64}], [32, 32, 32, 64, 64], step=40, limit=64,
                       losses=[2.0, 0.5, 0.2, 0.05, 0.02], extra={"cap_stop": {"step": 40, "reason": "accuracy"}})
    forget = hand_built([], [32, 32, 32], role="forget", limit=64)
    log = length_log(Experiment({"copy": {"recurrent": [paper], "forget": [forget]}}))
    assert log["model"].tolist() == ["paper model, seed 3", "paper model, seed 3", "forget (α = 0), seed 3"]
    assert log["left"].tolist() == ["passed (2 validations)", "ended: accuracy reached the threshold", "steps ran out"]
    assert log["best loss"].tolist()[1] == 0.02  # below the threshold at the cap, and not called "not passed"


def test_pass_metrics_count_validations_and_samples_per_length_per_seed_and_their_mean():
    runs = [hand_built([{"step": 20, "from": 32, "to": 64}], [32, 32, 32, 64], step=30, seed=0),
            hand_built([{"step": 10, "from": 32, "to": 64}], [32, 32, 64, 64], step=30, seed=1)]
    m = pass_metrics("copy", runs, batch_size=8)
    assert m[key("copy", "validations_to_pass", noise=32, seed=0)] == 2
    assert m[key("copy", "validations_to_pass", noise=32, seed=1)] == 1
    assert m["copy_samples_to_pass.n32"] == pytest.approx(8 * 15) and m["copy_validations_to_pass.n32"] == 1.5
    assert not any(".n64" in name for name in m)  # never passed


def test_record_keys_come_from_one_place():
    assert key("selective_copy", "acc", seed=1) == "selective_copy_acc.seed1"
    assert key("copy", "stalled", "forget") == "copy_stalled_forget"
    assert key("copy", "samples_to_pass", noise=128) == "copy_samples_to_pass.n128"
    with pytest.raises(UndeclaredMetric):
        key("copy", "accuracy")


def fake_scores(monkeypatch, acc_by_length: dict):
    """final_eval returns acc_by_length[(role, seed)][noise_len] with a +-0.01 interval."""
    def final_eval(self, noise_len, n_batches, batch_size):
        acc = acc_by_length[(self.config.role, self.seed)][noise_len]
        return acc, acc - 0.01, acc + 0.01
    monkeypatch.setattr(CopyRun, "final_eval", final_eval)


def paper_and_baselines(compared: dict[str, list[float]]):
    """Three seeds of the paper model (each passes 32 at step 10) and of each baseline, each seed scored where
    compared at the mean accuracy `compared[role][seed]`; forget never gets past 32."""
    grow = [{"step": 10, "from": 32, "to": 64}]
    alpha = nn.Parameter(torch.tensor(0.7))
    runs = {"recurrent": [hand_built(grow, [32, 32, 64], seed=s, compared=[compared["recurrent"][s]] * 2)
                          for s in range(3)]}
    runs["recurrent"][0].state.model.alpha, runs["recurrent"][0].state.model.alpha_raw = alpha, alpha
    for role in ("forget", "regular", "rnn_total", "rnn_dense"):
        lengths, changes = ([32, 32, 32], []) if role == "forget" else ([32, 32, 64], grow)
        runs[role] = [hand_built(changes, lengths, seed=s, role=role, compared=[compared[role][s]] * 2)
                      for s in range(3)]
    return {"copy": runs}


COMPARED = {"recurrent": [0.8, 0.82, 0.81], "forget": [0.07, 0.08, 0.07], "regular": [0.8, 0.83, 0.81],
            "rnn_total": [0.98, 0.99, 0.985], "rnn_dense": [0.5, 0.1, 0.3]}
SCORES = {**{("recurrent", s): {32: 1.0, 64: acc} for s, acc in ((0, 0.98), (1, 0.96), (2, 0.97))},
          **{("forget", s): {32: 0.07} for s in range(3)},
          **{(role, s): {32: 0.5, 64: 0.3} for role in ("regular", "rnn_total", "rnn_dense") for s in range(3)}}


def test_results_score_the_paper_model_over_seeds_and_every_model_by_one_rule(monkeypatch):
    fake_scores(monkeypatch, SCORES)
    m = results(Experiment(paper_and_baselines(COMPARED)), final_batches=2, batch_size=8, lr=5e-4, threshold=0.3)
    assert m["copy_final_noise_len"] == 64 and m["copy_seeds"] == 3
    assert m["copy_acc"] == pytest.approx(0.97)
    low, high = mean_ci([0.98, 0.96, 0.97])[1:]
    assert (m["copy_acc.ci_low"], m["copy_acc.ci_high"]) == (pytest.approx(low), pytest.approx(min(high, 1.0)))
    assert m["copy_acc.seed1"] == 0.96 and m["copy_final_noise_len.seed0"] == 64
    assert m["copy_acc_own_length.seed1"] == 0.96  # each seed at its own final length
    assert (m["copy_compare_steps"], m["copy_compared_noise_len"]) == (10, 32)
    for role, accs in COMPARED.items():  # every model by the same rule: its seeds' scores where compared
        name = "copy_paper_acc_compared" if role == "recurrent" else key("copy", "acc_compared", role)
        mean, low, high = mean_ci(accs)
        assert m[name] == pytest.approx(mean) and m[f"{name}.ci_low"] == pytest.approx(max(low, 0.0))
        assert m[key("copy", "learned", role)] == float(mean >= AT_CHANCE_BELOW)
        assert m[key("copy", "lr", role)] == 5e-4 and m[key("copy", "params", role)] > 0
    assert m["copy_acc_compared_forget.seed1"] == 0.08 and m["copy_samples_regular.seed0"] == 160
    assert (m["copy_stalled_forget"], m["copy_stalled_regular"]) == (1.0, 0.0)
    assert m["copy_acc_own_len_forget"] == 0.07 and m["copy_final_noise_len_forget"] == 32
    assert m["copy_validations_to_pass.n32"] == 1 and m["copy_samples_to_pass.n32"] == 80
    assert m["copy_val_loss_se"] == pytest.approx(0.01) and "copy_val_loss_se_near" not in m  # losses 1.0: not near
    assert m["alpha"] == pytest.approx(0.7)


def test_validation_noise_is_the_median_se_overall_and_near_the_threshold():
    run = hand_built([], [32, 32, 32, 32], losses=[2.0, 2.0, 0.4, 0.2])
    m = validation_noise("copy", [run], threshold=0.3)
    assert m["copy_val_loss_se"] == pytest.approx(0.004) and m["copy_val_loss_se_near"] == pytest.approx(0.003)


def test_comparison_words_order_two_models_only_where_their_intervals_over_seeds_separate(monkeypatch):
    fake_scores(monkeypatch, SCORES)
    experiment = Experiment(paper_and_baselines(COMPARED))
    page = run_record(METRICS.view(results(experiment, final_batches=2, batch_size=8, lr=5e-4, threshold=0.3)), "cpu")
    words = comparison_words(experiment, page)
    marked = {(m.rule, m.outcome, m.keys[0]) for m in marked_in_myst(words)}
    assert ("equal_samples", "higher", "copy_acc_compared_rnn_total") in marked  # ~0.985 vs ~0.81
    assert ("equal_samples", "not separated", "copy_acc_compared_regular") in marked  # inside the paper's interval
    assert ("check", "fails", "copy_learned_forget") in marked and ("check", "holds", "copy_stalled_forget") in marked
    assert not any(m[2] in ("copy_acc_compared_forget",) for m in marked)  # forget did not learn: no ordering
    assert ("equal_samples", "not separated", "copy_acc_compared_rnn_dense") in marked  # 0.5, 0.1, 0.3: wide
    assert "no ordering is stated" in words and recheck_myst(words, page) == []
    unlearned = {**COMPARED, "recurrent": [0.05, 0.06, 0.05]}
    experiment = Experiment(paper_and_baselines(unlearned))
    page = run_record(METRICS.view(results(experiment, final_batches=2, batch_size=8, lr=5e-4, threshold=0.3)), "cpu")
    words = comparison_words(experiment, page)
    assert not [m for m in marked_in_myst(words) if m.rule == "equal_samples"]  # the paper model did not learn


def test_forget_gets_its_seeds_steps_to_the_final_length_and_the_others_the_comparisons():
    paper = hand_built([{"step": 10, "from": 32, "to": 64}], [32, 32, 64], step=40).state
    forget, regular = RunConfig("copy", "forget", 0, 999, 64), RunConfig("copy", "regular", 0, 20, 64)

    def spec(config, compare):
        return make_settings(eval_every=5, compare_steps={"copy": compare, "selective_copy": compare}).run_spec(config)

    assert spec(forget, 5).after == After("copy-recurrent-seed0", steps_to_reach=True)
    assert spec(forget, 5).after_trained(paper).steps == 10 and spec(forget, 30).after_trained(paper).steps == 30
    assert spec(forget, 5).after_trained(paper).eval_steps == (0, 5, 10)  # as if planned with those steps
    assert spec(forget, 5).after_trained(paper).eval_steps == spec(replace(forget, steps=10), 5).eval_steps
    assert spec(regular, 20).after == After("copy-recurrent-seed0") and spec(regular, 20).after_trained(paper).steps == 20
    never = hand_built([], [32, 32, 32], step=40).state
    assert spec(forget, 20).after_trained(never).steps == 20
    assert spec(RunConfig("copy", "recurrent", 0, 40, 64), 20).after is None  # the paper model waits for nothing
    assert spec(forget, 5).checkpoint_key == replace(spec(forget, 5), after=None).checkpoint_key  # order, not weights


PLAN_VALUES = {"copy_steps": 100, "selective_steps": 200, "copy_compare_steps": 20, "selective_compare_steps": 40,
               "eval_every": 10, "seeds": 3, "selective_seeds": 2, "baselines": "copy", "rnn": "gru", "cap": 4096,
               "limit": 1024, "tasks": "both"}


def test_the_run_plan_lists_every_run_from_the_parameters():
    plan = run_plan(PLAN_VALUES)
    assert [(c.task, c.role, c.seed) for c in plan if c.role == "recurrent"] == [
        ("copy", "recurrent", 0), ("copy", "recurrent", 1), ("copy", "recurrent", 2),
        ("selective_copy", "recurrent", 0), ("selective_copy", "recurrent", 1)]
    baselines = [c for c in plan if c.role != "recurrent"]
    assert [(c.family, c.seed) for c in baselines] == [(f, s) for s in range(3)
                                                       for f in ("forget", "regular", "gru_total", "gru_dense")]
    assert {c.limit for c in plan} == {1024} and {c.steps for c in baselines if c.role != "forget"} == {20}
    assert {c.steps for c in plan if c.task == "selective_copy"} == {200}
    assert len(run_plan({**PLAN_VALUES, "baselines": "both"})) == 5 + 4 * 5
    assert len(run_plan({**PLAN_VALUES, "baselines": "none", "selective_seeds": 0})) == 6
    assert run_plan({**PLAN_VALUES, "tasks": "copy"}) == [c for c in plan if c.task == "copy"]
    assert run_plan({**PLAN_VALUES, "tasks": "selective_copy"}) == [c for c in plan if c.task == "selective_copy"]


def test_the_comparisons_steps_are_a_validation_step_within_the_paper_models():
    assert compare_steps(PLAN_VALUES, "copy") == 20 and compare_steps(PLAN_VALUES, "selective_copy") == 40
    with pytest.raises(ValueError, match="multiple of eval_every"):
        compare_steps({**PLAN_VALUES, "copy_compare_steps": 25}, "copy")
    with pytest.raises(ValueError, match="at most the paper model's steps"):
        compare_steps({**PLAN_VALUES, "selective_compare_steps": 300}, "selective_copy")


def test_validation_batches_and_cadence_come_from_the_parameters():
    values = plan_run("copy_tasks", "cpu").parameters
    for spec in copy_tasks.runs(values):
        assert spec.eval_samples == values["eval_batches"] * values["batch_size"]
        assert spec.eval_steps[:3] == (0, values["eval_every"], 2 * values["eval_every"])
    settings = copy_tasks.settings_from(values, CPU, RunContext())
    assert (settings.eval_every, settings.eval_batches) == (values["eval_every"], values["eval_batches"])
    assert settings.compare_steps == {"copy": values["copy_compare_steps"],
                                      "selective_copy": values["selective_compare_steps"]}


def test_the_expected_schedule_rounds_the_pilots_steps_up_to_validations():
    stays = [{"noise_len": 128, "steps": 150, "outcome": "passed"},
             {"noise_len": 256, "steps": 20, "outcome": "limit"}]
    pilot = {"runs": [{"task": "copy", "curriculum": "feb2026", "limit": 256, "stays": stays}]}
    p = {**PLAN_VALUES, "curriculum": "feb2026", "eval_every": 100, "copy_compare_steps": 200, "copy_steps": 1000,
         "stop_at_target": True}
    paper = RunConfig("copy", "recurrent", 0, 1000, 1024)
    assert expected_schedule(paper, p, pilot) == ((160, 200), (288, 100), (544, 100), (1056, 100))
    assert expected_schedule(paper, {**p, "stop_at_target": False}, pilot)[-1] == (1056, 600)  # the steps left
    assert expected_schedule(RunConfig("copy", "forget", 0, 1000, 1024), p, pilot) == ((160, 400),)
    assert expected_schedule(RunConfig("copy", "regular", 0, 200, 1024), p, pilot) == ((160, 200),)
    assert expected_schedule(replace(paper, steps=150), p, None) == ((160, 100), (288, 50))


def test_a_task_trained_alone_has_the_same_runs_and_checkpoints_as_in_the_whole_chapter():
    values = plan_run("copy_tasks", "cpu").parameters
    whole = {spec.name: spec for spec in copy_tasks.runs(values)}
    alone = copy_tasks.runs({**values, "tasks": "copy"})
    assert [spec.name for spec in alone] == [name for name in whole if name.startswith("copy-")]
    assert all(spec == whole[spec.name] and spec.checkpoint_key == whole[spec.name].checkpoint_key for spec in alone)
    settings = make_settings()  # the notebook's Settings take no `tasks`: a run's checkpoint key cannot depend on it
    assert {c.name: settings.spec(c).checkpoint_key for c in run_plan({**values, "tasks": "copy"})} == {
        c.name: settings.spec(c).checkpoint_key for c in run_plan(values) if c.task == "copy"}


def test_the_claims_of_a_task_left_out_are_not_run_with_why():
    assert claims_not_run("both") == {}
    why = "this execution trained copy only (tasks: copy); a run of the whole chapter judges it"
    assert claims_not_run("copy") == {"selective_copy_4128": why}
    assert set(claims_not_run("selective_copy")) == {"copy_4128", "rt_accumulate"}


def test_curricula_set_the_start_and_block_rule():
    assert make_settings().start == 128 and make_settings(curriculum="july2025").start == 32
    assert make_settings(cap=64).start == 64
    config = RunConfig("copy", "recurrent", 0, 10, 4096)
    curriculum = make_settings(curriculum="july2025").spec(config).callbacks()[0]
    assert curriculum.block(32) == 16 and curriculum.limit == 4096
    baseline = make_settings().spec(replace(config, role="forget", limit=1024)).callbacks()
    assert baseline[0].limit == 1024 and baseline[0].cap == 4096
    assert [type(c).__name__ for c in baseline] == ["Curriculum"]  # no end rules
    assert [type(c).__name__ for c in make_settings().spec(config).callbacks()] == ["Curriculum", "StopAtCap"]
    scored = make_settings().score_at_step(make_settings().spec(config))  # every model's comparison: one rule
    assert (scored.step, scored.start) == (500, 128)
    with pytest.raises(ValueError, match="curriculum"):
        make_settings(curriculum="march")


def tiny_settings(checkpointing: Checkpointing, **overrides) -> Settings:
    return make_settings(batch_size=4, curriculum="july2025", cap=64, threshold=10.0, eval_every=2,
                         eval_batches=2, final_batches=1, compare_steps={"copy": 2, "selective_copy": 2},
                         checkpointing=checkpointing, **overrides)


def tiny(steps: int, checkpointing: Checkpointing) -> CopyRun:
    config = RunConfig("copy", "recurrent", 0, steps, 64)
    return train_copy(config, tiny_settings(checkpointing), show_progress=False)


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


def test_the_paper_model_ends_at_its_limit_and_every_model_is_scored_by_one_rule(isolated_cache):
    settings = tiny_settings(Checkpointing(), cap_steps=4)
    plan = [RunConfig("copy", "recurrent", 0, 50, 64), RunConfig("copy", "forget", 0, 50, 64),
            RunConfig("copy", "rnn_dense", 0, 2, 64)]
    experiment = train_all(settings, plan)
    paper, forget = experiment.paper("copy")[0], experiment.baselines("copy")["forget"][0]
    gru = experiment.baselines("copy")["rnn_dense"][0]
    assert paper.cap_stop == "steps" and paper.state.step == 4 and paper.steps_at_limit == 4
    assert forget.state.step == 2 and forget.cap_stop is None  # its seed reached 64 at step 0: the comparison's 2
    for run in (paper, forget, gru):  # the same step, the first length, the seed's final batches
        scored = run.state.extra["compared"]
        assert (scored["step"], scored["noise_len"], len(scored["accs"])) == (2, 32, 1)
    assert gru.state.step == 2 and 0 <= gru.compared <= 1


def test_a_run_filter_trains_its_own_runs_and_baselines_before_it_defers_the_others(isolated_cache):
    plan = [RunConfig(task, "recurrent", 0, 4, 64) for task in ("copy", "selective_copy")]
    plan.append(RunConfig("copy", "forget", 0, 4, 64))
    settings = tiny_settings(Checkpointing(every=2), context=RunContext(only_runs=("copy-*",)))
    with pytest.raises(RunDeferred, match="selective_copy-recurrent-seed0"):
        train_all(settings, plan)
    saved = sorted(p.name.rsplit("-", 1)[0] for p in (isolated_cache / "checkpoints" / "copy_tasks").glob("*.pt"))
    assert saved == ["copy-forget-seed0", "copy-recurrent-seed0"]


def test_workers_train_the_same_runs_and_read_them_back(isolated_cache):
    settings = tiny_settings(Checkpointing(every=2), cap_steps=4)
    plan = [RunConfig("copy", "recurrent", seed, 50, 64) for seed in (0, 1)]
    here, there = train_all(settings, plan), train_all(settings, plan, workers=2)
    for a, b in zip(here.paper("copy"), there.paper("copy")):
        assert a.state.step == b.state.step and a.state.extra["length_changes"] == b.state.extra["length_changes"]
        assert all(torch.equal(x, y) for x, y in zip(a.state.model.state_dict().values(),
                                                     b.state.model.state_dict().values()))
    with pytest.raises(ValueError, match="checkpoint_every"):
        train_all(tiny_settings(Checkpointing()), plan, workers=2)


def test_claims_at_4128_are_not_comparable_short_of_it_or_of_the_notes_samples():
    metrics = {"copy_seeds": 1, "copy_final_noise_len.seed0": 64, "copy_samples.seed0": 1000, "copy_acc.seed0": 1.0,
               "selective_copy_seeds": 2, "selective_copy_final_noise_len.seed0": 4096,
               "selective_copy_samples.seed0": 9e5, "selective_copy_acc.seed0": 0.99,
               "selective_copy_final_noise_len.seed1": 4096, "selective_copy_samples.seed1": 9e5,
               "selective_copy_acc.seed1": 0.97}
    reasons = not_comparable_reasons(metrics, "cpu", "both")
    assert list(reasons) == ["copy_4128", "selective_copy_4128"]  # accumulate vs forget is judged where they got
    assert reasons["copy_4128"] == "budget (cpu profile): seed 0 reached length 96 in 1,000 samples, short of the Note's 57,600 samples"
    assert "seed 1 ended below 98.5 % after 900,000 samples" in reasons["selective_copy_4128"]
    assert "seed 0" not in reasons["selective_copy_4128"]
    done = {**metrics, "copy_final_noise_len.seed0": 4096, "selective_copy_samples.seed1": 1.2e6}
    assert not_comparable_reasons(done, "paper", "both") == {}  # below the threshold only after the Note's samples
    copy_only = {k: v for k, v in metrics.items() if k.startswith("copy_")}  # a task not trained has no metrics
    assert list(not_comparable_reasons(copy_only, "cpu", "copy")) == ["copy_4128"]
    below = not_comparable_reasons({**copy_only, "copy_acc.seed0": 0.5}, "cpu", "copy")
    assert "seed 0 ended below 99 % after 1,000 samples" in below["rt_accumulate"]


def test_this_run_states_cadence_end_rules_the_scoring_rule_baselines_and_the_pilot():
    values = {"profile": "cpu", "rnn": "gru", "limit": 1024}
    settings = make_settings(eval_every=100, eval_batches=24, dropout=0.0, cap_steps=400, cap_patience=8,
                             stop_at_target=True, compare_steps={"copy": 200, "selective_copy": 300})
    plan = [RunConfig("copy", "recurrent", 0, 1000, 1024), RunConfig("copy", "forget", 0, 1000, 1024)]
    pilot = {"samples_to_decide": {"feb2026": 1000.0, "july2025": 2000.0}, "chosen": "feb2026",
             "decides_at_noise": 256, "command": "x"}
    words = this_run_words(values, settings, plan, 1, pilot)
    for part in ("validated every 100 steps on 24 fresh batches", "at most once every 100 steps",
                 "(**the paper's is 0.05**)", "98.5 % selective copy", "after 8 validations there without a new lowest",
                 "or 400 steps after it got there", "to 1,056 (**the paper's is 4,128**", "still divides by 4,096",
                 "copy after 200 steps (12,800 samples)", "reach its final length", "508,705 parameters",
                 "112,417 parameters outside the position table", "the rate was not tuned per model",
                 "with no curriculum", "after 1,000 samples from the feb2026 start", "this run uses it",
                 "This execution trains **copy only**", "1 seed on copy, at most 1,000 steps"):
        assert part in words, part
    both = this_run_words(values, settings, [*plan, replace(plan[0], task="selective_copy")], 1, pilot)
    assert "1 seed on copy, at most 1,000 steps; 1 seed on selective copy" in both and "copy only" not in both


def test_step_benchmark_times_each_variant_from_the_same_weights_and_compares_outputs():
    fp32, bf16 = configure_device("cpu", precision="fp32"), configure_device("cpu", precision="bf16")
    variants = [StepVariant("before", fp32, 0.05), StepVariant("dropout off = this run's step", fp32, 0.0),
                StepVariant("bf16", bf16, 0.0)]
    table = step_benchmark(variants, noise_len=96, batch_size=2, threads=1, repeats=1)
    assert table.index.tolist() == ["before", "dropout off = this run's step", "bf16"]
    speed = table["speed against this run's step"]
    assert speed.iloc[1] == 1.0 and (table["seconds per step"] > 0).all()
    assert speed["bf16"] == pytest.approx(table["seconds per step"].iloc[1] / table.loc["bf16", "seconds per step"])
    # eval mode: dropout off changes nothing, bf16 changes the numbers a little
    own = "dropout off = this run's step"
    assert table.loc[own, "|Δ loss|"] == 0 and table.loc[own, "max |Δ grad| / max |grad|"] == 0
    assert 0 < table.loc["bf16", "|Δ loss|"] < 0.05 and 0 < table.loc["bf16", "max |Δ grad| / max |grad|"] < 0.1


def test_step_variants_name_the_runs_own_step():
    levers = step_variants("cpu", configure_device("cpu", precision="fp32"), 0.0)
    assert [v.name for v in levers][1] == "fp32, dropout off = this run's step" and len(levers) == 3
    own = step_variants("cpu", configure_device("cpu", precision="bf16"), 0.05)
    assert own[-1].name == "this run's step" and len(own) == 4
    assert step_variants("cpu", resolve_setup("cpu", "bf16"), 0.0)[2].name == "bf16 autocast, dropout off = this run's step"


def test_step_seconds_and_breakdown_time_the_models_the_estimate_reads():
    table = step_seconds(CPU, {"recurrent": [32, 64], "rnn_dense": [32]}, "gru", batch_size=2, dropout=0.0, threads=1)
    assert table.index.tolist() == [64, 96] and sorted(table.columns) == ["gru_dense", "recurrent"]
    assert (table["recurrent"] > 0).all() and table["gru_dense"].isna().tolist() == [False, True]
    parts = step_breakdown(CPU, 64, batch_size=2, dropout=0.0, threads=1)
    assert parts.index.tolist() == ["matrix products", "attention", "everything else"] and (parts > 0).all()


def test_speed_words_compare_with_the_papers_step_in_the_right_direction():
    bench = pd.DataFrame({"seconds per step": [2.0, 1.0]}, index=["paper", "this run's step"])
    faster = speed_words(run_record(METRICS.view({"step_s_paper": 2.0, "step_s_run": 1.0}), "cpu"), bench)
    assert "this run's is 2.00× as fast (faster). <ratio;below;step_s_run,step_s_paper>" in faster
    slower = speed_words(run_record(METRICS.view({"step_s_paper": 1.0, "step_s_run": 1.25}), "cpu"), bench)
    assert "0.80× as fast (slower). <ratio;above;" in slower
    own = pd.DataFrame({"seconds per step": [1.0]}, index=["fp32, dropout 0.05 (the paper's model) = this run's step"])
    same = speed_words(run_record(METRICS.view({"step_s_paper": 1.0, "step_s_run": 1.0}), "cpu"), own)
    assert "This run's step is the paper model's fp32 step with dropout. <ratio;about even;" in same


def test_accounting_words_count_validations_against_the_notes_cadence():
    run = hand_built([{"step": 20, "from": 128, "to": 256}, {"step": 30, "from": 256, "to": 512}],
                     [128, 128, 128, 256, 512], step=40, batch_size=64)
    page = run_record(METRICS.view({"copy_samples": run.samples}), "cpu")
    words = accounting_words(Experiment({"copy": {"recurrent": [run]}}), page, eval_every=10)
    assert "needed 2 validations to pass their first length" in words
    assert "passed 1 of the 1 later lengths they passed at the first validation there" in words
    assert "validated 4 times in training (every 10 steps of 64, 2,560 samples)" in words
    assert ("{decided}`4 validation intervals, fewer than the Note's 9 (its 57,600 samples at a validation every 100 "
            "steps of 64). <reference;lower;=copy_samples,=5760>`") in words
    more = run_record(METRICS.view({"copy_samples": 64 * 10 * 12}), "cpu")
    assert "12 validation intervals, more than the Note's 9" in accounting_words(
        Experiment({"copy": {"recurrent": [run]}}), more, eval_every=10)


def test_selective_copy_is_counted_in_samples_and_each_seed_at_its_own_length(monkeypatch):
    runs = [hand_built([{"step": 20, "from": 128, "to": 256}], [128, 128, 128, 256], step=30, seed=s, task="selective_copy",
                       batch_size=64) for s in (0, 1)]
    runs[1] = hand_built([], [128, 128, 128, 128], step=30, seed=1, task="selective_copy", batch_size=64)
    fake_scores(monkeypatch, {("recurrent", 0): {128: 0.6, 256: 0.3}, ("recurrent", 1): {128: 0.4}})
    experiment = Experiment({"selective_copy": {"recurrent": runs}})
    m = results(experiment, final_batches=2, batch_size=64, lr=5e-4, threshold=0.3)
    assert m["selective_copy_acc_own_length.seed0"] == 0.3 and m["selective_copy_acc_own_length.seed1"] == 0.4
    assert m["selective_copy_acc.seed0"] == 0.6  # where every seed is scored: the shortest length any reached
    assert m["selective_copy_samples_share"] == pytest.approx(1920 / 1.11e6)
    words = accounting_words(experiment, run_record(METRICS.view(m), "cpu"), eval_every=10)
    assert "counted in samples: its first seed trained on 1,920 (0.2 % of the Note's 1,110,000)" in words
    assert "<reference;lower;=selective_copy_samples,=1110000.0>" in words and "validation interval" not in words




def test_a_step_table_is_measured_once_per_device_when_resumed(isolated_cache):
    calls = []

    def measure(setup, lengths):
        calls.append(lengths)
        return pd.DataFrame({"recurrent": [0.5, 1.0], "gru": [0.2, None]}, index=pd.Index([160, 288], name="length")
                            ).rename_axis(columns="model")

    first = copy_tasks.measured_once(partial(measure, CPU, [32, 64]), reuse=True)
    again = copy_tasks.measured_once(partial(measure, CPU, [32, 64]), reuse=True)
    assert len(calls) == 1 and again.equals(first) and (again.index.name, again.columns.name) == ("length", "model")
    copy_tasks.measured_once(partial(measure, CPU, [32, 64]), reuse=False)  # a fresh run measures again
    copy_tasks.measured_once(partial(measure, CPU, [32]), reuse=True)  # and so does another measurement
    assert len(calls) == 3
