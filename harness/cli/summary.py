"""The end-of-run summary: a compact pivot of a run's headline numbers, written to stdout.

One block per workload, one line per parameter point, one column per backend holding the median of
the workload's headline metric (its first declared objective, ``Workload.primary_metric``) and its
ratio to a reference backend (``ray`` when the run has it, else ``sequential``). The long table, every
metric of every cell, is the CSV's; this one has to be read at a glance on a terminal, so it uses plain
numbers (21,890, not 2.189e+04) and never takes more than ``WIDTH`` columns. Busy cells (measured while
other processes used more than the threshold, ``harness.analysis.noise``) are marked ``!``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from harness import registry
from harness.analysis.aggregate import CellSummary
from harness.analysis.noise import Noise
from harness.results.point import Params, point_text

WIDTH = 100
"""The widest line the summary prints."""
REFERENCES = ("ray", "sequential")
"""The reference backend of the ratios: the first of these the run measured."""
GAP = 2


def plain(value: float) -> str:
    """A number as a person writes it: thousands separated, about three significant digits, never
    e-notation (21,890; 412.5; 3.42; 0.0312)."""
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.1f}"
    if size >= 1 or size == 0:
        return f"{value:.2f}"
    decimals = 2 - math.floor(math.log10(size))
    return f"{value:.{decimals}f}"


@dataclass(frozen=True)
class _Point:
    params: Params
    values: dict[str, CellSummary]


def _headline(workload: str) -> tuple[str, str]:
    """(metric, 'lower/higher is better' or '') of a workload's headline."""
    declared = registry.WORKLOADS.get(workload)
    if declared is None:
        return "", ""
    if declared.objectives:
        better = "higher" if declared.objectives[0].higher_is_better else "lower"
        return declared.primary_metric, f"{better} is better"
    return declared.primary_metric, ""


def _cell(point: _Point, backend: str, reference: str | None, noise: Noise, workload: str) -> str:
    found = point.values.get(backend)
    if found is None:
        return "-"
    text = plain(found.summary.median)
    base = point.values.get(reference) if reference else None
    if base is not None and backend != reference and base.summary.median:
        text += f" ({plain(found.summary.median / base.summary.median)}x)"
    if noise.is_busy(workload, point.params, backend):
        text += " !"
    return text


def _fit(cells: list[str], widths: list[int], indent: str) -> str:
    return indent + (" " * GAP).join(text.rjust(width) for text, width in zip(cells, widths, strict=True))


def _block(workload: str, points: list[_Point], noise: Noise) -> list[str]:
    metric, better = _headline(workload)
    unit = next(iter(points[0].values.values())).unit
    backends = sorted(
        {b for p in points for b in p.values},
        key=lambda b: (list(registry.BACKENDS).index(b) if b in registry.BACKENDS else 999, b),
    )
    reference = next((r for r in REFERENCES if r in backends), None)
    common = (
        {item for item in points[0].params if all(item in p.params for p in points)}
        if len(points) > 1
        else set(points[0].params)
    )
    shared = tuple(item for item in points[0].params if item in common)
    title = f"{workload} {point_text(shared)}".rstrip()
    about = ", ".join(x for x in (f"{metric} ({unit})", better) if x)
    ratio = f"; (x) = / {reference}" if reference else ""
    lines = textwrap.wrap(f"{title}: {about}{ratio}", WIDTH, subsequent_indent="    ")
    labels = [point_text(tuple(i for i in p.params if i not in common)) or "point" for p in points]
    rows = [[_cell(p, b, reference, noise, workload) for b in backends] for p in points]
    # backends in groups narrow enough for WIDTH: a run of many backends takes several sub-tables
    label_width = min(max(map(len, labels)), WIDTH // 3)
    groups: list[list[int]] = [[]]
    used = label_width
    for index, backend in enumerate(backends):
        width = max(len(backend), *(len(row[index]) for row in rows)) + GAP
        if groups[-1] and used + width > WIDTH - 2:
            groups.append([])
            used = label_width
        groups[-1].append(index)
        used += width
    for group in groups:
        widths = [max(len(backends[i]), *(len(row[i]) for row in rows)) for i in group]
        lines.append(
            _fit(["".ljust(label_width), *(backends[i] for i in group)], [label_width, *widths], "  ")
        )
        for label, row in zip(labels, rows, strict=True):
            cells = [row[i] for i in group]
            if len(label) > label_width:  # a long point name gets its own lines, never a cut one
                lines += textwrap.wrap(label, WIDTH - 2, initial_indent="  ", subsequent_indent="    ")
                label = ""
            lines.append(_fit([label.ljust(label_width), *cells], [label_width, *widths], "  "))
    return lines


def summary_lines(summaries: Iterable[CellSummary], noise: Noise) -> list[str]:
    """The pivot's lines (headline metrics only, curves left out), then the noise lines."""
    points: dict[str, dict[Params, _Point]] = {}
    for s in summaries:
        if s.on_curve or s.metric != _headline(s.workload)[0]:
            continue
        point = points.setdefault(s.workload, {}).setdefault(s.params, _Point(s.params, {}))
        point.values[s.backend] = s
    lines = ["medians over repeats (the CSV holds every metric and interval)"]
    for workload in sorted(points):
        lines += _block(workload, list(points[workload].values()), noise)
    return [*lines, *noise.lines()]
