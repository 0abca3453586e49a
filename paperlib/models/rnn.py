"""A classical recurrent baseline for the copy tasks: embedding, a GRU or LSTM, a linear head.

It reads the whole sequence and predicts from its last `n_out` positions, like the transformers'
`last` head. `hidden_for_params` sizes it to a parameter budget (the paper's copy model: 508,705).
"""

import math

import torch
from torch import nn

KINDS = {"gru": nn.GRU, "lstm": nn.LSTM}
GATES = {"gru": 3, "lstm": 4}


class RNNModel(nn.Module):
    """Embedding(V, H) -> `n_layer` GRU/LSTM layers of width H -> Linear(H, V) on the last `n_out` steps."""

    def __init__(self, kind: str = "gru", vocab_size: int = 16, hidden: int = 288, n_layer: int = 1, n_out: int = 16):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
        self.n_out = n_out
        self.wte = nn.Embedding(vocab_size, hidden)
        self.rnn = KINDS[kind](hidden, hidden, num_layers=n_layer, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, n_out, V) logits for the last n_out positions."""
        h, _ = self.rnn(self.wte(idx))
        return self.head(h[:, -self.n_out:])


def n_params(kind: str, vocab_size: int, hidden: int, n_layer: int = 1) -> int:
    """Parameters of `RNNModel`: per layer gates * (2H^2 + 2H) (PyTorch's two bias vectors), plus 2VH."""
    return n_layer * GATES[kind] * (2 * hidden**2 + 2 * hidden) + 2 * vocab_size * hidden


def hidden_for_params(target: int, kind: str = "gru", vocab_size: int = 16, n_layer: int = 1) -> int:
    """The width H whose `n_params` is closest to `target`."""
    a, b = 2 * n_layer * GATES[kind], 2 * n_layer * GATES[kind] + 2 * vocab_size
    guess = (-b + math.sqrt(b * b + 4 * a * target)) / (2 * a)
    candidates = (max(1, math.floor(guess)), math.ceil(guess))
    return min(candidates, key=lambda h: abs(n_params(kind, vocab_size, h, n_layer) - target))
