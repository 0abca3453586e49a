"""A chapter's run plan: every training run it makes, declared once from its validated parameters.

A chapter module exposes ``runs(params) -> list[RunSpec]`` (``params``: the notebook's parameter values by
name). The notebook trains by iterating that list; the GPU plan (`paperlib.gpu`) costs and selects runs from
it; ``paperlib run NAME --plan`` prints it, with its FLOPs and predicted minutes, before anything trains. A
spec's `name` is the run's only name (its progress, the run context's `only_runs` filter, its checkpoint's
file) and the spec itself is its checkpoint's key (`checkpoint_key`): a run whose spec changes in anything
but its length (steps and evaluation steps) trains afresh, and one asked for more steps resumes. A run that waits
for another (`After`: a baseline for its seed's model) trains once that one has, as `after_trained` sets it.

Cost follows the paper's convention with our complete count: a training sample costs three forward passes
(forward and backward), an evaluated one costs one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from paperlib.models.configs import ModelConfig, forward_flops
from paperlib.training.callbacks import EarlyStop, KeepBest, LRSchedule, ScheduledLR, StopBelow
from paperlib.training.curriculum import LengthCurriculum, step_to_final_length
from paperlib.training.loop import Callback, State
from paperlib.training.optim import OptimizerConfig


@dataclass(frozen=True)
class Stop:
    """A run's stop rules and the weights it keeps, read by `fit` through `RunSpec.callbacks` (the defaults: none,
    its last weights)."""

    metric: str = "val_loss"  # the evaluation's metric the rules below read (lower is better)
    keep_best: bool = False  # keep the weights of its lowest evaluation (`KeepBest`), else its last
    patience: int = 0  # evaluations without a new lowest that make a plateau (0: no plateau rule)
    lr_cuts: int = 0  # plateaus that cut the learning rate tenfold before the next one ends the run
    train_loss_below: float = 0.0  # end at an evaluation whose mean training loss since the last is below this

    def __post_init__(self) -> None:
        if self.patience < 0 or self.lr_cuts < 0 or self.train_loss_below < 0:
            raise ValueError(f"stop rules need patience, lr_cuts and train_loss_below >= 0, got {self}")
        if self.lr_cuts and not self.patience:
            raise ValueError("learning-rate cuts happen at plateaus: give the plateau rule a patience")

    @property
    def ends_runs(self) -> bool:
        """Whether a rule may end a run before its steps."""
        return bool(self.patience or self.train_loss_below)

    def callbacks(self) -> list[Callback]:
        """The loop's callbacks for these rules, in the order they apply at an evaluation."""
        return [*([KeepBest(self.metric)] if self.keep_best else []),
                *([EarlyStop(self.metric, self.patience, self.lr_cuts)] if self.patience else []),
                *([StopBelow(self.train_loss_below)] if self.train_loss_below else [])]


@dataclass(frozen=True)
class After:
    """A run that trains once another run of its chapter has (`RunSpec.after`), and may take its steps from it."""

    run: str  # the name of the run it waits for
    steps_to_reach: bool = False  # its steps: the other's to its curriculum's last length (at least its `compared_at`)


