"""What every figure module shares: the ``Figure`` type, backend styles and the measured/paper series.

A figure is a small function over per-cell summaries (``aggregate``) and the paper's rows; a family's
module (one per workload family) lists its figures, and ``harness.figures`` draws those of the
workloads that name the module (``Workload.figure_module``). This module imports no figure module,
so there is no cycle: they import it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
from matplotlib.axes import Axes

from harness.analysis.aggregate import CellSummary
from harness.analysis.paper import PAPER_LABELS, paper_series
from workloads.base import Workload

from .. import registry

PAPER_STYLE = {"ray": "tab:blue", "lf": "tab:red"}
OTHER_COLORS = ("teal", "goldenrod", "crimson", "slateblue", "saddlebrown", "darkkhaki", "orchid", "dimgray")
OTHER_MARKERS = ("x", "+", "1", "2", "3", "4")


def backend_style(backend: str) -> tuple[str, str]:
    """(color, marker) of a backend: the one it declares (``Backend.plot_style``), or one that stays
    the same from figure to figure and run to run (picked from its name, not from the order it
    appears in) for a backend that declares none or is not installed here."""
    known = registry.BACKENDS.get(backend)
    if known is not None and known.plot_style is not None:
        return known.plot_style
    digest = zlib.crc32(backend.encode())
    return OTHER_COLORS[digest % len(OTHER_COLORS)], OTHER_MARKERS[
        digest // len(OTHER_COLORS) % len(OTHER_MARKERS)
    ]


@dataclass(frozen=True)
class Figure:
    name: str
    draw: Callable[[Axes, list[CellSummary], list[dict[str, str]]], bool]
    """Draws on the axes; returns False when there is no measured data for it."""
    panels: int | Callable[[list[CellSummary]], int] = 1
    """Side-by-side panels; or a function of the summaries, for a figure whose panels follow the data
    (the generic one: a panel per combination of parameters)."""
    workload: str = ""
    """The workload whose cells it draws: its caption says what their error bars are."""


def of_workload(figures: list[Figure], workload: Workload) -> list[Figure]:
    """The figures of a family's list that draw ``workload``'s cells (a module's ``figures``)."""
    return [figure for figure in figures if figure.workload == workload.name]


def series(
    summaries: list[CellSummary], workload: str, metric: str, x_param: str, **fixed: str
) -> dict[str, list[tuple[float, CellSummary]]]:
    """backend -> (x, cell) points of one metric against one parameter, the others ``fixed``."""
    found: dict[str, list[tuple[float, CellSummary]]] = {}
    for s in summaries:
        if s.workload != workload or s.metric != metric:
            continue
        if any(s.param(k) != v for k, v in fixed.items()):
            continue
        found.setdefault(s.backend, []).append((float(s.param(x_param)), s))
    return {b: sorted(points, key=lambda p: p[0]) for b, points in found.items()}


def plot_measured(ax: Axes, series: dict[str, list[tuple[float, CellSummary]]], scale: float = 1.0) -> None:
    for backend, points in sorted(series.items()):
        color, marker = backend_style(backend)
        xs = [x for x, _ in points]
        ys = [s.summary.median * scale for _, s in points]
        low = [(s.summary.median - s.summary.low) * scale for _, s in points]
        high = [(s.summary.high - s.summary.median) * scale for _, s in points]
        ax.errorbar(
            xs, ys, yerr=[low, high], color=color, marker=marker, capsize=3, label=f"{backend} (measured)"
        )


def plot_paper(ax: Axes, paper: list[dict[str, str]], figure: str, x_column: str) -> None:
    for backend, points in paper_series(paper, figure, x_column).items():
        ax.plot(
            [x for x, _ in points],
            [y for _, y in points],
            linestyle="--",
            marker="x",
            color=PAPER_STYLE.get(backend, "black"),
            alpha=0.7,
            label=PAPER_LABELS.get(backend, backend) + " (32-core AWS)",
        )


def plot_paper_converted(
    ax: Axes,
    paper: list[dict[str, str]],
    figure: str,
    x_column: str,
    convert: Callable[[float, str], float],
    suffix: str,
) -> None:
    """The paper's curve of one figure, its values converted to our metric (``convert(value, x)``)."""
    for backend, color in PAPER_STYLE.items():
        points = sorted(
            (float(r[x_column]), convert(float(r["value"]), r[x_column]))
            for r in paper
            if r["figure"] == figure and r["backend"] == backend
        )
        if points:
            ax.plot(*zip(*points, strict=True), "x--", color=color, alpha=0.7,
                    label=f"{PAPER_LABELS[backend]} {suffix}")  # fmt: skip
