"""The CSV contract (DESIGN.md §5): columns, an incremental writer, a validating reader.

One row per measured sample (a metric of one repeat of one cell). Rows are flushed and fsynced as
they are written, so a crash or Ctrl-C loses nothing that finished.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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
]
PARAM_COLUMNS = [f"param_{name}" for name in PARAM_NAMES]
CELL_COLUMNS = [
    "cell",
    "profile",
    "rounds",
    "warmup",
    "work",
    "result_digest",
    "threads",
    "ray_address",
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
    """Appends rows to a CSV, writing the header only when the file is new or empty."""

    def __init__(self, path: Path):
        self.path = path
        new = not path.exists() or path.stat().st_size == 0
        self._file = path.open("a", newline="", encoding="utf-8")
        self._csv = csv.DictWriter(self._file, fieldnames=COLUMNS, extrasaction="raise")
        if new:
            self._csv.writeheader()
            self._sync()

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self._csv.writerow({column: _cell_text(row.get(column)) for column in COLUMNS})
        self._sync()

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if value == value else ""
    return str(value)


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a results CSV; a missing, unreadable or malformed file is a UsageError."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in BASE_COLUMNS if c not in header]
            if missing:
                raise UsageError(f"{path} is not a results CSV (missing column {missing[0]!r})")
            rows = []
            for line_number, row in enumerate(reader, start=2):
                if None in row or any(v is None for v in row.values()):
                    raise UsageError(f"{path}:{line_number}: wrong number of fields")
                if row["status"] not in STATUSES:
                    raise UsageError(f"{path}:{line_number}: unknown status {row['status']!r}")
                if row["status"] == "ok":
                    try:
                        float(row["value"])
                    except ValueError:
                        raise UsageError(
                            f"{path}:{line_number}: value {row['value']!r} is not a number"
                        ) from None
                rows.append(row)
            return rows
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a CSV file") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"{path} is not a readable CSV ({error})") from None


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


def finished_cells(rows: Iterable[dict[str, str]]) -> set[tuple[str, int]]:
    """(cell, repeat) pairs that need no re-run: every recorded cell except interrupted ones."""
    done = set()
    for row in rows:
        if row.get("cell") and not is_interrupted(row):
            done.add((row["cell"], int(row["repeat"])))
    return done
