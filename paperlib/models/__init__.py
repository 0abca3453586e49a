"""Models: the GPT block and regular transformer, the recurrent transformer, the GRU/LSTM baseline,
the paper's configurations, Weber–Fechner heads and trunks, n-gram models and sampling."""

from torch import nn


def n_params(model: nn.Module) -> int:
    """The number of parameters of `model` (buffers, such as a fixed α, are not parameters)."""
    return sum(p.numel() for p in model.parameters())
