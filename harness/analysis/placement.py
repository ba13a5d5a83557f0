"""The 2x2 the harness exists for: {actor model, reactor model} x {threads of one process, processes}.

``pykka`` and ``reactor`` share placement (threads, shared memory, no serialization); ``ray`` and
``reactor-fed`` share placement (processes; serialization or shared memory). At every parameter point
where all four were measured, the time ratios separate the two effects:

- the model at fixed placement: ``reactor / pykka`` on threads, ``reactor-fed / ray`` on processes;
- placement at fixed model: ``pykka / ray`` for actors, ``reactor / reactor-fed`` for reactors
  (threads instead of processes; < 1 means threads are faster).

Pure functions over per-cell summaries (``aggregate``), like the report that renders them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .aggregate import CellSummary
from .gate import gated_objectives

THREADS_ACTOR, THREADS_REACTOR = "pykka", "reactor"
PROCESSES_ACTOR, PROCESSES_REACTOR = "ray", "reactor-fed"
CELLS = (THREADS_REACTOR, THREADS_ACTOR, PROCESSES_REACTOR, PROCESSES_ACTOR)
EFFECTS = (
    ("model, threads", THREADS_REACTOR, THREADS_ACTOR),
    ("model, processes", PROCESSES_REACTOR, PROCESSES_ACTOR),
    ("placement, actors", THREADS_ACTOR, PROCESSES_ACTOR),
    ("placement, reactors", THREADS_REACTOR, PROCESSES_REACTOR),
)
"""(name, subject, reference): time(subject) / time(reference), < 1 when the subject is faster."""


@dataclass(frozen=True)
class Point:
    workload: str
    params: tuple[tuple[str, str], ...]
    metric: str
    unit: str
    times: dict[str, float]
    """backend -> median time per unit of work (a rate's inverse), for the four cells."""
    values: dict[str, float]
    """backend -> the median as measured (a rate stays a rate), for the reader."""

    def ratio(self, subject: str, reference: str) -> float | None:
        denominator = self.times[reference]
        return self.times[subject] / denominator if denominator else None

    @property
    def label(self) -> str:
        return " ".join([self.workload, *(f"{k}={v}" for k, v in self.params)])


def points(summaries: list[CellSummary]) -> list[Point]:
    """Every point of a gated workload where all four cells of the 2x2 have a median."""
    objectives = gated_objectives()
    found: dict[tuple, dict[str, CellSummary]] = {}
    for s in summaries:
        gated = objectives.get(s.workload)
        if gated is None or s.metric != gated.metric or s.backend not in CELLS:
            continue
        if s.on_curve:
            continue
        found.setdefault((s.workload, s.params), {})[s.backend] = s
    result = []
    for (workload, params), cells in sorted(found.items()):
        if set(cells) != set(CELLS) or any(c.summary.median <= 0 for c in cells.values()):
            continue
        metric, is_rate = objectives[workload].metric, objectives[workload].higher_is_better
        values = {b: cells[b].summary.median for b in CELLS}
        times = {b: (1.0 / v if is_rate else v) for b, v in values.items()}
        result.append(Point(workload, params, metric, cells[CELLS[0]].unit, times, values))
    return result
