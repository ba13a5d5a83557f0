"""Result rows and files for tests that need a results CSV without running cells."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness import registry
from harness.cells import runner
from harness.cells.plan import Cell
from harness.cells.protocol import CellResult
from harness.cells.runner import RunSettings
from harness.results import ResultWriter, columns_for

EVERY_COLUMN = columns_for(p for workload in registry.WORKLOADS.values() for p in workload.parameters)
"""The header of a run of every installed workload: the columns any row of these tests may set."""


def row(**fields: Any) -> dict[str, Any]:
    """An ok ``round_ms`` row of a collectives cell, with ``fields`` replacing any column."""
    base = {
        "run_id": "r1",
        "started_utc": "2026-01-01T00:00:00Z",
        "suite": "collectives",
        "workload": "collectives",
        "backend": "reactor",
        "repeat": 0,
        "metric": "round_ms",
        "value": 1.5,
        "unit": "ms",
        "status": "ok",
        "error": "",
        "param_n_actors": 16,
        "param_object_bytes": 1024,
        "param_variant": "copy",
        "rounds": 20,
        "profile": "quick",
    }
    base.update(fields)
    base.setdefault("cell", f"collectives[n_actors=16]@{base['backend']}")
    return base


def repeats(n: int, **fields: Any) -> list[dict[str, Any]]:
    """``n`` repeats of one cell on ray and on reactor (reactor 20x faster), values 1% apart."""
    rows = []
    for backend, scale in (("ray", 20.0), ("reactor", 1.0)):
        for repeat in range(n):
            value = scale * (1 + 0.01 * repeat)
            rows.append(row(backend=backend, repeat=repeat, value=value, **fields))
    return rows


def write_results(path: Path, rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> Path:
    """``rows`` in a new results file with ``columns`` (default: every installed workload's)."""
    writer = ResultWriter(path, columns or EVERY_COLUMN)
    writer.write(rows)
    writer.close()
    return path


def cell_rows(cell: Cell, settings: RunSettings, metrics: dict[str, float]) -> list[dict[str, Any]]:
    """The rows ``run`` writes for ``cell`` had it measured ``metrics`` (name -> value; the units are
    the workload's), made by the runner's own row builder, so that they carry every column a real
    cell's rows do. Work and result digest are the same on every backend: the cells are comparable."""
    units = dict(registry.WORKLOADS[cell.workload].metrics_for(cell.params))
    result = CellResult(
        status="ok",
        metrics={metric: (value, units[metric]) for metric, value in metrics.items()},
        startup_s=1.0,
        rounds=3,
        warmup=1,
        work=2,
        result_digest="b1b62c9d930a0683",
    )
    return runner._outcome(cell, settings, result, time.perf_counter()).rows
