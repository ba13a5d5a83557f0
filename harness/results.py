"""The CSV contract (DESIGN.md §5): columns, an incremental writer, a validating reader.

One row per measured sample (a metric of one repeat of one cell). A cell's rows are appended as one
unit and fsynced, so a crash, Ctrl-C or ``kill -9`` loses nothing that finished and leaves no part of
a cell: ``--resume`` takes a cell that has rows for finished.

A results file belongs to one run at a time: the writer holds an exclusive lock on it for the whole
run, so a second run (or a second ``--resume``) on the same file fails at once instead of measuring
every cell twice.
"""

from __future__ import annotations

import csv
import fcntl
import io
import math
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from .errors import UsageError

BASE_COLUMNS = [
    "run_id",
    "started_utc",
    "suite",
    "workload",
    "backend",
    "repeat",
    "metric",
    "value",
    "unit",
    "status",
    "error",
]
PARAM_NAMES = [
    "n_actors",
    "object_bytes",
    "variant",
    "env_id",
    "n_envs",
    "n_agents",
    "steps_per_round",
    "workers",
    "minibatch",
    "round",
    "episode",
    "program",
    "size",
    "seed",
    "target",
    "grad_steps",
    "target_every",
    "lr",
    "max_env_steps",
    "env_steps",
    "hosts",
    "link_mbit",
]
PARAM_COLUMNS = [f"param_{name}" for name in PARAM_NAMES]
CELL_COLUMNS = [
    "cell",
    "profile",
    "run_backends",
    "run_threads",
    "run_processes",
    "run_options",
    "run_repeats",
    "rounds",
    "warmup",
    "work",
    "result_digest",
    "threads",
    "processes",
    "cluster_address",
    "worker_nodes",
    "cell_wall_s",
    "cpu_util",
    "idle_cpu_util",
    "other_cpu_pct",
]
METADATA_COLUMNS = [
    "harness_version",
    "git_commit",
    "python_version",
    "gil_enabled",
    "numpy_version",
    "ray_version",
    "gymnasium_version",
    "ale_py_version",
    "xronos_version",
    "cpu_model",
    "cpu_count",
    "hostname",
    "malloc_tuning",
]
COLUMNS = BASE_COLUMNS + PARAM_COLUMNS + CELL_COLUMNS + METADATA_COLUMNS

STATUSES = ("ok", "error", "timeout", "unavailable", "skipped")
INTERRUPTED = "interrupted"
"""The ``error`` text of a cell cut short by Ctrl-C/SIGTERM; --resume runs such cells again."""


def is_interrupted(row: dict[str, str]) -> bool:
    """A row of a cell cut short by the user: neither a result nor a failure, only a cell to re-run."""
    return row["status"] == "error" and row["error"] == INTERRUPTED


def is_failure(row: dict[str, str]) -> bool:
    """The cell failed on its own (error or timeout), as opposed to being interrupted."""
    return row["status"] in ("error", "timeout") and not is_interrupted(row)


class ResultWriter:
    """Appends rows to a CSV it holds locked, writing the header only when the file is new or empty.

    ``new=True`` (a fresh run) refuses a file that already holds anything; ``new=False`` (a resume)
    appends to it. The lock is taken before anything is read or written, so the caller may read the
    file's rows after opening it and know no other run changes them; a file that holds rows is not
    written until ``write`` is called, so a resume refused after opening leaves it as it was.
    """

    def __init__(self, path: Path, new: bool = True):
        self.path = path
        if path.exists() and not stat.S_ISREG(path.stat().st_mode):
            kind = "a directory" if path.is_dir() else "not a regular file"
            raise UsageError(f"{path} is {kind}; results go to a regular file")
        try:
            self._file = path.open("ab", buffering=0)
        except OSError as error:
            raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise UsageError(f"{path} is in use by another run (it holds the file's lock)") from None
        empty = os.fstat(self._file.fileno()).st_size == 0
        if new and not empty:
            self._file.close()
            raise UsageError(f"{path} already exists; pass --resume {path} to continue it")
        if empty:  # a file cut before its first cell still reads as a (row-less) results CSV
            self._append(lambda writer: writer.writeheader())

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Appends ``rows``, one cell's, as one unit: all of them or, after a crash, none.

        A smoke cell's rows are about 25 KB; written row by row through the file's 8 KB buffer they
        reached the file in pieces, and a ``kill -9`` between two left the cell's first rows, which
        ``--resume`` took for the whole cell. So the rows become text in memory first (a bad row
        fails before anything is written) and go to the file in one write."""
        self._append(lambda writer: writer.writerows(_row_text(row) for row in rows))

    def _append(self, fill: Callable[[csv.DictWriter], object]) -> None:
        text = io.StringIO(newline="")
        fill(csv.DictWriter(text, fieldnames=COLUMNS, extrasaction="raise"))
        data = memoryview(text.getvalue().encode("utf-8"))
        while data:  # a write to a regular file is whole unless a signal cuts it
            data = data[self._file.write(data) :]
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()  # closing releases the lock


def _row_text(row: dict[str, Any]) -> dict[str, str]:
    return {column: _cell_text(row.get(column)) for column in COLUMNS}


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if value == value else ""
    return str(value)


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
            rows.append(row)
        return rows


def _row_problem(row: dict[str, Any]) -> str | None:
    if None in row or any(v is None for v in row.values()):
        return "wrong number of fields"
    if row["status"] not in STATUSES:
        return f"unknown status {row['status']!r}"
    if not row["repeat"].isdigit():
        return f"repeat {row['repeat']!r} is not a whole number"
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


DEFAULT_INPUT = Path("results/reference")
"""Where ``plot`` and ``report`` read when no CSV is named: the committed reference run."""


def input_paths(paths: list[Path]) -> list[Path]:
    """The CSVs a reading command was given, or the reference run's; none at all is a usage error."""
    if paths:
        return paths
    found = sorted(DEFAULT_INPUT.glob("*.csv"))
    if not found:
        raise UsageError(f"no CSV given and none in {DEFAULT_INPUT}/")
    return found


def finished_cells(rows: Iterable[dict[str, str]]) -> set[tuple[str, int, str]]:
    """(cell, repeat, profile) of every recorded cell except interrupted ones: those need no re-run.

    The profile is part of a cell's identity: a smoke-sized cell is not the quick-sized cell of the
    same name (``plan.Cell.identity``)."""
    done = set()
    for row in rows:
        if row.get("cell") and not is_interrupted(row):
            done.add((row["cell"], int(row["repeat"]), row.get("profile", "")))
    return done
