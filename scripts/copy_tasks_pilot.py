"""The copy chapter's pilot: decide the curriculum's start once, under the cpu profile's settings, and measure
the steps per length the chapter's time estimate reads (`paperlib.chapters.copy_tasks.pilot`).

    nice -n 5 .venv/bin/python scripts/copy_tasks_pilot.py

writes notebooks/profiles/copy_tasks_pilot.json (the chapter and the cpu profile cite it). It trains about
50 minutes on each core of a 2-core machine (single-threaded workers), resuming its runs from their
checkpoints when run again; with --decide-only it stops once the start is decided.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from paperlib.atomic import atomic_write_json
from paperlib.book.runner import plan_run
from paperlib.chapters.copy_tasks import PILOT_FILE, pilot, settings_from
from paperlib.context import RunContext
from paperlib.paths import project_root
from paperlib.training.device import configure_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", help="the profile whose copy_tasks settings the pilot uses")
    parser.add_argument("--output", type=Path, default=PILOT_FILE)
    parser.add_argument("--decide-only", action="store_true",
                        help="decide the start only; skip training the winner to the cap (the time estimate's steps)")
    args = parser.parse_args()
    values = plan_run("copy_tasks", args.profile, {"resume": True}).parameters
    setup = configure_device(values["device"], values["threads"], values["precision"], values["compile_layers"])
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=project_root()).stdout
    began, load = time.perf_counter(), os.getloadavg()
    record = pilot(settings_from(values, setup, RunContext()), values["selective_steps"], values["workers"],
                   to_cap=not args.decide_only)
    record = {"command": "nice -n 5 .venv/bin/python scripts/" + " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
              "profile": args.profile, "commit": commit.strip(),
              "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "wall_s": time.perf_counter() - began, "load_average_before": load[0],
              "load_average_after": os.getloadavg()[0], **record}
    atomic_write_json(args.output, record)
    print(f"pilot: {record['chosen']} chosen; written to {args.output}")


if __name__ == "__main__":
    main()
