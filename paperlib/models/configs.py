"""Every kind of model a chapter's run plan holds, and what a plan needs of one: its module, its forward FLOPs
per sample, and a batch of its inputs and targets (to time a training step)."""

from __future__ import annotations

from functools import cache

import torch
from torch import Tensor, nn

from paperlib.models.flops import rnn_flops, train_flops_per_sample
from paperlib.models.paper_configs import build
from paperlib.models.rnn import GATES, RNNConfig
from paperlib.models.transformer import TransformerConfig
from paperlib.models.weber_fechner import Net, macs

ModelConfig = TransformerConfig | Net | RNNConfig


def build_model(config: ModelConfig) -> nn.Module:
    """The module of `config`: a (recurrent) transformer, an MNIST net or a GRU/LSTM."""
    return config.build() if isinstance(config, (Net, RNNConfig)) else build(config)


def forward_flops(config: ModelConfig, length: int) -> float:
    """Forward FLOPs of one sample of `length` tokens by our count (`paperlib.models.flops`; a random block range
    is charged its mean); an MNIST net's are twice its multiply-adds on one image."""
    if isinstance(config, RNNConfig):
        return rnn_flops(GATES[config.cell], config.hidden, length, config.vocab_size, config.n_out, config.n_layer)
    return _net_flops(config) if isinstance(config, Net) else train_flops_per_sample(config, length)


@cache
def _net_flops(net: Net) -> float:
    return 2.0 * macs(net.build())


def example_batch(config: ModelConfig, batch: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Random inputs and targets of the shapes `config` trains on: images and labels, or `length` tokens and the
    targets of its head (every position, the last `n_out` positions, or a class)."""
    if isinstance(config, Net):
        return torch.rand(batch, 1, 28, 28, generator=generator), torch.randint(10, (batch,), generator=generator)
    x = torch.randint(config.vocab_size, (batch, length), generator=generator)
    shape = {"lm": (batch, length), "last": (batch, config.n_out), "class": (batch,)}[config.head]
    classes = config.n_out if config.head == "class" else config.vocab_size
    return x, torch.randint(classes, shape, generator=generator)
