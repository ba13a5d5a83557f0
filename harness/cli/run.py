"""``run``: plan the cells of a suite, run each in a fresh process, append rows to a CSV."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import registry
from harness.analysis.aggregate import summarize_rows
from harness.analysis.checks import mismatches
from harness.analysis.noise import BUSY_ABOVE_PCT, latest_attempts, noise
from harness.cells import clusters
from harness.cells.plan import Cell, build_plan, parameters
from harness.cells.reaper import sweep_stale
from harness.cells.resume import RunChoice, check_resumable, header_difference, recorded_choice
from harness.cells.runner import Interrupted, RunSettings, run_plan
from harness.cells.selection import Selection
from harness.errors import UsageError
from harness.results import (
    RUNS,
    SCHEMA_VERSION,
    ResultWriter,
    check_results_header,
    columns_for,
    finished_cells,
    is_failure,
    read_header,
    read_rows,
    version_of,
)

from .argtypes import assignment, number_in, output_path, whole_number_in
from .progress import RunProgress
from .selecting import add_options as add_selection_options
from .selecting import selection
from .summary import summary_lines

MAX_REPEATS = 1000
MAX_TIMEOUT_S = 24 * 3600
POSITIVE_COUNT = whole_number_in(1, MAX_REPEATS)
CELL_TIMEOUT = number_in(0, MAX_TIMEOUT_S, include_low=False, unit=" seconds")
PERCENT = number_in(0, 100, include_low=True, unit="%")
MAX_RERUNS = 10
RERUNS = whole_number_in(0, MAX_RERUNS)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run a suite and write a CSV", description=__doc__)
    parser.add_argument("--suite", help=f"one of: {', '.join(registry.SUITES)} (with --resume: the file's)")
    parser.add_argument("--backends", help="comma-separated backends (default: all that apply)")
    parser.add_argument("--profile", help="quick (default), paper or smoke")
    add_selection_options(parser)
    parser.add_argument("--repeats", type=POSITIVE_COUNT, help="repeats per cell (default by profile)")
    parser.add_argument("--out", type=output_path, help="CSV to write (default results/<suite>-<time>.csv)")
    parser.add_argument("--timeout", type=CELL_TIMEOUT, default=600.0, help="seconds per cell")
    parser.add_argument("--resume", type=output_path,
                        help="continue this CSV: run its missing cells with the run's settings")  # fmt: skip
    parser.add_argument("--threads", type=POSITIVE_COUNT,
                        help="worker threads of the reactor runtime (default: cores)")  # fmt: skip
    parser.add_argument("--processes", type=POSITIVE_COUNT,
                        help="federate processes of reactor-fed (default: cores)")  # fmt: skip
    clusters.add_options(parser)
    parser.add_argument("--set", dest="options", action="append", type=assignment, default=[],
                        metavar="NAME=VALUE", help="a workload option on every point of the suite that takes "
                        "it, e.g. target=195 for training-return (repeatable; see README)")  # fmt: skip
    parser.add_argument("--busy-above", type=PERCENT, default=BUSY_ABOVE_PCT, metavar="PCT",
                        help=f"flag a cell measured while other processes used more than PCT percent of "
                        f"all cores (default {BUSY_ABOVE_PCT:g})")  # fmt: skip
    parser.add_argument("--rerun-busy", type=RERUNS, default=0, metavar="N",
                        help="re-run each busy cell up to N more times before the run ends")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress output and no summary")
    parser.set_defaults(handler=run)


def _choice(args: argparse.Namespace, recorded: RunChoice | None) -> RunChoice:
    """The run's settings: what the command line says, and for the rest what the resumed run had."""
    suite = args.suite or (recorded.suite if recorded else None)
    if suite is None:
        raise UsageError("run: the following arguments are required: --suite")
    registry.check_suite(suite)
    profile = args.profile if args.profile is not None or recorded is None else recorded.profile
    if args.backends is not None:
        backends = registry.parse_backends(args.backends)
    else:
        backends = list(recorded.backends) if recorded and recorded.backends is not None else None
    threads = args.threads or (recorded.threads if recorded else os.cpu_count() or 1)
    processes = args.processes or (recorded.processes if recorded else os.cpu_count() or 1)
    if args.options:
        options = tuple(sorted(dict(args.options).items()))
    else:
        options = recorded.options if recorded else ()
    repeats = args.repeats or (recorded.repeats if recorded else None)
    return RunChoice(
        suite,
        registry.profile_for(suite, profile),
        tuple(backends) if backends else None,
        threads,
        processes,
        options,
        repeats,
    )


def _new_output(args: argparse.Namespace, choice: RunChoice) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = choice.suite if choice.suite == choice.profile else f"{choice.suite}-{choice.profile}"
    path = args.out or RUNS / f"{name}-{stamp}.csv"
    if path.is_dir():
        raise UsageError(f"--out {path} is a directory")
    if path.exists() and path.stat().st_size > 0:
        raise UsageError(f"{path} already exists; pass --resume {path} to continue it")
    if args.out is not None and not path.parent.is_dir():
        raise UsageError(f"--out: directory {path.parent} does not exist")
    return path


def _plan(choice: RunChoice, repeats: int | None, chosen: Selection | None = None) -> list[Cell]:
    backends = list(choice.backends) if choice.backends is not None else None
    planned = build_plan(choice.suite, choice.profile, backends, repeats, dict(choice.options), chosen)
    if not planned:
        raise UsageError(
            f"none of the backends {choice.backends_text} runs a workload of suite {choice.suite!r}"
        )
    return planned


@dataclass
class _Run:
    """A run ready to go: its locked results file, settings, plan, id and the cells already done."""

    writer: ResultWriter
    choice: RunChoice
    planned: list[Cell]
    run_id: str
    done: set[tuple[str, int, str]]
    cluster_addresses: dict[str, str]


