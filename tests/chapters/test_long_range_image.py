"""The image chapter's pure pieces: splits, the data statement, the models, collapses, seeds, departures from the
Note, the prose."""

import math
from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from paperlib.book.verdicts import run_record
from paperlib.book.wording import marked_in_myst, recheck_myst
from paperlib.chapters.long_range_image import (
    METRICS,
    MODEL_LABELS,
    NOTE_CONFIG,
    SeedResult,
    collapse_diagnosis,
    collapse_reasons,
    comparison_basis,
    data_statement,
    equal_compute_steps,
    image_configs,
    in_words,
    position_words,
    prepare,
    results,
    scaled_down,
    seed_table,
)
from paperlib.data.images import ImageTokens
from paperlib.data.sources import Provenance
from paperlib.models.flops import train_flops_per_sample
from paperlib.models.recurrent import RecurrentConfig
from paperlib.training.evaluation import Scores

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
    assert "and 100 test images, of which 40, drawn at random, score the selected weights" in words
    real = data_statement(CIFAR, 32, prepare(numbered(), 32, 50, 20, 0, 0), 10)
    assert real.startswith("CIFAR-10 in 8-bit grayscale") and "averaged" not in real
    assert "100 test images, of which all score the selected weights" in real


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


def page(recurrent=(0.40, 0.38, 0.42), fixed=(0.41, 0.39, 0.43), regular=(0.45, 0.44, 0.46), still_improving=0,
         reasons=None):
    m = {f"image_selected_last_{name}": 0 for name in MODEL_LABELS} | {"image_selected_last_recurrent": still_improving}
    for name, (acc, low, high) in (("recurrent", recurrent), ("recurrent_fixed", fixed), ("regular", regular)):
        m |= {f"image_acc_{name}": acc, f"image_acc_{name}.ci_low": low, f"image_acc_{name}.ci_high": high}
    return run_record(METRICS.view(m), "cpu", reasons, {"recurrent_steps": 80_000, "recurrent_batch": 256})


def test_in_words_decides_every_comparison_and_the_verdict_from_the_record():
    def decided(record, basis="equal_compute"):
        text = in_words(record, CIFAR, basis, seeds=3)
        assert recheck_myst(text, record) == []
        return [(m.rule, m.outcome, m.keys[0]) for m in marked_in_myst(text)]

    overlap = decided(page())
    assert ("equal_compute", "higher", "image_acc_regular") in overlap  # [44, 46] above [38, 42]
    assert ("equal_samples", "not separated", "image_acc_recurrent_fixed") in overlap
    assert ("budget_bound", "settled", "image_selected_last_recurrent") in overlap
    assert ("verdict", "not reproduced", "lra_image") in overlap  # more than a point below the 4-layer model
    assert ("verdict", "reproduced", "lra_image") in decided(page(recurrent=(0.43, 0.42, 0.44), regular=(0.42, 0.41, 0.43)))
    held_back = decided(page(fixed=(0.50, 0.48, 0.52), still_improving=2))
    assert ("equal_samples", "higher", "image_acc_recurrent_fixed") in held_back
    assert ("budget_bound", "budget-bound", "image_selected_last_recurrent") in held_back  # the finding is budget-bound
    assert "2 of the 9 runs behind these comparisons were selected at their last evaluation" in in_words(
        page(still_improving=2), CIFAR, "equal_compute", seeds=3)
    assert ("equal_samples", "lower", "image_acc_regular") in decided(page(regular=(0.30, 0.28, 0.32)), "equal_samples")
    unmatched = in_words(page(), SUBSTITUTE, None, seeds=3)
    assert "no comparison is drawn" in unmatched and "fashion-mnist (a substitute)" in unmatched
    assert "The claim is not comparable with the Note's 43.09% on CIFAR-10: substitute dataset." in in_words(
        page(reasons={"lra_image": "substitute dataset"}), SUBSTITUTE, None, seeds=3)


def test_the_comparison_basis_follows_the_plan():
    plan = {"regular_steps": 0, "regular_batch": 40, "recurrent_steps": 400, "recurrent_batch": 32}
    assert comparison_basis(plan) == "equal_compute"
    assert comparison_basis({**plan, "regular_steps": 320}) == "equal_samples"  # 320 × 40 = 400 × 32 images
    assert comparison_basis({**plan, "regular_steps": 3}) is None


