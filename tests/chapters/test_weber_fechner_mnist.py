"""The Weber–Fechner chapter's experiment: model names, schedule, seeded runs, paired comparisons and tables."""

import math

import pandas as pd
import pytest
import torch

from paperlib.book.runner import plan_run
from paperlib.book.verdicts import run_record
from paperlib.book.wording import marked_in_myst, recheck_myst
from paperlib.chapters import weber_fechner_mnist
from paperlib.chapters.weber_fechner_mnist import (COST_COLUMNS, FAST_MODELS, FAST_OPTIMIZER, METRICS, WF_MODELS,
                                                   ablation_table, advantage, best_lrs, checkpoints_won, claim_evidence,
                                                   compute_table, controls_for, eval_schedule, in_words, lr_grid,
                                                   model_names, model_sizes, parse_channels, plan_stage, run_plan,
                                                   time_to, tuned_metrics)
from paperlib.context import RunContext
from paperlib.data.mnist import as_images
from paperlib.models.weber_fechner import REDUCTIONS, Net
from paperlib.stats import ci_table
from paperlib.training.callbacks import OneCycle
from paperlib.training.device import configure_device
from paperlib.training.losses import CRITERIA
from paperlib.training.optim import OptimizerConfig
from paperlib.training.plan import RunSpec
from paperlib.training.run import Checkpointing, execution


def test_every_model_has_a_known_head_and_loss():
    assert {spec.head for spec in WF_MODELS.values()} <= set(REDUCTIONS) | {"plain"}
    assert {spec.loss for spec in WF_MODELS.values()} <= set(CRITERIA)
    assert WF_MODELS["mlp_wf_m16"].m == 16 and WF_MODELS["cnn_l2"].loss == "relative"
    assert WF_MODELS["cnn_wf"].trunk == "cnn" and WF_MODELS["mlp_wf_x50"].x == 0.5


def test_model_names_lists_mlp_first_and_names_an_unknown_variant():
    assert model_names("plain,wf", "wf") == ["mlp_plain", "mlp_wf", "cnn_wf"]
    assert model_names("", "max,") == ["cnn_max"]
    with pytest.raises(ValueError, match="mlp_median"):
        model_names("wf,median", "")


def test_parse_channels():
    assert parse_channels("8,16") == (8, 16)
    for bad in ("8", "8,16,32", "a,b"):
        with pytest.raises(ValueError, match="cnn_channels"):
            parse_channels(bad)


def test_eval_schedule_joins_the_checkpoints_and_each_epoch_up_to_the_last_step():
    assert eval_schedule((10, 25, 50), every=20, steps=45) == [10, 20, 25, 40]
    assert eval_schedule((10, 20), every=20, steps=40) == [10, 20, 40]


def paired_runs():
    """Four seeds at three steps: wf is 0.05 (+ 0.001 * seed) above c1; c2 is 0.01 (- 0.002 * seed) above c1."""
    rows = []
    for seed in range(4):
        for step, base in ((10, 0.5), (100, 0.8), (500, 0.9)):
            rows += [{"model": "wf", "seed": seed, "step": step, "acc": base + 0.05 + 0.001 * seed},
                     {"model": "c1", "seed": seed, "step": step, "acc": base},
                     {"model": "c2", "seed": seed, "step": step, "acc": base + 0.01 - 0.002 * seed}]
    return pd.DataFrame(rows)


def test_advantage_against_the_best_control_and_checkpoints_won():
    runs = paired_runs()
    control, mean, low, high = advantage(runs, "wf", ["c1", "c2"], 100)
    assert control == "c2"
    assert mean == pytest.approx(0.04 + 0.003 * 1.5) and low < mean < high
    assert checkpoints_won(runs, "wf", ["c1", "c2"]) == 2  # 10 and 100; 500 is past 200 steps
    assert checkpoints_won(runs, "wf", ["c1", "c2"], max_step=500) == 3
    assert checkpoints_won(runs, "c1", ["c2"]) == 0


def test_controls_are_the_same_trunks_reductions_that_were_run_or_cross_entropy_for_a_loss():
    names = ["mlp_plain", "mlp_wf", "mlp_max", "mlp_scaled", "mlp_l1", "cnn_wf", "cnn_mean"]
    assert controls_for("mlp_wf", names) == ["mlp_plain", "mlp_max"]
    assert controls_for("mlp_max", names) == ["mlp_plain"]
    assert controls_for("cnn_wf", names) == ["cnn_mean"]
    assert controls_for("mlp_l1", names) == ["mlp_plain"] and controls_for("cnn_l2", []) == ["cnn_plain"]


PLAIN = {"checkpointing": Checkpointing(), "context": RunContext()}  # no checkpoints, no deadline or run filter


def random_images(n: int, seed: int):
    """`n` noise images as the chapter feeds them (float, (n, 1, 28, 28)) and labels cycling through 0..9."""
    g = torch.Generator().manual_seed(seed)
    return as_images(torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)), torch.arange(n) % 10


