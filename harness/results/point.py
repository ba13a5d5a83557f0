"""The one parser of a row's parameter point: which ``param_*`` it sets, and whether it is a point of
a curve inside a cell or a summary sample of the cell.

Rows come from a CSV (every value a string, blank where unset) or fresh from the runner (ints,
``None`` where unset); both name the same point, so blank and ``None`` are unset and ``0`` is a value.
Every consumer of rows (aggregate, checks, gate, report, projection) asks here, so a parameter no
built-in workload has (a plugin's) is part of the point everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workloads.base import SERIES_PARAMS

PARAM_PREFIX = "param_"
ROW_KIND = "row_kind"
SAMPLE = "sample"
CURVE = "curve"
ROW_KINDS = (SAMPLE, CURVE)
"""A row's ``row_kind``: a summary sample of a cell's repeat, or a point of a curve inside the cell."""
Params = tuple[tuple[str, str], ...]
"""A parameter point: (name, value) for every ``param_*`` a row sets, by name, without the prefix."""


def is_set(value: object) -> bool:
    """Whether a row's value says something (0 does; blank and None do not)."""
    return value is not None and value != ""


def params_of(row: Mapping[str, Any]) -> Params:
    """The parameter point of a row, sorted by name, values as text."""
    return tuple(
        sorted(
            (key[len(PARAM_PREFIX) :], str(value))
            for key, value in row.items()
            if key.startswith(PARAM_PREFIX) and is_set(value)
        )
    )


def cell_params(params: Params) -> Params:
    """The point without its curve coordinates (``round``, ...): the point of the cell a row is of."""
    return tuple((name, value) for name, value in params if name not in SERIES_PARAMS)


def on_curve(params: Params) -> bool:
    """Whether a point places its rows on a curve inside a cell (it has a series parameter)."""
    return any(name in SERIES_PARAMS for name, _ in params)


def is_curve(row: Mapping[str, Any]) -> bool:
    """Whether the row is a point of a curve inside its cell: its ``row_kind`` says so, or (a row of a
    version-1 file, or fresh from the runner) it sets a series parameter."""
    kind = row.get(ROW_KIND)
    if is_set(kind):
        return kind == CURVE
    return any(is_set(row.get(PARAM_PREFIX + name)) for name in SERIES_PARAMS)


def row_kind(row: Mapping[str, Any]) -> str:
    """``curve`` or ``sample``."""
    return CURVE if is_curve(row) else SAMPLE


def point_of(row: Mapping[str, Any]) -> tuple[str, ...]:
    """A parameter point independent of backend: the workload and every ``name=value`` it sets."""
    return (row["workload"], *(f"{name}={value}" for name, value in params_of(row)))


def point_text(params: Params, separator: str = " ") -> str:
    """``name=value`` pairs joined, as the report and the end-of-run table show a point."""
    return separator.join(f"{name}={value}" for name, value in params)


def point_name(workload: str, params: Params) -> str:
    """``workload[name=value,...]``: how the gate and the checks name a point."""
    return f"{workload}[{point_text(params, ',')}]"
