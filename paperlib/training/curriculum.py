"""The length curriculum of the copy tasks (methods page, curriculum) as a training callback.

Start at `start` noise tokens; after each evaluation at the current length, double the length when
the validation loss is below `threshold`, never past `cap`. The learning rate follows one of the
two rules the author published (`lr_rule`), with lr_0 the optimizer's lr when the curriculum is attached,
M the data tokens and N = L + 2M the context length:

    code  at each doubling to L_new:  lr_0 <- lr_0 * (1 - 0.5 * L_new / cap), lr = lr_0 (compounding)
          at the cap, after each evaluation: lr = min(lr, lr_0 * (1 - exp(-val_loss)))
    note  while growing: lr = lr_0 * (1 - 0.5 * N / N_cap)  (also at the start)
          at the cap, after each evaluation: lr = lr_cap * (1 - exp(-val_loss)), lr_cap the growing value at N_cap
    none  the lr is left alone

The Note names only the full-length factor (1 - e^-loss) applied to "lr"; we read that lr as the value
the growing rule reached, not compounded across evaluations.

The block length K stays the model's own unless `block_cap` is given: then, as in the author's
July-2025 code, K = min(L // 2, block_cap) at every length L, set on a model that has a `block`
attribute (the recurrent transformer; other models are left alone). Everything the curriculum changes
lives in `state.extra` (noise_len, lr0, length_changes), so a checkpoint of the state resumes it.

`limit`, when below the cap, is the longest length this curriculum sets: it stops doubling there and
leaves the learning rate as the last doubling set it (the rules still read the cap, so a model limited
to a shorter length sees the same rates as one that goes on; the full-length decay never applies).

`StopAtCap` ends a run at the cap by a budget rule (the author's code has none): at a validation
accuracy, when the loss stops falling, or after a number of steps there.

`LengthCurriculum` is a run's curriculum as its `RunSpec` describes it (frozen, part of its checkpoint's key):
`fit` sets it up through `callbacks`.
"""

import math
from dataclasses import dataclass
from typing import Literal, get_args

from paperlib.data.synthetic import seq_len
from paperlib.training.loop import Callback, State

LrRule = Literal["code", "note", "none"]
LR_RULES: tuple[str, ...] = get_args(LrRule)


