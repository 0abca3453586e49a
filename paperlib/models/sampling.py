"""Seeded, causal sampling: each new token is drawn from a model's distribution given only the tokens
before it, with a generator of its own, so a seed fixes the text and a longer sample extends a shorter one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from paperlib.models.ngram import NGram

NextProbs = Callable[[Tensor], Tensor]  # the tokens so far (t,) -> the next token's distribution (V,)


def sample(next_probs: NextProbs, prompt: Sequence[int], n_new: int, seed: int = 0, temperature: float = 1.0
           ) -> list[int]:
    """`n_new` tokens after `prompt`, each drawn from ``next_probs(tokens so far)`` sharpened by `temperature`."""
    g = torch.Generator().manual_seed(seed)
    tokens = [int(t) for t in prompt]
    for _ in range(n_new):
        p = next_probs(torch.tensor(tokens, dtype=torch.int64)).double()
        if temperature != 1.0:
            p = p.pow(1.0 / temperature)
        tokens.append(int(torch.multinomial(p / p.sum(), 1, generator=g)))
    return tokens[len(prompt):]


def lm_next_probs(model: nn.Module, context: int) -> NextProbs:
    """The next-token distribution of a causal language model (head "lm") from the last `context` tokens.

    For a recurrent model it equals the full sequence's prediction at that position when the prefix is
    longer than one block, and, with a carry (α > 0), only with ``carry_at_close`` (the author's
    closing step treats the last block differently: methods page, Q2).
    """
    device = next(model.parameters()).device

    @torch.no_grad()
    def next_probs(tokens: Tensor) -> Tensor:
        model.eval()
        logits = model(tokens[-context:].unsqueeze(0).to(device))[0, -1]
        return torch.softmax(logits.float(), dim=-1).cpu()

    return next_probs


def ngram_next_probs(model: NGram) -> NextProbs:
    """The next-token distribution of an n-gram model, as a tensor."""
    return lambda tokens: torch.from_numpy(model.next_probs(tokens.numpy()))
