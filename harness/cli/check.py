"""``check``: the CI performance gate over one run (see ``harness.analysis.gate`` for the rule).

Exit 0 when every judged case passes, 1 when one fails or none was measured, 2 on bad input.
Ratios are formed within one run (``run_id``): a CSV holding several runs is judged only with
``--run-id`` naming one of them. ``--update-baseline`` rewrites the baseline from the given runs
(every run of every CSV, each made as CI makes one) instead of judging.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.analysis.gate import (
    DEFAULT_TOLERANCE,
    Case,
    calibrate,
    judge,
    measured_cases,
    read_baseline,
    split_runs,
    write_baseline,
)
from harness.analysis.noise import latest_attempts, noise
from harness.errors import UsageError
from harness.results import read_rows

from .argtypes import number_in

DEFAULT_BASELINE = Path("results/baseline/ci_ratios.csv")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="gate a run's backend ratios on a baseline", description=__doc__
    )
    parser.add_argument("csv", type=Path, nargs="+", help="a run's CSV (several to calibrate)")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE, help=f"default {DEFAULT_BASELINE}")
    parser.add_argument("--update-baseline", action="store_true", help="rewrite the baseline from the runs")
    parser.add_argument("--run-id", help="the run to take from the CSV(s) (needed when one holds several)")
    parser.add_argument("--allow-missing", action="store_true",
                        help="baseline cases the run did not measure are listed, not failed")  # fmt: skip
    parser.add_argument("--tolerance", type=number_in(0.0, 10.0, include_low=True), default=DEFAULT_TOLERANCE,
                        help="least allowed slowdown of a new baseline case (default 0.25)")  # fmt: skip
    parser.set_defaults(handler=run)


def _runs(
    paths: list[Path], run_id: str | None, judging: bool
) -> list[tuple[str, dict[str, Case], list[dict[str, str]]]]:
    """(where, cases, rows) for each run of the CSVs (only ``run_id`` when given), each run's cases apart.
    To judge, a CSV of several runs needs ``run_id``: which one CI meant cannot be guessed."""
    runs = []
    for path in paths:
        by_run = split_runs(read_rows(path))
        if run_id is not None:
            by_run = {rid: rows for rid, rows in by_run.items() if rid == run_id}
        elif judging and len(by_run) > 1:
            raise UsageError(
                f"{path} holds {len(by_run)} runs ({', '.join(by_run)}); a ratio is formed within one "
                "run: choose one with --run-id ID"
            )
        for rid, rows in by_run.items():
            rows = latest_attempts(rows)  # a re-run busy cell counts by its latest attempt
            cases = measured_cases(rows)
            if not cases:
                raise UsageError(f"{path} (run {rid}) holds no pair of backends to compare")
            runs.append((f"{path} (run {rid})", cases, rows))
    if run_id is not None and not runs:
        raise UsageError(f"--run-id {run_id}: no such run in {', '.join(map(str, paths))}")
    return runs


def run(args: argparse.Namespace) -> int:
    if len(args.csv) > 1 and not args.update_baseline:
        raise UsageError("give one CSV to judge (several only with --update-baseline)")
    runs = _runs(args.csv, args.run_id, judging=not args.update_baseline)
    if args.update_baseline:
        baseline = calibrate([cases for _, cases, _ in runs], args.tolerance)
        write_baseline(args.baseline, baseline)
        print(f"{args.baseline}: {len(baseline)} cases from {len(runs)} run(s)")
        return 0
    ((where, cases, rows),) = runs
    verdicts = judge(cases, read_baseline(args.baseline), allow_missing=args.allow_missing)
    if not verdicts:
        raise UsageError(f"{args.baseline} holds no case that passed, so nothing can be judged")
    if not any(v.measured for v in verdicts) and args.allow_missing:
        raise UsageError(f"no case of {args.baseline} was measured in {where}")
    for verdict in verdicts:
        case = cases.get(verdict.case)
        absolute = (
            f"; medians {case.medians[0]:.4g} vs {case.medians[1]:.4g}" if case and case.medians else ""
        )
        mark = ("ok  " if verdict.measured else "skip") if verdict.passed else "FAIL"
        print(f"{mark} {verdict.case}: {verdict.detail}{absolute}")
    # a failed case may be the machine's doing, not the change's: say how busy it was, and where
    for line in noise(rows).lines():
        print(line)
    failed = [v for v in verdicts if not v.passed]
    measured = [v for v in verdicts if v.measured]
    passing = sum(v.passed for v in measured)
    unmeasured = len(verdicts) - len(measured)
    if unmeasured:
        verdict = "allowed by --allow-missing" if args.allow_missing else "each one fails the gate"
        print(
            f"{passing} of {len(measured)} measured cases pass; {unmeasured} of the baseline's "
            f"{len(verdicts)} cases were not measured ({verdict})"
        )
    else:
        print(f"{passing} of {len(verdicts)} cases pass")
    return 1 if failed else 0
