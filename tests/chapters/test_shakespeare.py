"""The Shakespeare chapter's pure pieces: its models, the evaluation, the headline numbers, departures, the prose."""

import math
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from paperlib.chapters.shakespeare import (MODEL_LABELS, NOTE_CONFIG, batch_sizes, headline_metrics, in_words,
                                           lm_metrics, ngram_table, scaled_down, shakespeare_configs)
from paperlib.models.paper_configs import build
from paperlib.training.batches import fixed_windows

TINY = {"vocab_size": 11, "block": 8, "context": 16, "n_embd": 16, "n_head": 2, "dropout": 0.0}


def test_configs_are_the_chapters_models():
    configs = shakespeare_configs(**TINY)
    assert list(configs) == list(MODEL_LABELS) == list(batch_sizes(8, 4, 2))
    assert configs["recurrent_nopos"].n_positions == 0 and configs["recurrent_pos"].n_positions == 16
    assert configs["recurrent_pos"].alpha == "forget" and configs["recurrent_alpha"].alpha == "learn"
    assert (configs["regular_1"].n_layer, configs["regular_6"].n_layer) == (1, 6)
    assert batch_sizes(8, 4, 2)["recurrent_alpha"] == 8 and batch_sizes(8, 4, 2)["regular_6"] == 2


def test_lm_metrics_are_window_means_with_a_standard_error():
    torch.manual_seed(0)
    configs = shakespeare_configs(**TINY)
    tokens = torch.randint(0, 11, (400,), generator=torch.Generator().manual_seed(0))
    train, val = fixed_windows(tokens, 16, 5, seed=1), fixed_windows(tokens, 16, 6, seed=2)
    model = build(configs["recurrent_alpha"]).eval()
    with torch.no_grad():  # as `train` evaluates
        record = lm_metrics(train, val)(model)
        per_window = F.cross_entropy(model(val[:, :-1]).transpose(1, 2), val[:, 1:], reduction="none").mean(1)
    assert set(record) == {"train_eval_loss", "val_loss", "val_loss_se", "alpha"} and record["alpha"] == 0.5
    assert record["val_loss"] == pytest.approx(float(per_window.mean()), rel=1e-5)
    assert record["val_loss_se"] == pytest.approx(float(per_window.std()) / math.sqrt(6), rel=1e-4)
    assert math.isfinite(record["train_eval_loss"]) and record["val_loss_se"] > 0
    assert "alpha" not in lm_metrics(train, val)(build(configs["regular_1"]).eval())


def alpha_run(alphas=(0.5, 0.3, 0.05)):
    model = SimpleNamespace(alpha_raw=torch.tensor(-0.2))
    return SimpleNamespace(history=pd.DataFrame({"alpha": list(alphas)}), state=SimpleNamespace(model=model))


def test_headline_numbers_take_the_better_forget_variant():
    metrics = {"val_loss_recurrent_pos": 1.50, "val_loss_recurrent_pos.se": 0.01,
               "val_loss_recurrent_nopos": 1.48, "val_loss_recurrent_nopos.se": 0.02}
    found, better = headline_metrics(metrics, alpha_run())
    assert better == "recurrent_nopos" and found["val_loss_recurrent"] == 1.48
    assert (found["val_loss_recurrent.ci_low"], found["val_loss_recurrent.ci_high"]) == pytest.approx((1.4408, 1.5192))
    assert found["alpha_learned"] == 0.05 and found["alpha_raw"] == pytest.approx(-0.2)
    swapped = {**metrics, "val_loss_recurrent_pos": 1.40}
    assert headline_metrics(swapped, alpha_run())[1] == "recurrent_pos"


def test_scaled_down_names_each_departure_from_the_note():
    assert scaled_down(NOTE_CONFIG) == ""
    assert scaled_down({**NOTE_CONFIG, "steps": 4}) == "steps 4 (paper 10000)"
    with pytest.raises(KeyError):
        scaled_down({"threads": 1})


def words(recurrent=1.45, regular=1.50, floor=1.60, alpha=0.05, deviation=""):
    m = {f"val_loss_{name}": regular for name in MODEL_LABELS}
    m |= {"val_loss_recurrent_pos": recurrent, "val_loss_recurrent": recurrent, "alpha_learned": alpha}
    if floor is not None:
        m["val_loss_ngram5"] = floor
    return in_words(m, "recurrent_pos", deviation)


def test_in_words_follows_the_numbers():
    assert "ordering (recurrent below both) holds" in words() and "(forgetting)." in words()
    assert "does not hold" in words(recurrent=1.55) and "(not forgetting)." in words(alpha=0.2)
    assert "floor (1.600): beaten by recurrent, 1 layer, positions. The" in words(regular=1.7)
    assert "**no neural model beats it**" in words(floor=1.0) and "gram floor" not in words(floor=None)
    assert words(deviation="steps 4 (paper 10000)").endswith("Configuration: steps 4 (paper 10000): not comparable "
                                                             "with the paper's numbers.")


def test_ngram_table_sets_ours_beside_the_anchors():
    table = ngram_table({"val_loss_ngram1": 3.3, "val_loss_ngram2": 2.5}, 2)
    assert table.index.tolist() == [1, 2] and table["val loss (nats)"].tolist() == [3.3, 2.5]
    assert table["measured before (methods page)"].tolist() == [3.347, 2.486]
