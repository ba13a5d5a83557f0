"""``harness plot``'s figures: one PNG per figure, measured backends with their intervals, and the
paper's numbers beside them where it has some.

Each workload names the module that draws its figures (``Workload.figure_module``): one module per
workload family here (``collectives``, ``micro``, ``sampling``, ``multi_agent``, ``training``,
``cluster``), or one in a plugin's own package; a workload that names none gets the generic figure
built from its declarations (``generic``). ``common`` holds what they share and imports none of
them. A figure whose data is absent from the given CSVs is not drawn.
"""

from __future__ import annotations

import importlib
import io
from pathlib import Path

import matplotlib.pyplot as plt

from harness.analysis.aggregate import CellSummary
from harness.analysis.stats import CONFIDENCE_INTERVAL, RANGE, intervals_label
from workloads.base import Workload

from .. import registry
from . import generic
from .common import Figure

GENERATOR = "python -m harness plot"
"""Written into every PNG's ``Software`` text field: ``plot`` replaces only files that carry it."""


def figures_of(workload: Workload) -> list[Figure]:
    """The figures a workload declares (its ``figure_module``'s ``figures``), or the generic one."""
    if workload.figure_module is None:
        return generic.figures(workload)
    return list(importlib.import_module(workload.figure_module).figures(workload))


def declared_figures(workloads: list[Workload] | None = None) -> list[Figure]:
    """Every installed workload's figures (or those of ``workloads``), in report order."""
    chosen = workloads if workloads is not None else list(registry.WORKLOADS.values())
    ordered = sorted(chosen, key=lambda w: (w.report_order, w.name))
    return [figure for workload in ordered for figure in figures_of(workload)]


def error_bar_caption(summaries: list[CellSummary], workload: str) -> str:
    """What a figure's markers and error bars are: medians of how many repeats, and whether the bars
    are 95% bootstrap intervals or (below 5 repeats) only the range (min-max) of the repeats, named as
    the report names them."""
    counts = sorted({s.summary.n for s in summaries if s.workload == workload or not workload})
    if not counts:
        return ""
    repeats = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    bars = intervals_label(counts)
    if bars == RANGE:
        bars = f"{RANGE} of the repeats"
    elif bars == CONFIDENCE_INTERVAL:
        bars = f"{CONFIDENCE_INTERVAL} of the median"
    return f"Markers: medians of {repeats} repeat(s) per point; error bars: {bars}."


def is_figure(path: Path) -> bool:
    """Whether the file is a PNG this command wrote."""
    from PIL import Image, UnidentifiedImageError  # matplotlib's own dependency

    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get("Software") == GENERATOR
    except (OSError, UnidentifiedImageError):
        return False


def render(
    summaries: list[CellSummary],
    paper: list[dict[str, str]],
    figures: list[Figure] | None = None,
) -> dict[str, bytes]:
    """Draws every figure that has data (``figures``: the installed workloads' declared ones):
    name -> PNG. Nothing is written here: the caller checks every target before it replaces any file."""
    drawn = {}
    for figure in declared_figures() if figures is None else figures:
        panels = figure.panels(summaries) if callable(figure.panels) else figure.panels
        if panels < 1:
            continue
        fig, axes = plt.subplots(1, panels, figsize=(8 * panels, 5.5), squeeze=False)
        ax = axes[0][0] if panels == 1 else list(axes[0])
        try:
            if not figure.draw(ax, summaries, paper):
                continue
            for each in axes[0]:
                if each.get_legend_handles_labels()[0]:
                    each.legend(fontsize=8)
                each.grid(True, which="both", alpha=0.3)
            caption = error_bar_caption(summaries, figure.workload)
            fig.text(0.005, 0.005, caption, fontsize=7, alpha=0.8)
            fig.tight_layout(rect=(0, 0.03, 1, 1))
            png = io.BytesIO()
            fig.savefig(png, format="png", dpi=110, metadata={"Software": GENERATOR, "Description": caption})
            drawn[figure.name] = png.getvalue()
        finally:
            plt.close(fig)
    return drawn
