"""Weber-Fechner pooling, heads and the two MNIST trunks against hand computations."""

import math

import pytest
import torch

from paperlib.models import n_params
from paperlib.models.weber_fechner import Spec, WFHead, build, macs, wf_pool

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
    expected = [3 * 0.5 + 0.25 / 2, 5 * 0.5 + 2 * 0.25 / 2 + 2 * 0.125 / 3]
    torch.testing.assert_close(wf_pool(H, "harmonic", x=0.5), torch.tensor(expected))


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


@pytest.mark.parametrize("trunk", ["mlp", "cnn"])
def test_models_take_images_and_same_size_controls_have_the_same_parameters(trunk):
    x = torch.rand(3, 1, 28, 28)
    counts = {}
    for head in ("plain", "harmonic", "max", "sum", "mean", "unsorted", "scaled"):
        model = build(Spec(trunk, head))
        assert model(x).shape == (3, 10)
        counts[head] = n_params(model)
    features = 128 if trunk == "mlp" else 64 * 5 * 5
    trunk_params = 784 * 128 + 128 if trunk == "mlp" else 32 * 9 + 32 + 64 * 32 * 9 + 64
    assert counts.pop("plain") == trunk_params + features * 10 + 10
    assert set(counts.values()) == {trunk_params + features * 80 + 80}


def test_head_width_and_cnn_channels_change_the_model():
    assert n_params(build(Spec("mlp", "harmonic", m=16))) == 784 * 128 + 128 + 128 * 160 + 160
    assert n_params(build(Spec("cnn", "plain"), cnn_channels=(4, 8))) == 4 * 9 + 4 + 8 * 4 * 9 + 8 + 200 * 10 + 10
    assert build(Spec("mlp", "harmonic", x=0.5))[1].x == 0.5


def test_multiply_adds_by_hand():
    assert macs(build(Spec("mlp", "plain"))) == 784 * 128 + 128 * 10
    assert macs(build(Spec("cnn", "plain"))) == 26 * 26 * 32 * 9 + 11 * 11 * 64 * 32 * 9 + 1600 * 10
    assert macs(build(Spec("mlp", "harmonic"))) == 784 * 128 + 128 * 80


def test_keras_initialisation_zeroes_biases_and_bounds_weights_by_glorot():
    torch.manual_seed(0)
    model = build(Spec("cnn", "plain"), (4, 8), keras=True)
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    assert layers and all(float(m.bias.abs().max()) == 0 for m in layers)
    for m in layers:
        fan_in = m.weight[0].numel()
        fan_out = m.weight.shape[0] * m.weight[0, 0].numel() if m.weight.dim() == 4 else m.weight.shape[0]
        assert float(m.weight.abs().max()) <= math.sqrt(6 / (fan_in + fan_out)) + 1e-7
    torch.manual_seed(0)
    assert float(build(Spec("cnn", "plain"), (4, 8)).modules().__next__()[0][0].bias.abs().max()) > 0  # PyTorch's


def test_the_fast_baselines_cnn_maps_an_image_to_ten_logits():
    model = build(Spec("fast", "plain"))
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert n_params(model) == 24 * 26 + 32 * 24 * 25 + 32 + 512 * 256 + 256 + 2570
