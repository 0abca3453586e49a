"""The GRU / LSTM baseline: shapes, parameter count, sizing to the paper model, causality of its outputs."""

import pytest
import torch

from paperlib.chapters.copy_tasks.metrics import PAPER_PARAMS
from paperlib.chapters.copy_tasks.models import make_model
from paperlib.models import n_params
from paperlib.models.rnn import RNNModel, hidden_for_params, rnn_params


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("n_layer", [1, 2])
def test_parameter_formula_matches_the_module(cell, n_layer):
    model = RNNModel(cell, vocab_size=16, hidden=40, n_layer=n_layer)
    assert n_params(model) == rnn_params(cell, 16, 40, n_layer)


@pytest.mark.parametrize("cell, hidden", [("gru", 288), ("lstm", 250)])
def test_sized_to_the_paper_copy_model(cell, hidden):
    assert hidden_for_params(PAPER_PARAMS, cell) == hidden
    assert abs(rnn_params(cell, 16, hidden) - PAPER_PARAMS) / PAPER_PARAMS < 0.01
    for other in (hidden - 1, hidden + 1):  # the closest width, not just a close one
        assert abs(rnn_params(cell, 16, other) - PAPER_PARAMS) >= abs(rnn_params(cell, 16, hidden) - PAPER_PARAMS)
    assert n_params(make_model("copy", "rnn_total", cell)) == rnn_params(cell, 16, hidden)


@pytest.mark.parametrize("target, cell, n_layer", [(1, "gru", 1), (10_000, "lstm", 3), (2_000_000, "gru", 2)])
def test_hidden_for_params_picks_the_closest_width(target, cell, n_layer):
    width = hidden_for_params(target, cell, 16, n_layer)
    best = min(range(1, 2000), key=lambda h: abs(rnn_params(cell, 16, h, n_layer) - target))
    assert width == best


def test_outputs_the_last_positions_and_they_depend_only_on_the_past():
    model = RNNModel("gru", vocab_size=16, hidden=12, n_out=4).eval()
    x = torch.randint(16, (3, 20))
    out = model(x)
    assert out.shape == (3, 4, 16)
    y = x.clone()
    y[:, -1] = (y[:, -1] + 1) % 16  # changing the last token leaves the earlier outputs alone
    assert torch.allclose(model(y)[:, :3], out[:, :3]) and not torch.allclose(model(y)[:, 3], out[:, 3])


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="cell"):
        RNNModel("rnn")
