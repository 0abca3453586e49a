"""Generation is seeded and causal; the character-LM pieces: vocabulary, windows, α, clipping."""

import numpy as np
import pytest
import torch

from paperlib.charlm import CharData, fixed_windows, init_adamw, lm_loss, lm_metrics, random_windows
from paperlib.generate import lm_next_probs, ngram_next_probs, sample
from paperlib.models import paper_model
from paperlib.ngram import NGram

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


def test_char_data_split_windows_and_metrics():
    data = CharData.from_text(TEXT)
    assert data.decode(data.encode("Speak, speak.")) == "Speak, speak."
    assert len(data.train) + len(data.val) == len(TEXT) and len(data.train) == int(0.9 * len(TEXT))
    windows = fixed_windows(data.val, 8, 5)
    assert windows.shape == (5, 9) and torch.equal(windows, fixed_windows(data.val, 8, 5))
    model = paper_model("shakespeare", "recurrent", vocab_size=data.vocab_size, n_embd=16, n_head=2, n_positions=8,
                        dropout=0.0, block=2, alpha="learn")
    with torch.no_grad():
        record = lm_metrics(fixed_windows(data.train, 8, 5), windows)(model.eval())
    assert record["alpha"] == pytest.approx(0.5) and np.isfinite(record["val_loss_se"])
    assert abs(record["val_loss"] - np.log(data.vocab_size)) < 0.5


def test_adamw_clips_and_leaves_alpha_undecayed():
    data = CharData.from_text(TEXT)
    state = init_adamw(lambda: paper_model("shakespeare", "recurrent", vocab_size=data.vocab_size, n_embd=16,
                                           n_head=2, n_positions=8, block=2, alpha="learn"), grad_clip=1e-3)
    decayed = {id(p) for p in state.optimizer.param_groups[0]["params"]}
    assert id(state.model.alpha_raw) not in decayed
    before = {n: p.detach().clone() for n, p in state.model.named_parameters()}
    batch = random_windows(data.train, 8, 4)(state)
    lm_loss(state.model, batch).backward()
    state.optimizer.step()
    grad_norm = torch.cat([p.grad.flatten() for p in state.model.parameters()]).norm()
    assert grad_norm == pytest.approx(1e-3, rel=1e-3)
    assert any(not torch.equal(before[n], p) for n, p in state.model.named_parameters())
