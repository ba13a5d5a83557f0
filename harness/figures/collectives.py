"""The collectives figures: broadcast & gather round time against object size and against workers."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes

from harness.analysis.aggregate import CellSummary
from workloads.base import Workload

from .common import Figure, of_workload, plot_measured, plot_paper, series


def _draw_collectives(figure: str, x_param: str, axis: dict[str, str], **fixed: str) -> Callable:
    """A round-time-vs-parameter figure of the collectives workload, with the paper's curve."""

    def draw(ax: Axes, summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
        found = series(summaries, "collectives", "round_ms", x_param, **fixed)
        if not found:
            return False
        plot_measured(ax, found)
        plot_paper(ax, paper, figure, x_param)
        ax.set(yscale="log", ylabel="broadcast + gather round (ms)", **axis)
        return True

    return draw


_draw_vs_size = _draw_collectives(
    "bcast_gather_vs_size",
    "object_bytes",
    {
        "xscale": "log",
        "xlabel": "object size (bytes)",
        "title": "Broadcast & gather vs object size (16 workers, copy)",
    },
    n_actors="16",
    variant="copy",
)
_draw_vs_actors = _draw_collectives(
    "bcast_gather_vs_actors",
    "n_actors",
    {
        "xlabel": "number of workers (actors / reactors)",
        "title": "Broadcast & gather vs workers (10 MiB, copy)",
    },
    object_bytes="10485760",
    variant="copy",
)

FIGURES = [
    Figure("bcast_gather_vs_size", _draw_vs_size, workload="collectives"),
    Figure("bcast_gather_vs_actors", _draw_vs_actors, workload="collectives"),
]


def figures(workload: Workload) -> list[Figure]:
    return of_workload(FIGURES, workload)
