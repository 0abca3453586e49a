"""The GPT block and the regular causal transformer with its task heads.

A pre-LayerNorm GPT-2 block without biases, the author's initialisation and the three task heads
(methods page, model details). The recurrent transformer (`recurrent.py`) reuses everything here and only
changes how the layers are applied along time.
"""

import math
from dataclasses import dataclass
from typing import Literal, get_args

import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}
Head = Literal["lm", "last", "class"]
HEADS: tuple[str, ...] = get_args(Head)


@dataclass
class TransformerConfig:
    """Shape of a transformer; `head` picks the task (see `Transformer.head_logits`)."""

    vocab_size: int
    n_embd: int
    n_head: int
    n_layer: int = 1
    n_positions: int = 0  # rows of the learned absolute position table; 0 = no positions
    dropout: float = 0.0
    activation: Literal["relu", "gelu"] = "gelu"  # relu (copy, image) or gelu (LLM)
    head: Head = "lm"  # lm: every position, tied; last: last n_out positions, tied; class: last position
    n_out: int = 0  # head 'last': positions predicted; head 'class': number of classes

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not divisible by n_head {self.n_head}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.head != "lm" and self.n_out < 1:
            raise ValueError(f"head {self.head!r} needs n_out >= 1")


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout: float) -> torch.Tensor:
    """Causal `scaled_dot_product_attention` of (B, H, T, D) heads. Under bf16 autocast on a CPU it runs in
    fp32 and returns bf16: torch's CPU attention kernel is several times slower in bf16 than in fp32 on small
    windows (methods page, D4), while the matrix products around it gain from bf16."""
    if q.device.type == "cpu" and q.dtype == torch.bfloat16:
        with torch.autocast("cpu", enabled=False):
            return attention(q.float(), k.float(), v.float(), dropout).bfloat16()
    return F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: fused QKV, no biases, `scaled_dot_product_attention`."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.dropout = cfg.dropout
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = attention(q, k, v, self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Linear(C, 4C) -> ReLU or GELU -> Linear(4C, C) -> dropout, no biases."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=False)
        self.act = ACTIVATIONS[cfg.activation]()
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=False)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LN GPT block: x + Attn(LN(x)), then x + MLP(LN(x)). 12C^2 + 2C parameters."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=False)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=False)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    """Regular causal transformer: embeddings, L blocks over the whole sequence, final LN, head."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd) if cfg.n_positions else None
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=False)
        self.classifier = nn.Linear(cfg.n_embd, cfg.n_out, bias=False) if cfg.head == "class" else None
        self.apply(self._init_weights)
        std_proj = 0.02 / math.sqrt(2 * cfg.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=std_proj)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """Token plus learned absolute position embeddings, then dropout: (B, T) ids of any integer
        dtype (images are stored as uint8) -> (B, T, C)."""
        h = self.wte(idx.long())
        if self.wpe is not None:
            T = idx.shape[1]
            if T > self.cfg.n_positions:
                raise ValueError(f"sequence length {T} exceeds the {self.cfg.n_positions} position rows")
            h = h + self.wpe(torch.arange(T, device=idx.device))
        return self.drop(h)

    def mix(self, h: torch.Tensor) -> torch.Tensor:
        """Apply the layers along time; the regular model runs each block over the whole sequence."""
        for block in self.blocks:
            h = block(h)
        return h

    def head_logits(self, h: torch.Tensor) -> torch.Tensor:
        """lm: (B, T, V); last: (B, n_out, V) for the last n_out positions; class: (B, n_out)."""
        if self.cfg.head == "lm":
            return self.ln_f(h) @ self.wte.weight.T
        if self.cfg.head == "last":
            return self.ln_f(h[:, -self.cfg.n_out :]) @ self.wte.weight.T
        return self.classifier(self.ln_f(h[:, -1]))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.head_logits(self.mix(self.embed(idx)))
