"""The Shakespeare chapter's pure pieces: its models, the evaluation, the headline numbers, departures, the prose."""

import math
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from paperlib.book.verdicts import run_record
from paperlib.book.wording import marked_in_myst, recheck_myst
from paperlib.chapters.shakespeare import (ALPHA_MODELS, METRICS, MODEL_LABELS, NOTE_CONFIG, alpha_gradients, batch_sizes,
                                           compute_to_floor, forget_claim_reason, headline_metrics, in_words,
                                           lm_metrics, loss_at_flops, matched_compute, ngram_table, results,
                                           scaled_down, shakespeare_configs)
from paperlib.data.text import CharData
from paperlib.models.paper_configs import build
from paperlib.training.batches import fixed_windows

TINY = {"vocab_size": 11, "block": 8, "context": 16, "n_embd": 16, "n_head": 2, "dropout": 0.0}


def test_configs_are_the_chapters_models():
    configs = shakespeare_configs(**TINY)
    assert list(configs) == list(MODEL_LABELS) == list(batch_sizes(8, 4, 2))
    assert configs["recurrent_nopos"].n_positions == 0 and configs["recurrent_pos"].n_positions == 16
    assert configs["recurrent_pos"].alpha == "forget" and configs["recurrent_alpha"].alpha == "learn"
    assert configs["recurrent_k16"].block == configs["recurrent_alpha_k16"].block == 16
    assert configs["recurrent_alpha"].block == 8 and configs["recurrent_alpha_k16"].alpha_value == 0.5
    assert (configs["regular_1"].n_layer, configs["regular_6"].n_layer) == (1, 6)
    assert batch_sizes(8, 4, 2)["recurrent_alpha"] == 8 and batch_sizes(8, 4, 2)["regular_6"] == 2


def test_lm_metrics_are_window_means_with_a_standard_error():
    torch.manual_seed(0)
    configs = shakespeare_configs(**TINY)
    tokens = torch.randint(0, 11, (400,), generator=torch.Generator().manual_seed(0))
    train, val = fixed_windows(tokens, 16, 5, seed=1), fixed_windows(tokens, 16, 6, seed=2)
    model = build(configs["recurrent_alpha"]).eval()
    with torch.no_grad():  # as `train` evaluates
        record = lm_metrics(train, val)(SimpleNamespace(model=model))  # the state it reads
        per_window = F.cross_entropy(model(val[:, :-1]).transpose(1, 2), val[:, 1:], reduction="none").mean(1)
    assert set(record) == {"train_eval_loss", "val_loss", "val_loss_se", "alpha"} and record["alpha"] == 0.5
    assert record["val_loss"] == pytest.approx(float(per_window.mean()), rel=1e-5)
    assert record["val_loss_se"] == pytest.approx(float(per_window.std()) / math.sqrt(6), rel=1e-4)
    assert math.isfinite(record["train_eval_loss"]) and record["val_loss_se"] > 0
    assert "alpha" not in lm_metrics(train, val)(SimpleNamespace(model=build(configs["regular_1"]).eval()))


def run(val_losses, flops=(1e6, 2e6, 4e6, 8e6), alphas=None, seed=0, alpha_raw=0.0) -> SimpleNamespace:
    """What the chapter's functions read of a trained run."""
    n = len(val_losses)
    history = pd.DataFrame({"step": [10 * (i + 1) for i in range(n)], "train_flops": list(flops[:n]),
                            "time": [float(i + 1) for i in range(n)], "val_loss": list(val_losses),
                            "train_eval_loss": list(val_losses)})
    if alphas is not None:
        history["alpha"] = list(alphas)
    return SimpleNamespace(history=history, params=100, cfg=shakespeare_configs(**TINY)["regular_1"],
                           spec=SimpleNamespace(batch=8, length=16), flops_per_sample=10.0,
                           state=SimpleNamespace(train_time=4.0, seed=seed,
                                                 model=SimpleNamespace(alpha_raw=torch.tensor(alpha_raw))))


def test_results_average_each_models_best_loss_over_seeds():
    runs = {"recurrent_pos": [run([3.0, 2.0, 2.2, 2.1]), run([3.0, 2.4, 2.2, 2.3])]}
    table, metrics = results(runs)
    assert metrics["val_loss_recurrent_pos"] == pytest.approx(2.1)  # the mean of the best losses 2.0 and 2.2
    assert metrics["val_loss_recurrent_pos.ci_low"] < 2.1 < metrics["val_loss_recurrent_pos.ci_high"]
    assert metrics["train_flops_recurrent_pos"] == 8e6 and table["batch"].tolist() == [8]


