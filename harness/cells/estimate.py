"""How long a plan will take, estimated from the committed reference runs (an estimate, said as one).

The reference runs record every cell's wall time (``cell_wall_s``: start-up, warm-up, measurement and
the process around them). A planned cell takes the mean time of the same cell in the reference (same
key and profile); failing that, the mean of its workload on that backend in that profile; a cell
with neither has no estimate, and the total then says how many such cells it leaves out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.results import read_rows

from .plan import Cell

REFERENCE = Path(__file__).resolve().parents[2] / "results" / "reference"
"""The committed runs: ``*.csv`` (the quick profile) and ``smoke/*.csv`` (the smoke suite)."""


@dataclass(frozen=True)
class Estimate:
    seconds: float
    unknown: int
    """Planned cells with no reference time at all (not included in ``seconds``)."""

    def text(self) -> str:
        if self.unknown and not self.seconds:
            return "no reference time"
        shown = _duration(self.seconds)
        return f"~{shown}" + (f" (+{self.unknown} cells without a reference time)" if self.unknown else "")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ReferenceTimes:
    """Cell wall times of the reference runs, by cell and by (workload, backend), per profile."""

    def __init__(self, rows: Iterable[dict[str, str]]):
        by_cell: dict[tuple[str, str], list[float]] = defaultdict(list)
        by_workload: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        seen = set()
        for row in rows:
            identity = (row["run_id"], row.get("cell", ""), row["repeat"])
            wall = row.get("cell_wall_s", "")
            if identity in seen or not wall or not row.get("cell"):
                continue
            seen.add(identity)
            profile = row.get("profile", "")
            by_cell[(row["cell"], profile)].append(float(wall))
            by_workload[(row["workload"], row["backend"], profile)].append(float(wall))
        self._cell = {key: sum(v) / len(v) for key, v in by_cell.items()}
        self._workload = {key: sum(v) / len(v) for key, v in by_workload.items()}

    @classmethod
    def load(cls, folder: Path = REFERENCE) -> ReferenceTimes:
        """The reference runs' times; unreadable or absent files just make estimates unknown."""
        rows: list[dict[str, str]] = []
        for path in (
            sorted(folder.glob("*.csv"))
            + sorted(folder.glob("smoke/*.csv"))
            + sorted(folder.glob("cluster/*.csv"))
        ):
            try:
                rows += read_rows(path)
            except UsageError:
                continue
        return cls(rows)

    def estimate(self, cells: Iterable[Cell]) -> Estimate:
        seconds, unknown = 0.0, 0
        for cell in cells:
            time = self._cell.get((cell.key, cell.profile))
            if time is None:
                time = self._workload.get((cell.workload, cell.backend, cell.profile))
            if time is None:
                unknown += 1
            else:
                seconds += time
        return Estimate(seconds, unknown)
