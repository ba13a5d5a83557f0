"""``check``: the CI performance gate over one run's CSV (see ``harness.gate`` for the rule).

Exit 0 when every judged case passes, 1 when one fails, 2 on bad input. ``--update-baseline``
rewrites the baseline from the given runs (one or more, each made as CI makes it) instead of judging.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .argtypes import number_in
from .errors import UsageError
from .gate import DEFAULT_TOLERANCE, calibrate, judge, measured_cases, read_baseline, write_baseline
from .results import read_rows

DEFAULT_BASELINE = Path("results/baseline/ci_ratios.csv")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="gate a run's backend ratios on a baseline", description=__doc__
    )
    parser.add_argument("csv", type=Path, nargs="+", help="a run's CSV (several to calibrate)")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE, help=f"default {DEFAULT_BASELINE}")
    parser.add_argument("--update-baseline", action="store_true", help="rewrite the baseline from the runs")
    parser.add_argument("--allow-missing", action="store_true",
                        help="baseline cases the run did not measure are listed, not failed")  # fmt: skip
    parser.add_argument("--tolerance", type=number_in(0.0, 10.0, include_low=True), default=DEFAULT_TOLERANCE,
                        help="least allowed slowdown of a new baseline case (default 0.25)")  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    runs = []
    for path in args.csv:
        cases = measured_cases(read_rows(path))
        if not cases:
            raise UsageError(f"{path} holds no pair of backends to compare")
        runs.append(cases)
    if args.update_baseline:
        rows = calibrate(runs, args.tolerance)
        write_baseline(args.baseline, rows)
        print(f"{args.baseline}: {len(rows)} cases from {len(runs)} run(s)")
        return 0
    if len(runs) > 1:
        raise UsageError("give one CSV to judge (several only with --update-baseline)")
    (cases,) = runs
    verdicts = judge(cases, read_baseline(args.baseline), allow_missing=args.allow_missing)
    if not verdicts:
        raise UsageError(f"{args.baseline} holds no case that passed, so nothing can be judged")
    if not any(v.measured for v in verdicts) and args.allow_missing:
        raise UsageError(f"no case of {args.baseline} was measured in {args.csv[0]}")
    for verdict in verdicts:
        case = cases.get(verdict.case)
        absolute = (
            f"; medians {case.medians[0]:.4g} vs {case.medians[1]:.4g}" if case and case.medians else ""
        )
        mark = ("ok  " if verdict.measured else "skip") if verdict.passed else "FAIL"
        print(f"{mark} {verdict.case}: {verdict.detail}{absolute}")
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
