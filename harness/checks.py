"""Checks over a run's rows: equal work across backends (DESIGN.md §6.3), identical results where
the same worker code ran on several backends (same seeds must give the same rewards)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


def point_of(row: dict[str, str]) -> tuple[str, ...]:
    """A parameter point independent of backend: workload plus every param_* value."""
    return (row["workload"], *(f"{k}={v}" for k, v in sorted(row.items()) if k.startswith("param_") and v))


def unequal_work(rows: Iterable[dict[str, str]]) -> list[str]:
    """Messages for parameter points where backends (or repeats) did different amounts of work."""
    seen: dict[tuple[str, ...], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        if row["status"] == "ok" and row.get("work"):
            seen[point_of(row)][row["backend"]].add(row["work"])
    problems = []
    for point, by_backend in seen.items():
        values = set().union(*by_backend.values())
        if len(values) > 1:
            detail = ", ".join(f"{b}={sorted(v)}" for b, v in sorted(by_backend.items()))
            problems.append(f"unequal work at {' '.join(point)}: {detail}")
    return problems


def unequal_results(rows: Iterable[dict[str, str]], backends: set[str]) -> list[str]:
    """Messages for parameter points where ``backends`` produced different result digests."""
    seen: dict[tuple[str, ...], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        if row["status"] == "ok" and row.get("result_digest") and row["backend"] in backends:
            seen[point_of(row)][row["backend"]].add(row["result_digest"])
    problems = []
    for point, by_backend in seen.items():
        if len(set().union(*by_backend.values())) > 1:
            detail = ", ".join(f"{b}={sorted(v)}" for b, v in sorted(by_backend.items()))
            problems.append(f"different results at {' '.join(point)}: {detail}")
    return problems
