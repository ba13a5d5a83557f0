"""Expands a suite, a profile and a backend choice into the ordered list of cells to run.

Order matters for fairness (DESIGN.md §6.7): repeats are the outer loop and backends the inner one,
rotated each repeat, so slow drifts of a shared machine do not land on one backend.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import registry


@dataclass(frozen=True)
class Cell:
    """One measurement: a workload at one parameter point on one backend, one repeat."""

    suite: str
    workload: str
    params_json: str
    backend: str
    repeat: int
    profile: str

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json)

    @property
    def key(self) -> str:
        """Identifies the cell across repeats (the ``cell`` column); used by --resume and stats."""
        return cell_key(self.workload, self.params, self.backend)

    @property
    def identity(self) -> tuple[str, int, str]:
        """What makes two cells the same measurement (``results.finished_cells`` yields these)."""
        return (self.key, self.repeat, self.profile)

    def _point_text(self) -> str:
        return " ".join([self.workload, *(f"{k}={v}" for k, v in self.params.items())])

    def label(self) -> str:
        return f"{self._point_text()} on {self.backend} (repeat {self.repeat + 1})"

    def short_label(self) -> str:
        """The label with the backend first, for a line that may be cut at its end."""
        return f"{self.backend}: {self._point_text()} #{self.repeat + 1}"


def cell_key(workload: str, params: dict[str, Any], backend: str) -> str:
    inner = ",".join(f"{k}={params[k]}" for k in sorted(params))
    return f"{workload}[{inner}]@{backend}"


def build_plan(
    suite: str, profile: str | None, backends: list[str] | None, repeats: int | None
) -> list[Cell]:
    """Cells in run order; ``repeats`` None means each workload's default for the profile, ``profile``
    None the default profile (``registry.profile_for``)."""
    grid_profile = registry.profile_for(suite, profile)
    points: list[tuple[str, str, list[str], int]] = []
    for workload_name in registry.SUITES[suite]:
        workload = registry.WORKLOADS[workload_name]
        eligible = [b for b in registry.backends_for(workload) if backends is None or b in backends]
        for params in workload.grid(grid_profile):
            names = [
                b
                for b in eligible
                if workload.applies_to(params, b, grid_profile)
                and not (
                    grid_profile == "quick"
                    and registry.BACKENDS[b].headline_only_in_quick
                    and not workload.is_headline(params)
                )
            ]
            count = repeats if repeats is not None else workload.repeats[grid_profile]
            points.append((workload_name, json.dumps(params, sort_keys=True), names, count))
    cells: list[Cell] = []
    for repeat in range(max((p[3] for p in points), default=0)):
        for workload_name, params_json, names, count in points:
            if not names or repeat >= count:
                continue
            shift = repeat % len(names)
            for backend in names[shift:] + names[:shift]:
                cells.append(Cell(suite, workload_name, params_json, backend, repeat, grid_profile))
    return cells
