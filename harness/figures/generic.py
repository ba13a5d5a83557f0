"""The figure of a workload that declares no figure module of its own, built from its declarations.

Its primary metric (``Workload.primary_metric``) against its first integer parameter, one series per
backend with the medians and their intervals, one panel per combination of its other parameters
(those its cells hold); a workload with no integer parameter gets its first parameter as categories.
A plugin workload thus gets a figure from its module and entry point alone.
"""

from __future__ import annotations

import re

from matplotlib.axes import Axes

from harness.analysis.aggregate import CellSummary
from workloads.base import SERIES_PARAMS, Workload

from .common import Figure, plot_measured

MAX_TICKS = 12
"""Up to this many measured values of the x parameter get a tick each; more are left to matplotlib."""


def _axes_params(workload: Workload) -> tuple[str, bool, tuple[str, ...]]:
    """(x parameter, whether it is numeric, the parameters that split the panels)."""
    declared = [p for p in workload.parameters if p.name not in SERIES_PARAMS]
    numeric = [p.name for p in declared if p.type is int]
    x = numeric[0] if numeric else (declared[0].name if declared else "")
    return x, bool(numeric), tuple(p.name for p in declared if p.name != x)


def _cells(summaries: list[CellSummary], workload: Workload) -> list[CellSummary]:
    """The workload's cells of its primary metric, not the points of a curve inside a cell."""
    metric = workload.primary_metric
    return [s for s in summaries if s.workload == workload.name and s.metric == metric and not s.on_curve]


def _panels(cells: list[CellSummary], others: tuple[str, ...]) -> list[tuple[tuple[str, str], ...]]:
    return sorted({tuple((name, s.param(name)) for name in others) for s in cells})


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def figure_for(workload: Workload) -> Figure:
    x, declared_numeric, others = _axes_params(workload)
    metric = workload.primary_metric
    objective = next((o for o in workload.objectives if o.metric == metric), None)
    better = ""
    if objective is not None:
        better = ", higher is better" if objective.higher_is_better else ", lower is better"

    def panels(summaries: list[CellSummary]) -> int:
        return len(_panels(_cells(summaries, workload), others))

    def draw(axes: Axes | list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
        cells = _cells(summaries, workload)
        if not cells or not x:
            return False
        combos = _panels(cells, others)
        for ax, combo in zip(axes if isinstance(axes, list) else [axes], combos, strict=True):
            chosen = [s for s in cells if all(s.param(k) == v for k, v in combo)]
            categories = sorted({s.param(x) for s in chosen})
            # drawn as categories where a value is not a number: a blank one of rows without it
            numeric = declared_numeric and all(_is_number(c) for c in categories)
            series: dict[str, list[tuple[float, CellSummary]]] = {}
            for s in chosen:
                position = float(s.param(x)) if numeric else float(categories.index(s.param(x)))
                series.setdefault(s.backend, []).append((position, s))
            plot_measured(ax, {b: sorted(points, key=lambda p: p[0]) for b, points in series.items()})
            if not numeric:
                ax.set_xticks(range(len(categories)), [c or "(blank)" for c in categories], fontsize=8)
            elif len(categories) <= MAX_TICKS:  # an integer parameter: ticks at the values measured
                ax.set_xticks([float(c) for c in categories], categories)
            fixed = " ".join(f"{k}={v}" for k, v in combo if v)
            ax.set(
                xlabel=x,
                ylabel=f"{metric} ({chosen[0].unit}{better})",
                title=f"{workload.name}: {metric}" + (f"\n{fixed}" if fixed else ""),
            )
        return True

    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{workload.name}_{metric}")
    return Figure(name, draw, panels=panels, workload=workload.name)


def figures(workload: Workload) -> list[Figure]:
    return [figure_for(workload)]
