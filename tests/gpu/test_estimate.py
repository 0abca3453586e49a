"""The plan's runs are the chapters' own (their run plans; copy's listed here until it declares one), their cost
follows the FLOP count, and every paper configuration trains a couple of steps on the CPU through the loop every
chapter uses."""

import json
import warnings

import pytest
import torch

from paperlib.book.runner import plan_run
from paperlib.chapters import chapter
from paperlib.chapters.copy_tasks import make_model
from paperlib.gpu.estimate import DEFAULT_MFU, PEAK_FLOPS, copy_runs, load_throughput
from paperlib.gpu.plan import STAGES
from paperlib.models.flops import train_flops_per_sample
from paperlib.models import n_params
from paperlib.training.device import configure_device
from paperlib.training.loop import init, train
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig


def paper(notebook):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plan_run(notebook, "paper").parameters


@pytest.mark.parametrize("stage", [s for s in STAGES if s.notebook != "copy_tasks"], ids=lambda s: s.notebook)
def test_a_stage_costs_the_chapters_own_plan(stage):
    v = paper(stage.notebook)
    plan = chapter(stage.notebook).runs(v)
    runs = stage.runs(v)
    assert [run.key for run in runs] == [f"{spec.chapter}/{spec.name}" for spec in plan]
    for run, spec in zip(runs, plan):
        assert (run.length, run.batch, run.steps, run.forward_flops) == (spec.length, spec.batch, spec.steps,
                                                                         spec.forward_flops)
        assert run.flops() == pytest.approx(spec.flops())
    assert repr(runs[0].make().cfg) == repr(plan[0].model)


@pytest.mark.parametrize("task", ["copy", "selective_copy"])
def test_copy_runs_are_the_chapters_models(task):
    v = paper("copy_tasks")
    runs = copy_runs(v, task)
    kinds = [run.key.split("-")[1] for run in runs]
    assert kinds == ["recurrent"] * v["seeds"] + ["forget", "regular", "gru"]
    assert {run.steps for run in runs} == {v["copy_steps" if task == "copy" else "selective_steps"]}
    for kind, run in zip(kinds, runs):
        ours, theirs = run.make(), make_model(task, kind)
        assert n_params(ours) == n_params(theirs) and str(ours) == str(theirs)
        assert getattr(ours, "cfg", None) == getattr(theirs, "cfg", None)


def test_cost_is_three_forward_passes_per_training_sample_plus_the_evaluations():
    v = paper("copy_tasks")
    recurrent = copy_runs(v, "copy")[0]
    assert recurrent.length == 4128 and recurrent.steps == v["copy_steps"] and recurrent.expected_steps == 900
    assert recurrent.forward_flops == train_flops_per_sample(make_model("copy", "recurrent").cfg, 4128)
    evals = (v["copy_steps"] // v["eval_every"] + 1) * v["eval_batches"] * 64 + 3 * v["final_batches"] * 64
    assert recurrent.flops() == pytest.approx(recurrent.forward_flops * (3 * v["copy_steps"] * 64 + evals))
    selective = copy_runs(v, "selective_copy")[0]
    assert selective.steps == v["selective_steps"] == 17_344 and selective.expected_steps == 17_344


def test_throughput_is_assumed_given_or_measured_per_run(tmp_path):
    run = copy_runs(paper("copy_tasks"), "copy")[0]
    assumed = load_throughput(tmp_path / "none.json")
    assert assumed.fraction(run.key) == DEFAULT_MFU
    assert assumed.minutes(run) == pytest.approx(run.flops() / (PEAK_FLOPS * DEFAULT_MFU) / 60)
    assert load_throughput(mfu=0.5).minutes(run) == pytest.approx(assumed.minutes(run) * DEFAULT_MFU / 0.5)
    measured = tmp_path / "throughput.json"
    measured.write_text(json.dumps({"source": "bench", "mfu": {run.key: 0.1, "default": 0.05}}))
    table = load_throughput(measured)
    assert (table.fraction(run.key), table.fraction("other/run"), table.source) == (0.1, 0.05, "measured: bench")
    measured.write_text(json.dumps({"mfu": {"x": 2}}))
    with pytest.raises(ValueError, match="fractions in"):
        load_throughput(measured)
    with pytest.raises(ValueError, match="MFU must be in"):
        load_throughput(mfu=0)


def unique_paper_runs():
    """Every run of every stage, one per distinct model and length."""
    seen, unique = set(), []
    for stage in STAGES:
        for run in stage.runs(paper(stage.notebook)):
            model = run.make()
            identity = (repr(getattr(model, "cfg", model)), run.length)
            if identity not in seen:
                seen.add(identity)
                unique.append(pytest.param(run, id=run.key))
    return unique


@pytest.mark.slow
@pytest.mark.parametrize("run", unique_paper_runs())
def test_every_paper_configuration_trains_two_steps_on_the_cpu(run):
    """At its full paper length (4,128 for copy, 256 for Shakespeare, 1,024 for the image), batch 1."""
    state = init(run.make, OptimizerConfig(lr=1e-3), 0, configure_device("cpu"))
    vocab = state.model.wte.num_embeddings
    x = torch.randint(vocab, (1, run.length))
    head = getattr(getattr(state.model, "cfg", None), "head", "last")
    y = {"lm": torch.randint(vocab, (1, run.length)), "last": torch.randint(vocab, (1, 16)),
         "class": torch.randint(10, (1,))}[head]
    before = [p.detach().clone() for p in state.model.parameters()]
    train(state, lambda s: (x, y), model_loss(), 2, show_progress=False)
    assert state.step == 2 and torch.isfinite(state.loss_sum)
    assert any(not torch.equal(b, p) for b, p in zip(before, state.model.parameters()))
