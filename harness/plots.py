"""One PNG per paper figure: measured backends with 95% intervals, and the paper's numbers beside them.

Each figure is a small function over per-cell summaries (``aggregate``) and the paper's rows; a figure
whose data is absent from the given CSVs is not drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from .aggregate import CellSummary
from .paper import PAPER_LABELS, paper_series

BACKEND_STYLE = {
    "sequential": ("tab:gray", "s"),
    "ray": ("tab:blue", "o"),
    "ray-compiled": ("tab:cyan", "v"),
    "reactor": ("tab:red", "D"),
    "xronos": ("tab:green", "^"),
}
PAPER_STYLE = {"ray": "tab:blue", "lf": "tab:red"}


@dataclass(frozen=True)
class Figure:
    name: str
    draw: Callable[[Axes, list[CellSummary], list[dict[str, str]]], bool]
    """Draws on the axes; returns False when there is no measured data for it."""


def _series(
    summaries: list[CellSummary], workload: str, metric: str, x_param: str, **fixed: str
) -> dict[str, list[tuple[float, CellSummary]]]:
    series: dict[str, list[tuple[float, CellSummary]]] = {}
    for s in summaries:
        if s.workload != workload or s.metric != metric:
            continue
        if any(s.param(k) != v for k, v in fixed.items()):
            continue
        series.setdefault(s.backend, []).append((float(s.param(x_param)), s))
    return {b: sorted(points, key=lambda p: p[0]) for b, points in series.items()}


def _plot_measured(ax: Axes, series: dict[str, list[tuple[float, CellSummary]]], scale: float = 1.0) -> None:
    for backend, points in sorted(series.items()):
        color, marker = BACKEND_STYLE.get(backend, ("black", "x"))
        xs = [x for x, _ in points]
        ys = [s.summary.median * scale for _, s in points]
        low = [(s.summary.median - s.summary.low) * scale for _, s in points]
        high = [(s.summary.high - s.summary.median) * scale for _, s in points]
        ax.errorbar(
            xs, ys, yerr=[low, high], color=color, marker=marker, capsize=3, label=f"{backend} (measured)"
        )


def _plot_paper(ax: Axes, paper: list[dict[str, str]], figure: str, x_column: str) -> None:
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


def _draw_vs_size(ax: Axes, summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    series = _series(summaries, "collectives", "round_ms", "object_bytes", n_actors="16", variant="copy")
    if not series:
        return False
    _plot_measured(ax, series)
    _plot_paper(ax, paper, "bcast_gather_vs_size", "object_bytes")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="object size (bytes)",
        ylabel="broadcast + gather round (ms)",
        title="Broadcast & gather vs object size (16 workers, copy)",
    )
    return True


def _draw_vs_actors(ax: Axes, summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    series = _series(
        summaries, "collectives", "round_ms", "n_actors", object_bytes="10485760", variant="copy"
    )
    if not series:
        return False
    _plot_measured(ax, series)
    _plot_paper(ax, paper, "bcast_gather_vs_actors", "n_actors")
    ax.set(
        yscale="log",
        xlabel="number of workers (actors / reactors)",
        ylabel="broadcast + gather round (ms)",
        title="Broadcast & gather vs workers (10 MiB, copy)",
    )
    return True


def _draw_micro(ax: Axes, summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    bars = [s for s in summaries if s.workload == "micro"]
    if not bars:
        return False
    bars.sort(key=lambda s: (s.param("program"), int(s.param("size") or 0), s.param("workers"), s.backend))
    labels, values, errors, colors = [], [], [], []
    for s in bars:
        scale = 1.0 if s.metric == "us_per_reaction" else 1000.0
        unit = "us/reaction" if s.metric == "us_per_reaction" else "us/round"
        labels.append(
            f"{s.param('program')} N={s.param('size')} W={s.param('workers')}\n{s.backend} ({unit})"
        )
        values.append(s.summary.median * scale)
        errors.append(
            [(s.summary.median - s.summary.low) * scale, (s.summary.high - s.summary.median) * scale]
        )
        colors.append(BACKEND_STYLE.get(s.backend, ("black", "x"))[0])
    positions = range(len(values))
    ax.barh(list(positions), values, xerr=list(zip(*errors, strict=True)), color=colors, capsize=3)
    ax.set_yticks(list(positions), labels, fontsize=7)
    ax.set(
        xscale="log", xlabel="microseconds (log)", title="Reactor runtimes: per-reaction and per-round cost"
    )
    return True


FIGURES = [
    Figure("bcast_gather_vs_size", _draw_vs_size),
    Figure("bcast_gather_vs_actors", _draw_vs_actors),
    Figure("micro_runtime", _draw_micro),
]


def render(summaries: list[CellSummary], paper: list[dict[str, str]], out: Path) -> list[Path]:
    """Writes every figure that has data; returns the paths written."""
    written = []
    for figure in FIGURES:
        fig, ax = plt.subplots(figsize=(8, 5.5))
        try:
            if not figure.draw(ax, summaries, paper):
                continue
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
            ax.grid(True, which="both", alpha=0.3)
            fig.tight_layout()
            path = out / f"{figure.name}.png"
            fig.savefig(path, dpi=110)
            written.append(path)
        finally:
            plt.close(fig)
    return written
