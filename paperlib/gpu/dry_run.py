"""The plan as text, on any machine: stages with predicted minutes, what travels to the device, and whether the
carried wheels, the image's torch, the staged data and the paper profile's checkpointing let a device run go ahead."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperlib.book.runner import plan_run
from paperlib.gpu import inputs, torch_check, wheels
from paperlib.gpu.estimate import Throughput, checkpoint_mib
from paperlib.gpu.pack import MIB
from paperlib.book.claims import CLAIMS_BY_ID
from paperlib.gpu.plan import (
    CARRY,
    COMMAND_MINUTES,
    DEVICE_TREE_LIMIT,
    PACK_S,
    STAGES,
    START_S,
    Stage,
    pack_budget,
    stage_done,
    travelling_bytes,
)

RUN_MINUTES = COMMAND_MINUTES - (PACK_S + START_S) / 60  # what a command's stages have


@dataclass(frozen=True)
class DryRun:
    text: str
    ok: bool


def paper_values(notebook: str) -> dict[str, Any]:
    """Every parameter value of the notebook's paper-profile run (without the warning a CPU machine gets)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plan_run(notebook, "paper").parameters


def describe(root: Path, throughput: Throughput, wheel_dir: Path, data_dir: Path) -> DryRun:
    """Everything `--dry-run` prints; `ok` is False when the wheels, the data or the profile would stop a run."""
    lines = [f"The paper profile on one H200: peak {throughput.peak / 1e12:.0f} TFLOP/s bf16, {throughput.source}; "
             + "minutes = FLOPs / (peak x MFU).",
             "'at most': every step at the longest length; 'expected': the Note's samples where it reports them.", ""]
    problems: list[str] = []
    room = pack_budget(root) / MIB
    lines.append(f"{'stage':<84} {'at most':>9} {'expected':>9} {'checkpoints':>12}")
    totals = [0.0, 0.0]
    pending: list[tuple[int, Stage, float]] = []
    for number, stage in enumerate(STAGES, 1):
        values = paper_values(stage.notebook)
        runs = stage.runs(values)
        at_most, expected = (sum(throughput.minutes(r, e) for r in runs) for e in (False, True))
        totals = [totals[0] + at_most, totals[1] + expected]
        done = stage_done(stage, root / CARRY)
        if not done:
            pending.append((number, stage, expected))
        mib = sum(checkpoint_mib(r) for r in runs)
        title = f"{number}. {stage.title} [{stage.call}]"
        lines.append(f"{title:<84} {at_most:>7.1f} m {expected:>7.1f} m {mib:>8.1f} MiB"
                     + ("  (page already in gpu-carry)" if done else ""))
        for run in runs:
            spec = run.spec
            lines.append(f"     {run.key:<44} {spec.steps:>6} steps x {spec.batch:>3} x {spec.length:>4} tokens, "
                         f"{run.flops() / 1e15:7.2f} PFLOP, {throughput.minutes(run):6.1f} m")
        if mib > room:
            lines.append(f"     its checkpoints (~{mib:.0f} MiB) exceed what a command can carry (~{room:.0f} MiB): "
                         "they stay on the device, so the stage must finish on one machine kept warm between "
                         "commands (at most 30 minutes held); a machine given back loses them and the stage "
                         "starts again")
        if not (values.get("checkpoint_every", 0) > 0 and "resume" in values):
            problems.append(f"the paper profile of {stage.notebook} has no checkpoint_every > 0 or no resume parameter")
            lines.append(f"     NOT RESUMABLE: {problems[-1]}")
    lines += [f"{'total':<84} {totals[0]:>7.1f} m {totals[1]:>7.1f} m", "", *first_command(pending), ""]
    lines.append(f"travels to the device: ~{travelling_bytes(root) / MIB:.1f} MiB (tracked tree, {wheel_dir.name}, "
                 f"{data_dir.name}) of {DEVICE_TREE_LIMIT / MIB:.0f} MiB; a pack brought back may hold ~{room:.1f} MiB")
    report = wheels.check(wheel_dir, wheels.run_modules(root), wheels.read_pins(), wheels.read_image_packages())
    lines.append(wheels.describe(report))
    problems += report.problems
    torch_result = torch_check.check(root, torch_check.image_torch(), torch_check.read_apis())
    lines.append(torch_check.describe(torch_result))
    problems += torch_result.problems
    missing = inputs.missing(data_dir)
    lines.append(f"data ({data_dir.name}): " + ("complete" if not missing else "INCOMPLETE"))
    lines += [f"  missing or wrong: {m}" for m in missing]
    problems += missing
    if problems:
        lines.append(f"NOT READY: {len(problems)} problems (fetch with `bash scripts/fetch_gpu_inputs.sh`)")
    return DryRun("\n".join(lines) + "\n", not problems)


def first_command(pending: list[tuple[int, Stage, float]]) -> list[str]:
    """The next device command: the pending stages (number, stage, expected minutes) that fit its minutes, taken
    by the claims their pages decide per expected minute, best first; when none fits, the best alone, which the
    deadline stops and the next command resumes."""
    if not pending:
        return ["first command: none; every chapter's page is in gpu-carry"]
    ranked = sorted(pending, key=lambda p: p[2] / len(p[1].decides))
    chosen, used = [], 0.0
    for number, stage, minutes in ranked:
        if used + minutes <= RUN_MINUTES:
            chosen.append((number, stage, minutes))
            used += minutes
    lines = [f"first command ({RUN_MINUTES:.1f} of its {COMMAND_MINUTES} minutes run stages; stages by the claims "
             "their pages decide, per expected minute):"]
    if not chosen:
        chosen = ranked[:1]
        lines.append(f"  no stage fits at this MFU: the best per minute needs {chosen[0][2]:.1f} m; the command "
                     "trains toward it until its deadline and the next one resumes it (measuring the MFU there "
                     "re-costs the plan: paper_throughput.json)")
    numbers = ",".join(str(n) for n, _, _ in sorted(chosen, key=lambda c: c[0]))
    lines.append(f"  bash scripts/paper_on_gpu.sh --minutes {COMMAND_MINUTES} --stages {numbers}")
    for number, stage, minutes in chosen:
        claims = "; ".join(CLAIMS_BY_ID[c].title for c in stage.decides)
        lines.append(f"  {number}. {stage.title}: {minutes:.1f} m expected; its page and record come back and decide: "
                     f"{claims}")
    return lines
