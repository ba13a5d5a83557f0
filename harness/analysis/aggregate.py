"""Groups result rows into per-cell summaries (median and interval over repeats: see ``stats``).

Shared by the end-of-run table, the plots and the report, so they all agree on what a number means.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from harness.results.point import Params, on_curve, params_of

from .stats import Summary, summarize


@dataclass(frozen=True)
class CellSummary:
    workload: str
    params: Params
    backend: str
    metric: str
    unit: str
    summary: Summary
    rounds: tuple[str, ...] = ()
    """The measured rounds per repeat its rows record (one value, unless repeats differed)."""
    digests: frozenset[str] = frozenset()
    """The ``result_digest`` values its repeats produced (empty where the workload digests nothing)."""

    def param(self, name: str) -> str:
        return dict(self.params).get(name, "")

    @property
    def on_curve(self) -> bool:
        """A point of a curve inside a cell (``round``, ``episode``, ...), not a cell's own summary."""
        return on_curve(self.params)


def summarize_rows(rows: Iterable[dict[str, str]]) -> list[CellSummary]:
    """One summary per (workload, params, backend, metric) over its ok rows."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    units: dict[tuple, str] = {}
    rounds: dict[tuple, set[str]] = defaultdict(set)
    digests: dict[tuple, set[str]] = defaultdict(set)
    for row in rows:
        if row["status"] != "ok" or not row["value"]:
            continue
        key = (row["workload"], params_of(row), row["backend"], row["metric"])
        groups[key].append(float(row["value"]))
        units[key] = row["unit"]
        if row.get("rounds"):
            rounds[key].add(row["rounds"])
        if row.get("result_digest"):
            digests[key].add(row["result_digest"])
    return [
        CellSummary(
            workload,
            params,
            backend,
            metric,
            units[key],
            summarize(values),
            rounds=tuple(sorted(rounds[key])),
            digests=frozenset(digests[key]),
        )
        for key, values in groups.items()
        for (workload, params, backend, metric) in [key]
    ]


def with_sizes(template: str, cells: Iterable[CellSummary]) -> str:
    """``template`` with each ``{parameter}`` replaced by the values the cells hold (``2/15`` where
    they hold several): a figure's or a table's title states the sizes of the run it shows, not the
    sizes of the run it was first written for."""
    chosen = list(cells)

    def values(match: re.Match[str]) -> str:
        found = {s.param(match.group(1)) for s in chosen} - {""}
        return "/".join(sorted(found, key=_numeric_first)) or "?"

    return re.sub(r"\{(\w+)\}", values, template)


def _numeric_first(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)
