"""Results as a typed ``pandas.DataFrame``: the boundary researchers touch.

One row per row of the CSVs, summary samples and curve points apart (``row_kind``), so that a
group-by over one frame cannot mix a cell's summary metric with the points of its curves. Parameters
load as their workloads declare them (``Workload.parameters``): an ``int`` parameter as a nullable
integer (``Int64``; blank where a row does not use it), not as the float a plain ``read_csv`` makes
of a column with blanks.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from workloads.base import Parameter

from ..errors import UsageError
from .point import CURVE, PARAM_PREFIX, ROW_KIND, SAMPLE
from .reader import read_rows
from .schema import FLOAT_COLUMNS, INT_COLUMNS, declared

if TYPE_CHECKING:  # pandas is imported on first use: every command and cell imports this package
    import pandas as pd

PANDAS_TYPES = {int: "Int64", float: "float64", bool: "boolean", str: "string"}
"""How a declared parameter type loads."""


def load(
    paths: Iterable[Path | str], curves: bool = False, parameters: Iterable[Parameter] | None = None
) -> pd.DataFrame:
    """The summary samples (``curves=True``: the curve points) of the results CSVs at ``paths``.

    ``parameters`` type the ``param_*`` columns; by default those every installed workload declares.
    A parameter no declaration names stays text. Values are floats (NaN where a cell failed)."""
    import pandas as pd

    rows = [row for path in paths for row in read_rows(Path(path))]
    frame = pd.DataFrame(rows, dtype="string") if rows else pd.DataFrame(columns=[ROW_KIND], dtype="string")
    frame = frame[frame[ROW_KIND] == (CURVE if curves else SAMPLE)].reset_index(drop=True)
    types = {f"{PARAM_PREFIX}{p.name}": p.type for p in _parameters(parameters)}
    for column in frame.columns:
        kind = types.get(column) if column.startswith(PARAM_PREFIX) else None
        if column in INT_COLUMNS:
            kind = int
        elif column in FLOAT_COLUMNS:
            kind = float
        if kind is not None and kind is not str:
            frame[column] = _typed(frame[column], kind)
    return frame


def _typed(column: pd.Series, kind: type) -> pd.Series:
    """``column`` (text, blank where unset) as ``kind``; a value that is not one is a UsageError."""
    import pandas as pd

    blank = column.isna() | (column == "")
    try:
        if kind is bool:
            return (
                column.mask(blank).map({"True": True, "False": False}, na_action="ignore").astype("boolean")
            )
        numbers = pd.to_numeric(column.mask(blank), errors="raise")
        return numbers.astype(PANDAS_TYPES[kind])
    except (ValueError, TypeError) as error:
        raise UsageError(f"column {column.name!r} does not hold {kind.__name__} values ({error})") from None


def _parameters(parameters: Iterable[Parameter] | None) -> list[Parameter]:
    if parameters is None:
        # imported here: the registry loads every installed workload (entry points), which only the
        # default needs; a caller that names its parameters reads files without loading any
        from .. import registry

        parameters = [p for workload in registry.WORKLOADS.values() for p in workload.parameters]
    return declared(parameters)
