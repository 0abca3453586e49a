"""The `paperlib` command: list | run | book | claims | step-times | data."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

from paperlib.atomic import atomic_write_text
from paperlib.book.verdicts import dashboard
from paperlib.book.parameters import ParameterError
from paperlib.book.records import load_records
from paperlib.book.render import render_markdown, render_text
from paperlib.book.runner import (
    DEFAULT_PROFILE,
    PROFILES,
    NotebookFailed,
    RunPlan,
    declared_parameters,
    execute,
    execute_elsewhere,
    notebook_names,
    plan_run,
)
from paperlib.chapters import declarations
from paperlib.context import SCHEDULER_ENV, RunContext
from paperlib.paths import book_dir, project_root
from paperlib.sweep import dask_client, map_tasks

EXIT_BAD_INPUT = 2


def cmd_list(args: argparse.Namespace) -> int:
    for name in notebook_names():
        print(name)
        for param in declared_parameters(name).values():
            allowed = f" [{param.allowed()}]" if param.allowed() else ""
            print(f"    {param.name}: {param.type_name} = {param.default!r}{allowed}  {param.meaning}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    names = notebook_names() if args.all else args.names
    if not names:
        raise ParameterError("name a notebook to run, or pass --all")
    overrides = dict(args.param or [])
    plans = [plan_run(name, args.profile, overrides) for name in names]  # validate all before running any
    if args.plan:
        from paperlib.planning import describe

        print("\n".join(describe(plan) for plan in plans), end="")
        return 0
    context = RunContext.from_environment(os.environ)  # the user's deadline, run filter and scheduler
    scheduler = args.scheduler or (context.scheduler if args.all else "")
    if scheduler:
        failed = run_on_cluster(plans, Path(args.output_dir).resolve(), scheduler, args.timeout, context)
    else:
        failed = 0
        for plan in plans:
            print(f"running {plan.notebook} with profile {plan.profile} ...", flush=True)
            path = execute(plan, Path(args.output_dir), timeout_s=args.timeout, context=context)
            print(f"  record: {path}")
    write_claims_page(Path(args.output_dir))
    return 1 if failed else 0


def run_on_cluster(plans: list[RunPlan], output_dir: Path, scheduler: str, timeout_s: int | None,
                   context: RunContext) -> int:
    """Run every plan as a task on the Dask cluster at `scheduler` (one notebook per worker thread) and write each
    page and record into `output_dir` as it finishes; the others go on when one fails. Returns how many failed."""
    failed = 0
    print(f"running {len(plans)} notebook(s) on the Dask cluster at {scheduler} ...", flush=True)
    with dask_client(scheduler) as client:
        task = partial(execute_elsewhere, shown_dir=output_dir, timeout_s=timeout_s, context=context)
        for i, outcome in map_tasks(client, task, plans, "notebooks"):
            files, error = ({}, f"{type(outcome).__name__}: {outcome}") if isinstance(outcome, BaseException) else outcome
            for name, text in files.items():
                atomic_write_text(output_dir / name, text)
            if error:
                failed += 1
                print(f"paperlib: {plans[i].notebook}: {error}", file=sys.stderr, flush=True)
            else:
                print(f"  {plans[i].notebook}: record {output_dir / 'results' / f'{plans[i].notebook}.json'}", flush=True)
    return failed


def write_claims_page(output_dir: Path) -> Path:
    records = load_records(output_dir / "results")
    return atomic_write_text(output_dir / "claims.md", render_markdown(dashboard(records, declarations()), records))


def cmd_book(args: argparse.Namespace) -> int:
    write_claims_page(book_dir())
    jb = Path(sys.executable).with_name("jupyter-book")
    program = str(jb) if jb.exists() else shutil.which("jupyter-book")
    if program is None:
        print("paperlib: error: building the book needs Jupyter Book, which is not installed here; install the "
              "book extras with `.venv/bin/pip install -e '.[book]'` (or run `bash scripts/install.sh`)", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = subprocess.run([program, "build", str(project_root()), "-W", "-n", "--keep-going"])
    if result.returncode == 0:
        print(f"book: {project_root() / '_build' / 'html' / 'index.html'}")
    return result.returncode


def cmd_claims(args: argparse.Namespace) -> int:
    records = load_records(Path(args.results_dir))
    verdicts = dashboard(records, declarations())
    print(render_text(verdicts))
    if args.write:
        atomic_write_text(args.write, render_markdown(verdicts, records))
    return 0


def cmd_step_times(args: argparse.Namespace) -> int:
    from paperlib.planning import STEP_TIMES, measure_table

    names = args.names or notebook_names()
    records = [rec for folder in args.records for rec in load_records(Path(folder)).values()]
    table = measure_table(names, records, path=Path(args.write or STEP_TIMES))
    print(f"{len(table['steps'])} step times and {len(table['chapters'])} chapter times on {table['cpu']} "
          f"({table['cores']} cores; load {table['load_average']}) written to {args.write or STEP_TIMES}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from paperlib.data.catalog import DATASETS

    names = args.names or list(DATASETS)
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        raise ParameterError(f"unknown dataset(s) {unknown}; known: {', '.join(DATASETS)}")
    failures = 0
    for name in names:
        try:
            provenance = DATASETS[name]()
            print(f"{name}: ok — {provenance.source} (sha256 {provenance.sha256[:16]}…)"
                  + (" [substitute]" if provenance.substitute else ""))
        except Exception as error:  # report every dataset, then fail
            failures += 1
            print(f"{name}: FAILED — {error}", file=sys.stderr)
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperlib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="notebooks and their parameters").set_defaults(func=cmd_list)

    run = sub.add_parser("run", help="execute notebooks with papermill and write their run records")
    run.add_argument("names", nargs="*", metavar="NAME", help="notebook name(s) under notebooks/")
    run.add_argument("--all", action="store_true", help="run every notebook")
    run.add_argument("--profile", default=DEFAULT_PROFILE, choices=PROFILES, help=f"default {DEFAULT_PROFILE}")
    run.add_argument("-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"), help="override a parameter")
    run.add_argument("--output-dir", default=str(book_dir()), help="where executed notebooks and results/ go")
    run.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    run.add_argument("--plan", action="store_true", help="print what each notebook would train or compute, with "
                     "FLOPs and predicted minutes on two CPU cores, and run nothing")
    run.add_argument("--scheduler", default="", metavar="ADDRESS",
                     help=f"run the notebooks as tasks on the Dask cluster at ADDRESS, one per worker thread; with "
                          f"--all the default is ${SCHEDULER_ENV} (unset: one after another on this machine)")
    run.set_defaults(func=cmd_run)

    sub.add_parser("book", help="build the book to _build/html (-W -n --keep-going)").set_defaults(func=cmd_book)

    claims = sub.add_parser("claims", help="print the claims dashboard")
    claims.add_argument("--results-dir", default=str(book_dir() / "results"))
    claims.add_argument("--write", metavar="PATH", help="also write the Markdown page")
    claims.set_defaults(func=cmd_claims)

    times = sub.add_parser("step-times", help="measure the training steps of the chapters' quick and cpu plans on "
                           "this machine: the table `run --plan` predicts minutes from (run it on a quiet machine)")
    times.add_argument("names", nargs="*", metavar="NAME", help="chapters (default: all)")
    times.add_argument("--records", nargs="*", default=[str(book_dir() / "results")], metavar="DIR",
                       help="folders of run records whose wall times a chapter that trains nothing keeps")
    times.add_argument("--write", metavar="PATH", help="where the table goes (default: the committed one)")
    times.set_defaults(func=cmd_step_times)

    data = sub.add_parser("data", help="fetch and verify datasets (sha256)")
    data.add_argument("names", nargs="*", metavar="NAME", help="datasets (default: all)")
    data.set_defaults(func=cmd_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ParameterError as error:
        print(f"paperlib: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NotebookFailed as error:
        print(f"paperlib: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
