"""The paper's FLOPs-per-sample formulas and our complete count (the Note's table: test_linear_time.py)."""

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from paperlib.models.flops import (
    count_flops,
    layer_flops,
    paper_flops,
    recurrent_segments,
    rnn_flops,
    train_flops_per_sample,
)
from paperlib.models.paper_configs import build, paper_config
from paperlib.models.rnn import GATES, RNNModel


@pytest.mark.parametrize(
    "task, arch, overrides, expected",
    [
        ("shakespeare", "recurrent", {}, 81_788_928),  # Feb-2026, K = 16
        ("image", "recurrent", {"alpha": "forget", "block": 16}, 4_194_304),
        ("image", "recurrent", {"alpha": "forget", "block": 48}, 8_388_608),
        ("copy", "regular", {}, 1_673_920_512),
    ],
)
def test_other_paper_formula_values(task, arch, overrides, expected):
    cfg = paper_config(task, arch, **overrides)
    assert paper_flops(cfg, cfg.n_positions) == pytest.approx(expected)


def test_regular_to_recurrent_ratios_at_d96_k32():
    reg, rec = paper_config("copy", "regular"), paper_config("copy", "recurrent", alpha="forget")
    ratios = [paper_flops(reg, n) / paper_flops(rec, n) for n in (1024, 4128, 16384, 32768)]
    assert [round(r, 1) for r in ratios] == [3.5, 13.2, 51.5, 102.7]


@pytest.mark.parametrize("n, k", [(4128, 32), (100, 16), (17, 16), (16, 16), (5, 16)])
def test_segments_cover_every_token_twice(n, k):
    segments = recurrent_segments(n, k)
    assert sum(segments) == (n if n <= k else 2 * n) and max(segments) <= 2 * k


def test_count_matches_the_matmuls_of_a_regular_layer():
    """24TC^2 + 4T^2C: QKV 6, output 2, MLP 16 (times TC^2) and the two attention products."""
    cfg = paper_config("copy", "regular")
    T, C = 4128, 96
    assert layer_flops(T, C) == 2 * (T * C * 3 * C + 2 * T * T * C + T * C * C + 2 * T * C * 4 * C)
    assert count_flops(cfg, T) == layer_flops(T, C) + 2 * 16 * C * 16


@pytest.mark.parametrize("arch, overrides", [("recurrent", {"alpha": "forget"}), ("regular", {})])
def test_count_agrees_with_torch_flop_counter(arch, overrides):
    """Our count equals PyTorch's FlopCounterMode on the actual forward pass (matmuls and the math
    attention's T x T products; the alpha mixing, which it does not count, is off here)."""
    cfg = paper_config("copy", arch, **overrides)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
        build(cfg).eval()(torch.randint(16, (1, 1000)))
    assert counter.get_total_flops() == count_flops(cfg, 1000)


def test_count_exceeds_the_paper_formula():
    cfg = paper_config("copy", "recurrent")
    assert 15 < count_flops(cfg, 4128) / paper_flops(cfg, 4128) < 17


def test_train_flops_average_the_random_block_range():
    def image(**kw):
        return paper_config("image", "recurrent", alpha="forget", **kw)

    fixed, ranged = image(block=32), image(block=32, block_range=(16, 48))
    assert train_flops_per_sample(fixed, 1024) == count_flops(fixed, 1024)
    expected = sum(count_flops(image(block=k), 1024) for k in range(16, 49)) / 33
    assert train_flops_per_sample(ranged, 1024) == pytest.approx(expected)


def test_rnn_count_agrees_with_torch_flop_counter_on_the_gru():
    """PyTorch counts the GRU's gate matmuls on the CPU (not the LSTM's, whose count is the same formula)."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        RNNModel("gru", hidden=40).eval()(torch.randint(16, (1, 50)))
    assert counter.get_total_flops() == rnn_flops(GATES["gru"], 40, 50, 16, 16)
    assert rnn_flops(GATES["lstm"], 40, 50, 16, 16, n_layer=2) == 2 * 50 * 16 * 40 * 40 + 2 * 16 * 40 * 16
