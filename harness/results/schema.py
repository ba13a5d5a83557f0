"""The columns of a results CSV, and which version of them a file has (DESIGN.md §5).

One module owns the layout on both sides: the writer takes its header from here and the reader
knows every version it ever wrote, as pyperf's ``_bench.py`` does for its JSON.

Version history (``SCHEMA_VERSION``; a file says its version in the ``schema_version`` column):

- 1: fixed columns: the base columns, one ``param_*`` column per name of a list of the built-in
  workloads' parameters, the cell and metadata columns. No version column: a file without one is
  version 1. A plugin workload's parameter had no column and was dropped without a word.
- 2: ``schema_version`` (first column) and ``row_kind`` (``sample``: a summary measurement of one
  repeat of one cell; ``curve``: a point of a per-round / per-episode curve inside a cell); the
  ``param_*`` columns are those the run's workloads declare (``Workload.parameters``), so a plugin's
  parameters get columns, and a row key without a column is refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from workloads.base import SERIES_PARAMETERS, Parameter

from .point import PARAM_PREFIX, ROW_KIND

SCHEMA_VERSION = 2
VERSION_COLUMN = "schema_version"

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
"""The columns every version has (a file without one of them is no results CSV)."""
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
INT_COLUMNS = ("repeat", "rounds", "warmup", "threads", "processes", "run_threads", "run_processes")
FLOAT_COLUMNS = ("value", "cell_wall_s", "cpu_util", "idle_cpu_util", "other_cpu_pct")
"""Fixed columns that ``frame.load`` types as numbers (the rest, and undeclared parameters, stay text)."""


def declared(parameters: Iterable[Parameter]) -> list[Parameter]:
    """The parameters, each name once (the curves' ``SERIES_PARAMETERS`` always among them), in the
    order first declared; one name declared with two types is a workload bug, refused."""
    found: dict[str, Parameter] = {}
    for parameter in [*parameters, *SERIES_PARAMETERS]:
        known = found.setdefault(parameter.name, parameter)
        if known.type is not parameter.type:
            raise ValueError(
                f"parameter {parameter.name!r} is declared as {known.type.__name__} and as "
                f"{parameter.type.__name__}"
            )
    return list(found.values())


def columns_for(parameters: Iterable[Parameter]) -> list[str]:
    """The header of a file that rows with these parameters go to (this version's layout)."""
    params = [PARAM_PREFIX + p.name for p in declared(parameters)]
    return [VERSION_COLUMN, *BASE_COLUMNS, ROW_KIND, *params, *CELL_COLUMNS, *METADATA_COLUMNS]


def version_of(header: list[str]) -> int:
    """The schema version a header announces (version 1 has no version column)."""
    return 2 if VERSION_COLUMN in header else 1


STATUSES = ("ok", "error", "timeout", "unavailable", "skipped")
INTERRUPTED = "interrupted"
"""The ``error`` text of a cell cut short by Ctrl-C/SIGTERM; --resume runs such cells again."""


def is_interrupted(row: dict[str, str]) -> bool:
    """A row of a cell cut short by the user: neither a result nor a failure, only a cell to re-run."""
    return row["status"] == "error" and row["error"] == INTERRUPTED


def is_failure(row: dict[str, str]) -> bool:
    """The cell failed on its own (error or timeout), as opposed to being interrupted."""
    return row["status"] in ("error", "timeout") and not is_interrupted(row)
