"""The plan's runs are the chapters' own (their run plans), the copy stages split copy's plan by run name as the
run filter does, their cost follows the FLOP count, and every paper configuration trains a couple of steps on the
CPU through the loop every chapter uses."""

import json
import warnings

import pytest
import torch

from paperlib.book.runner import plan_run
from paperlib.chapters import chapter
from paperlib.gpu.estimate import DEFAULT_MFU, PEAK_FLOPS, load_throughput
from paperlib.gpu.plan import STAGES, copy_task
from paperlib.training.device import configure_device
from paperlib.training.loop import init, train
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig


def paper(notebook):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plan_run(notebook, "paper").parameters


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.key)
def test_a_stage_costs_runs_of_the_chapters_own_plan(stage):
    v = paper(stage.notebook)
    plan = {f"{spec.chapter}/{spec.name}": spec for spec in chapter(stage.notebook).runs(v)}
    runs = stage.runs(v)
    assert runs and all(run.key in plan for run in runs)
    for run in runs:
        spec = plan[run.key]
        assert run.spec == spec  # its length, batch, steps and forward FLOPs among the rest
        assert run.flops() == pytest.approx(spec.flops())


def test_the_copy_stages_cost_what_their_parameters_train_and_together_the_whole_plan():
    v = paper("copy_tasks")
    first, last = (s for s in STAGES if s.notebook == "copy_tasks")
    names = [spec.name for spec in chapter("copy_tasks").runs(v)]
    trained = [spec.name for spec in chapter("copy_tasks").runs({**v, **first.parameters})]
    costed = [run.key.removeprefix("copy_tasks/") for run in first.runs(v)]
    assert costed == trained and all(n.startswith("copy-") for n in trained) and len(trained) == 5 * v["seeds"]
    assert last.parameters == {} and costed + [run.key.removeprefix("copy_tasks/") for run in last.runs(v)] == names


def test_copy_is_expected_at_the_notes_samples_and_costs_three_forward_passes_per_training_sample():
    v = paper("copy_tasks")
    recurrent = copy_task("copy")(v)[0]
    assert recurrent.spec.length == 4128 and recurrent.spec.steps == v["copy_steps"] and recurrent.expected_steps == 900
    assert recurrent.flops() == pytest.approx(recurrent.spec.forward_flops * (3 * v["copy_steps"] * 64
                                                                         + recurrent.spec.eval_total))
    assert recurrent.flops(expected=True) == pytest.approx(recurrent.spec.forward_flops * (
        3 * 900 * 64 + recurrent.spec.eval_total * 900 / v["copy_steps"]))
    selective = copy_task("selective_copy")(v)[0]
    assert selective.spec.steps == v["selective_steps"] == 17_344 and selective.expected_steps == 17_344


def test_throughput_is_assumed_given_or_measured_per_run(tmp_path):
    run = copy_task("copy")(paper("copy_tasks"))[0]
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
            identity = (repr(getattr(model, "cfg", model)), run.spec.length)
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
    x = torch.randint(vocab, (1, run.spec.length))
    head = getattr(getattr(state.model, "cfg", None), "head", "last")
    y = {"lm": torch.randint(vocab, (1, run.spec.length)), "last": torch.randint(vocab, (1, 16)),
         "class": torch.randint(10, (1,))}[head]
    before = [p.detach().clone() for p in state.model.parameters()]
    train(state, lambda s: (x, y), model_loss(), 2, show_progress=False)
    assert state.step == 2 and torch.isfinite(state.loss_sum)
    assert any(not torch.equal(b, p) for b, p in zip(before, state.model.parameters()))


@pytest.mark.filterwarnings("ignore:.*the paper profile is sized for one GPU")
def test_the_mfu_of_each_copy_run_comes_from_the_step_table_the_device_measured(tmp_path):
    import pandas as pd

    from paperlib.chapters.copy_tasks import MEASURED
    from paperlib.gpu import plan

    table = pd.DataFrame({"recurrent": [0.01, 0.4], "gru_total": [0.02, None]},
                         index=pd.Index([160, 4128], name="length"))
    folder = tmp_path / "checkpoints" / "copy_tasks" / MEASURED
    folder.mkdir(parents=True)
    (folder / "step_seconds-0.json").write_text(json.dumps({"frame": table.to_dict(orient="split"),
                                                           "index": "length", "columns": "model"}))
    path = plan.write_throughput(tmp_path, "a test GPU")
    throughput = load_throughput(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = STAGES[0].runs(plan_run("copy_tasks", "paper").parameters)
    for name in ("copy-recurrent-seed0", "copy-forget-seed0"):  # the forget ablation: the paper model's step
        run = next(r for r in runs if r.key == f"copy_tasks/{name}")
        spec = run.spec
        assert throughput.mfu[run.key] == pytest.approx(3 * spec.batch * spec.forward_flops / (0.4 * PEAK_FLOPS))
    assert "copy_tasks/copy-gru_total-seed0" not in throughput.mfu  # not timed at its longest length: assumed
    assert "a test GPU" in throughput.source
