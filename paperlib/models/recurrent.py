"""The recurrent transformer (Kausik): one causal layer applied progressively over 2K-token windows.

Methods page, recurrent transformer and quirks (the Q and D ids below are that page's). For each
layer the sequence is split into blocks x_0 .. x_{n-1} of K tokens (the last may be shorter, Q5).
With a = clamp(alpha, 0, 1):

    s_0 = Layer(x_0);  c_0 = x_0                              (Q1: the first carry is the raw input)
    O_j = Layer([a*c_{j-1} + s_{j-1} ; a*c_{j-1} + x_j])        j = 1 .. n-1, causal inside the window
    y_{j-1} = O_j[:K];  s_j = O_j[K:];  c_j = y_{j-1}
    y_{n-1} = Layer(s_{n-1})                                  (Q2: the closing step has no carry)

Every step touches two blocks, so time and memory are linear in the length. Quirks are mirrored by
default; the deviations are named options (`carry_start`, `carry_at_close`) or documented here:
- D1 (Q9): outputs are collected in a list and concatenated once (the author's code re-concatenates per
  step, O(N^2/K) copying); the numbers are identical.
- Q4, exactly two blocks (T = 2K): the author's code runs one more window with no new tokens, so the
  closing step becomes Layer(a*c + s): `recur` does the same whatever `carry_at_close` says.
- D2 (Q4): shorter sequences, which the author's code cannot run. With a carry (a > 0 possible) and the
  author's closing step, K < T < 2K is refused with an error rather than run differently. Without a carry,
  or with `carry_at_close` chosen, the recurrence runs with a short last block; a sequence of one block
  (T <= K) has nothing to recur over and runs through the layer once, with a warning (sampling needs both).
- D3 (Q6): PyTorch picks the attention backend (the author's code forces FLASH attention).
- Multi-layer models run layer by layer, each layer over the whole sequence (copy/image semantics, Q10).
"""

import warnings
from dataclasses import dataclass
from typing import Literal, get_args

import torch
import torch.nn as nn

from paperlib.models.transformer import Block, Transformer, TransformerConfig

AlphaMode = Literal["forget", "accumulate", "learn"]
CarryStart = Literal["input", "zero"]
ALPHA_MODES: tuple[str, ...] = get_args(AlphaMode)
CARRY_STARTS: tuple[str, ...] = get_args(CarryStart)


@dataclass
class RecurrentConfig(TransformerConfig):
    """A transformer config plus the recurrence: block length, alpha mode and the quirk switches."""

    block: int = 32  # K: block length at evaluation (and in training when block_range is None)
    block_range: tuple[int, int] | None = None  # (lo, hi): K drawn uniformly in lo..hi per training step
    alpha: AlphaMode = "forget"  # forget: a = 0; accumulate: a fixed at alpha_value; learn: a learnable
    alpha_value: float = 0.5  # the fixed a, or the initial raw parameter when learnable
    carry_start: CarryStart = "input"  # Q1: first carry is the raw input block (input) or nothing (zero)
    carry_at_close: bool = False  # Q2: False mirrors the author's code; True adds a*carry at the closing step

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.block < 1:
            raise ValueError(f"block must be >= 1, got {self.block}")
        if self.block_range is not None and not 1 <= self.block_range[0] <= self.block_range[1]:
            raise ValueError(f"block_range must be (lo, hi) with 1 <= lo <= hi, got {self.block_range}")
        if self.alpha not in ALPHA_MODES:
            raise ValueError(f"alpha must be one of {ALPHA_MODES}, got {self.alpha!r}")
        if self.carry_start not in CARRY_STARTS:
            raise ValueError(f"carry_start must be one of {CARRY_STARTS}, got {self.carry_start!r}")


def recur(
    h: torch.Tensor,
    layer: Block,
    K: int,
    alpha: torch.Tensor | None,
    carry_start: CarryStart = "input",
    carry_at_close: bool = False,
) -> torch.Tensor:
    """Run one layer progressively over (B, T, C) in blocks of K; alpha None means forget (a = 0)."""
    T = h.shape[1]
    if alpha is not None and not carry_at_close and T < 2 * K:
        raise ValueError(f"sequence length {T} < 2K = {2 * K}: the author's code cannot run it with a carry; use "
                         "longer sequences, a smaller block, or carry_at_close=True (methods page, Q4)")
    if T <= K:
        warnings.warn(
            f"sequence length {T} <= block {K}: one block, so the layer runs once as a regular transformer",
            stacklevel=3,
        )
        return layer(h)
    blocks = h.split(K, dim=1)
    state = layer(blocks[0])
    carry = None
    if alpha is not None and carry_start == "input":
        carry = alpha * blocks[0]
    outs = []
    for new in blocks[1:]:
        if carry is None:
            window = torch.cat([state, new], dim=1)
        else:
            window = torch.cat([carry + state, carry[:, : new.shape[1]] + new], dim=1)
        o = layer(window)
        outs.append(o[:, :K])
        state = o[:, K:]
        carry = None if alpha is None else alpha * outs[-1]
    if (carry_at_close or T == 2 * K) and carry is not None:
        state = carry[:, : state.shape[1]] + state
    outs.append(layer(state))
    return torch.cat(outs, dim=1)


class RecurrentTransformer(Transformer):
    """The paper's recurrent transformer: the regular model's parts with the layers applied by `recur`."""

    cfg: RecurrentConfig

    def __init__(self, cfg: RecurrentConfig):
        super().__init__(cfg)
        self.block = cfg.block  # K outside training draws; a curriculum may change it with the length
        if cfg.alpha == "learn":
            self.alpha_raw = nn.Parameter(torch.tensor(float(cfg.alpha_value)))
        elif cfg.alpha == "accumulate":
            self.register_buffer("alpha_raw", torch.tensor(float(cfg.alpha_value)))
        else:
            self.alpha_raw = None

    @property
    def alpha(self) -> torch.Tensor | None:
        """The clamped alpha used in the forward pass (Q3: the raw parameter is unconstrained)."""
        return None if self.alpha_raw is None else self.alpha_raw.clamp(0.0, 1.0)

    def block_length(self) -> int:
        """K for this forward pass: drawn from block_range while training, else the fixed block."""
        lo_hi = self.cfg.block_range
        if self.training and lo_hi is not None:
            return int(torch.randint(lo_hi[0], lo_hi[1] + 1, ()).item())
        return self.block

    def mix(self, h: torch.Tensor) -> torch.Tensor:
        K, alpha = self.block_length(), self.alpha
        for block in self.blocks:
            h = recur(h, block, K, alpha, self.cfg.carry_start, self.cfg.carry_at_close)
        return h
