"""A classical recurrent baseline for the copy tasks: embedding, a GRU or LSTM, a linear head.

It reads the whole sequence and predicts from its last `n_out` positions, like the transformers'
`last` head. `hidden_for_params` sizes it to a parameter budget (the paper's copy model: 508,705; methods page).
"""

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

Cell = Literal["gru", "lstm"]
RNN_CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}
GATES = {"gru": 3, "lstm": 4}


class RNNModel(nn.Module):
    """Embedding(V, H) -> `n_layer` GRU/LSTM layers of width H -> Linear(H, V) on the last `n_out` steps."""

    def __init__(self, cell: Cell = "gru", vocab_size: int = 16, hidden: int = 288, n_layer: int = 1, n_out: int = 16):
        super().__init__()
        if cell not in RNN_CELLS:
            raise ValueError(f"cell must be one of {sorted(RNN_CELLS)}, got {cell!r}")
        self.n_out = n_out
        self.wte = nn.Embedding(vocab_size, hidden)
        self.rnn = RNN_CELLS[cell](hidden, hidden, num_layers=n_layer, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, n_out, V) logits for the last n_out positions."""
        h, _ = self.rnn(self.wte(idx))
        return self.head(h[:, -self.n_out:])


@dataclass(frozen=True)
class RNNConfig:
    """An `RNNModel`'s configuration (a run plan's model); it predicts from its last `n_out` positions."""

    cell: Cell
    hidden: int
    vocab_size: int = 16
    n_layer: int = 1
    n_out: int = 16
    head: Literal["last"] = "last"

    def build(self) -> RNNModel:
        return RNNModel(self.cell, self.vocab_size, self.hidden, self.n_layer, self.n_out)


def rnn_params(cell: Cell, vocab_size: int, hidden: int, n_layer: int = 1) -> int:
    """Parameters `RNNModel` will have: per layer gates * (2H^2 + 2H) (PyTorch's two bias vectors), plus 2VH."""
    return n_layer * GATES[cell] * (2 * hidden**2 + 2 * hidden) + 2 * vocab_size * hidden


def hidden_for_params(target: int, cell: Cell = "gru", vocab_size: int = 16, n_layer: int = 1) -> int:
    """The width H whose `rnn_params` is closest to `target`."""
    a, b = 2 * n_layer * GATES[cell], 2 * n_layer * GATES[cell] + 2 * vocab_size
    guess = (-b + math.sqrt(b * b + 4 * a * target)) / (2 * a)
    candidates = (max(1, math.floor(guess)), math.ceil(guess))
    return min(candidates, key=lambda h: abs(rnn_params(cell, vocab_size, h, n_layer) - target))
