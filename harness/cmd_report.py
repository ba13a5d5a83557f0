"""``report``: results/REPORT.md, our numbers per paper figure beside the paper's, with the machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from .aggregate import summarize_rows
from .errors import UsageError
from .paper import load_paper
from .report import render_report
from .results import DEFAULT_INPUT, input_paths, read_rows

DEFAULT_OUT = Path("results/REPORT.md")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write the paper comparison report", description=__doc__)
    parser.add_argument("csv", nargs="*", type=Path, help=f"result CSVs (default: {DEFAULT_INPUT}/*.csv)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"Markdown file (default {DEFAULT_OUT})"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rows = [row for path in input_paths(args.csv) for row in read_rows(path)]
    if not any(row["status"] == "ok" for row in rows):
        raise UsageError("the CSVs hold no ok rows to report")
    if args.out.is_dir():
        raise UsageError(f"--out {args.out} is a directory")
    text = render_report(rows, summarize_rows(rows), load_paper())
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {args.out}: {error.strerror or error}") from None
    print(args.out)
    return 0
