"""The report's tables of every measured median: the numbers the project's documents cite.

The paper sections of the report show one metric per figure; the documents (results/README.md)
discuss more: the headline points' time ratios between every pair of backends the comparison is
about, and each workload's other metrics (broadcast-only calls, the compute/communication split of a
step, start-up, the runtimes' per-tag costs). They were hand-made tables that no command regenerated;
here they are computed from the same per-cell summaries as the rest of the report, so that
``make reference`` rewrites them with the run. Nothing here is keyed by workload name: every
(workload, metric) the CSVs hold gets a table, and the headline points are the ones each workload
calls headline (``Workload.is_headline``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from harness.analysis.aggregate import CellSummary, Params
from harness.analysis.gate import gated_objectives
from workloads.base import SERIES_PARAMS, Workload

from .. import registry
from .tables import plain

HEADLINE_PAIRS: tuple[tuple[str, str], ...] = (
    ("reactor", "ray"),
    ("reactor", "sequential"),
    ("reactor", "xronos"),
    ("reactor", "ray-compiled"),
    ("ray-compiled", "ray"),
    ("reactor-fed", "ray"),
    ("reactor-fed", "reactor"),
    ("reactor-ft", "reactor"),
    ("xronos-ft", "xronos"),
    ("pykka", "ray"),
    ("reactor", "pykka"),
    ("pykka", "reactor-fed"),
    ("pykka", "sequential"),
    ("dask", "ray"),
)
"""(subject, reference): time(subject) / time(reference) at each headline point, < 1 when the
subject is faster; a pair with a backend the run lacks is left out of the table."""

PERCENTILE = "_p90"
"""A metric ``m`` with a sibling ``m_p90`` (per-tag distributions) shows the p90 beside its median."""
PERCENTILE_SUFFIXES = ("_p10", "_p90", "_p99")


def _is_curve(summary: CellSummary) -> bool:
    return summary.on_curve


def _row(texts: Sequence[str], cell: Callable[[str], str]) -> str:
    return "| " + " | ".join(cell(t) for t in texts) + " |"


def _point_key(params: Params) -> tuple[tuple[str, int, float, str], ...]:
    """Points in numeric order of their values (2 before 16), names and text values by name."""
    key = []
    for name, value in params:
        try:
            key.append((name, 0, float(value), ""))
        except ValueError:
            key.append((name, 1, 0.0, value))
    return tuple(key)


def _label(params: Params) -> str:
    return " ".join(f"{k}={v}" for k, v in params)


def _typed(workload: Workload, params: Params) -> dict[str, object]:
    """A CSV point (strings) with each declared parameter in its declared type, as the workload's
    own methods expect it."""
    types = {p.name: p.type for p in workload.parameters}
    return {k: types.get(k, str)(v) for k, v in params}


def _headline(workload: str, params: Params) -> bool:
    known = registry.WORKLOADS.get(workload)
    if known is None:
        return False
    try:
        return known.is_headline(_typed(known, params))
    except (KeyError, ValueError, TypeError):
        return False


def headline_table(summaries: Sequence[CellSummary], cell: Callable[[str], str] = str) -> str | None:
    """Time ratios of medians at every headline point of a gated workload (rates inverted); ``cell``
    makes a text from the CSVs safe for a table cell."""
    objectives = gated_objectives()
    points: dict[tuple[str, Params], dict[str, float]] = defaultdict(dict)
    for s in summaries:
        gated = objectives.get(s.workload)
        if gated is None or s.metric != gated.metric or _is_curve(s) or s.summary.median <= 0:
            continue
        if not _headline(s.workload, s.params):
            continue
        median = s.summary.median
        points[(s.workload, s.params)][s.backend] = 1.0 / median if gated.higher_is_better else median
    if not points:
        return None
    measured = {b for times in points.values() for b in times}
    pairs = [(a, b) for a, b in HEADLINE_PAIRS if a in measured and b in measured]
    if not pairs:
        return None
    keyed = sorted(points, key=lambda p: (registry.WORKLOADS[p[0]].report_order, p[0], _point_key(p[1])))
    header = ["point", "metric", *(f"{a} / {b}" for a, b in pairs)]
    lines = [_row(header, cell), "|" + "---|" * len(header)]
    for workload, params in keyed:
        times = points[(workload, params)]
        ratios = [
            plain(times[a] / times[b], 3) if a in times and b in times and times[b] else "" for a, b in pairs
        ]
        lines.append(_row([f"{workload} {_label(params)}", objectives[workload].metric, *ratios], cell))
    return (
        "### Headline points: time ratios\n\n"
        "Time ratios of medians measured in the same run (a rate's inverse), < 1 when the first backend "
        "is faster, at each workload's headline points (the points every backend runs in the quick "
        "profile).\n\n" + "\n".join(lines) + "\n"
    )


def median_tables(summaries: Sequence[CellSummary], cell: Callable[[str], str] = str) -> list[str]:
    """One table per (workload, metric): a row per parameter point, a column per backend, each cell
    the median over repeats (with the p90 beside it where the metric has one)."""
    by_metric: dict[tuple[str, str], list[CellSummary]] = defaultdict(list)
    for s in summaries:
        if not _is_curve(s):
            by_metric[(s.workload, s.metric)].append(s)
    tables = []
    for (workload, metric), cells in sorted(by_metric.items()):
        if metric.endswith(PERCENTILE_SUFFIXES):
            continue
        p90 = {(s.params, s.backend): s for s in by_metric.get((workload, metric + PERCENTILE), [])}
        backends = sorted({s.backend for s in cells})
        by_key = {(s.params, s.backend): s for s in cells}
        rows = sorted({s.params for s in cells}, key=_point_key)
        header = ["point", *backends]
        lines = [_row(header, cell), "|" + "---|" * len(header)]
        for params in rows:
            texts = []
            for backend in backends:
                s = by_key.get((params, backend))
                tail = p90.get((params, backend))
                text = plain(s.summary.median) if s else ""
                texts.append(f"{text} ({plain(tail.summary.median)})" if s and tail else text)
            lines.append(_row([_label(params) or "(one point)", *texts], cell))
        repeats = sorted({s.summary.n for s in cells})
        spread = str(repeats[0]) if len(repeats) == 1 else f"{repeats[0]}-{repeats[-1]}"
        percentile = "; in parentheses the median of the repeats' p90" if p90 else ""
        tables.append(
            f"### {cell(workload)}: {cell(metric)} ({cell(cells[0].unit)})\n\n"
            f"Median of {spread} repeat(s) per cell{percentile}.\n\n" + "\n".join(lines) + "\n"
        )
    return tables


def curve_end_tables(summaries: Sequence[CellSummary], cell: Callable[[str], str] = str) -> list[str]:
    """One table per (workload, curve metric): each cell's curve at its last point (the last round or
    episode it recorded), the median over repeats there, and which point that was."""
    ends: dict[tuple[str, str], dict[tuple[Params, str], tuple[float, str, CellSummary]]] = defaultdict(dict)
    for s in summaries:
        series = [(k, v) for k, v in s.params if k in SERIES_PARAMS]
        if not series:
            continue
        name, value = min(series, key=lambda kv: SERIES_PARAMS.index(kv[0]))
        point = tuple((k, v) for k, v in s.params if k not in SERIES_PARAMS)
        key = (point, s.backend)
        seen = ends[(s.workload, s.metric)].get(key)
        if seen is None or float(value) > seen[0]:
            ends[(s.workload, s.metric)][key] = (float(value), f"{name}={value}", s)
    tables = []
    for (workload, metric), found in sorted(ends.items()):
        backends = sorted({b for _, b in found})
        points = sorted({p for p, _ in found}, key=_point_key)
        lines = [_row(["point", *backends], cell), "|" + "---|" * (len(backends) + 1)]
        for point in points:
            texts = []
            for backend in backends:
                end = found.get((point, backend))
                texts.append(f"{plain(end[2].summary.median)} ({end[1]})" if end else "")
            lines.append(_row([_label(point) or "(one point)", *texts], cell))
        unit = next(iter(found.values()))[2].unit
        tables.append(
            f"### {cell(workload)}: {cell(metric)} at the end of its curve ({cell(unit)})\n\n"
            "Median over repeats at each cell's last curve point (in parentheses).\n\n"
            + "\n".join(lines)
            + "\n"
        )
    return tables


def tables_section(summaries: Sequence[CellSummary], cell: Callable[[str], str] = str) -> str | None:
    """The report's section of every measured median; None when empty (the headline ratios head the
    report, ``headline_table``). ``cell`` (the report's escaping) makes names and values from the CSVs
    safe in a Markdown table."""
    parts = [*median_tables(summaries, cell), *curve_end_tables(summaries, cell)]
    if not parts:
        return None
    return "## All measured medians\n\n" + "\n".join(parts)
