"""``list``: suites with their cell counts and estimated durations, workloads with their parameter
grids, backends and whether they can run here; with a suite or a selection, the cells ``run`` would
run with the same options, and their estimated duration."""

from __future__ import annotations

import argparse

from harness import interpreters, registry
from harness.cells.estimate import ReferenceTimes
from harness.cells.plan import build_plan
from harness.errors import UsageError
from workloads.base import PROFILES

from .selecting import add_options as add_selection_options
from .selecting import selection


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list", help="show suites, workloads, parameter grids and backends", description=__doc__
    )
    parser.add_argument("--suite", help=f"show the cells of this suite: one of {', '.join(registry.SUITES)}")
    parser.add_argument("--profile", help="with a suite or a selection: quick (default), paper or smoke")
    parser.add_argument("--backends", help="with a suite or a selection: comma-separated backends")
    add_selection_options(parser)
    parser.set_defaults(handler=run)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns as wide as their widest entry (the last one is not padded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [indent + "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
            for row in rows]  # fmt: skip


def _suites() -> list[str]:
    times = ReferenceTimes.load()
    rows = [["suite", *(f"{p} profile" for p in PROFILES), "workloads"]]
    for suite, workloads in registry.SUITES.items():
        cells = []
        for profile in PROFILES:
            if suite == "smoke" and profile != "smoke":
                cells.append("-")
                continue
            plan = build_plan(suite, profile, None, None)
            cells.append(f"{_plural(len(plan), 'cell')}, {times.estimate(plan).text()}")
        same = workloads == [suite]
        rows.append([suite, *cells, "" if same else ", ".join(workloads)])
    return [
        "Suites: cells per profile (every backend) and an estimate of their duration from the reference "
        "runs in results/reference/ (your machine will differ):",
        *_table(rows),
    ]


def _workloads() -> list[str]:
    lines = ["Workloads (parameter grid per profile):"]
    for workload in registry.WORKLOADS.values():
        runs_on = ", ".join(registry.backends_for(workload))
        lines.append(
            f"  {workload.name} (from {registry.ORIGINS[workload.name].origin}): {workload.description}"
        )
        lines.append(f"    metrics: {', '.join(m for m, _ in workload.metrics)}; backends: {runs_on}")
        for profile in PROFILES:
            grid = workload.grid(profile)
            lines.append(f"    {profile} ({_plural(len(grid), 'point')}):")
            lines += ["      " + " ".join(f"{k}={v}" for k, v in params.items()) for params in grid]
    for name, plugin in registry.BROKEN_WORKLOADS.items():
        lines.append(f"  {name} (from {plugin.origin}): unavailable, {plugin.error}")
    return lines


def _backends() -> list[str]:
    rows = []
    for name, cls in registry.BACKENDS.items():
        reason = registry.availability(name)
        state = "available" if reason is None else "unavailable"
        if reason is None and cls.interpreter is not None:
            state += f" (cells run under {interpreters.executable(cls.interpreter)})"
        rows.append([name, state, registry.ORIGINS[name].origin, cls.description])
        if reason:
            rows.append(["", "", "", f"why: {reason}"])
    return ["Backends:", *_table([["backend", "here", "from", "what it is"], *rows])]


def _cells(args: argparse.Namespace) -> list[str]:
    """The cells ``run`` would run with these options (suite ``all`` when only a selection is
    given), in run order, and their estimate."""
    suite = args.suite or "all"
    registry.check_suite(suite)
    planned = build_plan(suite, args.profile, registry.parse_backends(args.backends), None, None,
                         selection(args))  # fmt: skip
    if not planned:
        raise UsageError(f"none of the backends {args.backends} runs a workload of suite {suite!r}")
    estimate = ReferenceTimes.load().estimate(planned)
    return [
        f"{_plural(len(planned), 'cell')} of suite {suite} ({planned[0].profile} profile), "
        f"{estimate.text()} from the reference runs in results/reference/ (your machine will differ):",
        *(f"  {cell.label()}" for cell in planned),
    ]


def run(args: argparse.Namespace) -> int:
    if args.suite or args.workloads or args.expression is not None:
        print("\n".join(_cells(args)))
    elif args.profile or args.backends:
        raise UsageError("list: --profile and --backends apply to the cells of a --suite or a selection")
    else:
        print("\n".join([*_suites(), "", *_workloads(), "", *_backends()]))
    return 0
