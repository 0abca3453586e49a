"""The recurrent transformer: the reference recurrence, causality, counts, gradients, short inputs."""

import warnings

import pytest
import torch

from paperlib.models import n_params
from paperlib.models.paper_configs import paper_model
from paperlib.models.recurrent import RecurrentConfig, RecurrentTransformer, recur
from paperlib.models.transformer import Transformer

ALPHAS = ["forget", "accumulate", "learn"]


def tiny(**kw) -> RecurrentConfig:
    base = {"vocab_size": 11, "n_embd": 16, "n_head": 2, "n_positions": 200, "block": 8}
    return RecurrentConfig(**{**base, **kw})


def reference_recurrence(h, layer, K, a):
    """The author's loop as the methods page describes it, written naively (repeated concatenation of the
    outputs); at T = 2K it runs one more window with no new tokens, whose state half is a*carry + state."""
    pieces = h.split(K, dim=1)
    carry, state, out = pieces[0], layer(pieces[0]), None
    for new in pieces[1:]:
        c = a * carry
        o = layer(torch.cat([c + state, c[:, : new.shape[1]] + new], dim=1))
        carry, state = o[:, :K], o[:, K:]
        out = carry if out is None else torch.cat([out, carry], dim=1)
    if h.shape[1] == 2 * K:
        state = a * carry + state
    return torch.cat([out, layer(state)], dim=1)


@pytest.mark.parametrize(
    "name, overrides, expected",
    [
        ("copy", {}, 508_705),
        ("selective_copy", {}, 508_704),
        ("image", {}, 53_665),
        ("image", {"alpha": "forget", "block_range": (16, 48)}, 53_664),
        ("shakespeare", {}, 1_893_888),
        ("shakespeare", {"n_positions": 0, "block": 1}, 1_795_584),
    ],
)
def test_paper_parameter_counts_recurrent(name, overrides, expected):
    assert n_params(paper_model(name, "recurrent", **overrides)) == expected


@pytest.mark.parametrize("name, shape", [("copy", (2, 16, 16)), ("image", (2, 10)), ("shakespeare", (2, 256, 65))])
def test_paper_models_forward_shapes(name, shape):
    model = paper_model(name, "recurrent").eval()
    T = model.cfg.n_positions
    assert model(torch.randint(model.cfg.vocab_size, (2, T))).shape == shape


@pytest.mark.parametrize("T, K, alpha", [(100, 16, 0.0), (160, 32, 0.5), (67, 8, 0.5), (48, 16, 0.5), (64, 32, 0.5),
                                         (32, 16, 0.3), (32, 16, 0.0)])
def test_recur_matches_the_reference_loop(T, K, alpha):
    torch.manual_seed(0)
    model = RecurrentTransformer(tiny(alpha="accumulate", alpha_value=alpha)).eval()
    h = torch.randn(2, T, 16)
    a = torch.tensor(alpha)
    torch.testing.assert_close(recur(h, model.blocks[0], K, a), reference_recurrence(h, model.blocks[0], K, a))


def test_forget_equals_alpha_zero():
    torch.manual_seed(0)
    forget = RecurrentTransformer(tiny(alpha="forget")).eval()
    zero = RecurrentTransformer(tiny(alpha="accumulate", alpha_value=0.0)).eval()
    zero.load_state_dict(forget.state_dict(), strict=False)
    idx = torch.randint(11, (2, 70))
    torch.testing.assert_close(forget(idx), zero(idx))


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("variant", [{}, {"carry_start": "zero"}, {"carry_at_close": True}, {"n_layer": 2}])
def test_recurrent_model_is_causal(alpha, variant):
    torch.manual_seed(0)
    model = RecurrentTransformer(tiny(alpha=alpha, **variant)).eval()
    idx = torch.randint(11, (2, 77))
    for p in (0, 5, 8, 30, 76):
        changed = idx.clone()
        changed[:, p] = (idx[:, p] + 1) % 11
        a, b = model(idx), model(changed)
        torch.testing.assert_close(a[:, :p], b[:, :p], rtol=0, atol=1e-6)
        assert not torch.allclose(a[:, p], b[:, p])


def test_two_blocks_close_with_the_carry_as_the_author_does():
    torch.manual_seed(0)
    model = RecurrentTransformer(tiny(alpha="accumulate", block=16)).eval()
    idx = torch.randint(11, (2, 32))
    closing = RecurrentTransformer(tiny(alpha="accumulate", block=16, carry_at_close=True)).eval()
    closing.load_state_dict(model.state_dict())
    torch.testing.assert_close(model(idx), closing(idx))
    longer = torch.randint(11, (2, 48))  # three blocks: the author's closing step has no carry
    assert not torch.allclose(model(longer), closing(longer))


