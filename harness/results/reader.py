"""Reading results CSVs of every schema version into validated rows (``dict[str, str]``).

Every row read carries ``schema_version`` and ``row_kind``: a version-1 file has neither column, so
its rows get version ``1`` and the kind their parameters imply (``point.row_kind``), and the
commands that read rows need not know which version a file was.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ..errors import UsageError
from .point import ROW_KIND, ROW_KINDS, row_kind
from .schema import BASE_COLUMNS, SCHEMA_VERSION, STATUSES, VERSION_COLUMN, is_interrupted

ENCODING = "utf-8-sig"
"""How results files are read: UTF-8, with the byte-order mark spreadsheets put in front tolerated."""


def read_header(path: Path) -> list[str]:
    """The column names of a results CSV (empty for an empty file), for comparing file versions."""
    with _opened(path) as handle:
        return next(csv.reader(handle), [])


def check_results_header(path: Path, header: list[str]) -> None:
    """Refuses a file whose columns are not those of a results CSV (of any version)."""
    missing = [c for c in BASE_COLUMNS if c not in header]
    if missing:
        raise UsageError(f"{path} is not a results CSV (missing column {missing[0]!r})")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a results CSV; a missing, unreadable or malformed file is a UsageError.

    Every row's ``repeat`` is a whole number and every ok row's value a finite number: the commands
    that read rows (resume, report, plot, check) can then use them without checks of their own.
    """
    with _opened(path) as handle:
        reader = csv.DictReader(handle)
        check_results_header(path, reader.fieldnames or [])
        rows = []
        for line_number, row in enumerate(reader, start=2):
            problem = _row_problem(row)
            if problem:
                raise UsageError(f"{path}:{line_number}: {problem}")
            row.setdefault(VERSION_COLUMN, "1")
            row.setdefault(ROW_KIND, row_kind(row))
            rows.append(row)
        return rows


def _row_problem(row: dict[str, Any]) -> str | None:
    if None in row or any(v is None for v in row.values()):
        return "wrong number of fields"
    if row["status"] not in STATUSES:
        return f"unknown status {row['status']!r}"
    if not row["repeat"].isdigit():
        return f"repeat {row['repeat']!r} is not a whole number"
    version = row.get(VERSION_COLUMN, "1")
    if not version.isdigit() or not 1 <= int(version) <= SCHEMA_VERSION:
        return f"schema version {version!r} is not one this harness reads (1 to {SCHEMA_VERSION})"
    if ROW_KIND in row and row[ROW_KIND] not in ROW_KINDS:
        return f"unknown row kind {row[ROW_KIND]!r}"
    if row["status"] == "ok":
        try:
            value = float(row["value"])
        except ValueError:
            return f"value {row['value']!r} is not a number"
        if not math.isfinite(value):
            return f"value {row['value']!r} of an ok row is not finite"
    return None


@contextmanager
def _opened(path: Path) -> Iterator[TextIO]:
    """A results file opened for reading; every way reading it can fail becomes one UsageError line."""
    try:
        with path.open(newline="", encoding=ENCODING) as handle:
            yield handle
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a CSV file") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"{path} is not a readable CSV ({error})") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None


RUNS = Path("results")
"""Where ``run`` writes a CSV by default, and where ``plot`` and ``report`` take the newest one from
when no CSV is named (relative to the current folder, as the user's paths are)."""
COMMITTED = ("reference", "baseline", "paper")
"""Folders of ``RUNS`` that hold the project's committed files, never taken for the user's run."""


def newest_run(folder: Path = RUNS) -> Path:
    """The most recently written CSV under ``folder`` outside its committed folders: the user's
    latest run (a reader that defaulted to the reference run reported a run the user did not make)."""
    found = [
        path
        for path in folder.rglob("*.csv")
        if path.is_file() and not set(path.relative_to(folder).parts[:-1]) & set(COMMITTED)
    ]
    if not found:
        outside = ", ".join(f"{folder / name}/" for name in COMMITTED)
        raise UsageError(f"no CSV given and no run CSV in {folder}/ (outside {outside}); name one")
    return max(found, key=lambda path: path.stat().st_mtime)


def finished_cells(rows: Iterable[dict[str, str]]) -> set[tuple[str, int, str]]:
    """(cell, repeat, profile) of every recorded cell except interrupted ones: those need no re-run.

    The profile is part of a cell's identity: a smoke-sized cell is not the quick-sized cell of the
    same name (``plan.Cell.identity``)."""
    done = set()
    for row in rows:
        if row.get("cell") and not is_interrupted(row):
            done.add((row["cell"], int(row["repeat"]), row.get("profile", "")))
    return done
