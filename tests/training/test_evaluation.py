"""`score` on class logits and token logits, and the reductions of its `Scores`, against hand computations."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from paperlib.training.batches import tensor_batches
from paperlib.training.evaluation import score

# class logits x @ W.T = [x, -x]: class 0 when x > 0, class 1 when x < 0
X = torch.tensor([[1.0], [-1.0], [-2.0], [-3.0], [0.5]])
Y = torch.tensor([0, 0, 1, 1, 0])  # right, wrong, right, right, right


def sign_classifier() -> nn.Module:
    model = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    return model


def token_model(vocab: int = 4) -> nn.Module:
    """(B, T) tokens -> (B, T, V) logits that favour the next symbol, (token + 1) % V."""
    model = nn.Embedding(vocab, vocab)
    with torch.no_grad():
        model.weight.copy_(3 * torch.eye(vocab).roll(1, dims=1))
    return model


def test_class_logits_over_several_batches():
    model = sign_classifier().train()
    scores = score(model, tensor_batches(X, Y, batch_size=2))
    assert scores.predictions.tolist() == [0, 1, 1, 1, 0] and torch.equal(scores.labels, Y)
    torch.testing.assert_close(scores.losses, F.cross_entropy(model(X), Y, reduction="none"))
    assert not scores.losses.requires_grad and model.training  # no graph, and the mode is the caller's
    assert scores.acc == 4 / 5 and scores.correct().tolist() == [True, False, True, True, True]
    assert scores.summary("val_") == {"val_loss": scores.loss, "val_acc": 4 / 5}
    assert scores.loss == pytest.approx(F.cross_entropy(model(X), Y).item())


def test_accuracy_is_counted_exactly():
    scores = score(sign_classifier(), tensor_batches(X[:3], Y[:3]))
    assert scores.acc == 2 / 3  # a float32 mean would give 0.6666666865348816


def test_token_logits_are_scored_per_token_and_averaged_per_example():
    tokens = torch.tensor([[0, 1, 2], [3, 3, 0]])
    targets = torch.tensor([[1, 2, 3], [0, 1, 2]])  # all right; one right of three
    model = token_model()
    scores = score(model, [(tokens, targets)])
    assert scores.losses.shape == scores.predictions.shape == (2, 3)
    assert torch.equal(scores.predictions, (tokens + 1) % 4)
    assert scores.acc == 4 / 6
    expected = F.cross_entropy(model(tokens).flatten(0, 1), targets.flatten(), reduction="none").view(2, 3)
    torch.testing.assert_close(scores.losses, expected)
    torch.testing.assert_close(scores.per_example(scores.losses), expected.mean(1))
    torch.testing.assert_close(scores.per_example(scores.correct()), torch.tensor([1.0, 1 / 3]))


def test_per_group_and_per_example_of_flat_values():
    scores = score(sign_classifier(), tensor_batches(X[:4], Y[:4]))
    torch.testing.assert_close(scores.per_group(torch.tensor([1.0, 2.0, 3.0, 6.0]), 2), torch.tensor([1.5, 4.5]))
    torch.testing.assert_close(scores.per_group(scores.correct(), 2), torch.tensor([0.5, 1.0]))
    torch.testing.assert_close(scores.per_example(scores.losses), scores.losses)


def test_confusion_counts_true_against_predicted():
    scores = score(sign_classifier(), tensor_batches(X, Y))
    assert scores.confusion(2).tolist() == [[2, 1], [0, 2]]  # one 0 taken for a 1, no 1 for a 0
    assert scores.confusion(3).sum() == len(X) and scores.confusion(3)[2].sum() == 0