@pytest.mark.parametrize("T", [8, 16, 17, 31])
def test_shorter_than_two_blocks_with_a_carry_is_refused(T):
    model = RecurrentTransformer(tiny(alpha="learn", block=16)).eval()
    with pytest.raises(ValueError, match="cannot run it with a carry"):
        model(torch.randint(11, (1, T)))


def test_one_block_equals_the_regular_one_layer_model():
    torch.manual_seed(0)
    recurrent = RecurrentTransformer(tiny(alpha="learn", block=32, carry_at_close=True)).eval()
    regular = Transformer(recurrent.cfg).eval()
    regular.load_state_dict(recurrent.state_dict(), strict=False)
    idx = torch.randint(11, (3, 32))
    with pytest.warns(UserWarning, match="one block"):
        out = recurrent(idx)
    torch.testing.assert_close(out, regular(idx))


def test_sequences_between_k_and_2k_run_without_warning():
    model = RecurrentTransformer(tiny(block=16)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for T in (17, 24, 32, 33):
            assert model(torch.randint(11, (1, T))).shape == (1, T, 11)


def test_alpha_is_clamped_but_the_parameter_is_not():
    model = RecurrentTransformer(tiny(alpha="learn"))
    with torch.no_grad():
        model.alpha_raw.fill_(1.7)
    assert model.alpha.item() == 1.0 and model.alpha_raw.item() == pytest.approx(1.7)
    assert RecurrentTransformer(tiny(alpha="forget")).alpha is None
    fixed = RecurrentTransformer(tiny(alpha="accumulate"))
    assert fixed.alpha.item() == 0.5 and "alpha_raw" not in dict(fixed.named_parameters())


def test_n_params_counts_parameters_not_the_fixed_alpha_buffer():
    learn, fixed, forget = (RecurrentTransformer(tiny(alpha=a)) for a in ("learn", "accumulate", "forget"))
    assert "alpha_raw" in dict(fixed.named_buffers())
    assert n_params(fixed) == n_params(forget) == n_params(learn) - 1
    assert n_params(forget) == sum(p.numel() for p in forget.state_dict().values())


def test_learnable_alpha_gets_a_gradient():
    model = RecurrentTransformer(tiny(alpha="learn"))
    model(torch.randint(11, (2, 50))).square().mean().backward()
    assert model.alpha_raw.grad is not None and model.alpha_raw.grad.abs().item() > 0


def test_gradient_reaches_the_first_block_from_the_last_position():
    torch.manual_seed(0)
    cfg = tiny(alpha="accumulate", head="class", n_out=3, block=8, n_positions=256)
    model = RecurrentTransformer(cfg)
    model(torch.randint(11, (2, 256))).sum().backward()  # 32 blocks, loss on the last position only
    first_block = model.wpe.weight.grad[:8].norm(dim=1)
    assert torch.isfinite(first_block).all() and (first_block > 0).all()


def test_random_block_length_in_training_only():
    torch.manual_seed(0)
    model = RecurrentTransformer(tiny(block=32, block_range=(16, 48)))
    draws = {model.block_length() for _ in range(200)}
    assert min(draws) == 16 and max(draws) == 48
    assert model.eval().block_length() == 32


def test_work_is_linear_in_length():
    """Each step concatenates a fixed 2K window: the layer sees ceil(T/K) + 1 calls of <= 2K tokens."""
    model = RecurrentTransformer(tiny(block=8, n_positions=0)).eval()
    seen = []
    model.blocks[0].register_forward_hook(lambda m, i, o: seen.append(i[0].shape[1]))
    model(torch.randint(11, (1, 8 * 50 + 3)))
    assert max(seen) == 16 and len(seen) == 52 and sum(seen) == 2 * (8 * 50 + 3)


@pytest.mark.parametrize("bad", [{"block": 0}, {"block_range": (5, 2)}, {"alpha": "both"}, {"carry_start": "x"}])
def test_invalid_recurrent_configs_are_refused(bad):
    with pytest.raises(ValueError):
        tiny(**bad)


def test_unknown_task_or_architecture_is_refused():
    with pytest.raises(ValueError):
        paper_model("mnist", "recurrent")
    with pytest.raises(ValueError):
        paper_model("copy", "lstm")
