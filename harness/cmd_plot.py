"""``plot``: one PNG per paper figure from one or more result CSVs, with the paper's numbers."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .aggregate import summarize_rows
from .errors import UsageError
from .paper import load_paper
from .results import DEFAULT_INPUT, input_paths, read_rows


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plot", help="draw the paper's figures from CSVs", description=__doc__)
    parser.add_argument("csv", nargs="*", type=Path, help=f"result CSVs (default: {DEFAULT_INPUT}/*.csv)")
    parser.add_argument(
        "--out", type=Path, default=Path("plots"), help="folder for the PNGs (default plots/)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rows = [row for path in input_paths(args.csv) for row in read_rows(path)]
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is not a directory")
    if not args.out.exists():
        parent = args.out.parent if str(args.out.parent) else Path(".")
        if not parent.is_dir():
            raise UsageError(f"--out: directory {parent} does not exist")
        args.out.mkdir()
    if not os.access(args.out, os.W_OK):
        raise UsageError(f"--out {args.out} is not writable")
    from .plots import render  # matplotlib is slow to import; only plot needs it

    written = render(summarize_rows(rows), load_paper(), args.out)
    if not written:
        raise UsageError("the CSVs hold no ok rows for any figure")
    for path in written:
        print(path)
    return 0
