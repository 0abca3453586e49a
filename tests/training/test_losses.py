"""Training losses: `model_loss` for class and token logits, and the Weber–Fechner readings L1–L3 by hand."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from paperlib.training.losses import CRITERIA, log_ce, model_loss, rank_batch, rank_class, relative


class Fixed(nn.Module):
    """A 'model' that returns the given logits whatever its input."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits


def test_model_loss_on_class_logits_is_the_criterion():
    logits, y = torch.randn(5, 3), torch.tensor([0, 2, 1, 1, 0])
    torch.testing.assert_close(model_loss()(Fixed(logits), (None, y)), F.cross_entropy(logits, y))
    torch.testing.assert_close(model_loss(log_ce)(Fixed(logits), (None, y)), log_ce(logits, y))


def test_model_loss_on_token_logits_averages_every_position():
    logits, y = torch.randn(2, 4, 6), torch.randint(6, (2, 4))
    per_token = F.cross_entropy(logits.transpose(1, 2), y, reduction="none")  # (B, T)
    torch.testing.assert_close(model_loss()(Fixed(logits), (None, y)), per_token.mean())


def test_model_loss_is_computed_in_fp32():
    logits, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    loss = model_loss()(Fixed(logits.bfloat16()), (None, y))
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, F.cross_entropy(logits.bfloat16().float(), y))


def test_readings_by_hand():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.5, 0.25, 0.25]]))
    target = torch.tensor([1, 0])
    # errors |p - y|: [0.7, 0.8, 0.1] -> sorted 0.8, 0.7, 0.1; [0.5, 0.25, 0.25]
    torch.testing.assert_close(rank_class(logits, target),
                               torch.tensor((0.8 + 0.7 / 2 + 0.1 / 3 + 0.5 + 0.25 / 2 + 0.25 / 3) / 2))
    ce = [-math.log(0.2), -math.log(0.5)]  # sorted descending already
    torch.testing.assert_close(rank_batch(logits, target), torch.tensor((ce[0] + ce[1] / 2) / 1.5))
    eps = 1e-3
    rel = [sum((math.log(eps + p) - math.log(eps + y)) ** 2 for p, y in zip(ps, ys))
           for ps, ys in (([0.7, 0.2, 0.1], [0, 1, 0]), ([0.5, 0.25, 0.25], [1, 0, 0]))]
    torch.testing.assert_close(relative(logits, target), torch.tensor(sum(rel) / 2))
    torch.testing.assert_close(log_ce(logits, target), torch.tensor(sum(math.log1p(c) for c in ce) / 2))


def test_rank_batch_weights_the_worst_example_most():
    logits = torch.log(torch.tensor([[0.5, 0.5], [0.9, 0.1]]))
    target = torch.tensor([0, 0])  # the second example is the better one: it gets weight 1/2
    ce = [-math.log(0.5), -math.log(0.9)]
    torch.testing.assert_close(rank_batch(logits, target), torch.tensor((ce[0] + ce[1] / 2) / 1.5))
    torch.testing.assert_close(rank_batch(logits.flip(0), target), rank_batch(logits, target))


@pytest.mark.parametrize("name", sorted(CRITERIA))
def test_every_criterion_prefers_the_right_answer(name):
    target = torch.tensor([2, 0])
    right, wrong = 5 * F.one_hot(target, 4).float(), 5 * F.one_hot(1 - target.clamp(max=1), 4).float()
    loss = CRITERIA[name]
    assert loss(right, target) < min(loss(torch.zeros(2, 4), target), loss(wrong, target))