def block_for(length: int, block_cap: int | None) -> int | None:
    """K at noise length `length` under the July-2025 rule min(length // 2, block_cap); None without a cap."""
    return None if block_cap is None else min(length // 2, block_cap)


class Curriculum(Callback):
    """Double `state.extra["noise_len"]` from `start` up to `cap` when `record[loss_key]` < `threshold`; with
    `verbose`, print each change, naming the run by `label`."""

    def __init__(self, start: int, cap: int, threshold: float, lr_rule: LrRule, n_data: int,
                 loss_key: str = "val_loss", block_cap: int | None = None,
                 limit: int | None = None, verbose: bool = True, label: str = ""):
        limit = cap if limit is None else limit
        if not 1 <= start <= limit <= cap:
            raise ValueError(f"need 1 <= start <= limit <= cap, got start {start}, limit {limit}, cap {cap}")
        if block_cap is not None and (block_cap < 1 or start < 2):
            raise ValueError(f"block_cap must be >= 1 and start >= 2, got block_cap {block_cap}, start {start}")
        if lr_rule not in LR_RULES:
            raise ValueError(f"lr_rule must be one of {LR_RULES}, got {lr_rule!r}")
        self.start, self.cap, self.limit, self.threshold, self.lr_rule = start, cap, limit, threshold, lr_rule
        self.n_data, self.loss_key = n_data, loss_key
        self.block_cap, self.verbose, self.label = block_cap, verbose, label

    def on_start(self, state: State) -> None:
        self.attach(state)

    def attach(self, state: State) -> State:
        """Put the curriculum's state into `state.extra` unless it is there already (a resumed run)."""
        if "noise_len" not in state.extra:
            state.extra.update(noise_len=self.start, lr0=state.lr, length_changes=[])
            if self.lr_rule == "note":
                state.lr = self._note_lr(state, self.start)
        self._set_block(state)
        return state

    def block(self, length: int) -> int | None:
        """K at noise length `length` under the July-2025 rule, None when the model keeps its own."""
        return block_for(length, self.block_cap)

    def _set_block(self, state: State) -> None:
        block = self.block(state.extra["noise_len"])
        if block is not None and hasattr(state.model, "block"):
            state.model.block = block

    def _note_lr(self, state: State, length: int) -> float:
        n, n_cap = length + 2 * self.n_data, self.cap + 2 * self.n_data
        return state.extra["lr0"] * (1 - 0.5 * n / n_cap)

    def on_eval(self, state: State, record: dict[str, float]) -> None:
        length = state.extra["noise_len"]
        record["noise_len"] = length
        if hasattr(state.model, "block"):
            record["block"] = state.model.block
        loss = record[self.loss_key]
        if length >= self.cap:
            self._decay_at_cap(state, loss)
        elif length < self.limit and loss < self.threshold:
            self._grow(state, length, min(2 * length, self.limit), loss)

    def _decay_at_cap(self, state: State, loss: float) -> None:
        factor = 1 - math.exp(-loss)
        if self.lr_rule == "code":
            state.lr = min(state.lr, state.extra["lr0"] * factor)
        elif self.lr_rule == "note":
            state.lr = self._note_lr(state, self.cap) * factor

    def _grow(self, state: State, old: int, new: int, loss: float) -> None:
        if self.lr_rule == "code":
            state.extra["lr0"] *= 1 - 0.5 * new / self.cap
            state.lr = state.extra["lr0"]
        elif self.lr_rule == "note":
            state.lr = self._note_lr(state, new)
        state.extra["noise_len"] = new
        self._set_block(state)
        change = {"step": state.step, "from": old, "to": new, "val_loss": loss, "lr": state.lr}
        state.extra["length_changes"].append(change)
        if self.verbose:
            print(f"curriculum{f' ({self.label})' if self.label else ''}: step {state.step}, "
                  f"val_loss {loss:.4f} < {self.threshold}: "
                  f"noise length {old} -> {new}, lr {state.lr:.3g}", flush=True)


def final_length(state: State) -> int:
    """The longest length the curriculum trained and validated the run at: its last validation's."""
    return int(state.history[-1]["noise_len"])


def step_to_final_length(state: State) -> int:
    """The step at which the curriculum set the run's final length (0: it started there)."""
    return step_reaching(state, final_length(state)) or 0


def step_reaching(state: State, length: int) -> int | None:
    """The step at which the curriculum set `length` (0 when it started there), None if it never did."""
    if state.history and state.history[0].get("noise_len") == length:
        return 0
    return next((c["step"] for c in state.extra.get("length_changes", []) if c["to"] == length), None)


@dataclass(frozen=True)
class StopAtCap(Callback):
    """End a run at `cap`, at the first validation there that meets one of the rules given: accuracy at
    least `acc`; `patience` validations there without a new lowest loss (the loss stopped falling); `steps`
    steps after the length reached the cap. Why and when is kept in ``state.extra["cap_stop"]``. Attach it
    after the `Curriculum`, which writes the length into the validation's record."""

    cap: int
    steps: int | None = None
    acc: float | None = None
    patience: int | None = None
    acc_key: str = "val_acc"
    loss_key: str = "val_loss"

    def __post_init__(self) -> None:
        if (self.steps is not None and self.steps < 0) or (self.patience is not None and self.patience < 1):
            raise ValueError(f"need steps >= 0 and patience >= 1, got steps {self.steps}, patience {self.patience}")

    def on_eval(self, state: State, record: dict[str, float]) -> None:
        if record.get("noise_len", 0) < self.cap or state.step == 0:
            return
        reached = step_reaching(state, self.cap) or 0
        losses = [h[self.loss_key] for h in state.history if h.get("noise_len") == self.cap and h["step"] > reached]
        since_best = len(losses) - 1 - min(range(len(losses)), key=losses.__getitem__)
        reason = ("accuracy" if self.acc is not None and record[self.acc_key] >= self.acc else
                  "plateau" if self.patience is not None and since_best >= self.patience else
                  "steps" if self.steps is not None and state.step - reached >= self.steps else None)
        if reason is not None:
            state.extra["cap_stop"] = {"step": state.step, "reason": reason}
            state.stop = True


@dataclass(frozen=True)
class LengthCurriculum:
    """A run's length curriculum, described: `name` (the author's start and block rule) from noise `start`,
    doubling below validation loss `threshold` at the validations every `every` steps up to noise `limit`, the
    learning rate by `lr_rule` with divisor `cap`, `n_data` data tokens, K by `block_cap` (None: the model's own),
    and the end rules at the limit (`at_limit`, None: none)."""

    name: str
    start: int
    limit: int
    cap: int
    threshold: float
    lr_rule: LrRule
    n_data: int
    block_cap: int | None
    every: int
    at_limit: StopAtCap | None = None

    def __post_init__(self) -> None:
        if self.every < 1 or (self.at_limit is not None and self.at_limit.cap != self.limit):
            raise ValueError(f"need every >= 1 and end rules at the limit {self.limit}, got {self}")

    def __str__(self) -> str:
        return (f"the {self.name} curriculum from length {seq_len(self.start, self.n_data):,} to "
                f"{seq_len(self.limit, self.n_data):,}, doubling below validation loss {self.threshold:g}")

    def callbacks(self, label: str) -> list[Callback]:
        """The `Curriculum` (printing its changes under `label`) and, when there are any, its end rules."""
        curriculum = Curriculum(self.start, self.cap, self.threshold, self.lr_rule, self.n_data,
                                block_cap=self.block_cap, limit=self.limit, label=label)
        return [curriculum] if self.at_limit is None else [curriculum, self.at_limit]
