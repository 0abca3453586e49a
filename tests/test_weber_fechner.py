"""Weber-Fechner pooling, heads, models and losses against hand computations."""

import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from paperlib.losses import LOSSES, log_ce, rank_batch, rank_class, relative
from paperlib.models.weber_fechner import (MODELS, REDUCTIONS, WFHead, ablation_table, advantage, as_images, build,
                                           checkpoints_won, controls_for, macs, run_seeds, time_to, wf_pool)

# two groups of m = 4 with ties and zeros: sorted descending [3, 1, 0, 0] and [5, 2, 2, 0]
H = torch.tensor([[0.0, 3.0, 1.0, 0.0], [2.0, 2.0, 0.0, 5.0]])
H4 = 1 + 1 / 2 + 1 / 3 + 1 / 4
EXPECTED = {
    "harmonic": [3 + 1 / 2, 5 + 2 / 2 + 2 / 3],
    "alternating": [3 - 1 / 2, 5 - 2 / 2 + 2 / 3],
    "log": [math.log(5), math.log(10)],
    "max": [3.0, 5.0],
    "mean": [1.0, 2.25],
    "sum": [4.0, 9.0],
    "unsorted": [3 / 2 + 1 / 3, 2 + 2 / 2 + 5 / 4],
    "scaled": [3.5 / H4, (5 + 1 + 2 / 3) / H4],
}


@pytest.mark.parametrize("reading", sorted(EXPECTED))
def test_wf_pool_by_hand(reading):
    torch.testing.assert_close(wf_pool(H, reading), torch.tensor(EXPECTED[reading]))


def test_wf_pool_power_series_variable():
    torch.testing.assert_close(wf_pool(H, "harmonic", x=0.5), torch.tensor([3 * 0.5 + 0.25 / 2, 5 * 0.5 + 2 * 0.25 / 2 + 2 * 0.125 / 3]))


def test_wf_pool_weighted_readings():
    top = torch.tensor([1.0, 0.0, 0.0, 0.0])
    torch.testing.assert_close(wf_pool(H, "learned", weight=top), torch.tensor([3.0, 5.0]))
    weight = torch.zeros(4, 2)
    weight[:, 0] = 1 / torch.arange(1, 5)
    weight[0, 1] = 1.0  # + ln(1 + h_(1))^2
    expected = [math.log(4) + math.log(2) / 2 + math.log(4) ** 2,
                math.log(6) + math.log(3) / 2 + math.log(3) / 3 + math.log(6) ** 2]
    torch.testing.assert_close(wf_pool(H, "log_power", weight=weight), torch.tensor(expected))


def test_wf_pool_batches_over_leading_axes():
    h = torch.rand(2, 3, 10, 8)
    out = wf_pool(h)
    assert out.shape == (2, 3, 10)
    torch.testing.assert_close(out[1, 2], wf_pool(h[1, 2]))


def test_wf_pool_rejects_unknown_reading_and_missing_weight():
    with pytest.raises(ValueError, match="unknown reading 'median'"):
        wf_pool(H, "median")
    with pytest.raises(ValueError, match="needs a weight"):
        wf_pool(H, "learned")
    with pytest.raises(ValueError, match="unknown reading"):
        WFHead(16, reading="median")


def test_gradient_goes_to_each_element_by_its_rank():
    h = torch.tensor([1.0, 3.0, 2.0], requires_grad=True)
    wf_pool(h).backward()
    torch.testing.assert_close(h.grad, torch.tensor([1 / 3, 1.0, 1 / 2]))


def test_tied_values_get_ranks_in_original_order():
    h = torch.tensor([0.0, 0.0, 2.0], requires_grad=True)
    wf_pool(h).backward()
    torch.testing.assert_close(h.grad, torch.tensor([1 / 2, 1 / 3, 1.0]))


def test_head_shapes_and_parameter_counts():
    f = torch.rand(5, 128)
    for reading, extra in (("harmonic", 0), ("max", 0), ("learned", 8), ("log_power", 8 * 3)):
        head = WFHead(128, 10, 8, reading)
        assert head(f).shape == (5, 10)
        assert head.units(f).shape == (5, 10, 8)
        assert sum(p.numel() for p in head.parameters()) == 128 * 80 + 80 + extra


