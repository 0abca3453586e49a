"""The image chapter's pure pieces: splits, the data statement, the models, departures from the Note, the prose."""

import pytest
import torch

from paperlib.chapters.long_range_image import (MODEL_LABELS, NOTE_CONFIG, data_statement, image_configs, in_words,
                                                prepare, scaled_down)
from paperlib.data.images import ImageTokens
from paperlib.data.sources import Provenance
from paperlib.models.recurrent import RecurrentConfig

SUBSTITUTE = Provenance("fashion-mnist", "Debian", "0", substitute=True, note="Fashion-MNIST zero-padded")
CIFAR = Provenance("cifar10", "the canonical archive", "0")


def numbered(n_train=300, n_test=100) -> ImageTokens:
    """Images whose first two tokens spell their index, so a split can be traced back."""
    def images(n):
        x = torch.randint(0, 256, (n, 1024), generator=torch.Generator().manual_seed(n), dtype=torch.uint8)
        x[:, 0], x[:, 1] = torch.arange(n) // 256, torch.arange(n) % 256
        return x

    return ImageTokens(images(n_train), torch.arange(n_train) % 10, images(n_test), torch.arange(n_test) % 10,
                       tuple("abcdefghij"), CIFAR)


def ids(x: torch.Tensor) -> list[int]:
    return (x[:, 0].long() * 256 + x[:, 1].long()).tolist()


def test_prepare_holds_out_a_disjoint_validation_split_and_picks_test_subsets():
    splits = prepare(numbered(), side=32, n_val=50, n_eval=20, n_test=40, seed=0)
    train, val = ids(splits.train_x), ids(splits.val_x)
    assert (len(train), len(val)) == (250, 50) and sorted(train + val) == list(range(300))
    assert torch.equal(splits.train_y, torch.tensor(train) % 10)  # labels travel with their images
    assert len(splits.eval_test) == 20 and len(set(splits.final_test.tolist())) == 40
    assert len(prepare(numbered(), 32, 50, 20, 0, seed=0).final_test) == 100  # 0: the whole test set
    assert ids(prepare(numbered(), 32, 50, 20, 40, seed=1).val_x) != val  # the seed decides


def test_prepare_downsamples_below_32():
    splits = prepare(numbered(), side=8, n_val=50, n_eval=20, n_test=40, seed=0)
    assert splits.train_x.shape == (250, 64) and splits.test_x.shape == (100, 64) and splits.val_x.shape == (50, 64)


def test_the_data_statement_says_substitute_first():
    splits = prepare(numbered(), side=8, n_val=50, n_eval=20, n_test=40, seed=0)
    words = data_statement(SUBSTITUTE, 8, splits, 10)
    assert words.startswith("**Substitute data: fashion-mnist, not CIFAR-10.** Fashion-MNIST zero-padded")
    assert "8×8 = 64 tokens (averaged from 32×32" in words and "250 training, 50 validation" in words
    real = data_statement(CIFAR, 32, prepare(numbered(), 32, 50, 20, 40, 0), 10)
    assert real.startswith("CIFAR-10 in 8-bit grayscale") and "averaged" not in real


def test_image_configs_are_the_chapters_models():
    configs = image_configs(64, 0.0)
    assert list(configs) == list(MODEL_LABELS)
    assert all(cfg.n_positions == 64 and cfg.dropout == 0.0 for cfg in configs.values())
    assert configs["recurrent"].block_range == (16, 48) and configs["recurrent"].alpha == "forget"
    assert configs["recurrent_alpha"].alpha == "learn" and configs["recurrent_fixed"].block_range is None
    assert not isinstance(configs["regular"], RecurrentConfig) and configs["regular"].n_layer == 4


def test_scaled_down_names_each_departure_from_the_note():
    assert scaled_down(NOTE_CONFIG) == ""
    changed = scaled_down({**NOTE_CONFIG, "side": 8, "recurrent_steps": 3})
    assert changed == "side 8 (paper 32), recurrent_steps 3 (paper 80000)"
    with pytest.raises(KeyError, match="threads"):
        scaled_down({**NOTE_CONFIG, "threads": 1})


def metrics(recurrent=(0.40, 0.38, 0.42), fixed=(0.41, 0.39, 0.43)):
    m = {"image_acc_regular": 0.45}
    for name, (acc, low, high) in (("recurrent", recurrent), ("recurrent_fixed", fixed)):
        m |= {f"image_acc_{name}": acc, f"image_acc_{name}.ci_low": low, f"image_acc_{name}.ci_high": high}
    return m


def test_in_words_follows_the_numbers():
    overlap = in_words(metrics(), CIFAR, "", True)
    assert "made no clear difference" in overlap
    assert "the best model of this run is the regular, 4 layers (45.00 %)" in overlap
    assert overlap.endswith("overlap). The verdict compares with the Note's 43.09% on CIFAR-10.")
    held_back = in_words(metrics(fixed=(0.50, 0.48, 0.52)), SUBSTITUTE, "side 8 (paper 32)", False)
    assert "held the Note's model back" in held_back and "fashion-mnist (a substitute)" in held_back
    assert "Configuration: side 8 (paper 32); none of these numbers is comparable" in held_back
    assert "helped" in in_words(metrics(fixed=(0.30, 0.28, 0.32)), CIFAR, "", True)
