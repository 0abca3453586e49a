"""Forward FLOPs per sample: the paper's formulas and a complete count of our own (methods page, FLOPs).

The paper counts one FLOP per multiply-add and leaves out the QKV, output and MLP projections except
for a 2D^2 term: regular L(N^2 D + N D^2), block recurrent L(N/K)(4DK^2 + 2KD^2 [+ 2 with accumulate]).
Our count (`count_flops`) follows the code: two FLOPs per multiply-add, every matmul of the layer
(QKV 6TC^2, scores and values 4T^2C over the full T x T square, output 2TC^2, MLP 16TC^2), the head,
and the alpha mixing (approximately); the windows are those `recur` actually runs. Norms, softmax and activations
(O(T C) and O(T^2 H)) are left out. `rnn_flops` counts the GRU/LSTM baseline the same way.
"""

from dataclasses import replace

from paperlib.models.recurrent import RecurrentConfig
from paperlib.models.transformer import TransformerConfig


def paper_flops(cfg: TransformerConfig, n: int) -> float:
    """The paper's FLOPs per sample of length n: the regular or the block-recurrent formula."""
    L, D = cfg.n_layer, cfg.n_embd
    if not isinstance(cfg, RecurrentConfig):
        return L * (n * n * D + n * D * D)
    K = cfg.block
    return L * (n / K) * (4 * D * K * K + 2 * K * D * D + (2 if cfg.alpha != "forget" else 0))


def layer_flops(t: int, c: int) -> int:
    """Two FLOPs per multiply-add of one block over t tokens of width c with full-square attention."""
    return 24 * t * c * c + 4 * t * t * c


def recurrent_segments(n: int, k: int) -> list[int]:
    """Lengths of the segments one layer of `recur` runs on: first block, 2K windows, closing step."""
    if n <= k:
        return [n]
    blocks = [k] * (n // k) + ([n % k] if n % k else [])
    return [k] + [k + b for b in blocks[1:]] + [blocks[-1]]


def head_flops(cfg: TransformerConfig, n: int) -> int:
    """FLOPs of the head: tied logits at every or the last n_out positions, or the classifier."""
    C = cfg.n_embd
    if cfg.head == "lm":
        return 2 * n * C * cfg.vocab_size
    if cfg.head == "last":
        return 2 * cfg.n_out * C * cfg.vocab_size
    return 2 * C * cfg.n_out


def alpha_flops(cfg: RecurrentConfig, n: int) -> int:
    """The alpha mixing per layer: a*c and its addition to both halves, about 3KC per 2K window."""
    if cfg.alpha == "forget":
        return 0
    windows = max(len(recurrent_segments(n, cfg.block)) - 2, 0)
    return 3 * cfg.block * cfg.n_embd * windows


def count_flops(cfg: TransformerConfig, n: int) -> int:
    """Our complete forward FLOPs for one sample of length n (see the module docstring)."""
    C = cfg.n_embd
    if isinstance(cfg, RecurrentConfig):
        per_layer = sum(layer_flops(t, C) for t in recurrent_segments(n, cfg.block)) + alpha_flops(cfg, n)
    else:
        per_layer = layer_flops(n, C)
    return cfg.n_layer * per_layer + head_flops(cfg, n)


def train_flops_per_sample(cfg: TransformerConfig, n: int) -> float:
    """Forward FLOPs of one training sample of length n: the mean over a random block range, if any."""
    if isinstance(cfg, RecurrentConfig) and cfg.block_range is not None:
        blocks = range(cfg.block_range[0], cfg.block_range[1] + 1)
        return sum(count_flops(replace(cfg, block=k, block_range=None), n) for k in blocks) / len(blocks)
    return float(count_flops(cfg, n))


def rnn_flops(gates: int, hidden: int, n: int, vocab_size: int, n_out: int, n_layer: int = 1) -> int:
    """Our forward FLOPs of the GRU/LSTM baseline (`paperlib.models.rnn`) on a sample of length n: per token and
    layer, the input and hidden matmuls of every gate (4 gates H^2), and the head on the last n_out positions."""
    return n_layer * n * 4 * gates * hidden * hidden + 2 * n_out * hidden * vocab_size