def test_models_same_size_controls_and_macs():
    x = torch.rand(3, 1, 28, 28)
    counts = {}
    for name in ("mlp_plain", "mlp_wf", "mlp_max", "mlp_sum", "mlp_unsorted", "cnn_plain", "cnn_wf", "cnn_mean"):
        model = build(MODELS[name])
        assert model(x).shape == (3, 10)
        counts[name] = sum(p.numel() for p in model.parameters())
    assert counts["mlp_plain"] == 784 * 128 + 128 + 128 * 10 + 10
    assert counts["mlp_wf"] == counts["mlp_max"] == counts["mlp_sum"] == counts["mlp_unsorted"] == 784 * 128 + 128 + 128 * 80 + 80
    assert counts["cnn_wf"] == counts["cnn_mean"] == counts["cnn_plain"] - (1600 * 10 + 10) + 1600 * 80 + 80
    assert macs(build(MODELS["mlp_plain"])) == 784 * 128 + 128 * 10
    assert macs(build(MODELS["cnn_plain"])) == 26 * 26 * 32 * 9 + 11 * 11 * 64 * 32 * 9 + 1600 * 10
    assert MODELS["mlp_wf_m16"].m == 16 and MODELS["cnn_l2"].loss == "relative"
    assert {MODELS[n].head for n in MODELS} <= set(REDUCTIONS) | {"plain"}
    assert {MODELS[n].loss for n in MODELS} <= set(LOSSES)


def test_losses_by_hand():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.5, 0.25, 0.25]]))
    target = torch.tensor([1, 0])
    # errors |p - y|: [0.7, 0.8, 0.1] -> sorted 0.8, 0.7, 0.1; [0.5, 0.25, 0.25]
    torch.testing.assert_close(rank_class(logits, target), torch.tensor((0.8 + 0.7 / 2 + 0.1 / 3 + 0.5 + 0.25 / 2 + 0.25 / 3) / 2))
    ce = [-math.log(0.2), -math.log(0.5)]  # sorted descending already
    torch.testing.assert_close(rank_batch(logits, target), torch.tensor((ce[0] + ce[1] / 2) / 1.5))
    eps = 1e-3
    rel = [sum((math.log(eps + p) - math.log(eps + y)) ** 2 for p, y in zip(ps, ys))
           for ps, ys in (([0.7, 0.2, 0.1], [0, 1, 0]), ([0.5, 0.25, 0.25], [1, 0, 0]))]
    torch.testing.assert_close(relative(logits, target), torch.tensor(sum(rel) / 2))
    torch.testing.assert_close(log_ce(logits, target), torch.tensor(sum(math.log1p(c) for c in ce) / 2))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_prefers_the_right_answer(name):
    target = torch.tensor([2, 0])
    right, wrong = 5 * F.one_hot(target, 4).float(), 5 * F.one_hot(1 - target.clamp(max=1), 4).float()
    loss = LOSSES[name]
    assert loss(right, target) < min(loss(torch.zeros(2, 4), target), loss(wrong, target))


def test_advantage_against_best_control_and_checkpoints_won():
    rows = []
    for seed in range(4):
        for step, base in ((10, 0.5), (100, 0.8), (500, 0.9)):
            rows += [{"model": "wf", "seed": seed, "step": step, "acc": base + 0.05 + 0.001 * seed},
                     {"model": "c1", "seed": seed, "step": step, "acc": base},
                     {"model": "c2", "seed": seed, "step": step, "acc": base + 0.01 - 0.002 * seed}]
    runs = pd.DataFrame(rows)
    control, mean, low, high = advantage(runs, "wf", ["c1", "c2"], 100)
    assert control == "c2"
    assert mean == pytest.approx(0.04 + 0.003 * 1.5) and low < mean < high
    assert checkpoints_won(runs, "wf", ["c1", "c2"]) == 2  # 10 and 100; 500 is past 200 steps
    assert checkpoints_won(runs, "c1", ["c2"]) == 0


def test_run_seeds_pairs_batches_and_summarises():
    g = torch.Generator().manual_seed(0)
    images, labels = as_images(torch.randint(0, 256, (64, 28, 28), generator=g, dtype=torch.uint8)), torch.arange(64) % 10
    assert images.shape == (64, 1, 28, 28) and images.max() <= 1
    names = ["mlp_plain", "mlp_wf", "mlp_max", "mlp_l1", "cnn_wf"]
    runs = run_seeds(names, [0, 1], images, labels, images[:20], labels[:20], steps=4, batch_size=16,
                     checkpoints=(1, 3), cnn_channels=(4, 8))
    assert sorted(runs.step.unique()) == [1, 3, 4]  # 4 = one epoch of 64 examples
    assert len(runs) == len(names) * 2 * 3 and set(runs.columns) >= {"model", "seed", "step", "time", "acc", "loss"}
    assert controls_for("mlp_wf", names) == ["mlp_plain", "mlp_max"]
    assert controls_for("mlp_l1", names) == ["mlp_plain"] and controls_for("cnn_wf", names) == []
    table = ablation_table(runs, [1, 4])
    assert list(table.index) == names and table.loc["cnn_wf", "Δ @ 4"] == ""
    assert "(mlp_plain)" in table.loc["mlp_l1", "Δ @ 1"]
    reached = time_to(runs, 0.0)
    assert (reached.steps == 1).all() and math.isnan(time_to(runs, 1.01).seconds.iloc[0])
