"""What a run plan needs of every kind of model: its module, its forward FLOPs, and a batch it trains on."""

import pytest
import torch

from paperlib.models.configs import build_model, example_batch, forward_flops
from paperlib.models.flops import rnn_flops, train_flops_per_sample
from paperlib.models.paper_configs import paper_config
from paperlib.models.rnn import RNNConfig, RNNModel
from paperlib.models.weber_fechner import Net, Spec, macs
from paperlib.training.losses import model_loss

CONFIGS = {
    "lm": paper_config("shakespeare", "recurrent", n_embd=16, n_head=2, n_positions=24, block=4),
    "last": paper_config("copy", "recurrent", n_positions=48, block=8),
    "class": paper_config("image", "regular", n_positions=16),
    "mnist": Net(Spec("cnn", "harmonic"), (4, 8), False),
    "rnn": RNNConfig("lstm", 12),
}


@pytest.mark.parametrize("kind", CONFIGS)
def test_every_model_builds_and_trains_on_its_example_batch(kind):
    config = CONFIGS[kind]
    model = build_model(config)
    x, y = example_batch(config, 3, 16 if kind == "class" else 24 if kind == "lm" else 48, torch.Generator())
    loss = model_loss()(model, (x, y))
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_forward_flops_are_the_transformer_count_or_twice_the_nets_multiply_adds():
    assert forward_flops(CONFIGS["lm"], 24) == train_flops_per_sample(CONFIGS["lm"], 24)
    net = CONFIGS["mnist"]
    assert forward_flops(net, 784) == 2 * macs(net.build()) > 0


def test_an_rnn_config_builds_its_model_and_counts_its_flops():
    config = CONFIGS["rnn"]
    model = build_model(config)
    assert isinstance(model, RNNModel) and model.rnn.hidden_size == 12 and isinstance(model.rnn, torch.nn.LSTM)
    assert forward_flops(config, 48) == rnn_flops(4, 12, 48, 16, 16) > 0
