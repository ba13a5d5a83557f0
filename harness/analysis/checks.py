"""Checks over result rows: equal work across backends (DESIGN.md §6.3) and identical results (same
seeds must give the same rewards, observations, actions and weights on every backend, the vector
references included: they seed and step the workers' environments exactly as the workers do).

One module owns the rule because three commands act on it, and a time ratio between cells that did
different work means nothing: ``run`` reports each mismatch of its run and exits 1, ``check`` fails
a gate case whose two backends disagree, ``report`` marks the cells and ratios a mismatch touches.
Work and digests are compared within one run and one parameter point, over the ``ok`` rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from harness.results.point import Params, cell_params, params_of, point_name

WORK = "work"
RESULTS = "result_digest"
"""The two columns compared: what a cell did (env steps, bytes, ...) and what it ended with."""


@dataclass(frozen=True)
class Mismatch:
    """One run's parameter point where the backends (or one backend's repeats) recorded more than
    one value of ``column``."""

    column: str
    run_id: str
    workload: str
    params: Params
    values: tuple[tuple[str, frozenset[str]], ...]
    """backend -> the distinct values its ok rows recorded, by backend name."""

    def splits(self, a: str, b: str) -> bool:
        """Whether cells of backends ``a`` and ``b`` (``a == b``: a's repeats) recorded different
        values here, so that a ratio between them compares different work or different runs of it."""
        recorded = dict(self.values)
        return len(recorded.get(a, frozenset()) | recorded.get(b, frozenset())) > 1

    def involves(self, backend: str) -> bool:
        """Whether the backend's cell disagrees with another backend's, or its repeats among themselves."""
        return any(self.splits(backend, other) for other, _ in self.values)

    @property
    def message(self) -> str:
        what = "unequal work" if self.column == WORK else "different results"
        detail = ", ".join(f"{backend}={sorted(values)}" for backend, values in self.values)
        return f"{what} at {point_name(self.workload, self.params)}: {detail}"


def mismatches(
    rows: Iterable[dict[str, Any]], digest_backends: Collection[str] | None = None
) -> list[Mismatch]:
    """Every (run, point) whose ok rows recorded more than one ``work``, and every one where the
    ``digest_backends`` (default: every backend) recorded more than one result digest."""
    seen: dict[str, dict[tuple, dict[str, set[str]]]] = {
        WORK: defaultdict(lambda: defaultdict(set)),
        RESULTS: defaultdict(lambda: defaultdict(set)),
    }
    for row in rows:
        if row["status"] != "ok":
            continue
        # a curve's rows (``param_round``, ...) are their cell's: one mismatch per cell, not per point
        cell = cell_params(params_of(row))
        key = (str(row.get("run_id") or ""), row["workload"], cell)
        for column in (WORK, RESULTS):
            value = row.get(column)
            if value is None or value == "":
                continue
            if column == RESULTS and digest_backends is not None and row["backend"] not in digest_backends:
                continue
            seen[column][key][row["backend"]].add(str(value))
    found = []
    for column, points in seen.items():
        for (run_id, workload, params), by_backend in sorted(points.items()):
            if len(set().union(*by_backend.values())) > 1:
                values = tuple(sorted((b, frozenset(v)) for b, v in by_backend.items()))
                found.append(Mismatch(column, run_id, workload, params, values))
    return found