@dataclass(frozen=True)
class RunSpec:
    """One training run of a chapter's plan."""

    chapter: str
    stage: str  # the part of the chapter it belongs to ("": the chapter has one), e.g. "sweep-lr0.001"
    family: str  # the model's name in the chapter; a stage's runs of one family differ only in their seed
    seed: int  # seeds the weights, the batches and anything else random in the run
    model: ModelConfig
    task: str  # what it trains on, in words
    steps: int  # optimizer steps, at most (`ends_early` says why it may stop sooner)
    batch: int  # samples per step
    length: int  # tokens per sample (characters, pixels); under a length curriculum, the longest
    optimizer: OptimizerConfig | None  # None: the chapter chooses it while it runs (`with_optimizer`)
    lr_schedule: LRSchedule | None  # the learning rate over the run (None: the optimizer's throughout)
    eval_steps: tuple[int, ...]  # the steps after which it is evaluated (0: before the first)
    eval_samples: int  # samples one evaluation scores
    final_samples: int  # samples scored once after training (a test set)
    ends_early: str  # why it may end before `steps` ("": it never does)
    curriculum: LengthCurriculum | None = None  # its length curriculum (None: all its steps at `length`)
    schedule: tuple[tuple[int, int], ...] | None = None  # (length, steps) it is expected to take (None: all at length)
    precision: str = "fp32"  # the arithmetic its steps run in on a CPU (fp32, or bf16 autocast)
    stop: Stop = Stop()  # its stop rules and the weights it keeps
    compared_at: int = 0  # the step after which the chapter scores it against its stage's other runs (0: never)
    after: After | None = None  # the run it waits for and takes its steps from (None: it trains whenever)

    def __post_init__(self) -> None:
        if self.stop.ends_runs and not self.ends_early:
            raise ValueError(f"{self.name}: a run with stop rules says in `ends_early` why it may end sooner")
        if self.steps < 1 or self.batch < 1 or self.length < 1:
            raise ValueError(f"{self.name}: steps, batch and length must be positive")
        if not set(self.family + self.stage) <= _NAME_CHARACTERS:
            raise ValueError(f"{self.chapter}: run names use letters, digits, '_', '.' and '-': {self.name!r}")

    @property
    def name(self) -> str:
        """The run's name: stage, family and seed (e.g. ``regular_6-seed1337``, ``tuned-mlp_wf-seed0``)."""
        return "-".join(part for part in (self.stage, self.family, f"seed{self.seed}") if part)

    @property
    def checkpoint_key(self) -> str:
        """The spec without its length (`steps`, `eval_steps`), its forecast (`schedule`, `precision`) and its order
        (`after`): what its checkpoint must have been written by."""
        return repr({f.name: getattr(self, f.name) for f in fields(self)
                     if f.name not in ("steps", "eval_steps", "schedule", "precision", "after")})

    def after_trained(self, other: State) -> RunSpec:
        """The spec once the run it waits for (`after`) has trained to `other`: with `After.steps_to_reach`, its steps
        are the step at which the other's length curriculum set its last length (at least `compared_at`), its
        evaluations those up to then and one there; else unchanged."""
        if self.after is None or not self.after.steps_to_reach:
            return self
        steps = max(self.compared_at, step_to_final_length(other))
        return replace(self, steps=steps, eval_steps=(*(s for s in self.eval_steps if s < steps), steps))

    def with_optimizer(self, optimizer: OptimizerConfig) -> RunSpec:
        """The spec with the optimizer the chapter chose for it (e.g. the learning rate a sweep picked)."""
        return replace(self, optimizer=optimizer)

    def callbacks(self) -> list[Callback]:
        """What the spec asks of the loop beyond plain steps: its learning-rate schedule from the optimizer's
        learning rate (handed down here once), its length curriculum, then its stop rules."""
        if self.lr_schedule is not None and self.optimizer is None:
            raise ValueError(f"{self.name}: choose its optimizer (`with_optimizer`) before training it")
        return [*([] if self.lr_schedule is None else [ScheduledLR(self.lr_schedule, self.optimizer.lr)]),
                *([] if self.curriculum is None else self.curriculum.callbacks(self.name)),
                *self.stop.callbacks()]

    @property
    def forward_flops(self) -> float:
        """Forward FLOPs of one sample (`paperlib.models.configs.forward_flops`)."""
        return forward_flops(self.model, self.length)

    @property
    def eval_total(self) -> int:
        """Samples scored by every evaluation and the final scoring together."""
        return len(self.eval_steps) * self.eval_samples + self.final_samples

    def flops(self, steps: int | None = None) -> float:
        """Training and evaluation FLOPs of the run at its longest length: of all its steps (at most), or of the
        first `steps` with its evaluations in proportion."""
        steps = self.steps if steps is None else steps
        return self.forward_flops * (3 * steps * self.batch + self.eval_total * steps / self.steps)

    @property
    def stays(self) -> tuple[tuple[int, int], ...]:
        """(length, steps) the run is expected to take: its `schedule`, else all its steps at its length."""
        return self.schedule or ((self.length, self.steps),)

    @property
    def eval_every(self) -> int:
        """Steps between two evaluations (its steps when it is evaluated once)."""
        gaps = [b - a for a, b in zip(self.eval_steps, self.eval_steps[1:])]
        return min(gaps) if gaps else self.steps

    def stay_costs(self) -> list[tuple[int, int, float]]:
        """Each of its `stays` (length, steps) with the samples it is expected to evaluate there: without a
        `schedule`, every evaluation and the final scoring (`eval_total`); with one, an evaluation every `eval_every`
        steps and the final scoring at the last stay."""
        if self.schedule is None:
            return [(self.length, self.steps, self.eval_total)]
        last = len(self.schedule) - 1
        return [(length, steps, steps / self.eval_every * self.eval_samples + (self.final_samples if i == last else 0))
                for i, (length, steps) in enumerate(self.schedule)]

    def expected_flops(self) -> float:
        """Training and evaluation FLOPs of the run as its `stay_costs` expect (`flops` without a schedule)."""
        return sum(forward_flops(self.model, length) * (3 * steps * self.batch + evaluated)
                   for length, steps, evaluated in self.stay_costs())

_NAME_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