def tiny_plan(models, seeds, steps, eval_steps, optimizer=OptimizerConfig(lr=1e-3), catalogue=WF_MODELS, batch=16,
              lr_schedule=None):
    """Runs as a stage of the chapter's plan lists them, on 4- and 8-channel CNNs."""
    return [RunSpec("weber_fechner_mnist", "test", name, seed, Net(catalogue[name], (4, 8), False), "random images",
                    steps, batch, 784, optimizer, lr_schedule, eval_steps, 20, 0, "") for name in models for seed in seeds]


@pytest.fixture(scope="module")
def runs():
    images, labels = random_images(64, seed=0)
    plan = tiny_plan(["mlp_plain", "mlp_wf", "mlp_max", "mlp_l1", "cnn_wf"], [0, 1], 4, (1, 3, 4))
    return run_plan(plan, images, labels, images[:20], labels[:20], configure_device("cpu"), **PLAIN)[0]


def test_run_plan_evaluates_every_model_and_seed_on_the_schedule(runs):
    assert sorted(runs.step.unique()) == [1, 3, 4]  # 4 = one epoch of 64 examples
    assert len(runs) == 5 * 2 * 3 and set(runs.columns) >= {"model", "seed", "step", "time", "acc", "loss"}
    assert runs.acc.between(0, 1).all() and (runs.acc * 20).round(6).mod(1).eq(0).all()  # counts out of 20
    by_seed = runs[runs.model == "mlp_wf"].pivot(index="step", columns="seed", values="loss")
    assert not by_seed[0].equals(by_seed[1])  # the seeds are different runs


def test_run_plan_is_reproducible():
    images, labels = random_images(32, seed=1)
    again = [run_plan(tiny_plan(["mlp_wf"], [3], 2, (1, 2)), images, labels, images, labels,
                      configure_device("cpu"), **PLAIN)[0].drop(columns="time") for _ in range(2)]
    pd.testing.assert_frame_equal(*again)


def test_runs_resume_from_their_checkpoints_and_say_they_were_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERLIB_CHECKPOINTS", str(tmp_path))
    images, labels = random_images(32, seed=4)
    plan, saving = tiny_plan(["mlp_wf", "cnn_plain"], [0], 2, (1, 2)), Checkpointing(every=1, resume=True)
    first, trained = run_plan(plan, images, labels, images, labels, configure_device("cpu"), checkpointing=saving,
                              context=RunContext())
    again, loaded = run_plan(plan, images, labels, images, labels, configure_device("cpu"), checkpointing=saving,
                             context=RunContext())
    pd.testing.assert_frame_equal(first, again)
    assert execution(trained)["runs_trained_now"] == 2 and execution(trained)["runs_loaded"] == 0
    assert execution(loaded)["runs_loaded"] == 2 and execution(loaded)["runs_trained_now"] == 0


def test_the_plan_lists_every_stage_from_the_parameters():
    params = plan_run("weber_fechner_mnist", "quick").parameters
    plan = weber_fechner_mnist.runs(params)
    names = model_names(params["mlp_variants"], params["cnn_variants"])
    tuned = model_names(params["tuned_mlp"], params["tuned_cnn"])
    ablation, sweep = plan_stage(plan, "ablation"), plan_stage(plan, "sweep")
    assert [s.family for s in ablation] == [n for n in names for _ in range(params["ablation_seeds"])]
    assert {s.model.cnn_channels for s in ablation} == {parse_channels(params["cnn_channels"])}
    assert ablation[0].eval_steps == tuple(eval_schedule((10, 25, 50, 100, 200, 500), 100, 100))  # 3,200 / 32
    assert len(sweep) == len(tuned) * len(lr_grid(params["lrs"])) * params["tune_seeds"]
    assert {s.optimizer.lr for s in sweep} == set(lr_grid(params["lrs"])) and {s.eval_samples for s in sweep} == {200}
    assert all(s.optimizer is None for s in plan_stage(plan, "tuned"))  # the sweep chooses
    fast = plan_stage(plan, "fast")
    assert [s.family for s in fast] == list(FAST_MODELS) and {s.batch for s in fast} == {256}
    assert fast[0].optimizer == FAST_OPTIMIZER and fast[0].lr_schedule == OneCycle(fast[0].steps)
    assert len({s.name for s in plan}) == len(plan)


def test_ablation_table_and_time_to(runs):
    table, differences = ablation_table(runs, [1, 4])
    assert list(table.index) == ["mlp_plain", "mlp_wf", "mlp_max", "mlp_l1", "cnn_wf"]
    assert "cnn_wf" not in differences.index  # no control of its trunk was run
    assert "(plain)" in differences.loc["mlp_l1", "Δ @ 1"] and list(differences.columns) == ["Δ @ 1", "Δ @ 4"]
    mean = runs[(runs.model == "mlp_plain") & (runs.step == 4)].acc.mean()
    assert table.loc["mlp_plain", "acc @ 4"].startswith(f"{100 * mean:.2f} ± ")
    reached = time_to(runs, 0.0)
    assert (reached.steps == 1).all()
    assert math.isnan(time_to(runs, 1.01).steps.iloc[0]) and math.isnan(time_to(runs, 1.01).seconds.iloc[0])


