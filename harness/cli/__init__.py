"""The command line: ``python -m harness {list,run,plot,report,check,compare} ...``.

Bad input of any kind ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from harness.errors import UsageError

from . import check as cmd_check
from . import compare as cmd_compare
from . import list as cmd_list
from . import plot as cmd_plot
from . import report as cmd_report
from . import run as cmd_run


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line (it prints the usage block by default)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m harness",
        description="Benchmarks the actor model (Ray) against the reactor model on RL workloads.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in (cmd_list, cmd_run, cmd_plot, cmd_report, cmd_check, cmd_compare):
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`| head`): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
