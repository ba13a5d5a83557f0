"""The report's tables and what they share: a ``Section`` (one table of one workload's metric, rows
by one parameter, backends as columns, ratios to ``ray``, the paper's numbers beside them), the marks
of unequal work, and Markdown escaping. Ratios to ``ray`` are ratios of medians measured in the same
run(s); where a metric is a rate (steps/s), the ratio is still "this backend / ray" of that rate, so
> 1 means faster there. A row whose backends did unequal work or got different results
(``harness.analysis.checks``), and each ratio between two of them that disagree, is marked ``UNEQUAL_MARK``;
the table's note says which and why.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from harness.analysis.aggregate import CellSummary, Params, with_sizes
from harness.analysis.checks import Mismatch
from harness.analysis.stats import CONFIDENCE_INTERVAL, MIN_SAMPLES_FOR_CI, RANGE

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

    def render(
        self, summaries: list[CellSummary], paper: list[dict[str, str]], unequal: Sequence[Mismatch] = ()
    ) -> str | None:
        """Its table (``section_table``), or None when the summaries hold none of its cells."""
        return section_table(self, summaries, paper, unequal)


def paper_value(
    figure: str, column: str, convert: Callable[[float, str], float] = lambda v, _: v
) -> Callable:
    def lookup(paper: list[dict[str, str]], backend: str, row: str) -> str:
        for p in paper:
            if p["figure"] == figure and p["backend"] == backend and _same(p[column], row):
                return f"{convert(float(p['value']), row):.4g}"
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


def section_table(
    section: Section,
    summaries: list[CellSummary],
    paper: list[dict[str, str]],
    unequal: Sequence[Mismatch] = (),
) -> str | None:
    """A Markdown table for one section, or None when the summaries hold none of its cells; rows and
    ratios that ``unequal`` touches are marked, and a note under the table says why."""
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
    backends = sorted({s.backend for s in cells}, key=lambda b: (b != "ray", b))
    by_key = {(s.param(section.row_param), s.backend): s for s in cells}
    rows = sorted({s.param(section.row_param) for s in cells}, key=_sort_key)
    paper_backends = [b for b in ("ray", "lf") if section.paper is not None]
    kinds = {s.summary.interval for s in cells}
    kind = kinds.pop() if len(kinds) == 1 else "interval"
    header = [section.row_param, *(f"{b} median [{kind}]" for b in backends)]
    header += [f"{b} / ray" for b in backends if b != "ray" and "ray" in backends]
    header += [f"paper {b}" for b in paper_backends]
    lines = ["| " + " | ".join(map(table_cell, header)) + " |", "|" + "---|" * len(header)]
    marks = _Unequal.of(unequal)
    for row in rows:
        ray = by_key.get((row, "ray"))
        cells_text = []
        for backend in backends:
            s = by_key.get((row, backend))
            named = "" if kind != "interval" or not s else f"{s.summary.interval} "
            cells_text.append(
                f"{s.summary.median:.4g} [{named}{s.summary.low:.4g}, {s.summary.high:.4g}]" if s else ""
            )
        for backend in backends:
            if backend == "ray" or "ray" not in backends:
                continue
            s = by_key.get((row, backend))
            cells_text.append(
                marks.mark(
                    ratio_text(s.summary.median, ray.summary.median),
                    [(s.workload, s.params)],
                    (backend, "ray"),
                )
                if s and ray
                else ""
            )
        cells_text += [section.paper(paper, b, row) for b in paper_backends] if section.paper else []
        label = marks.mark(row, {(s.workload, s.params) for (r, _), s in by_key.items() if r == row})
        lines.append("| " + " | ".join(map(table_cell, [label, *cells_text])) + " |")
    unit = cells[0].unit
    basis = evidence_note(cells)
    title, note = with_sizes(section.title, cells), with_sizes(section.note, cells)
    return f"### {title} ({unit})\n\n{note} {basis}{marks.note()}\n\n" + "\n".join(lines) + "\n"


def ratio_text(numerator: float, denominator: float) -> str:
    """``a / b`` to three digits; no ratio (blank) where the denominator is 0."""
    return f"{numerator / denominator:.3g}" if denominator else ""


def evidence_note(cells: list[CellSummary]) -> str:
    """What a table rests on: repeats per cell, measured rounds per repeat, and what its intervals are."""
    repeats = _span(s.summary.n for s in cells)
    rounds = _span(int(r) for s in cells for r in s.rounds if r.isdigit())
    of_rounds = f", each of {rounds} measured round(s)" if rounds else ""
    kinds = {s.summary.interval for s in cells}
    if kinds == {RANGE}:
        intervals = "brackets give the range (min-max) of the repeats, too few for a 95% interval"
    elif kinds == {CONFIDENCE_INTERVAL}:
        intervals = "brackets give 95% bootstrap confidence intervals of the median"
    else:
        intervals = (
            f"brackets give a 95% bootstrap interval where a cell has {MIN_SAMPLES_FOR_CI} or more "
            "repeats, else the range (min-max) of its repeats"
        )
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
