"""``plot``: one PNG per paper figure from one or more result CSVs, with the paper's numbers."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.analysis.aggregate import summarize_rows
from harness.analysis.noise import latest_attempts
from harness.analysis.paper import load_paper
from harness.errors import UsageError
from harness.outputs import check_replaceable, write_atomically
from harness.results import read_rows

from .argtypes import output_path
from .inputs import CSV_HELP, beside, input_csvs

PLOTS_SUFFIX = "-plots"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plot", help="draw the paper's figures from CSVs", description=__doc__)
    parser.add_argument("csv", nargs="*", type=Path, help=CSV_HELP)
    parser.add_argument(
        "--out",
        type=output_path,
        help=f"folder for the PNGs (default <csv stem>{PLOTS_SUFFIX}/ beside the CSV); replaces only "
        "figures this command wrote",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    inputs = input_csvs(args.csv)
    rows = [row for path in inputs for row in read_rows(path)]
    args.out = args.out or beside(inputs, PLOTS_SUFFIX)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is not a directory")
    if not args.out.exists() and not args.out.parent.is_dir():
        raise UsageError(f"--out: directory {args.out.parent} does not exist")
    from harness import figures  # matplotlib is slow to import; only plot needs it

    drawn = figures.render(summarize_rows(latest_attempts(rows)), load_paper())
    if not drawn:
        raise UsageError("the CSVs hold no ok rows for any figure")
    targets = {args.out / f"{name}.png": png for name, png in drawn.items()}
    for target in targets:
        check_replaceable(target, figures.is_figure, inputs, "python -m harness plot")
    if not args.out.exists():
        try:
            args.out.mkdir()
        except OSError as error:
            raise UsageError(f"cannot create --out {args.out}: {error.strerror or error}") from None
    if not os.access(args.out, os.W_OK):
        raise UsageError(f"--out {args.out} is not writable")
    for target, png in targets.items():
        write_atomically(target, lambda temporary, png=png: temporary.write_bytes(png))
        print(target)
    return 0
