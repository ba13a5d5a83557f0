"""Expands a suite, a profile and a backend choice into the ordered list of cells to run.

Order matters for fairness (DESIGN.md §6.7): repeats are the outer loop and backends the inner one,
rotated each repeat, so slow drifts of a shared machine do not land on one backend.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness import registry
from harness.errors import UsageError
from workloads.base import BadOption, Parameter

from .selection import Selection


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


def parameters(cells: list[Cell]) -> list[Parameter]:
    """What the workloads of ``cells`` declare they may write (the results file's ``param_*``
    columns: ``results.columns_for``)."""
    names = dict.fromkeys(cell.workload for cell in cells)
    return [p for name in names for p in registry.WORKLOADS[name].parameters]


def cell_key(workload: str, params: dict[str, Any], backend: str) -> str:
    inner = ",".join(f"{k}={params[k]}" for k in sorted(params))
    return f"{workload}[{inner}]@{backend}"


def build_plan(
    suite: str,
    profile: str | None,
    backends: list[str] | None,
    repeats: int | None,
    options: dict[str, str] | None = None,
    selection: Selection | None = None,
) -> list[Cell]:
    """Cells in run order; ``repeats`` None means each workload's default for the profile, ``profile``
    None the default profile (``registry.profile_for``). Backends come in the order ``backends``
    names them, or the registry's (built-ins first, each distribution's in name order).

    ``options`` (``--set NAME=VALUE``) are applied to every grid point of each workload of the suite
    that takes them; a name no such workload takes, or a bad value, is a UsageError. Points that the
    options make equal run once.

    ``selection`` (``--workload``, ``-k``) keeps only the cells it names; it applies before the
    backends are rotated, so the kept ones still take turns. An expression that keeps none of the
    cells there would be is a UsageError: an empty run is never what was meant.
    """
    grid_profile = registry.profile_for(suite, profile)
    options = options or {}
    selection = selection or Selection()
    selection.check(suite, registry.SUITES[suite])
    workloads = [registry.WORKLOADS[name] for name in registry.SUITES[suite]]
    unknown = sorted(set(options) - {name for w in workloads for name in w.options})
    if unknown:
        takers = sorted({name for w in workloads for name in w.options})
        hint = f"options: {', '.join(takers)}" if takers else "its workloads take no options"
        raise UsageError(f"--set {unknown[0]}: no workload of suite {suite!r} takes it ({hint})")
    points: list[tuple[str, str, list[str], int]] = []
    unselected = 0
    for workload in workloads:
        workload_name = workload.name
        if not selection.takes_workload(workload_name):
            continue
        runs_on = registry.backends_for(workload)
        eligible = runs_on if backends is None else [b for b in backends if b in runs_on]
        mine = {name: value for name, value in options.items() if name in workload.options}
        grid = workload.grid(grid_profile)
        try:
            grid = [workload.with_options(params, mine) for params in grid] if mine else grid
        except BadOption as error:
            raise UsageError(f"--set: {error}") from None
        unique = list({json.dumps(params, sort_keys=True): params for params in grid}.values())
        for params in unique:
            names = [
                b
                for b in eligible
                if workload.applies_to(params, registry.BACKENDS[b], grid_profile)
                and not (grid_profile != "paper" and registry.BACKENDS[b].paper_profile_only)
                and not (
                    grid_profile == "quick"
                    and registry.BACKENDS[b].headline_only_in_quick
                    and not workload.is_headline(params)
                )
            ]
            kept = [b for b in names if selection.takes(workload_name, params, b)]
            unselected += len(names) - len(kept)
            names = kept
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
    if not cells and unselected:  # else no backend runs the selected workloads: the caller says so
        raise UsageError(f"{selection.text()} selects no cell of suite {suite!r}")
    return cells