def headline_runs(alpha_losses=(2.0, 2.1), k16_losses=(2.2, 2.3)):
    return {"recurrent_alpha": [run([3.4, loss], alphas=[0.5, 0.3], alpha_raw=0.3) for loss in alpha_losses],
            "recurrent_alpha_k16": [run([3.4, loss], alphas=[0.5, 0.05], alpha_raw=0.05) for loss in k16_losses]}


def test_headline_numbers_take_the_better_forget_variant_and_an_alpha_model_that_trained():
    metrics = {"val_loss_ngram1": 3.3, "val_loss_recurrent_pos": 1.50, "val_loss_recurrent_pos.ci_low": 1.4,
               "val_loss_recurrent_pos.ci_high": 1.6, "val_loss_recurrent_nopos": 1.48,
               "val_loss_recurrent_nopos.ci_low": 1.45, "val_loss_recurrent_nopos.ci_high": 1.51}
    found, better, alpha_model = headline_metrics(metrics, headline_runs())
    assert (better, alpha_model) == ("recurrent_nopos", "recurrent_alpha")
    assert found["val_loss_recurrent"] == 1.48 and found["val_loss_recurrent.ci_high"] == 1.51
    assert found["alpha_learned"] == pytest.approx(0.3) and found["alpha_model_trained"] == 1.0
    stuck = headline_runs(alpha_losses=(3.2, 3.25))  # within 0.25 nats of the 1-gram's 3.3: it did not train
    found, _, alpha_model = headline_metrics(metrics, stuck)
    assert alpha_model == "recurrent_alpha_k16" and found["alpha_learned"] == pytest.approx(0.05)
    assert found["trained_recurrent_alpha"] == 0.0 and found["trained_recurrent_alpha_k16"] == 1.0
    neither = headline_runs(alpha_losses=(3.2, 3.25), k16_losses=(3.3, 3.2))
    found, _, alpha_model = headline_metrics(metrics, neither)
    assert alpha_model == ALPHA_MODELS[0] and found["alpha_model_trained"] == 0.0
    assert forget_claim_reason({**metrics, **found}).startswith("no learnable-α model trained")
    assert forget_claim_reason({"alpha_model_trained": 1.0}) is None


def test_models_are_compared_at_the_compute_of_the_cheapest():
    cheap = [run([3.0, 2.5], flops=(1e6, 2e6))]
    costly = [run([3.2, 2.8, 2.0, 1.5], flops=(1e6, 2e6, 4e6, 8e6))]
    assert loss_at_flops(costly, 2e6)[0] == pytest.approx(2.8)
    assert loss_at_flops(costly, math.sqrt(2e6 * 4e6))[0] == pytest.approx(2.4)  # half way in log FLOPs
    assert all(map(math.isnan, loss_at_flops(costly, 5e5)))
    table, found = matched_compute({"recurrent_pos": cheap, "regular_1": costly})
    assert found["flops_budget"] == 2e6 and found["val_loss_at_budget_regular_1"] == pytest.approx(2.8)
    assert math.isnan(found["val_loss_at_budget_regular_1.ci_low"])  # one seed: no interval
    assert table.loc[MODEL_LABELS["recurrent_pos"], "val loss at the budget"] == pytest.approx(2.5)
    seeds = [run([3.0, 2.4], flops=(1e6, 2e6)), run([3.0, 2.6], flops=(1e6, 2e6))]
    _, found = matched_compute({"recurrent_pos": seeds, "regular_1": costly})
    low, high = found["val_loss_at_budget_recurrent_pos.ci_low"], found["val_loss_at_budget_recurrent_pos.ci_high"]
    assert found["val_loss_at_budget_recurrent_pos"] == pytest.approx(2.5) and low < 2.5 < high  # over the seeds


def test_the_distance_to_the_floor_is_extrapolated_from_the_recent_slope():
    curve = [run([3.0, 2.8, 2.6, 2.4], flops=(1e6, 2e6, 4e6, 8e6))]  # 0.2 nats per doubling
    found = compute_to_floor(curve, floor=2.0)
    assert found["loss_per_doubling"] == pytest.approx(0.2)
    assert found["flops_to_floor"] == pytest.approx(8e6 * 2 ** 2)  # two more doublings from 2.4 to 2.0
    assert compute_to_floor(curve, floor=2.7)["flops_to_floor"] == 4e6  # already below: where it first was
    assert compute_to_floor([run([3.0, 3.0, 3.1, 3.2])], floor=2.0)["flops_to_floor"] == math.inf


