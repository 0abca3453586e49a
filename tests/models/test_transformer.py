"""The GPT block, the regular transformer, its heads and the paper's parameter counts."""

import pytest
import torch

from paperlib.models import n_params
from paperlib.models.paper_configs import paper_model
from paperlib.models.transformer import Transformer, TransformerConfig


def tiny(**kw) -> TransformerConfig:
    return TransformerConfig(**{"vocab_size": 11, "n_embd": 16, "n_head": 2, "n_positions": 64, **kw})


@pytest.mark.parametrize(
    "name, arch, overrides, expected",
    [
        ("copy", "regular", {}, 508_704),
        ("selective_copy", "regular", {}, 508_704),
        ("image", "regular", {}, 90_720),
        ("shakespeare", "regular", {}, 1_893_888),
        ("shakespeare", "regular", {"n_layer": 6}, 10_745_088),
        ("shakespeare", "regular", {"n_layer": 6, "n_positions": 0}, 10_646_784),
    ],
)
def test_paper_parameter_counts_regular(name, arch, overrides, expected):
    assert n_params(paper_model(name, arch, **overrides)) == expected


def test_per_layer_parameters_are_12c2_plus_2c():
    one, two = Transformer(tiny(n_layer=1)), Transformer(tiny(n_layer=2))
    assert n_params(two) - n_params(one) == 12 * 16**2 + 2 * 16


def test_no_biases_and_tied_lm_head():
    model = Transformer(tiny())
    assert not any(name.endswith("bias") for name, _ in model.named_parameters())
    assert n_params(model) == 12 * 16**2 + 2 * 16 + 16 + 11 * 16 + 64 * 16


def test_initialisation_follows_the_reference():
    torch.manual_seed(0)
    model = Transformer(TransformerConfig(vocab_size=64, n_embd=256, n_head=4, n_layer=8))
    block = model.blocks[0]
    assert block.attn.c_attn.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert block.mlp.c_proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)
    assert block.attn.c_proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)


@pytest.mark.parametrize(
    "head, n_out, shape",
    [("lm", 0, (3, 20, 11)), ("last", 4, (3, 4, 11)), ("class", 10, (3, 10))],
)
def test_head_shapes(head, n_out, shape):
    model = Transformer(tiny(head=head, n_out=n_out)).eval()
    assert model(torch.randint(11, (3, 20))).shape == shape


def test_last_head_equals_the_lm_logits_of_the_last_positions():
    torch.manual_seed(0)
    lm = Transformer(tiny()).eval()
    last = Transformer(tiny(head="last", n_out=5)).eval()
    last.load_state_dict(lm.state_dict())
    idx = torch.randint(11, (2, 30))
    torch.testing.assert_close(last(idx), lm(idx)[:, -5:])


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_regular_model_is_causal(activation):
    torch.manual_seed(0)
    model = Transformer(tiny(n_layer=2, activation=activation)).eval()
    idx = torch.randint(11, (2, 40))
    p = 17
    changed = idx.clone()
    changed[:, p] = (idx[:, p] + 1) % 11
    a, b = model(idx), model(changed)
    torch.testing.assert_close(a[:, :p], b[:, :p], rtol=0, atol=1e-6)
    assert not torch.allclose(a[:, p:], b[:, p:])


@pytest.mark.parametrize("head, n_out", [("lm", 0), ("class", 3)])
def test_uint8_token_ids_give_the_same_logits_as_int64(head, n_out):
    model = Transformer(tiny(head=head, n_out=n_out, vocab_size=256)).eval()
    idx = torch.randint(256, (2, 20))
    assert idx.max() > 127  # ids past int8's range survive the conversion
    torch.testing.assert_close(model(idx.to(torch.uint8)), model(idx), rtol=0, atol=0)


def test_too_long_sequence_is_refused():
    with pytest.raises(ValueError, match="position rows"):
        Transformer(tiny())(torch.randint(11, (1, 65)))


@pytest.mark.parametrize("bad", [{"n_head": 3}, {"activation": "tanh"}, {"head": "pool"}, {"head": "class"}])
def test_invalid_configs_are_refused(bad):
    with pytest.raises(ValueError):
        tiny(**bad)


def test_cpu_bf16_attention_runs_in_fp32_and_returns_bf16():
    """Under CPU bf16 autocast the attention kernel sees fp32 (its bf16 kernel is slow on small windows); the
    result is bf16 and equals fp32 attention of the same (bf16-rounded) inputs, causal as before."""
    from paperlib.models.transformer import attention

    q, k, v = (torch.randn(2, 3, 8, 4).bfloat16() for _ in range(3))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = attention(q, k, v, 0.0)
    exact = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=True)
    assert out.dtype == torch.bfloat16 and torch.equal(out, exact.bfloat16())
    changed = v.clone()
    changed[:, :, -1] += 1  # the last position's value reaches no earlier output
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(attention(q, k, changed, 0.0)[:, :, :-1], out[:, :, :-1])
