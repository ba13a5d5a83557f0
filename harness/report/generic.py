"""The report section of a workload that declares no report module, built from its declarations.

One table per combination of its parameters other than the row parameter (its first integer
parameter, else its first), rows by that parameter, its primary metric (``Workload.primary_metric``)
per backend with intervals: the same table a family's section gives, so a plugin workload gets one
from its module and entry point alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.aggregate import CellSummary
from harness.analysis.checks import Mismatch
from workloads.base import SERIES_PARAMS, Workload

from .tables import Section


class GenericSection:
    """A workload's tables, one per combination of its other parameters found in the summaries."""

    def __init__(self, workload: Workload):
        self.workload = workload
        declared = [p for p in workload.parameters if p.name not in SERIES_PARAMS]
        numeric = [p.name for p in declared if p.type is int]
        self.row_param = numeric[0] if numeric else (declared[0].name if declared else "")
        self.others = tuple(p.name for p in declared if p.name != self.row_param)

    def render(
        self,
        summaries: list[CellSummary],
        paper: list[dict[str, str]],
        unequal: Sequence[Mismatch] = (),
        reference: str | None = None,
    ) -> str | None:
        metric, name = self.workload.primary_metric, self.workload.name
        cells = [s for s in summaries if s.workload == name and s.metric == metric]
        combos = sorted({tuple((k, s.param(k)) for k in self.others) for s in cells})
        tables = []
        for combo in combos:
            fixed = " ".join(f"{k}={v}" for k, v in combo if v)
            section = Section(
                f"{name}{f' ({fixed})' if fixed else ''}: {metric}",
                name,
                metric,
                self.row_param,
                dict(combo),
                f"{self.workload.description}. Not in the paper.",
            )
            tables.append(section.render(summaries, paper, unequal, reference))
        found = [t for t in tables if t]
        return "\n".join(found) if found else None


def sections(workload: Workload) -> list[GenericSection]:
    return [GenericSection(workload)]
