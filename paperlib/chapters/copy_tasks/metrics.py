"""The copy chapter's names and numbers: tasks, roles, thresholds, curricula, and every metric it records (`METRICS`,
built by `key`)."""

from __future__ import annotations

from typing import Literal, get_args


from paperlib.book.metrics import EXECUTION, Declaration, Metric
from paperlib.book.paper_numbers import COPY_ACC_MIN, SELECTIVE_COPY_ACC_MIN
from paperlib.paths import profiles_dir


CopyTask = Literal["copy", "selective_copy"]


Role = Literal["recurrent", "forget", "regular", "rnn_total", "rnn_dense"]


RnnCell = Literal["gru", "lstm"]


CurriculumName = Literal["feb2026", "july2025"]


COPY_TASKS: tuple[str, ...] = get_args(CopyTask)


TASK_CHOICES: dict[str, tuple[str, ...]] = {"both": COPY_TASKS, **{task: (task,) for task in COPY_TASKS}, "none": ()}


CLAIM_TASKS = {"copy_4128": "copy", "selective_copy_4128": "selective_copy", "rt_accumulate": "copy"}  # page order


AT_LENGTH_CLAIMS = ("copy_4128", "selective_copy_4128")  # the claims about length 4,128 itself


ROLES: tuple[str, ...] = get_args(Role)


BASELINES = ROLES[1:]


BUDGETS = {"recurrent": "own", "forget": "reach", "regular": "compare", "rnn_total": "compare", "rnn_dense": "compare"}


TASK_LABELS = {"copy": "copy", "selective_copy": "selective copy"}


ROLE_COLOURS = {"recurrent": "C0", "forget": "C1", "regular": "C2", "rnn_total": "C3", "rnn_dense": "C4"}


PAPER_PARAMS = 508_705  # the paper's copy model (methods page, parameter counts)


PAPER_POSITION_PARAMS = 4_128 * 96  # its position table: a row per position of the longest sequence


RNN_MATCHED = {"rnn_total": PAPER_PARAMS, "rnn_dense": PAPER_PARAMS - PAPER_POSITION_PARAMS}  # what each RNN matches


CHANCE = 1 / 14  # 14 data symbols


AT_CHANCE_BELOW = 2 * CHANCE  # a token accuracy below twice chance counts as not learned


TARGET_ACC = {"copy": COPY_ACC_MIN, "selective_copy": SELECTIVE_COPY_ACC_MIN}  # the registry's thresholds


NEAR_THRESHOLD = 2.0  # a validation loss within this factor of the threshold is "near" it (`val_loss_se_near`)


# The author's two curricula (methods page, curriculum): first noise length, and K = min(L // 2, cap)
# for July 2025 (None: the model's K = 32 at every length, Feb 2026).
CURRICULA: dict[str, tuple[int, int | None]] = {"feb2026": (128, None), "july2025": (32, 32)}


MEASURED = "measured"  # the folder of step tables kept per device, beside the checkpoints (`measured_once`)


PILOT_FILE = profiles_dir() / "copy_tasks_pilot.json"  # the committed pilot (`pilot`, scripts/copy_tasks_pilot.py)


CAP_STOPS = {"accuracy": "accuracy reached the threshold", "plateau": "loss stopped falling",
             "steps": "step budget there used"}


