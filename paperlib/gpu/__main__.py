"""``python -m paperlib.gpu dry-run | seed | run | pack | unpack | stage-data`` (scripts/paper_on_gpu.sh calls
these)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from paperlib.atomic import atomic_write_text
from paperlib.data.sources import DataError
from paperlib.gpu import inputs, plan
from paperlib.gpu.dry_run import describe
from paperlib.gpu.estimate import PEAK_FLOPS, load_throughput
from paperlib.gpu.pack import pack, unpack
from paperlib.paths import project_root


def cmd_dry_run(args: argparse.Namespace) -> int:
    carried = project_root() / plan.CARRY / plan.THROUGHPUT  # measured by the last command, if it was on a GPU
    path = args.throughput or (carried if carried.is_file() else None)
    throughput = load_throughput(path, args.mfu, args.peak_tflops * 1e12)
    result = describe(project_root(), throughput, args.wheels, args.data)
    print(result.text, end="")
    return 0 if result.ok else 1


def cmd_run(args: argparse.Namespace) -> int:
    problems = inputs.missing(args.data)
    if problems:
        print(f"plan: {args.data} is incomplete ({problems[0]}); the chapters look for their data elsewhere", flush=True)
    env = {} if problems else inputs.environment(args.data, args.scratch)
    return plan.run(args.output, args.until, env=env, numbers=args.stages)


def cmd_seed(args: argparse.Namespace) -> int:
    print(f"plan: {plan.seed(args.output, args.carry)} files from {args.carry} seeded {args.output}")
    return 0


def stage_numbers(text: str) -> tuple[int, ...]:
    """``1,4`` -> (1, 4): numbers of the plan's stages."""
    numbers = tuple(int(n) for n in text.split(",") if n.strip())
    if not numbers or any(not 1 <= n <= len(plan.STAGES) for n in numbers):
        raise argparse.ArgumentTypeError(f"stages are numbered 1 to {len(plan.STAGES)}, got {text!r}")
    return numbers


def cmd_pack(args: argparse.Namespace) -> int:
    device = _device()
    if _on_gpu():
        measured = plan.write_throughput(args.output, device)
        print(f"plan: measured MFU in {measured}" if measured else "plan: no step table measured here", flush=True)
    packed = pack(plan.pack_list(args.output), args.to, plan.OUTPUT, max_parts=plan.RETURN_FILES - 1,
                  part_bytes=plan.RETURN_FILE_BYTES, budget=plan.pack_budget(project_root()))
    text = plan.summary(args.output, packed.parts, packed.included, packed.left_out, device)
    atomic_write_text(args.to / plan.SUMMARY, text)
    print(text, end="")
    return 0


def _on_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def _device() -> str:
    import torch

    return torch.cuda.get_device_name(0) if _on_gpu() else "a machine without a CUDA GPU"


def cmd_unpack(args: argparse.Namespace) -> int:
    names = unpack(args.folder, args.into)
    summary = args.folder / plan.SUMMARY
    if summary.is_file():
        atomic_write_text(args.into / plan.SUMMARY, summary.read_text())
    dropped = plan.drop_finished_checkpoints(args.into)
    print(f"unpacked {len(names)} files into {args.into}; pages written: "
          f"{', '.join(plan.finished_chapters(args.into)) or 'none'}; "
          f"{len(dropped)} checkpoints of finished chapters removed")
    if summary.is_file():
        print(summary.read_text(), end="")
    return 0


def cmd_stage_data(args: argparse.Namespace) -> int:
    try:
        staged = inputs.stage(args.data)
    except DataError as error:
        print(f"stage-data: cannot stage {args.data}: {error}", file=sys.stderr)
        return 2
    for path in staged:
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    root = project_root()
    parser = argparse.ArgumentParser(prog="python -m paperlib.gpu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dry = sub.add_parser("dry-run", help="the plan, predicted minutes, and checks of the wheels and data (any machine)")
    dry.add_argument("--mfu", type=float, help="the MFU of every run (default: the measured file, else assumed)")
    dry.add_argument("--throughput", type=Path, help="a measured throughput file (JSON, see paperlib.gpu.estimate; "
                     "default: gpu-carry's, from the last device command, else notebooks/profiles')")
    dry.add_argument("--peak-tflops", type=float, default=PEAK_FLOPS / 1e12, help="dense bf16 peak of the GPU")
    dry.add_argument("--wheels", type=Path, default=root / plan.WHEELS)
    dry.add_argument("--data", type=Path, default=root / plan.DATA)
    dry.set_defaults(func=cmd_dry_run)
    seeder = sub.add_parser("seed", help="on the device: fill the output with what the carry folder holds and it lacks")
    seeder.add_argument("--output", type=Path, default=root / plan.OUTPUT)
    seeder.add_argument("--carry", type=Path, default=root / plan.CARRY)
    seeder.set_defaults(func=cmd_seed)
    run = sub.add_parser("run", help="on the device: the stages not yet done, until a deadline")
    run.add_argument("--until", type=float, required=True, help="deadline, Unix seconds")
    run.add_argument("--stages", type=stage_numbers, default=(), help="only these stages, e.g. 1,4 (default: all)")
    run.add_argument("--output", type=Path, default=root / plan.OUTPUT)
    run.add_argument("--data", type=Path, default=root / plan.DATA)
    run.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / "paperlib-gpu-data",
                     help="where the carried data are unpacked")
    run.set_defaults(func=cmd_run)
    packer = sub.add_parser("pack", help="on the device: the output into parts and a summary")
    packer.add_argument("--to", type=Path, required=True, help="the folder that comes back ($OUT)")
    packer.add_argument("--output", type=Path, default=root / plan.OUTPUT)
    packer.set_defaults(func=cmd_pack)
    unpacker = sub.add_parser("unpack", help="here: a returned pack into the carry folder")
    unpacker.add_argument("folder", type=Path, help="the folder holding the returned parts")
    unpacker.add_argument("--into", type=Path, default=root / plan.CARRY)
    unpacker.set_defaults(func=cmd_unpack)
    stage = sub.add_parser("stage-data", help="here: copy the verified data files the device reads")
    stage.add_argument("--data", type=Path, default=root / plan.DATA)
    stage.set_defaults(func=cmd_stage_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; bad input (a value, a missing file) exits with status 2 and a one-line message."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")


if __name__ == "__main__":
    sys.exit(main())