def fake_run(final_train_loss: float, seed: int = 0, acc_path=(0.3, 0.5)) -> SimpleNamespace:
    """What `results` and `collapse_diagnosis` read of a trained run."""
    history = pd.DataFrame({"step": [10, 20], "train_loss": [2.4, final_train_loss], "val_loss": [2.0, 1.5],
                            "val_acc": list(acc_path), "test_loss": [2.0, 1.6], "test_acc": list(acc_path),
                            "train_flops": [1e6, 2e6]})
    run = SimpleNamespace(history=history, params=1000, cfg=image_configs(64, 0.0)["recurrent_fixed"],
                          flops_per_sample=1e3, state=SimpleNamespace(step=20, seed=seed, train_time=3.0))
    run.best = lambda metric, mode="min": history.loc[history[metric].idxmin()]
    return run


def scores(predictions: list[int], labels: list[int]) -> Scores:
    n = len(labels)
    return Scores(torch.zeros(n), torch.tensor(predictions), torch.tensor(labels), torch.zeros(1))


def test_a_run_that_stopped_learning_is_diagnosed_as_collapsed():
    varied = scores([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], list(range(10)))
    assert collapse_diagnosis(fake_run(1.2), varied, 10) == ""
    at_chance = collapse_diagnosis(fake_run(2.30), varied, 10)
    assert at_chance.startswith("training loss 2.300 at the end, the chance level ln 10 = 2.303")
    constant = collapse_diagnosis(fake_run(1.2), scores([3] * 9 + [4], list(range(10))), 10)
    assert constant == "class 3 predicted for 90% of the test images"


def judged_runs(collapsed_recurrent: int = 0) -> dict[str, list[SeedResult]]:
    good = scores(list(range(10)), list(range(10)))
    half = scores([0] * 10, list(range(10)))
    recurrent = [SeedResult(fake_run(1.0, seed), good if seed % 2 else half, "") for seed in range(3)]
    for r in recurrent[:collapsed_recurrent]:
        r.collapse = "class 0 predicted for 100% of the test images"
    return {"recurrent": recurrent, "regular": [SeedResult(fake_run(1.0, s), good, "") for s in range(2)]}


def test_results_average_over_the_seeds_that_learned_and_count_the_others():
    table, metrics = results(judged_runs(collapsed_recurrent=1), 64)
    assert metrics["image_collapsed_recurrent"] == 1 and metrics["image_collapsed_regular"] == 0
    assert metrics["image_acc_recurrent"] == pytest.approx((1.0 + 0.1) / 2)  # seeds 1 and 2, not the collapsed seed 0
    assert metrics["image_acc_regular"] == 1.0 and table.loc[MODEL_LABELS["recurrent"], "seeds learned"] == "2 of 3"
    _, none_learned = results(judged_runs(collapsed_recurrent=3), 64)
    assert math.isnan(none_learned["image_acc_recurrent"])
    assert list(seed_table(judged_runs(1)).collapsed)[:2] == ["class 0 predicted for 100% of the test images", "no"]
    assert metrics["image_selected_last_recurrent"] == 3  # the fake runs' best validation loss is at their last step
    assert list(seed_table(judged_runs(1))["selected at step"])[0] == "20 of 20"


def test_a_collapse_of_the_notes_model_is_a_reason_not_to_compare():
    assert collapse_reasons(judged_runs(0)) is None
    assert collapse_reasons(judged_runs(1)).startswith("1 of 3 runs of the Note's model collapsed")
    assert "no accuracy to judge" in collapse_reasons(judged_runs(3))


def test_position_words_explain_the_size_against_the_note():
    words = position_words({"params_recurrent": 22944}, side=16)
    assert words.startswith("22,944 parameters against the Note's 53,664") and "256 rows here against 1,024" in words
    assert "(8,192 against 32,768 parameters)" in words


def test_the_regular_model_can_get_the_recurrent_models_training_compute():
    configs = image_configs(256, 0.0)
    steps = equal_compute_steps(configs, 256, recurrent_steps=400, recurrent_batch=32, regular_batch=32)
    regular = train_flops_per_sample(configs["regular"], 256) * steps * 32
    recurrent = train_flops_per_sample(configs["recurrent"], 256) * 400 * 32
    assert steps < 400 and abs(regular - recurrent) <= train_flops_per_sample(configs["regular"], 256) * 32
