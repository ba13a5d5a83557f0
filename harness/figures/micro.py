"""The runtime micro-benchmarks' figure: per-reaction and per-round cost of each reactor runtime.

One panel per program, drawn from the data: the cost against the parameter the run varied (the
bank's size N, or the worker threads W), as medians with their intervals on a log scale; a program
measured at one point only gets one dot per backend on a linear scale. Titles name the fixed sizes
the run used, so a smoke run's figure says its own sizes.
"""

from __future__ import annotations

from matplotlib.axes import Axes

from harness.analysis.aggregate import CellSummary
from workloads import micro
from workloads.base import Workload

from .common import Figure, backend_style, of_workload, plot_measured

LOG_SPREAD = 10.0
"""A panel whose largest median is more than this many times its smallest gets a log y axis."""
VARIED = (("size", "N"), ("workers", "W"))
"""The program's parameters a figure may put on its x axis, and their short names in titles."""


def _cells(summaries: list[CellSummary]) -> dict[str, list[CellSummary]]:
    """program -> its cells of its median metric (not the p10/p90/p99 distribution rows)."""
    found: dict[str, list[CellSummary]] = {}
    for s in summaries:
        if s.workload == micro.Micro.name and s.metric in micro.MEDIAN_METRICS and not s.on_curve:
            found.setdefault(s.param("program"), []).append(s)
    return dict(sorted(found.items()))


def _panels(summaries: list[CellSummary]) -> int:
    return len(_cells(summaries))


def _draw_program(ax: Axes, program: str, cells: list[CellSummary]) -> None:
    per_reaction = cells[0].metric == micro.PER_REACTION[0]
    scale, unit = (1.0, "us per reaction") if per_reaction else (1000.0, "us per round")
    varied = [(name, short) for name, short in VARIED if len({s.param(name) for s in cells}) > 1]
    fixed = [f"{short}={cells[0].param(name)}" for name, short in VARIED if (name, short) not in varied]
    if varied:
        (x, short), *others = varied
        series: dict[str, list[tuple[float, CellSummary]]] = {}
        for s in cells:
            label = " ".join([s.backend, *(f"{o}={s.param(n)}" for n, o in others)])
            series.setdefault(label, []).append((float(s.param(x)), s))
        plot_measured(ax, {b: sorted(p, key=lambda q: q[0]) for b, p in series.items()}, scale)
        values = sorted({float(s.param(x)) for s in cells})
        ax.set_xscale("log", base=2)
        ax.set_xticks(values, [f"{v:g}" for v in values])
        medians = [s.summary.median for s in cells if s.summary.median > 0]
        spread = max(medians) / min(medians) if medians else 1.0
        logarithmic = spread > LOG_SPREAD  # a log axis only where the values span decades
        ax.set(
            yscale="log" if logarithmic else "linear",
            xlabel=f"{x} ({short})",
            ylabel=f"{unit} (log)" if logarithmic else unit,
        )
        if not logarithmic:
            ax.set_ylim(0, None)
    else:
        ordered = sorted(cells, key=lambda s: s.summary.median)
        for position, s in enumerate(ordered):
            color, marker = backend_style(s.backend)
            low, high = (
                (s.summary.median - s.summary.low) * scale,
                (s.summary.high - s.summary.median) * scale,
            )
            ax.errorbar([position], [s.summary.median * scale], yerr=[[low], [high]], color=color,
                        marker=marker, capsize=3, linestyle="none")  # fmt: skip
        ax.set_xticks(range(len(ordered)), [s.backend for s in ordered], fontsize=8)
        ax.set(ylabel=unit, ylim=(0, None))
    ax.set_title(f"{program} ({', '.join(fixed)}): {unit}" if fixed else f"{program}: {unit}")


def _draw_micro(axes: Axes | list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    programs = _cells(summaries)
    if not programs:
        return False
    for ax, (program, cells) in zip(
        axes if isinstance(axes, list) else [axes], programs.items(), strict=True
    ):
        _draw_program(ax, program, cells)
    return True


FIGURES = [Figure("micro_runtime", _draw_micro, panels=_panels, workload="micro")]


def figures(workload: Workload) -> list[Figure]:
    return of_workload(FIGURES, workload)
