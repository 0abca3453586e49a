"""The GRU / LSTM baseline: shapes, parameter count, sizing to the paper model, causality of its outputs."""

import pytest
import torch

from paperlib.copying import PAPER_PARAMS, make_model
from paperlib.models.rnn import RNNModel, hidden_for_params, n_params


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("n_layer", [1, 2])
def test_parameter_formula_matches_the_module(kind, n_layer):
    model = RNNModel(kind, vocab_size=16, hidden=40, n_layer=n_layer)
    assert sum(p.numel() for p in model.parameters()) == n_params(kind, 16, 40, n_layer)


@pytest.mark.parametrize("kind, hidden", [("gru", 288), ("lstm", 250)])
def test_sized_to_the_paper_copy_model(kind, hidden):
    assert hidden_for_params(PAPER_PARAMS, kind) == hidden
    assert abs(n_params(kind, 16, hidden) - PAPER_PARAMS) / PAPER_PARAMS < 0.01
    assert sum(p.numel() for p in make_model("copy", kind).parameters()) == n_params(kind, 16, hidden)


def test_outputs_the_last_positions_and_they_depend_only_on_the_past():
    model = RNNModel("gru", vocab_size=16, hidden=12, n_out=4).eval()
    x = torch.randint(16, (3, 20))
    out = model(x)
    assert out.shape == (3, 4, 16)
    y = x.clone()
    y[:, -1] = (y[:, -1] + 1) % 16  # changing the last token leaves the earlier outputs alone
    assert torch.allclose(model(y)[:, :3], out[:, :3]) and not torch.allclose(model(y)[:, 3], out[:, 3])


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        RNNModel("rnn")
