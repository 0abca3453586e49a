"""Forward FLOPs per sample: the paper's formulas (reference §6) and a complete count of our own.

The paper counts one FLOP per multiply-add and leaves out the QKV, output and MLP projections except
for a 2D^2 term: regular L(N^2 D + N D^2), block recurrent L(N/K)(4DK^2 + 2KD^2 [+ 2 with accumulate]).
Our count (`count_flops`) follows the code: two FLOPs per multiply-add, every matmul of the layer
(QKV 6TC^2, scores and values 4T^2C over the full T x T square, output 2TC^2, MLP 16TC^2), the head,
and the alpha mixing (approximately); the windows are those `recur` actually runs. Norms, softmax and activations
(O(T C) and O(T^2 H)) are left out.
"""

from paperlib.models.paper import paper_config
from paperlib.models.recurrent import RecurrentConfig
from paperlib.models.transformer import TransformerConfig

# (label, task, arch, overrides, the Note's FLOPs/sample); the image row is the July-2025 forget model.
NOTE_TABLE = [
    ("Shakespeare regular, 1 layer", "shakespeare", "regular", {}, 6.29e7),
    ("Shakespeare regular, 6 layers", "shakespeare", "regular", {"n_layer": 6}, 3.77e8),
    ("Shakespeare recurrent, K = 1", "shakespeare", "recurrent", {"block": 1}, 7.59e7),
    ("image regular, 4 layers", "image", "regular", {}, 1.38e8),
    ("image recurrent, K = 32", "image", "recurrent", {"alpha": "forget"}, 6.29e6),
    ("copy recurrent, accumulate, K = 32", "copy", "recurrent", {}, 1.27e8),
]


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


def note_table() -> list[dict]:
    """The Note's FLOPs/sample table: its value, the paper's formula recomputed, and our count."""
    rows = []
    for label, task, arch, overrides, note in NOTE_TABLE:
        cfg = paper_config(task, arch, **overrides)
        n = cfg.n_positions
        rows.append(
            {
                "model": label,
                "N": n,
                "note": note,
                "paper_formula": paper_flops(cfg, n),
                "ours": count_flops(cfg, n),
            }
        )
    return rows
