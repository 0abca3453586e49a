"""Sampling is seeded and causal, from a language model or an n-gram model."""

import numpy as np
import pytest
import torch

from paperlib.data.text import CharData
from paperlib.models.ngram import NGram
from paperlib.models.paper_configs import paper_model
from paperlib.models.sampling import lm_next_probs, ngram_next_probs, sample

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 20


def tiny_lm(arch="recurrent", **kw):
    torch.manual_seed(0)
    return paper_model("shakespeare", arch, vocab_size=20, n_embd=16, n_head=2, n_positions=24, dropout=0.0, **kw)


@pytest.mark.parametrize("arch, kw", [("recurrent", {"block": 1}), ("recurrent", {"block": 4}), ("regular", {}),
                                      ("recurrent", {"block": 4, "alpha": "learn", "carry_at_close": True})])
def test_next_token_distribution_depends_only_on_the_past(arch, kw):
    model = tiny_lm(arch, **kw).eval()
    tokens = torch.randint(0, 20, (24,), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = torch.softmax(model(tokens.unsqueeze(0))[0], dim=-1)
    next_probs = lm_next_probs(model, context=24)
    for t in range(5, 24):  # prefixes longer than the block, as in training
        torch.testing.assert_close(next_probs(tokens[:t]), full[t - 1], rtol=1e-5, atol=1e-6)


def test_sampling_is_seeded_and_a_longer_sample_extends_a_shorter_one():
    next_probs = lm_next_probs(tiny_lm(block=2), context=24)
    prompt = [1, 2, 3, 4, 5]
    short, long = sample(next_probs, prompt, 10, seed=7), sample(next_probs, prompt, 20, seed=7)
    assert long[:10] == short and len(long) == 20 and all(0 <= t < 20 for t in long)
    assert sample(next_probs, prompt, 20, seed=8) != long


def test_sampling_sees_only_the_tokens_so_far():
    seen = []

    def spy(tokens):
        seen.append(tokens.tolist())
        return torch.full((4,), 0.25)

    out = sample(spy, [3], 5, seed=0)
    assert seen == [[3] + out[:i] for i in range(5)]


def test_ngram_samples_are_seeded():
    data = CharData.from_text(TEXT)
    model = NGram(3, data.vocab_size).fit(data.train.numpy())
    prompt = data.encode("Speak")
    a = sample(ngram_next_probs(model), prompt, 30, seed=3)
    assert a == sample(ngram_next_probs(model), prompt, 30, seed=3)
    assert set(data.decode(a)) <= set(TEXT)
    torch.testing.assert_close(ngram_next_probs(model)(prompt), torch.from_numpy(model.next_probs(prompt.numpy())))


def test_temperature_sharpens_the_distribution():
    probs = torch.tensor([0.6, 0.3, 0.1])
    counts = {t: np.bincount(sample(lambda _: probs, [], 2000, seed=0, temperature=t), minlength=3) / 2000
              for t in (1.0, 0.25)}
    np.testing.assert_allclose(counts[1.0], probs.numpy(), atol=0.04)
    sharpened = probs ** 4 / (probs ** 4).sum()  # temperature 1/4: p^4, renormalised
    np.testing.assert_allclose(counts[0.25], sharpened.numpy(), atol=0.03)