def test_lr_grid_reads_positive_rates_and_names_a_bad_one():
    assert lr_grid("0.01, 1e-4,0.001") == [1e-4, 1e-3, 1e-2]
    for bad in ("", "0.1,x", "0.1,-1"):
        with pytest.raises(ValueError, match="lr_grid"):
            lr_grid(bad)


def test_each_model_keeps_the_rate_with_the_best_early_validation_accuracy():
    rows = [{"model": m, "peak_lr": lr, "seed": s, "step": step, "acc": acc}
            for m, good in (("mlp_wf", 0.01), ("mlp_plain", 0.001)) for lr in (0.001, 0.01) for s in (0, 1)
            for step, acc in ((0, 0.1), (100, 0.9 if lr == good else 0.5), (500, 0.2 if lr == good else 0.99))]
    assert best_lrs(pd.DataFrame(rows)) == {"mlp_wf": 0.01, "mlp_plain": 0.001}  # step 500 is past the regime


def test_the_sweep_scores_every_rate_on_the_held_out_images_and_the_tuned_metrics_read_it():
    images, labels = random_images(64, seed=2)
    plan = [spec for lr in (1e-3, 1e-2) for spec in tiny_plan(["mlp_plain"], [0], 3, (1, 2, 3), OptimizerConfig(lr=lr))]
    sweep, _ = run_plan(plan, images[:48], labels[:48], images[48:], labels[48:], configure_device("cpu"), **PLAIN)
    assert sorted(sweep.peak_lr.unique()) == [1e-3, 1e-2] and (sweep.acc * 16).round(6).mod(1).eq(0).all()
    runs = sweep[sweep.peak_lr == 1e-2].assign(step=lambda d: d.step.replace({2: 100}))
    found = tuned_metrics(runs, {"mlp_plain": 1e-2})
    assert found["best_lr.mlp_plain"] == 1e-2 and 0 <= found["acc_100_tuned.mlp_plain"] <= 1
    assert math.isnan(found["seconds_to_98.mlp_plain"]) or found["seconds_to_98.mlp_plain"] >= 0


def test_fast_baselines_train_under_their_recipe_and_enter_the_compute_table():
    images, labels = random_images(64, seed=3)
    runs, _ = run_plan(tiny_plan(list(FAST_MODELS), [0], 4, (1, 4), FAST_OPTIMIZER, FAST_MODELS,
                                 lr_schedule=OneCycle(4)), images, labels, images[:16], labels[:16],
                       configure_device("cpu"), **PLAIN)
    assert set(runs.model) == {"fast_cnn", "fast_mlp"} and (runs.peak_lr == 0.01).all()
    assert runs[runs.step == 4].lr.max() < 1e-6  # the one-cycle schedule ends far below its peak
    table = compute_table(runs, model_sizes(list(FAST_MODELS), (32, 64), FAST_MODELS), thresholds=(0.0, 1.01))
    assert list(table.index) == ["fast_cnn", "fast_mlp"] and (table["steps to 0%"] == 1).all()
    assert list(table.columns) == ["steps to 0%", "s to 0%", "steps to 101%", "s to 101%", *COST_COLUMNS]
    assert table["steps to 101%"].isna().all() and (table["s / 100 steps"] > 0).all()
    assert table.loc["fast_cnn", "parameters"] != table.loc["fast_mlp", "parameters"]  # each sized from its own spec


def tuned(wf_gain: float) -> pd.DataFrame:
    """Runs of mlp_wf and its controls, five seeds, accuracy at 10..200 steps: WF `wf_gain` above mlp_plain."""
    rows = []
    for seed in range(5):
        for step in (10, 25, 50, 100, 200):
            base = 0.80 + 0.01 * seed + step / 10_000
            for model, acc in (("mlp_plain", base), ("mlp_max", base - 0.02), ("mlp_wf", base + wf_gain)):
                rows.append({"model": model, "seed": seed, "step": step, "acc": acc + 0.001 * (seed % 2) * (model == "mlp_wf"),
                             "time": step / 100, "peak_lr": 0.001})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("gain, verdict, unpaired", [(0.05, "reproduced under our reading", "higher"),
                                                     (0.0, "not reproduced under our reading", "not separated")])
def test_in_words_decides_each_comparison_and_verdict_from_the_record(gain, verdict, unpaired):
    runs = tuned(gain)
    names = ["mlp_plain", "mlp_max", "mlp_wf"]
    found, evidence = claim_evidence(runs, names)
    metrics = METRICS.new()
    metrics.update(found)
    metrics.update(tuned_metrics(runs, {name: 0.001 for name in names}))
    record = run_record(metrics, "cpu")
    text = in_words(record, runs, ci_table(runs, ["model", "step"], "acc"), names, evidence)
    assert recheck_myst(text, record) == []
    outcomes = {(m.rule, m.outcome) for m in marked_in_myst(text)}
    assert ("verdict", verdict) in outcomes and ("equal_samples", unpaired) in outcomes
    assert "Paired by seed, the sharper test the verdict reads, mlp_wf − mlp_plain" in text