_PER_TASK = {  # metric: (unit, meaning, forms: "" plain, "seed" .seed{k}, "role" _{role}, "role_seed" _{role}.seed{k},
    # "noise" .n{noise}[.seed{k}])
    "acc": ("fraction", "token accuracy of the paper's model at the length every seed reached (mean over seeds)",
            ("", "seed")),
    "acc_own_length": ("fraction", "a seed of the paper's model at its own final length, on fresh batches", ("seed",)),
    "final_noise_len": ("tokens", "noise length reached (every seed: the shortest; a baseline: its longest)",
                        ("", "seed", "role")),
    "seeds": ("seeds", "seeds of each model", ("",)),
    "samples": ("samples", "training samples (first seed)", ("", "seed", "role_seed")),
    "samples_share": ("fraction", "the first seed's samples as a share of the Note's", ("",)),
    "samples_to_final_len": ("samples", "samples before the curriculum set the final length", ("seed",)),
    "steps_at_cap": ("steps", "training steps at the limit", ("seed",)),
    "reached_target": ("flag", "1 when the run's validation accuracy reached the registry's threshold at the limit",
                       ("seed",)),
    "validations_to_pass": ("validations", "validations at a noise length up to the one that passed it (mean over "
                            "the seeds that passed)", ("noise",)),
    "samples_to_pass": ("samples", "training samples at a noise length until it passed (as above)", ("noise",)),
    "train_s": ("seconds", "seconds in training steps (a model's seeds together)", ("", "role")),
    "val_loss_se": ("loss", "median standard error of a validation's loss over its batches (paper model)", ("",)),
    "val_loss_se_near": ("loss", "the same over the validations within a factor 2 of the threshold", ("",)),
    "compare_steps": ("steps", "training steps after which every model of the task is scored and compared", ("",)),
    "compared_noise_len": ("tokens", "the noise length of that comparison (the first length)", ("",)),
    "paper_acc_compared": ("fraction", "the paper's model there (mean over seeds)", ("",)),
    "acc_compared": ("fraction", "a baseline there (mean over seeds)", ("role", "role_seed")),
    "learned": ("flag", "1 when a model's mean accuracy where it is compared is at least twice chance", ("role",)),
    "acc_own_len": ("fraction", "a baseline at its own final length at the end of its budget (mean over seeds)",
                    ("role",)),
    "stalled": ("flag", "1 when every seed of a baseline left a length unpassed that its seed's paper model passed "
                "with the same samples", ("role",)),
    "params": ("parameters", "a model's parameters", ("role",)),
    "dense_params": ("parameters", "a model's parameters outside its position table", ("role",)),
    "macs": ("MACs/token", "a model's multiply-adds per token at the compared length", ("role",)),
    "lr": ("lr", "a model's Adam learning rate at the start", ("role",)),
}


_WITH_CI = {("acc", ""), ("paper_acc_compared", ""), ("acc_compared", "role"), ("acc_own_len", "role")}


_FORMS = {"": "{task}_%s", "seed": "{task}_%s.seed{seed}", "role": "{task}_%s_{role}",
          "role_seed": "{task}_%s_{role}.seed{seed}", "noise": "{task}_%s.n{noise}"}


METRICS = Declaration("copy_tasks", [
    *(Metric(_FORMS[form] % name, unit, meaning, headline=(name, form) == ("acc", ""), ci=(name, form) in _WITH_CI)
      for name, (unit, meaning, forms) in _PER_TASK.items() for form in forms),
    *(Metric(f"{{task}}_{name}.n{{noise}}.seed{{seed}}", unit, meaning + ", one seed")
      for name, (unit, meaning, forms) in _PER_TASK.items() if "noise" in forms),
    Metric("alpha", "α", "the learnable α of the first copy seed at the end (clamped)"),
    Metric("alpha_raw", "α", "its raw value"),
    Metric("step_s_paper", "seconds", "seconds of the paper model's fp32 step with dropout"),
    Metric("step_s_run", "seconds", "seconds of this run's step"),
    Metric("train_wall_s", "seconds", "wall seconds of all the training"),
    *EXECUTION,
], fields={"task": ["copy", "selective_copy"], "role": list(ROLES), "seed": r"\d+", "noise": r"\d+"})


def key(task: str, metric: str, role: str = "", noise: int | None = None, seed: int | None = None) -> str:
    """The record key of `metric` (declared in `METRICS`): {task}_{metric}[_{role}][.n{noise}][.seed{seed}]."""
    name = (f"{task}_{metric}" + (f"_{role}" if role else "") + ("" if noise is None else f".n{noise}")
            + ("" if seed is None else f".seed{seed}"))
    METRICS.check([name])
    return name
