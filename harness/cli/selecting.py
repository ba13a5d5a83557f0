"""``--workload`` and ``-k``, the options that pick cells below a suite: one definition for the
commands that take them (``run`` and ``list``)."""

from __future__ import annotations

import argparse

from harness.cells.selection import Selection


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workload", dest="workloads", action="append", metavar="NAME",
                        help="only this workload of the suite (repeatable or comma-separated)")  # fmt: skip
    parser.add_argument("-k", dest="expression", metavar="EXPR",
                        help="only the cells whose names match, as pytest's -k: words matched as "
                        "substrings of the workload, each parameter name=value and the backend, "
                        "combined with and, or, not and parentheses")  # fmt: skip


def selection(args: argparse.Namespace) -> Selection:
    """The selection the command line asks for; an empty name or a malformed expression is a
    UsageError here, a name outside the suite when the plan is built."""
    names = None
    if args.workloads is not None:
        names = tuple(dict.fromkeys(n.strip() for text in args.workloads for n in text.split(",")))
    return Selection(names, args.expression)
