"""The command line: ``python -m harness {list,run,plot,report,check,compare} ...``, or the console script
``actor-reactor-bench``, which names itself in its usage.

Bad input of any kind ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from harness import __version__
from harness.errors import UsageError

from . import check as cmd_check
from . import compare as cmd_compare
from . import list as cmd_list
from . import plot as cmd_plot
from . import report as cmd_report
from . import run as cmd_run

MODULE_PROG = "python -m harness"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line (it prints the usage block by default) and
    shows help as plain text: the descriptions are the modules' docstrings, whose reST markup
    (````name````) a terminal would print as is."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")

    def format_help(self) -> str:
        return super().format_help().replace("``", "")

    def format_usage(self) -> str:
        return super().format_usage().replace("``", "")


def program_name(argv0: str | None = None) -> str:
    """How the user called us: the console script's name, or ``python -m harness`` when run as a
    module (``sys.argv[0]`` is then the package's ``__main__.py``)."""
    name = os.path.basename(sys.argv[0] if argv0 is None else argv0)
    return MODULE_PROG if name in ("", "__main__.py", "-c") else name


def build_parser(prog: str = MODULE_PROG) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Benchmarks the actor model (Ray) against the reactor model on RL workloads.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in (cmd_list, cmd_run, cmd_plot, cmd_report, cmd_check, cmd_compare):
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``argv`` None: the command line (and its program name); a list: a call from Python, which
    names itself ``python -m harness``."""
    try:
        args = build_parser(program_name() if argv is None else MODULE_PROG).parse_args(argv)
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
