"""The optimizer factory: Adam or nanoGPT's AdamW, weight decay on matrices only, gradient clipping."""

import pytest
import torch
from torch import nn

from paperlib.models.paper_configs import paper_model
from paperlib.training.optim import OptimizerConfig, make_optimizer, nanogpt_adamw

CPU = torch.device("cpu")


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))


def tiny_recurrent_lm() -> nn.Module:
    return paper_model("shakespeare", "recurrent", vocab_size=7, n_embd=8, n_head=2, n_positions=8, block=2,
                       alpha="learn")


def step_with_gradients(model: nn.Module, optimizer: torch.optim.Optimizer, scale: float) -> None:
    """One optimizer step with every gradient set to `scale` (0: only weight decay moves the parameters)."""
    for p in model.parameters():
        p.grad = torch.full_like(p, scale)
    optimizer.step()


def test_default_is_adam_over_every_trainable_parameter_without_decay():
    model = small_model()
    model[1].weight.requires_grad_(False)
    optimizer = make_optimizer(model, OptimizerConfig(lr=0.01), CPU)
    assert type(optimizer) is torch.optim.Adam and len(optimizer.param_groups) == 1
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.01 and group["weight_decay"] == 0.0 and group["betas"] == (0.9, 0.999)
    assert {id(p) for p in group["params"]} == {id(p) for p in model.parameters() if p.requires_grad}


def test_nanogpt_adamw_decays_matrices_only_and_never_the_recurrence_alpha():
    model = tiny_recurrent_lm()
    optimizer = make_optimizer(model, nanogpt_adamw(3e-4), CPU)
    assert type(optimizer) is torch.optim.AdamW
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert decayed["betas"] == plain["betas"] == (0.9, 0.95) and decayed["lr"] == 3e-4
    assert all(p.dim() >= 2 for p in decayed["params"]) and all(p.dim() < 2 for p in plain["params"])
    assert any(p is model.alpha_raw for p in plain["params"])
    assert len(decayed["params"]) + len(plain["params"]) == len(list(model.parameters()))


def test_with_zero_gradients_only_the_matrices_shrink_by_the_decoupled_decay():
    model = small_model()
    optimizer = make_optimizer(model, OptimizerConfig(0.1, "adamw", weight_decay=0.5), CPU)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    step_with_gradients(model, optimizer, 0.0)
    for name, p in model.named_parameters():
        expected = before[name] * (1 - 0.1 * 0.5) if p.dim() >= 2 else before[name]
        torch.testing.assert_close(p.detach(), expected, msg=name)


@pytest.mark.parametrize("scale, clipped", [(10.0, True), (1e-4, False)])
def test_clipping_caps_the_global_gradient_norm_before_each_step(scale, clipped):
    model = small_model()
    optimizer = make_optimizer(model, OptimizerConfig(lr=0.01, grad_clip=0.5), CPU)
    step_with_gradients(model, optimizer, scale)
    norm = torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()
    unclipped = scale * sum(p.numel() for p in model.parameters()) ** 0.5
    assert norm == pytest.approx(0.5 if clipped else unclipped, rel=1e-5)


def test_without_clipping_the_gradients_are_left_alone():
    model = small_model()
    step_with_gradients(model, make_optimizer(model, OptimizerConfig(lr=1e-3), CPU), 10.0)
    assert all(torch.equal(p.grad, torch.full_like(p, 10.0)) for p in model.parameters())


@pytest.mark.parametrize("bad", [{"kind": "sgd"}, {"lr": 0.0}, {"weight_decay": -0.1}, {"grad_clip": -1.0}])
def test_bad_configurations_are_refused(bad):
    with pytest.raises(ValueError):
        OptimizerConfig(**{"lr": 1e-3, **bad})
