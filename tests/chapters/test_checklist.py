"""CONTRIBUTING's "Adding a chapter" checklist, followed step by step for a toy chapter: it plans, trains a step,
records and renders."""

import json
from types import ModuleType

import torch

from paperlib.book.metrics import EXECUTION, Declaration, Metric, execution_metrics
from paperlib.book.records import record
from paperlib.book.verdicts import run_record
from paperlib.book.wording import decided, marked_in_myst
from paperlib.chapters import Chapter
from paperlib.context import RunContext
from paperlib.models.paper_configs import paper_config
from paperlib.planning import predict
from paperlib.training.device import configure_device
from paperlib.training.losses import model_loss
from paperlib.training.optim import OptimizerConfig
from paperlib.training.plan import RunSpec
from paperlib.training.run import Checkpointing, fit


def toy_chapter() -> ModuleType:
    """Steps 1 and 2: a plan and a declaration."""
    toy = ModuleType("paperlib.chapters.toy")
    toy.METRICS = Declaration("toy", [Metric("toy_loss", "nats", "validation loss after training", ci=True),
                                      *EXECUTION])

    def runs(params):
        model = paper_config("copy", "recurrent", n_embd=16, n_head=2, block=8)
        return [RunSpec("toy", "", "recurrent", seed, model, "random tokens", params["steps"], 2, 16,
                        OptimizerConfig(lr=1e-3), None, (0, params["steps"]), 2, 2, "") for seed in (0, 1)]

    toy.runs = runs
    return toy


def test_a_toy_chapter_plans_trains_a_step_records_and_renders(tmp_path, isolated_cache):
    toy = toy_chapter()
    assert isinstance(toy, Chapter)
    plan = toy.runs({"steps": 1})
    assert [spec.name for spec in plan] == ["recurrent-seed0", "recurrent-seed1"]
    table = {"steps": {}, "cpu": "none"}
    assert predict(plan[0], table).basis == "no step times measured"  # step 6: until `paperlib step-times` runs

    setup, context = configure_device("cpu"), RunContext(record_part=tmp_path / "part.json")

    def sample(state):
        x = torch.randint(16, (2, 16), generator=state.generator)
        return x, x[:, -16:]

    def evaluate(st):
        x = torch.randint(16, (2, 16), generator=torch.Generator().manual_seed(0))
        return {"val_loss": model_loss()(st.model, (x, x[:, -16:])).item()}

    trained = [fit(spec, setup, sample, model_loss(), evaluate=evaluate, checkpointing=Checkpointing(),
                   context=context) for spec in plan]  # step 3
    assert [run.state.step for run in trained] == [1, 1] and "val_loss" in trained[0].history

    losses = [float(run.history["val_loss"].iloc[-1]) for run in trained]
    metrics = toy.METRICS.new() | {"toy_loss": sum(losses) / 2, "toy_loss.ci_low": min(losses),
                                   "toy_loss.ci_high": max(losses)}
    metrics |= execution_metrics([run.state.train_time for run in trained], [])
    record(metrics, context=context, setup=setup)  # step 4
    part = json.loads((tmp_path / "part.json").read_text())
    assert part["metrics"]["runs_trained_now"] == 2 and part["metrics"]["runs_loaded"] == 0

    page = run_record(metrics, "quick")  # step 5
    sentence = decided("reference", page, ["toy_loss", "=100"], {"lower": "below 100 nats.", "higher": "above.",
                                                                 "not separated": "about 100."})
    assert [(m.rule, m.outcome) for m in marked_in_myst(sentence)] == [("reference", "lower")]
