"""``run``: plan the cells of a suite, run each in a fresh process, append rows to a CSV."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from workloads.base import SERIES_PARAMS

from . import registry
from .aggregate import summarize_rows
from .argtypes import assignment, number_in, whole_number_in
from .checks import unequal_results, unequal_work
from .errors import UsageError
from .plan import build_plan
from .progress import RunProgress
from .ray_address import check_reachable
from .results import ResultWriter, finished_cells, is_failure, read_rows
from .runner import Interrupted, RunSettings, run_plan

MAX_REPEATS = 1000
MAX_TIMEOUT_S = 24 * 3600
POSITIVE_COUNT = whole_number_in(1, MAX_REPEATS)
CELL_TIMEOUT = number_in(0, MAX_TIMEOUT_S, include_low=False, unit=" seconds")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run a suite and write a CSV", description=__doc__)
    parser.add_argument("--suite", required=True, help=f"one of: {', '.join(registry.SUITES)}")
    parser.add_argument("--backends", help="comma-separated backends (default: all that apply)")
    parser.add_argument("--profile", default="quick", help="quick (default), paper or smoke")
    parser.add_argument("--repeats", type=POSITIVE_COUNT, help="repeats per cell (default by profile)")
    parser.add_argument("--out", type=Path, help="CSV to write (default results/<suite>-<time>.csv)")
    parser.add_argument("--timeout", type=CELL_TIMEOUT, default=600.0, help="seconds per cell")
    parser.add_argument("--resume", type=Path, help="continue this CSV: run only its missing cells")
    parser.add_argument("--threads", type=POSITIVE_COUNT, default=os.cpu_count() or 1,
                        help="worker threads of the reactor runtime (default: cores)")  # fmt: skip
    parser.add_argument("--ray-address", default=os.environ.get("RAY_ADDRESS") or None,
                        help="run ray backends on this existing cluster (HOST:PORT; default $RAY_ADDRESS, "
                        "else a private local instance per cell)")  # fmt: skip
    parser.add_argument("--set", dest="options", action="append", type=assignment, default=[],
                        metavar="NAME=VALUE", help="a workload option on every point of the suite that takes "
                        "it, e.g. target=195 for training-return (repeatable; see README)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=run)


def _output_path(args: argparse.Namespace) -> tuple[Path, str, set[tuple[str, int]]]:
    """The CSV to append to, the run id, and the cells already finished there (for --resume)."""
    if args.resume is not None:
        if args.out is not None and args.out != args.resume:
            raise UsageError("--out and --resume name different files; --resume appends to its file")
        rows = read_rows(args.resume)
        run_id = rows[0]["run_id"] if rows else uuid.uuid4().hex[:12]
        return args.resume, run_id, finished_cells(rows)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = args.out or Path("results") / f"{args.suite}-{args.profile}-{stamp}.csv"
    if path.exists() and path.is_dir():
        raise UsageError(f"--out {path} is a directory")
    if path.exists() and path.stat().st_size > 0:
        raise UsageError(f"{path} already exists; pass --resume {path} to continue it")
    if args.out is None:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise UsageError(f"--out: directory {path.parent} does not exist")
    return path, f"{stamp}-{uuid.uuid4().hex[:6]}", set()


def run(args: argparse.Namespace) -> int:
    registry.check_suite(args.suite)
    registry.check_profile(args.profile)
    backends = registry.parse_backends(args.backends)
    if args.ray_address:
        check_reachable(args.ray_address)
    planned = build_plan(args.suite, args.profile, backends, args.repeats, dict(args.options))
    if not planned:
        raise UsageError(f"none of the backends {args.backends} runs a workload of suite {args.suite!r}")
    path, run_id, done = _output_path(args)
    cells = [c for c in planned if (c.key, c.repeat) not in done]
    try:
        writer = ResultWriter(path)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
    settings = RunSettings(
        run_id=run_id, timeout_s=args.timeout, threads=args.threads, ray_address=args.ray_address
    )
    print(f"run {run_id}: {len(cells)} cells -> {path}", file=sys.stderr)
    interrupted = False
    try:
        with RunProgress(len(cells), quiet=args.quiet) as progress:
            run_plan(cells, writer, settings, on_start=progress.start, on_done=progress.finish)
    except (Interrupted, KeyboardInterrupt):
        interrupted = True
    finally:
        writer.close()
    rows = read_rows(path)
    if not args.quiet:
        _print_summary(rows, run_id)
    if interrupted:
        print(f"interrupted; finished rows are in {path}; continue with --resume {path}", file=sys.stderr)
        return 130
    this_run = [r for r in rows if r["run_id"] == run_id]
    worker_groups = {name for name, cls in registry.BACKENDS.items() if "call_all" in cls.operations}
    problems = unequal_work(this_run) + unequal_results(this_run, worker_groups)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    failed = [r for r in this_run if is_failure(r)]
    print(f"results: {path}", file=sys.stderr)
    return 1 if failed or problems else 0


def _print_summary(rows: list[dict[str, str]], run_id: str) -> None:
    summaries = summarize_rows(r for r in rows if r["run_id"] == run_id)
    if not summaries:
        return
    table = Table(title="medians over repeats [95% interval]")
    for column in ("workload", "params", "backend", "metric", "median", "interval", "n"):
        table.add_column(column)
    for s in sorted(summaries, key=lambda s: (s.workload, s.params, s.metric, s.backend)):
        if s.metric in ("startup_s", "broadcast_ms", "gather_ms") or any(map(s.param, SERIES_PARAMS)):
            continue  # the table shows one line per cell; curves are in the CSV and the figures
        params = " ".join(f"{k}={v}" for k, v in s.params)
        interval = f"[{s.summary.low:.4g}, {s.summary.high:.4g}]"
        table.add_row(
            s.workload, params, s.backend, s.metric, f"{s.summary.median:.4g}", interval, str(s.summary.n)
        )
    console = Console(stderr=True)
    if not console.is_terminal:
        console = Console(stderr=True, width=160)
    console.print(table)
