"""``compare``: did a change help? Two runs' medians per point and backend, the change with its
interval and a verdict only where the interval allows one (``harness.analysis.compare``).

Exit 0, or 1 with ``--fail-above PCT`` when a backend got slower by more than PCT even at its
interval's optimistic end (or a point could not be compared); 2 on bad input, two runs with no point
in common included. Each file must hold one run, or ``--run-id`` picks it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from harness.analysis.compare import FASTER, NO_CHANGE, SLOWER, Change, Comparison, compare
from harness.analysis.gate import split_runs
from harness.analysis.noise import latest_attempts
from harness.errors import UsageError
from harness.results import read_rows

from .argtypes import number_in

WIDTH = 100
"""Columns the tables fit in (rich wraps a long point name within its column)."""
AFTER_BEFORE = "time after/before (a rate's before/after: > 1 is slower)"
SAME = "the backends did equal work (+results: and got identical result digests) in both runs"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare a run before and after a change", description=__doc__
    )
    parser.add_argument("before", type=Path, help="the run before the change (a results CSV)")
    parser.add_argument("after", type=Path, help="the run after the change (a results CSV)")
    parser.add_argument("--run-id", help="the run to take from a CSV that holds several")
    parser.add_argument("--fail-above", type=number_in(0.0, 1e6, include_low=True, unit="%"), metavar="PCT",
                        help="exit 1 when a backend got slower by more than PCT percent")  # fmt: skip
    parser.add_argument("--min-speed", type=number_in(0.0, 1e6, include_low=True, unit="%"), default=0.0,
                        metavar="PCT", help="call a change only beyond PCT percent (default 0)")  # fmt: skip
    parser.set_defaults(handler=run)


def _one_run(path: Path, run_id: str | None) -> list[dict[str, str]]:
    """The rows of the file's one run (or of ``run_id``): two runs pooled would be repeats of neither.
    A cell repeat measured again (``run --rerun-busy``) counts by its latest attempt, as in every
    other command."""
    runs = {run: latest_attempts(rows) for run, rows in split_runs(read_rows(path)).items()}
    if run_id is not None:
        if run_id not in runs:
            raise UsageError(
                f"--run-id {run_id}: no such run in {path} (it holds {', '.join(runs) or 'none'})"
            )
        return runs[run_id]
    if len(runs) > 1:
        raise UsageError(f"{path} holds {len(runs)} runs ({', '.join(runs)}): choose one with --run-id ID")
    if not runs:
        raise UsageError(f"{path} holds no rows")
    return next(iter(runs.values()))


def run(args: argparse.Namespace) -> int:
    before, after = _one_run(args.before, args.run_id), _one_run(args.after, args.run_id)
    result = compare(before, after, min_speed=args.min_speed / 100.0)
    if not (result.changes or result.refused or result.not_compared):
        raise UsageError(
            f"{args.before} and {args.after} have no point in common (different workloads or parameters)"
        )
    console = Console(width=WIDTH, markup=False, highlight=False)
    _print_changes(console, result.changes)
    _print_ratios(console, result)
    for when, points in (("before", result.only_before), ("after", result.only_after)):
        for point in points:
            console.print(f"only in {when}: {point}")
    for line in result.refused:
        console.print(f"refused {line}")
    for line in result.not_compared:
        console.print(f"not compared {line}")
    return _status(console, result, args.fail_above)


def _print_changes(console: Console, changes: list[Change]) -> None:
    """Per point a heading line, then its backends' rows (a point's name is too long for a column)."""
    if not changes:
        return
    console.print(f"{AFTER_BEFORE}; same: {SAME}")
    by_point: dict[str, list[Change]] = {}
    for c in sorted(changes, key=lambda c: (c.point, c.metric, c.backend)):
        by_point.setdefault(c.point, []).append(c)
    for point_changes in by_point.values():
        console.print(point_text(point_changes[0]))
        table = Table(box=None, padding=(0, 1), show_edge=False, pad_edge=False)
        table.add_column("  backend", no_wrap=True)
        table.add_column("metric", no_wrap=True)
        table.add_column("before", no_wrap=True, justify="right")
        table.add_column("after", no_wrap=True, justify="right")
        kinds = {c.change.interval for c in point_changes}
        kind = kinds.pop() if len(kinds) == 1 else ""
        table.add_column(f"after/before [{kind}]" if kind else "after/before", no_wrap=True)
        table.add_column("verdict", no_wrap=True)
        table.add_column("same", overflow="fold", min_width=4)
        for c in point_changes:
            named = "" if kind else f"{c.change.interval} "
            change = f"{c.change.median:.3g} [{named}{c.change.low:.3g}, {c.change.high:.3g}]"
            table.add_row(f"  {c.backend}", c.metric, f"{c.before.median:.4g}", f"{c.after.median:.4g}",
                          change, c.verdict, c.same)  # fmt: skip
        console.print(table)
    slower = sum(c.verdict == SLOWER for c in changes)
    faster = sum(c.verdict == FASTER for c in changes)
    console.print(f"{slower} slower, {faster} faster, {len(changes) - slower - faster} {NO_CHANGE}")


def point_text(change: Change) -> str:
    """``workload name=value ...``: words that wrap, where ``workload[...]`` would be cut."""
    return " ".join([change.workload, *(f"{k}={v}" for k, v in change.params)])


def _print_ratios(console: Console, result: Comparison) -> None:
    if not result.ratios:
        return
    table = Table(title="same-run time ratios: which side moved", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("point", overflow="fold", ratio=1)
    for name in ("ratio", "before", "after", "moved"):
        table.add_column(name)
    for r in result.ratios:
        point = " ".join([r.workload, *(f"{k}={v}" for k, v in r.params)])
        table.add_row(point, f"{r.subject}/{r.reference}", f"{r.before:.3g}", f"{r.after:.3g}", r.moved)
    console.print(table)


def _status(console: Console, result: Comparison, fail_above: float | None) -> int:
    """1 when ``--fail-above`` is given and a backend got slower by more than it, or a point or a
    backend in both runs could not be compared (a gate must not pass on what it did not measure)."""
    if fail_above is None:
        return 0
    failed = [c for c in result.changes if c.slower_than(fail_above / 100.0)]
    for c in failed:
        least = 100 * (c.change.low - 1)
        console.print(
            f"FAIL {c.backend} at {c.point}: {c.metric} slower by {least:.0f}% or more, above {fail_above:g}%"
        )
    unjudged = len(result.refused) + len(result.not_compared)
    if unjudged:
        console.print(
            f"FAIL {unjudged} point(s) or backend(s) in both runs could not be compared (listed above)"
        )
    return 1 if failed or unjudged else 0
