"""What ``plot`` and ``report`` read and where they write when not told: the user's own run, and
beside it, so that neither ever replaces the committed figures or report (only the Makefile's
``reference``, ``plots`` and ``reports`` targets write those, naming them with ``--out``)."""

from __future__ import annotations

import sys
from pathlib import Path

from harness.errors import UsageError
from harness.results import RUNS, newest_run

CSV_HELP = f"result CSVs (default: the newest run CSV in {RUNS}/, outside its committed folders)"


def input_csvs(named: list[Path]) -> list[Path]:
    """The CSVs named, or the newest run's, said on stderr so that nobody reads the wrong run."""
    if named:
        return named
    newest = newest_run()
    print(f"reading the newest run: {newest}", file=sys.stderr)
    return [newest]


def beside(inputs: list[Path], suffix: str) -> Path:
    """``<csv stem><suffix>`` next to the one input CSV; several CSVs would pool runs under one
    name that says only the first, so they must name the output."""
    if len(inputs) != 1:
        raise UsageError(f"{len(inputs)} CSVs: name the output with --out (without it, it goes beside a CSV)")
    (csv,) = inputs
    if not csv.name:  # "" or "." (read_rows refuses a folder; this is for a caller that did not)
        raise UsageError(f"{csv} names no CSV file")
    return csv.with_name(f"{csv.stem}{suffix}")
