"""The copy chapter's models by role, their evaluation seeds and how a model is scored at a length."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal, get_args

import torch
from torch import nn

from paperlib.data.synthetic import copy_batches, seq_len
from paperlib.models import n_params
from paperlib.models.configs import ModelConfig, build_model, forward_flops
from paperlib.models.paper_configs import paper_config
from paperlib.models.rnn import RNNConfig, hidden_for_params
from paperlib.stats import mean_ci
from paperlib.training.curriculum import block_for
from paperlib.training.device import DeviceSetup
from paperlib.training.evaluation import score
from paperlib.chapters.copy_tasks.metrics import COPY_TASKS, CopyTask, RNN_MATCHED, ROLES, RnnCell, Role


_PURPOSES = {"validation": 0, "final": 1}
_STEP_BITS, _SEED_BITS = 23, 7  # validations up to step 8,388,607; seeds 0..127


def eval_seed(seed: int, purpose: Literal["validation", "final"], step: int = 0) -> int:
    """Seed of the validation batches at `step`, or of the final evaluation's: one integer per (seed, purpose,
    step), inside the 32 bits torch's CPU generator keeps (it drops higher bits, so seeds 2**32 + k and k draw
    the same batches), and at or above 2**31, so never a training stream's seed (the run's seed, below 128)."""
    if not 0 <= seed < 2**_SEED_BITS or not 0 <= step < 2**_STEP_BITS:
        raise ValueError(f"eval_seed needs 0 <= seed < {2**_SEED_BITS} and 0 <= step < {2**_STEP_BITS}; "
                         f"got seed {seed}, step {step}")
    return 2**31 + ((seed << 1 | _PURPOSES[purpose]) << _STEP_BITS) + step


def model_config(task: CopyTask, role: Role, rnn: RnnCell = "gru", dropout: float | None = None) -> ModelConfig:
    """The config of the model in `role` for `task` (see the module docstring); `dropout` replaces the paper's 0.05
    in the transformers (the RNN has none)."""
    if task not in COPY_TASKS or role not in ROLES or rnn not in get_args(RnnCell):
        raise ValueError(f"task must be one of {COPY_TASKS}, role one of {ROLES} and rnn one of "
                         f"{get_args(RnnCell)}; got {task!r}, {role!r}, {rnn!r}")
    if role in RNN_MATCHED:
        return RNNConfig(rnn, hidden_for_params(RNN_MATCHED[role], rnn))
    overrides = {} if dropout is None else {"dropout": dropout}
    if role == "forget":
        return paper_config(task, "recurrent", alpha="forget", **overrides)
    return paper_config(task, role, **overrides)


def make_model(task: CopyTask, role: Role, rnn: RnnCell = "gru", dropout: float | None = None) -> nn.Module:
    """The model in `role` for `task` (`model_config`)."""
    return build_model(model_config(task, role, rnn, dropout))


def family(role: Role, rnn: RnnCell) -> str:
    """The model's name in the plan and the step table: its role, an RNN by its cell and what it matches
    (gru_total, gru_dense)."""
    return role.replace("rnn", rnn) if role in RNN_MATCHED else role


def role_label(role: Role, rnn: RnnCell, short: bool = False) -> str:
    """The model in `role` as a reader names it (`short`: short enough for a figure's axis)."""
    if role in RNN_MATCHED:
        matched = role.removeprefix("rnn_")
        return f"{rnn.upper()} ({matched})" if short else f"{rnn.upper()}, {matched} parameters matched"
    return {"recurrent": "paper model", "forget": "forget (α = 0)",
            "regular": "regular" if short else "regular transformer"}[role]


def model_facts(task: CopyTask, role: Role, rnn: RnnCell, noise_len: int) -> dict[str, float]:
    """What a comparison states about a model: its parameters, those outside its position table, and its
    multiply-adds per token at `noise_len` (half its forward FLOPs per token)."""
    config = model_config(task, role, rnn)
    model = build_model(config)
    position = sum(p.numel() for name, p in model.named_parameters() if name.startswith("wpe."))
    length = seq_len(noise_len)
    return {"params": n_params(model), "dense_params": n_params(model) - position,
            "macs": forward_flops(config, length) / 2 / length}


def alpha_of(model: nn.Module) -> float | None:
    """The clamped alpha of a recurrent transformer, None for other models."""
    alpha = getattr(model, "alpha", None)
    return None if alpha is None else alpha.item()


def per_batch(model: nn.Module, task: CopyTask, noise_len: int, n_batches: int, batch_size: int,
              seed: int) -> tuple[list[float], list[float]]:
    """(loss, token accuracy) of each of `n_batches` fresh batches at `noise_len` (call under no_grad)."""
    batches = copy_batches(n_batches, batch_size, noise_len, selective=task == "selective_copy",
                           generator=torch.Generator().manual_seed(seed))
    scores = score(model, batches)
    return scores.batch_losses.tolist(), scores.per_group(scores.correct(), n_batches).tolist()


def final_scores(model: nn.Module, setup: DeviceSetup, task: CopyTask, noise_len: int, n_batches: int,
                 batch_size: int, seed: int, block_cap: int | None) -> tuple[list[float], list[float]]:
    """(loss, token accuracy) of each of the final evaluation's `n_batches` fresh batches of run `seed` at
    `noise_len`, the model scored as its curriculum's block rule gives there (`scoring_at`)."""
    with scoring_at(model, noise_len, block_cap) as scored, setup.autocast():
        return per_batch(scored, task, noise_len, n_batches, batch_size, eval_seed(seed, "final"))


@contextmanager
def scoring_at(model: nn.Module, noise_len: int, block_cap: int | None) -> Iterator[nn.Module]:
    """The model in eval mode, without gradients, with the block K the curriculum's rule gives at `noise_len`
    (July 2025: min(L // 2, 32); else its own); its mode and K are restored after."""
    block, training = getattr(model, "block", None), model.training
    if block is not None and block_for(noise_len, block_cap) is not None:
        model.block = block_for(noise_len, block_cap)
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(training)
        if block is not None:
            model.block = block


def accuracy_ci(accs: Sequence[float]) -> tuple[float, float, float]:
    """(mean, low, high): the 95 % Student-t interval of the mean accuracy clipped to [0, 1] (NaN bounds
    for one value)."""
    mean, low, high = mean_ci(accs)
    return mean, max(low, 0.0), min(high, 1.0)  # max(nan, 0.0) is nan
