"""The learning-rate pilot of 'Measuring γ', run once and committed (the chapter reads it, never reruns it): the
smallest and the largest rung of the `cpu` ladder at one slice, each trained to convergence exactly as the
chapter trains (`train_run`) at a range of peak learning rates; the best rate of each is written, with every
run, to `PILOT` (methods page, measuring γ: the learning rate).

    PAPERLIB_CHECKPOINTS=... python -m paperlib.chapters.gamma_lr_pilot [--workers 2]
"""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import datetime, timezone

from paperlib.atomic import atomic_write_json
from paperlib.book.records import hardware, source_revision
from paperlib.data.text import CharData, load_shakespeare
from paperlib.paths import display_path
from paperlib.sweep import Sweep
from paperlib.training.slice_runs import PILOT, Design, censored, parse_rungs, train_run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ladder", default="16x2,66x2", help="the rungs tried (the cpu ladder's ends)")
    parser.add_argument("--D", type=int, default=125000, help="characters of the slice the pilot trains on")
    parser.add_argument("--lrs", default="0.001,0.002,0.004,0.008,0.016", help="peak learning rates tried")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--pass-cap", type=float, default=100.0)
    parser.add_argument("--eval-windows", type=int, default=256)
    parser.add_argument("--workers", type=int, default=0, help="local Dask workers (0: one per core)")
    parser.add_argument("--out", default=str(PILOT), help="where the pilot's JSON goes")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    text, provenance = load_shakespeare(allow_approximation=False)
    data = CharData.from_text(text)
    rungs = parse_rungs(args.ladder)
    lrs = [float(v) for v in args.lrs.split(",")]
    design = Design(provenance.sha256, (args.D,), tuple(rungs), tuple(lrs[:1] * len(rungs)), (tuple(range(len(rungs))),),
                    (args.seed,), args.context, args.batch, args.patience, args.pass_cap, args.eval_windows, "cpu")
    plan = [(i, lr) for i in range(len(rungs)) for lr in lrs]
    configs = [design.config(args.D, args.seed, i) | {"lr": lr} for i, lr in plan]
    with Sweep("gamma_empirical", train_run, workers=args.workers) as sweep:
        results = sweep.run(configs, desc="learning-rate pilot")
    runs = [{"rung": rungs[i].name, "non_embedding": rungs[i].non_embedding(data.vocab_size, args.context), "lr": lr,
             "val_loss": r["val_loss"], "steps": r["steps"], "passes": r["steps"] / design.steps_per_pass(args.D),
             "censored": censored(r), "train_time_s": r["train_time"]} for (i, lr), r in zip(plan, results)]
    best = {rung.name: min((run for run in runs if run["rung"] == rung.name), key=lambda run: run["val_loss"])["lr"]
            for rung in rungs}
    atomic_write_json(args.out, {
        "command": "python -m paperlib.chapters.gamma_lr_pilot " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "made": datetime.now(timezone.utc).isoformat(timespec="seconds"), "hardware": hardware()["cpu"],
        "source": source_revision(), "data_sha256": provenance.sha256, "D": args.D, "seed": args.seed,
        "context": args.context, "batch": args.batch, "patience": args.patience, "pass_cap": args.pass_cap,
        "eval_windows": args.eval_windows, "runs": runs, "best_lr": best})
    print(f"wrote {display_path(args.out)}: best learning rate {best}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
