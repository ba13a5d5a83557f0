"""``report``: a Markdown report, our numbers per paper figure beside the paper's, with the machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.analysis.aggregate import summarize_rows
from harness.analysis.noise import latest_attempts
from harness.analysis.paper import load_paper
from harness.errors import UsageError
from harness.outputs import check_replaceable, write_atomically
from harness.report import is_report, render_report
from harness.results import read_rows

from .argtypes import output_path
from .inputs import CSV_HELP, beside, input_csvs

REPORT_SUFFIX = "-REPORT.md"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write the paper comparison report", description=__doc__)
    parser.add_argument("csv", nargs="*", type=Path, help=CSV_HELP)
    parser.add_argument(
        "--out",
        type=output_path,
        help=f"Markdown file (default <csv stem>{REPORT_SUFFIX} beside the CSV); replaces only a report "
        "written before",
    )
    parser.add_argument(
        "--reference",
        metavar="NAME",
        help="backend the tables' ratios are to (default ray where the CSVs hold it, else sequential)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    inputs = input_csvs(args.csv)
    rows = [row for path in inputs for row in read_rows(path)]
    args.out = args.out or beside(inputs, REPORT_SUFFIX)
    if not any(row["status"] == "ok" for row in rows):
        raise UsageError("the CSVs hold no ok rows to report")
    check_replaceable(args.out, is_report, inputs, "python -m harness report")
    if not args.out.parent.is_dir():
        raise UsageError(f"--out: directory {args.out.parent} does not exist")
    summaries = summarize_rows(latest_attempts(rows))
    measured = sorted({s.backend for s in summaries})
    if args.reference is not None and args.reference not in measured:
        raise UsageError(
            f"--reference: {args.reference!r} is not in the CSVs (they hold {', '.join(measured)})"
        )
    text = render_report(rows, summaries, load_paper(), args.reference)
    write_atomically(args.out, lambda temporary: temporary.write_text(text, encoding="utf-8"))
    print(args.out)
    return 0