def test_alpha_gradients_are_measured_at_each_start():
    text = "to be or not to be, that is the question " * 20
    data = CharData.from_text(text)
    cfg = shakespeare_configs(**{**TINY, "vocab_size": data.vocab_size})["recurrent_alpha"]
    table = alpha_gradients(cfg, data, context=16, batch_size=4, seed=0)
    assert table.index.tolist() == ["0", "0.1", "0.5"] and table["∂loss/∂α"].map(math.isfinite).all()
    assert table.loc["0.5", "∂loss/∂α"] != table.loc["0.1", "∂loss/∂α"]


def test_scaled_down_names_each_departure_from_the_note():
    assert scaled_down(NOTE_CONFIG) == ""
    assert scaled_down({**NOTE_CONFIG, "steps": 4}) == "steps 4 (paper 10000)"
    with pytest.raises(KeyError):
        scaled_down({"threads": 1})


def interval(name, value, half=0.01):
    return {name: value, f"{name}.ci_low": value - half, f"{name}.ci_high": value + half}


def page(recurrent=1.45, regular=1.50, floor=1.60, alpha=0.05, trained=1.0, profile="cpu", reasons=None):
    m = {"flops_budget": 1e12, "alpha_start": 0.5, "val_loss_ngram3": 2.049}
    for name in ("recurrent", "recurrent_pos", "regular_1", "regular_6"):
        loss = recurrent if name.startswith("recurrent") else regular
        m |= interval(f"val_loss_{name}", loss) | interval(f"val_loss_at_budget_{name}", loss + 0.1)
    m |= interval("alpha_learned", alpha) | {"alpha_model_trained": trained, "trained_recurrent_alpha": trained}
    if floor is not None:
        m["val_loss_ngram5"] = floor
    return run_record(METRICS.view(m), profile, reasons, {"steps": 10_000, "batch_recurrent": 256, "context": 256})


def test_in_words_decides_every_direction_and_verdict_from_the_record():
    for record in (page(), page(recurrent=1.55), page(regular=1.45), page(floor=1.0), page(floor=None),
                   page(alpha=0.6), page(trained=0.0), page(profile="quick")):
        text = in_words(record, "recurrent_pos", "recurrent_alpha")
        assert marked_in_myst(text) and recheck_myst(text, record) == []
    outcomes = lambda record: [(m.rule, m.outcome) for m in marked_in_myst(in_words(record, "recurrent_pos",  # noqa: E731
                                                                                   "recurrent_alpha"))]
    assert outcomes(page())[:2] == [("equal_compute", "lower")] * 2  # below both regular models at equal compute
    assert ("equal_compute", "higher") in outcomes(page(recurrent=1.55))
    assert ("equal_compute", "not separated") in outcomes(page(regular=1.45))
    assert ("reference", "higher") in outcomes(page(floor=1.0)) and ("reference", "lower") in outcomes(page())
    assert "val_loss_ngram5" not in in_words(page(floor=None), "recurrent_pos", "recurrent_alpha")
    assert ("verdict", "reproduced") in outcomes(page()) and ("verdict", "not comparable") in outcomes(
        page(profile="quick"))
    assert "**Did not train**" in in_words(page(trained=0.0), "recurrent_pos", "recurrent_alpha")
    assert "fell from 0.5" in in_words(page(), "recurrent_pos", "recurrent_alpha")
    assert "rose from 0.5" in in_words(page(alpha=0.6), "recurrent_pos", "recurrent_alpha")
    scaled = in_words(page(reasons={"shakespeare_val_loss": "scaled-down configuration (steps 4 (paper 10000))"}),
                      "recurrent_pos", "recurrent_alpha")
    assert "The validation-loss claim is not comparable: scaled-down configuration (steps 4 (paper 10000))." in scaled


def test_ngram_table_sets_ours_beside_the_anchors():
    table = ngram_table({"val_loss_ngram1": 3.3, "val_loss_ngram2": 2.5}, 2)
    assert table.index.tolist() == [1, 2] and table["val loss (nats)"].tolist() == [3.3, 2.5]
    assert table["measured before (methods page)"].tolist() == [3.347, 2.486]