def _open_new(args: argparse.Namespace) -> _Run:
    """Everything is checked before the file is created, so bad input leaves nothing behind."""
    choice = _choice(args, None)
    planned = _plan(choice, choice.repeats, selection(args))
    path = _new_output(args, choice)
    addresses = clusters.addresses(args, planned)
    if args.out is None:
        path.parent.mkdir(parents=True, exist_ok=True)  # the default results/ folder
    # the columns of the whole suite, not of the selection: the file records no selection, and its
    # resume (with or without one) plans the suite's columns
    writer = ResultWriter(path, columns_for(parameters(_plan(choice, choice.repeats))), new=True)
    return _Run(writer, choice, planned, _new_run_id(), set(), addresses)


def _open_resumed(args: argparse.Namespace) -> _Run:
    """The file is locked before it is read, so a second run on it stops at once; it is checked
    (same harness version, same run) before anything is appended."""
    path = args.resume
    if args.out is not None and args.out != path:
        raise UsageError("--out and --resume name different files; --resume appends to its file")
    header = read_header(path)  # also: no such file, a directory, not readable
    writer = ResultWriter(path, [], new=False)  # locked first; the columns it needs come with the plan
    try:
        if header:
            check_results_header(path, header)
            if (version := version_of(header)) != SCHEMA_VERSION:
                raise UsageError(
                    f"--resume {path} was written by another version of the harness: its schema version "
                    f"is {version}, this one writes {SCHEMA_VERSION}; start a new file with --out"
                )
        rows = read_rows(path) if header else []
        recorded = recorded_choice(rows, path) if rows else None
        choice = _choice(args, recorded)
        planned = _plan(choice, choice.repeats, selection(args))
        run_cells = _plan(recorded, recorded.repeats) if recorded is not None else planned
        difference = header_difference(header, columns_for(parameters(run_cells))) if header else None
        if difference:
            raise UsageError(
                f"--resume {path} was written by another version of the harness: {difference}; "
                "start a new file with --out"
            )
        if recorded is not None:
            check_resumable(path, recorded, choice)
        writer.require(columns_for(parameters(planned)))  # the header of a file cut before its rows
        addresses = clusters.addresses(args, planned)
    except BaseException:
        writer.close()
        raise
    run_id = rows[0]["run_id"] if rows else _new_run_id()
    return _Run(writer, choice, planned, run_id, finished_cells(rows), addresses)


def _new_run_id() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


def run(args: argparse.Namespace) -> int:
    prepared = _open_resumed(args) if args.resume is not None else _open_new(args)
    path, choice = prepared.writer.path, prepared.choice
    cells = [c for c in prepared.planned if c.identity not in prepared.done]
    settings = RunSettings(
        run_id=prepared.run_id,
        timeout_s=args.timeout,
        threads=choice.threads,
        processes=choice.processes,
        cluster_addresses=prepared.cluster_addresses,
        backends=choice.backends_text,
        options=choice.options_text,
        repeats=choice.repeats_text,
    )
    interrupted = False
    try:
        swept = sweep_stale()
        if swept:
            print(f"removed {len(swept)} leftover(s) of an earlier run that was killed", file=sys.stderr)
        print(f"run {settings.run_id}: {len(cells)} cells -> {path}", file=sys.stderr)
        with RunProgress(cells, quiet=args.quiet) as progress:
            run_plan(cells, prepared.writer, settings, on_start=progress.start, on_done=progress.finish)
            _rerun_busy(prepared, settings, args, progress)
    except (Interrupted, KeyboardInterrupt):
        interrupted = True
    finally:
        prepared.writer.close()
    rows = read_rows(path)
    if not args.quiet:
        _print_summary(rows, settings.run_id, args.busy_above)
    if interrupted:
        print(f"interrupted; finished rows are in {path}; continue with --resume {path}", file=sys.stderr)
        return 130
    this_run = [r for r in rows if r["run_id"] == settings.run_id]
    problems = [mismatch.message for mismatch in mismatches(this_run)]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    failed = [r for r in this_run if is_failure(r)]
    print(f"results: {path}", file=sys.stderr)
    return 1 if failed or problems else 0


def _busy_cells(prepared: _Run, run_id: str, threshold: float) -> list[Cell]:
    """The planned cells whose latest attempt in this run was measured on a busy machine."""
    rows = [r for r in read_rows(prepared.writer.path) if r["run_id"] == run_id]
    busy = {(c.cell, c.repeat) for c in noise(rows, threshold).busy}
    return [c for c in prepared.planned if (c.key, c.repeat) in busy]


def _rerun_busy(
    prepared: _Run, settings: RunSettings, args: argparse.Namespace, progress: RunProgress
) -> None:
    """``--rerun-busy N``: up to N more rounds over the cells still flagged busy. Each attempt's rows
    are appended (nothing is deleted); the summaries use each cell repeat's latest attempt."""
    for round_ in range(args.rerun_busy):
        busy = _busy_cells(prepared, settings.run_id, args.busy_above)
        if not busy:
            return
        print(
            f"re-running {len(busy)} busy cell(s) (round {round_ + 1} of at most {args.rerun_busy})",
            file=sys.stderr,
        )
        progress.add(busy)
        run_plan(busy, prepared.writer, settings, on_start=progress.start, on_done=progress.finish)


def _print_summary(rows: list[dict[str, str]], run_id: str, threshold: float) -> None:
    """The compact pivot (``summary``) on stdout: the run's results, apart from its diagnostics."""
    this_run = latest_attempts(r for r in rows if r["run_id"] == run_id)
    summaries = summarize_rows(this_run)
    if not summaries:
        return
    print("\n".join(summary_lines(summaries, noise(this_run, threshold))), flush=True)
