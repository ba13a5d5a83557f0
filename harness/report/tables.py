"""The report's tables and what they share: a ``Section`` (one table of one workload's metric: per
point, its backends as rows, fastest first, with median, interval, ratio to a reference backend and
the paper's number), the marks of unequal work, plain numbers and Markdown escaping. A table is
narrow so that a backend's median, its interval and its ratio sit on one line a reader scans, not ten
columns apart. Ratios are of medians measured in the same run(s); where a metric is a rate
(steps/s), the ratio is still "this backend / reference" of that rate, so > 1 means faster there,
and the table's note says which way. A row whose backends did unequal work or got different results
(``harness.analysis.checks``), and each ratio between two of them that disagree, is marked
``UNEQUAL_MARK``; the table's note says which and why.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from harness.analysis.aggregate import CellSummary, Params, with_sizes
from harness.analysis.checks import Mismatch
from harness.analysis.paper import PAPER_NAMES
from harness.analysis.stats import CONFIDENCE_INTERVAL, RANGE, intervals_label

from .. import registry

PAPER_ATARI_IDS = {
    "ALE/Pong-v5": "Pong-v4",
    "ALE/MsPacman-v5": "MsPacman-v4",
    "ALE/SpaceInvaders-v5": "SpaceInvaders-v4",
}


@dataclass(frozen=True)
class Section:
    """One paper figure: which cells, which metric, what the rows are, and the paper's matching number."""

    title: str
    workload: str
    metric: str
    row_param: str
    fixed: dict[str, str]
    note: str
    paper: Callable[[list[dict[str, str]], str, str], str] | None = None
    """(paper rows, paper backend, row value) -> the paper's number for that row, in our metric's unit."""
    paper_setup: dict[str, str] = field(default_factory=dict)
    """Parameters the paper ran with (``{"n_envs": "15"}``): the paper's number stands only beside
    points measured with them, since beside a smaller setup it would compare different work."""

    def render(
        self,
        summaries: list[CellSummary],
        paper: list[dict[str, str]],
        unequal: Sequence[Mismatch] = (),
        reference: str | None = None,
    ) -> str | None:
        """Its table (``section_table``), or None when the summaries hold none of its cells."""
        return section_table(self, summaries, paper, unequal, reference)


def paper_value(
    figure: str, column: str, convert: Callable[[float, str], float] = lambda v, _: v
) -> Callable:
    def lookup(paper: list[dict[str, str]], backend: str, row: str) -> str:
        for p in paper:
            if p["figure"] == figure and p["backend"] == backend and _same(p[column], row):
                return plain(convert(float(p["value"]), row))
        return ""

    return lookup


def _same(paper_value: str, ours: str) -> bool:
    if paper_value == ours or PAPER_ATARI_IDS.get(ours) == paper_value:
        return True
    try:
        return float(paper_value) == float(ours)
    except ValueError:
        return False


UNEQUAL_MARK = "†"


@dataclass
class _Unequal:
    """The mismatches of the report's rows, asked per cell and per ratio; remembers the ones it
    marked something for, so that a table's note names exactly those."""

    at: dict[tuple[str, Params], list[Mismatch]]
    used: list[Mismatch] = field(default_factory=list)

    @classmethod
    def of(cls, found: Sequence[Mismatch]) -> _Unequal:
        at: dict[tuple[str, Params], list[Mismatch]] = {}
        for mismatch in found:
            at.setdefault((mismatch.workload, mismatch.params), []).append(mismatch)
        return cls(at)

    def mark(
        self, text: str, points: Iterable[tuple[str, Params]], pair: tuple[str, str] | None = None
    ) -> str:
        """``text`` marked when a mismatch is at one of ``points`` (a row), or (``pair`` given: a
        ratio) when one there splits the pair's two backends; blank stays blank."""
        hits = [m for point in points for m in self.at.get(point, []) if pair is None or m.splits(*pair)]
        self.used += [m for m in hits if m not in self.used]
        return f"{text} {UNEQUAL_MARK}" if hits and text else text

    def note(self) -> str:
        if not self.used:
            return ""
        found = table_cell("; ".join(m.message for m in self.used))  # values from the CSVs, escaped
        return (
            f"\n\n{UNEQUAL_MARK} At marked rows backends did unequal work or got different results, and a "
            f"marked ratio compares two of them that disagree, so it compares different things: {found}."
        )


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


