"""How busy the rest of the machine was while cells were measured, and which cells to distrust.

Every row records ``other_cpu_pct``: the CPU other processes used during the cell's measured window,
in percent of all cores (``harness.cells.cpu_window``). On a shared machine a cell measured beside a
busy neighbour is slower for reasons that are not its backend's, so the end-of-run summary, ``report``
and ``check`` summarise it (median and max over cells) and flag each cell measured while others used
more than ``BUSY_ABOVE_PCT``.

A cell may be measured more than once in one run (``run --rerun-busy`` re-runs busy cells, ``--resume``
re-runs a cut one): every attempt's rows stay in the CSV, and the latest attempt of a cell repeat is
the one summaries use (``latest_attempts``). A re-run that was busy again is still flagged.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from harness.results.point import Params, is_curve, params_of, point_text

BUSY_ABOVE_PCT = 25.0
"""Other processes' CPU share (percent of all cores) above which a cell counts as measured on a busy
machine. On 2 cores it is half a core: more than the harness's own bookkeeping ever uses, less than
one other program running flat out (50%)."""

_Attempt = tuple[str, str, str]
"""(run_id, cell, repeat): what one attempt of a cell measured."""


def _attempt_key(row: dict[str, str]) -> _Attempt:
    return (
        row["run_id"],
        row.get("cell") or repr((row["workload"], params_of(row), row["backend"])),
        row["repeat"],
    )


def _row_identity(row: dict[str, str]) -> tuple[str, ...]:
    return (row.get("metric", ""), row.get("row_kind", ""), *(f"{k}={v}" for k, v in params_of(row)))


def latest_attempts(rows: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """The rows of each cell repeat's latest attempt, in file order. An attempt's rows are written
    together, each (metric, curve point) once; a row whose identity its cell repeat already recorded
    therefore starts a new attempt, and the earlier attempt's rows are left out (not deleted)."""
    rows = list(rows)
    attempt_of_row: list[int] = []
    seen: dict[_Attempt, set[tuple[str, ...]]] = {}
    count: dict[_Attempt, int] = {}
    for row in rows:
        key, identity = _attempt_key(row), _row_identity(row)
        if key not in count or identity in seen[key]:
            count[key] = count.get(key, -1) + 1
            seen[key] = set()
        seen[key].add(identity)
        attempt_of_row.append(count[key])
    return [
        row for row, attempt in zip(rows, attempt_of_row, strict=True) if attempt == count[_attempt_key(row)]
    ]


@dataclass(frozen=True)
class BusyCell:
    workload: str
    params: Params
    backend: str
    repeat: int
    cell: str
    other_cpu_pct: float

    def text(self) -> str:
        point = point_text(self.params)
        return f"{self.backend}: {self.workload} {point} #{self.repeat + 1} ({self.other_cpu_pct:.0f}%)"


@dataclass(frozen=True)
class Noise:
    """``other_cpu_pct`` over the cells of some rows (each cell repeat's latest attempt)."""

    median: float
    max: float
    cells: int
    busy: tuple[BusyCell, ...]
    threshold: float

    def headline(self) -> str:
        """One line: the median and max over cells."""
        if not self.cells:
            return "other processes' CPU during cells: not recorded"
        return (
            f"other processes' CPU during cells: median {self.median:.0f}%, max {self.max:.0f}% "
            f"of all cores over {self.cells} cells"
        )

    def busy_line(self) -> str | None:
        """How many cells are flagged, and by what rule (None: none is)."""
        if not self.busy:
            return None
        count = len(self.busy)
        return f"{count} cell(s) measured while others used more than {self.threshold:g}%"

    def lines(self) -> list[str]:
        """The headline, then the busy line and one line per busy cell."""
        flagged = self.busy_line()
        if flagged is None:
            return [self.headline()]
        return [
            self.headline(),
            f"{flagged} (busy, marked !):",
            *(f"  busy: {cell.text()}" for cell in self.busy),
        ]

    def is_busy(self, workload: str, params: Params, backend: str) -> bool:
        return any((c.workload, c.params, c.backend) == (workload, params, backend) for c in self.busy)


def noise(rows: Iterable[dict[str, str]], threshold: float = BUSY_ABOVE_PCT) -> Noise:
    """The summary of ``rows`` (any status: a failed cell's window was measured too; curve rows add
    nothing, they share their cell's window)."""
    by_cell: dict[_Attempt, tuple[dict[str, str], float]] = {}
    for row in latest_attempts(rows):
        value = row.get("other_cpu_pct", "")
        if is_curve(row) or value in ("", None) or math.isnan(pct := float(value)):
            continue
        key = _attempt_key(row)
        if key not in by_cell or pct > by_cell[key][1]:
            by_cell[key] = (row, pct)
    values = [pct for _, pct in by_cell.values()]
    busy = tuple(
        BusyCell(
            row["workload"], params_of(row), row["backend"], int(row["repeat"]), row.get("cell", ""), pct
        )
        for row, pct in by_cell.values()
        if pct > threshold
    )
    if not values:
        return Noise(math.nan, math.nan, 0, (), threshold)
    return Noise(statistics.median(values), max(values), len(values), busy, threshold)
