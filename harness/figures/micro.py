"""The runtime micro-benchmarks' figure: per-reaction and per-round cost of each reactor runtime."""

from __future__ import annotations

from matplotlib.axes import Axes

from harness.analysis.aggregate import CellSummary
from workloads import micro
from workloads.base import Workload

from .common import Figure, backend_style, of_workload


def _draw_micro(ax: Axes, summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    bars = [s for s in summaries if s.workload == "micro" and s.metric in micro.MEDIAN_METRICS]
    if not bars:
        return False
    bars.sort(key=lambda s: (s.param("program"), int(s.param("size") or 0), s.param("workers"), s.backend))
    labels, values, errors, colors = [], [], [], []
    for s in bars:
        per_reaction = s.metric == micro.PER_REACTION[0]
        scale = 1.0 if per_reaction else 1000.0
        unit = "us/reaction" if per_reaction else "us/round"
        labels.append(
            f"{s.param('program')} N={s.param('size')} W={s.param('workers')}\n{s.backend} ({unit})"
        )
        values.append(s.summary.median * scale)
        errors.append(
            [(s.summary.median - s.summary.low) * scale, (s.summary.high - s.summary.median) * scale]
        )
        colors.append(backend_style(s.backend)[0])
    positions = range(len(values))
    ax.barh(list(positions), values, xerr=list(zip(*errors, strict=True)), color=colors, capsize=3)
    ax.set_yticks(list(positions), labels, fontsize=7)
    ax.set(
        xscale="log", xlabel="microseconds (log)", title="Reactor runtimes: per-reaction and per-round cost"
    )
    return True


FIGURES = [Figure("micro_runtime", _draw_micro, workload="micro")]


def figures(workload: Workload) -> list[Figure]:
    return of_workload(FIGURES, workload)
