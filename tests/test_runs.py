"""Selection, early stopping, training cost and resumable runs shared by the image and Shakespeare chapters."""

import torch

from paperlib.flops import count_flops
from paperlib.imagecls import class_loss, image_metrics, score, split_validation
from paperlib.models import build, paper_config
from paperlib.runs import KeepBest, StopBelow, best_model, eval_steps, fit, train_flops_per_sample
from paperlib.train import init, shuffled_batches


def tiny_image_task(n=64, seq=16):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, seq), generator=g).to(torch.uint8)
    return x, (x[:, -1] > 127).long()  # the label is in the last token


def make_cfg(seq=16):
    return paper_config("image", "recurrent", n_positions=seq, block=4, dropout=0.0)


def run(steps, cache, monkeypatch, every=0, stop=0.0):
    monkeypatch.setenv("PAPERLIB_CACHE", str(cache))
    x, y = tiny_image_task()
    tx, ty, vx, vy = split_validation(x, y, 16)
    cfg = make_cfg()
    state = init(lambda: build(cfg), lr=1e-2, seed=0, device="cpu")
    callbacks = [KeepBest("val_loss")] + ([StopBelow(stop)] if stop else [])
    return fit("tiny", cfg, state, shuffled_batches(tx, ty, 8), class_loss, steps=steps, batch_size=8, seq_len=16,
               evals=steps // 2, evaluate=image_metrics({"val": (vx, vy)}), callbacks=callbacks, notebook="t",
               checkpoint_every=every)


def test_eval_steps_spread_evenly_and_end_at_the_last_step():
    assert eval_steps(100, 4) == [25, 50, 75, 100]
    assert eval_steps(3, 10) == [1, 2, 3]


def test_best_weights_and_cost_columns(tmp_path, monkeypatch):
    result = run(6, tmp_path, monkeypatch)
    best = result.best("val_loss")
    assert best["val_loss"] == result.history.val_loss.min()
    assert torch.equal(best_model(result.state).wte.weight, result.state.extra["best"]["weights"]["wte.weight"])
    assert (result.history.samples == result.history.step * 8).all()
    assert result.flops_per_sample == count_flops(make_cfg(), 16)


def test_final_scores_keep_no_graph_and_count_every_example(tmp_path, monkeypatch):
    result = run(2, tmp_path, monkeypatch)
    x, y = tiny_image_task()
    scores = score(best_model(result.state), x, y, batch_size=10)
    assert not scores.losses.requires_grad and scores.confusion(2).sum() == len(x)
    assert scores.acc == (scores.predictions == y).float().mean().item()


def test_early_stop_ends_the_run_at_an_evaluation(tmp_path, monkeypatch):
    result = run(10, tmp_path, monkeypatch, stop=100.0)
    assert result.state.step == 2 and len(result.history) == 1


def test_a_random_block_range_is_charged_its_mean_cost():
    cfg = paper_config("image", "recurrent", block=32, block_range=(16, 18))
    expected = sum(count_flops(paper_config("image", "recurrent", block=k), 1024) for k in (16, 17, 18)) / 3
    assert train_flops_per_sample(cfg, 1024) == expected


def test_a_resumed_run_continues_the_uninterrupted_one(tmp_path, monkeypatch):
    straight = run(8, tmp_path / "a", monkeypatch)
    run(4, tmp_path / "b", monkeypatch, every=2)
    resumed = run(8, tmp_path / "b", monkeypatch, every=2)
    assert resumed.history.step.tolist() == straight.history.step.tolist()
    for a, b in zip(straight.state.model.parameters(), resumed.state.model.parameters()):
        torch.testing.assert_close(a, b)
