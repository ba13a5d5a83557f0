"""The cluster suite's figures: bytes on the wire against the pattern's minimum, and the projection.

``cluster_wire_bytes.png``: per collectives point (1 KiB, 10 MiB copy) and host count, each backend's
``wire_bytes_per_round`` as a multiple of ``wire_min_bytes_per_round`` (1 = the bytes the pattern
needs and no more), on both link rates. ``cluster_projection.png``: the model of
``harness.analysis.projection`` (labelled a projection in the figure): round time against one-way link
latency at 1, 10 and 100 Gbit/s, one panel per workload point on 2 hosts.
"""

from __future__ import annotations

from matplotlib.axes import Axes

from harness.analysis import projection
from harness.analysis.aggregate import CellSummary
from workloads.base import Workload

from .common import Figure, backend_style, of_workload

COLLECTIVES = "cluster-collectives"
RATE_STYLE = {1.0: ":", 10.0: "-", 100.0: "--"}
PROJECTION_PANELS = 4


def _wire_ratios(summaries: list[CellSummary]) -> dict[tuple[str, str, str], dict[str, float]]:
    """(object_bytes, hosts, link) -> backend -> wire bytes / minimum, for collectives cells."""
    ratios: dict[tuple[str, str, str], dict[str, float]] = {}
    for (workload, params, backend), metrics in projection.cell_medians(summaries).items():
        if workload != COLLECTIVES:
            continue
        wire, minimum = metrics.get("wire_bytes_per_round"), metrics.get("wire_min_bytes_per_round")
        if wire is None or not minimum:
            continue
        values = dict(params)
        link = f"{int(values['link_mbit']) // 1000} Gbit/s" if values.get("link_mbit") else "unlimited"
        key = (values.get("object_bytes", ""), values.get("hosts", ""), link)
        ratios.setdefault(key, {})[backend] = wire / minimum
    return ratios


def _draw_wire(ax: Axes, summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    ratios = _wire_ratios(summaries)
    if not ratios:
        return False
    keys = sorted(ratios, key=lambda k: (int(k[0] or 0), int(k[1] or 0), k[2]))
    backends = sorted({b for values in ratios.values() for b in values})
    width = 0.8 / max(1, len(backends))
    for j, backend in enumerate(backends):
        color, _ = backend_style(backend)
        xs = [i + j * width for i, key in enumerate(keys) if backend in ratios[key]]
        ys = [ratios[key][backend] for key in keys if backend in ratios[key]]
        ax.bar(xs, ys, width=width, color=color, label=backend)
    ax.axhline(1.0, color="black", linewidth=1, label="the pattern's minimum")
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(keys))])
    ax.set_xticklabels([f"{_size(k[0])}\n{k[1]} hosts\n{k[2]}" for k in keys], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("wire bytes per round / minimum")
    ax.set_title("Broadcast & gather (copy, 16 workers): bytes on the wire against the minimum")
    return True


def _size(text: str) -> str:
    size = int(text or 0)
    return f"{size // 2**20} MiB" if size >= 2**20 else f"{size // 2**10} KiB"


def _draw_projection(axes: list[Axes], summaries: list[CellSummary], paper: list[dict[str, str]]) -> bool:
    bases = [b for b in projection.bases(summaries) if b.hosts == "2" and b.busiest_link_bytes > 0]
    points = sorted({(b.workload, b.label) for b in bases})[: len(axes)]
    if not points:
        return False
    for ax, (workload, label) in zip(axes, points, strict=False):
        for basis in (b for b in bases if (b.workload, b.label) == (workload, label)):
            color, _ = backend_style(basis.backend)
            for rate, style in RATE_STYLE.items():
                ys = [basis.round_ms_at(lat, rate) for lat in projection.LATENCIES_MS]
                shown = f"{basis.backend} {rate:g} Gbit/s"
                ax.plot(projection.LATENCIES_MS, ys, linestyle=style, color=color, marker="o", label=shown)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("one-way link latency (ms)")
        ax.set_ylabel("round time (ms), projected")
        ax.set_title(f"PROJECTION (model), 2 hosts: {workload}\n{label}", fontsize=9)
    for ax in axes[len(points) :]:
        ax.set_visible(False)
    return True


FIGURES = [
    Figure("cluster_wire_bytes", _draw_wire, workload=COLLECTIVES),
    Figure("cluster_projection", _draw_projection, panels=PROJECTION_PANELS, workload=COLLECTIVES),
]
"""Both draw every cluster workload's cells; they are listed under the collectives one (whose cells
their captions describe), so that they are drawn once."""


def figures(workload: Workload) -> list[Figure]:
    return of_workload(FIGURES, workload)