PAPER_COUNTERPART = {"ray": "ray", "reactor": "lf"}
"""Our backend -> the paper's backend whose number stands beside it: Ray beside ``ray``, Lingua Franca
beside ``reactor`` (the runtime with LF's semantics; it is not LF, as the report's preamble says)."""


def default_reference(backends: Iterable[str]) -> str | None:
    """The backend ratios are taken to when the user names none: ``ray`` (the paper's baseline) where
    it was measured, else ``sequential`` (the one every suite runs), else none (no ratio column)."""
    present = set(backends)
    return next((b for b in ("ray", "sequential") if b in present), None)


def higher_is_better(workload: str, metric: str, unit: str) -> bool:
    """Whether a larger median is faster: as the workload's objective for the metric says, else a rate
    by its unit (per second)."""
    known = registry.WORKLOADS.get(workload)
    for objective in known.objectives if known else ():
        if objective.metric == metric:
            return objective.higher_is_better
    return unit.endswith("/s")


def plain(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits as a plain number with thousands separators
    (21,890, 0.007564), never in e-notation, which a reader comparing columns misreads."""
    if not math.isfinite(value):
        return str(value)
    return f"{Decimal(f'{value:.{digits}g}'):,f}"


def section_table(
    section: Section,
    summaries: list[CellSummary],
    paper: list[dict[str, str]],
    unequal: Sequence[Mismatch] = (),
    reference: str | None = None,
) -> str | None:
    """A Markdown table for one section, or None when the summaries hold none of its cells: per point,
    its backends as rows, fastest first, each with its median, interval, ratio to ``reference``
    (default ``default_reference`` of the summaries) and the paper's number where the point has the
    paper's setup. Rows and ratios that ``unequal`` touches are marked, and a note says why."""
    cells = [
        s
        for s in summaries
        if s.workload == section.workload
        and s.metric == section.metric
        and all(s.param(k) == v for k, v in section.fixed.items())
        and not s.on_curve
    ]
    if not cells:
        return None
    reference = reference or default_reference(s.backend for s in summaries)
    by_row: dict[str, list[CellSummary]] = {}
    for s in cells:
        by_row.setdefault(s.param(section.row_param), []).append(s)
    unit = cells[0].unit
    faster_is_higher = higher_is_better(section.workload, section.metric, unit)
    kind = intervals_label(s.summary.n for s in cells)
    named = kind not in (RANGE, CONFIDENCE_INTERVAL)  # mixed: each cell names its own
    with_ratio = reference is not None and any(s.backend == reference for s in cells)
    with_paper = section.paper is not None
    header = [section.row_param, "backend", "median", kind if not named else "interval"]
    header += [f"/ {reference}"] if with_ratio else []
    header += ["paper"] if with_paper else []
    lines = ["| " + " | ".join(map(table_cell, header)) + " |", "|" + "---|" * len(header)]
    marks = _Unequal.of(unequal)
    differs: dict[str, set[str]] = {}
    for row in sorted(by_row, key=_sort_key):
        at_row = by_row[row]
        mismatched = {k for k, v in section.paper_setup.items() if any(s.param(k) != v for s in at_row)}
        for k in mismatched:
            differs.setdefault(k, set()).update(s.param(k) for s in at_row)
        ref = next((s for s in at_row if s.backend == reference), None)
        ranked = sorted(
            at_row, key=lambda s: (-s.summary.median if faster_is_higher else s.summary.median, s.backend)
        )
        for index, s in enumerate(ranked):
            label = marks.mark(row, {(c.workload, c.params) for c in at_row}) if index == 0 else ""
            interval = f"[{plain(s.summary.low)}, {plain(s.summary.high)}]"
            texts = [label, s.backend, plain(s.summary.median)]
            texts.append(f"{s.summary.interval} {interval}" if named else interval)
            if with_ratio:
                ratio = "" if ref is None else ratio_text(s.summary.median, ref.summary.median)
                pair = (s.backend, reference)
                texts.append(ratio if s is ref else marks.mark(ratio, [(s.workload, s.params)], pair))
            if with_paper:
                counterpart = PAPER_COUNTERPART.get(s.backend)
                found = section.paper(paper, counterpart, row) if counterpart and not mismatched else ""
                texts.append(found)
            lines.append("| " + " | ".join(map(table_cell, texts)) + " |")
        measured = {s.backend for s in at_row}
        for ours, theirs in PAPER_COUNTERPART.items() if with_paper and not mismatched else ():
            found = section.paper(paper, theirs, row) if ours not in measured and section.paper else ""
            if found:  # the paper's number stays in the table where this run lacks its counterpart
                blanks = [""] * (len(header) - 3)
                texts = ["", f"{ours} (not measured)", *blanks, found]
                lines.append("| " + " | ".join(map(table_cell, texts)) + " |")
    basis = evidence_note(cells)
    title, note = with_sizes(section.title, cells), with_sizes(section.note, cells)
    paper_note = _paper_note(section, differs) if with_paper else ""
    ratio_note = _ratio_note(reference, faster_is_higher) if with_ratio else ""
    return (
        f"### {title} ({unit})\n\n{note}{paper_note} {basis}{ratio_note}{marks.note()}\n\n"
        + "\n".join(lines)
        + "\n"
    )


def _paper_note(section: Section, differs: dict[str, set[str]]) -> str:
    """Which paper numbers stand beside which backend, and where the run's setup is not the paper's."""
    counterparts = ", ".join(
        f"{PAPER_NAMES[paper]} beside `{ours}`" for ours, paper in PAPER_COUNTERPART.items()
    )
    text = f" Paper column: the paper's {counterparts}."
    if differs:
        setup = ", ".join(f"{k}={section.paper_setup[k]}" for k in sorted(differs))
        ours = ", ".join(f"{k}={'/'.join(sorted(v, key=_sort_key))}" for k, v in sorted(differs.items()))
        text += f" The paper used {setup}, this run {ours}: the paper column is blank at those points."
    return text


def _ratio_note(reference: str | None, faster_is_higher: bool) -> str:
    faster = "> 1" if faster_is_higher else "< 1"
    return f" `/ {reference}`: the median over `{reference}`'s at the same point, {faster} when faster."


def ratio_text(numerator: float, denominator: float) -> str:
    """``a / b`` to three digits; no ratio (blank) where the denominator is 0."""
    return plain(numerator / denominator, 3) if denominator else ""


def evidence_note(cells: list[CellSummary]) -> str:
    """What a table rests on: repeats per cell, measured rounds per repeat, and what its intervals are."""
    repeats = _span(s.summary.n for s in cells)
    rounds = _span(int(r) for s in cells for r in s.rounds if r.isdigit())
    of_rounds = f", each of {rounds} measured round(s)" if rounds else ""
    kinds = {s.summary.interval for s in cells}
    if kinds == {RANGE}:
        intervals = f"intervals: the {RANGE} of the repeats, too few for a {CONFIDENCE_INTERVAL}"
    elif kinds == {CONFIDENCE_INTERVAL}:
        intervals = f"intervals: the {CONFIDENCE_INTERVAL} of the median"
    else:
        intervals = f"intervals: the {intervals_label(s.summary.n for s in cells)} (each cell names its own)"
    return f"Each cell: {repeats} repeat(s){of_rounds}; {intervals}."


def _span(values: Iterable[int]) -> str:
    seen = sorted(set(values))
    if not seen:
        return ""
    return str(seen[0]) if len(seen) == 1 else f"{seen[0]}-{seen[-1]}"


def table_cell(text: str) -> str:
    """Text made safe for one Markdown table cell: a pipe or newline would shift or end the row, and
    HTML in an env id, host name or error text would be rendered by a Markdown viewer."""
    escaped = html.escape(str(text), quote=False).replace("|", "\\|")
    return " ".join(escaped.split())
