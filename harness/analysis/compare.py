"""Before/after comparison of two runs: per point, backend and objective, did the time change?

Two runs drift apart (another load on the machine, another day), so a change is only called where
its interval allows: the change is the ratio of the two runs' medians with the interval of
``stats.ratio_interval`` (a bootstrap over repeats from 5 of them, else the range of the ratios of
any two repeats, named so), and a verdict is given only when the whole interval lies beyond
``min_speed``; otherwise the change is "no change at this noise". Every change is a *time* ratio,
after over before (a rate's before over after), so that > 1 is slower whatever the metric.

A comparison means something only when both runs did the same work: a point whose ``work`` differs
between the runs, or whose backends did unequal work within a run (``checks.mismatches``), is
refused. Whether the backends at a point also got the same result digests is shown, not refused: it
says whether they computed the same thing, which only a harness that digests results can say.
Same-run ratios (``gate.PAIRS``) say which side of a ratio moved, which a ratio baseline cannot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness import registry
from harness.results import is_curve, params_of
from harness.results.point import Params, cell_params, point_name
from workloads.base import Objective

from .checks import RESULTS, WORK, mismatches
from .gate import PAIRS
from .stats import Summary, ratio_interval, summarize

FASTER, SLOWER, NO_CHANGE = "faster", "slower", "no change at this noise"
BEFORE, AFTER = "before", "after"

Point = tuple[str, Params]
"""(workload, cell parameters): what two runs must both hold to be compared."""


@dataclass(frozen=True)
class Change:
    """One backend's objective at one point, before and after."""

    workload: str
    params: Params
    backend: str
    metric: str
    unit: str
    before: Summary
    after: Summary
    change: Summary
    """Time after / time before (a rate's before / after): > 1 is slower. Its interval is named."""
    verdict: str
    same: str
    """Whether the backends at this point computed the same thing in both runs (``equality``)."""

    @property
    def point(self) -> str:
        return point_name(self.workload, self.params)

    def slower_than(self, fraction: float) -> bool:
        """Slower by more than ``fraction`` even at the interval's optimistic end (as the gate judges)."""
        return self.change.low > 1.0 + fraction


@dataclass(frozen=True)
class RatioMove:
    """A same-run ratio (time of subject / time of reference) in both runs, and which side moved."""

    workload: str
    params: Params
    subject: str
    reference: str
    metric: str
    before: float
    after: float
    moved: str

    @property
    def point(self) -> str:
        return point_name(self.workload, self.params)


@dataclass(frozen=True)
class Comparison:
    changes: list[Change]
    ratios: list[RatioMove]
    only_before: list[str]
    only_after: list[str]
    refused: list[str]
    """One line per point that cannot be compared: the work differs between or within the runs."""
    not_compared: list[str]
    """One line per backend and point that is in both runs but failed or was absent in one of them."""


def declared_objectives() -> dict[str, tuple[Objective, ...]]:
    """workload -> its objectives (with their direction), from the registry."""
    return {name: w.objectives for name, w in registry.WORKLOADS.items()}


def verdict(change: Summary, min_speed: float = 0.0) -> str:
    """``slower``/``faster`` when the whole interval of the time ratio is beyond ``1 + min_speed``
    (``1 / (1 + min_speed)``), else ``no change at this noise``."""
    if change.low > 1.0 + min_speed:
        return SLOWER
    if change.high < 1.0 / (1.0 + min_speed):
        return FASTER
    return NO_CHANGE


def compare(
    before: Iterable[Mapping[str, str]],
    after: Iterable[Mapping[str, str]],
    objectives: Mapping[str, tuple[Objective, ...]] | None = None,
    min_speed: float = 0.0,
) -> Comparison:
    """Compares the objectives of every point and backend the two runs (each one run's rows) hold."""
    objectives = declared_objectives() if objectives is None else objectives
    runs = {BEFORE: _Run(list(before), objectives), AFTER: _Run(list(after), objectives)}
    old, new = runs[BEFORE], runs[AFTER]
    common = sorted(old.points & new.points, key=_name)
    refused: list[str] = []
    changes: list[Change] = []
    ratios: list[RatioMove] = []
    not_compared: list[str] = []
    for point in common:
        reason = _refusal(point, old, new)
        if reason:
            refused.append(f"{_name(point)}: {reason}")
            continue
        same = _equality(point, old, new)
        workload, params = point
        if not objectives.get(workload):
            not_compared.append(f"{_name(point)}: {workload} declares no objective (no better way known)")
        by_backend: dict[tuple[str, str], Change] = {}
        for backend in sorted(old.backends[point] | new.backends[point]):
            for objective in objectives.get(workload, ()):
                key = (point, backend, objective.metric)
                problem = _absence(key, old, new)
                if problem:
                    not_compared.append(f"{_name(point)} {backend} {objective.metric}: {problem}")
                    continue
                a, b = old.values[key], new.values[key]
                ratio = ratio_interval(a, b) if objective.higher_is_better else ratio_interval(b, a)
                unit, judged = new.units[key], verdict(ratio, min_speed)
                change = Change(workload, params, backend, objective.metric, unit,
                                summarize(a), summarize(b), ratio, judged, same)  # fmt: skip
                changes.append(change)
                by_backend[(backend, objective.metric)] = change
        ratios += _ratio_moves(point, by_backend, objectives.get(workload, ()))
    return Comparison(
        changes,
        ratios,
        only_before=[_name(p) for p in sorted(old.points - new.points, key=_name)],
        only_after=[_name(p) for p in sorted(new.points - old.points, key=_name)],
        refused=refused,
        not_compared=not_compared,
    )


class _Run:
    """One run's rows, indexed: the values of each objective, the work and the failures per point."""

    def __init__(self, rows: list[Mapping[str, str]], objectives: Mapping[str, tuple[Objective, ...]]):
        self.values: dict[tuple[Point, str, str], list[float]] = defaultdict(list)
        self.units: dict[tuple[Point, str, str], str] = {}
        self.failed: dict[tuple[Point, str], str] = {}
        self.work: dict[Point, set[str]] = defaultdict(set)
        self.backends: dict[Point, set[str]] = defaultdict(set)
        self.digested: dict[Point, bool] = defaultdict(bool)
        for row in rows:
            if is_curve(row):
                continue
            point = (row["workload"], cell_params(params_of(row)))
            self.backends[point].add(row["backend"])
            if row["status"] != "ok":
                self.failed[(point, row["backend"])] = f"{row['status']}: {row['error']}".rstrip(": ")
                continue
            if row.get(WORK):
                self.work[point].add(str(row[WORK]))
            if row.get(RESULTS):
                self.digested[point] = True
            metrics = {o.metric for o in objectives.get(row["workload"], ())}
            if row["metric"] in metrics and row["value"]:
                key = (point, row["backend"], row["metric"])
                self.values[key].append(float(row["value"]))
                self.units[key] = row["unit"]
        self.points = set(self.backends)
        self.mismatches = defaultdict(list)
        for mismatch in mismatches(rows):
            self.mismatches[(mismatch.workload, mismatch.params)].append(mismatch)


def _name(point: Point) -> str:
    return point_name(*point)


def _refusal(point: Point, old: _Run, new: _Run) -> str | None:
    """Why the point's two runs did not do the same work, or None."""
    for when, run in ((BEFORE, old), (AFTER, new)):
        unequal = [m for m in run.mismatches[point] if m.column == WORK]
        if unequal:
            detail = ", ".join(f"{b}={sorted(v)}" for b, v in unequal[0].values)
            return f"unequal work within the {when} run ({detail})"
    if old.work[point] and new.work[point] and old.work[point] != new.work[point]:
        return (
            f"the runs did different work (before {', '.join(sorted(old.work[point]))}, "
            f"after {', '.join(sorted(new.work[point]))})"
        )
    return None


def _equality(point: Point, old: _Run, new: _Run) -> str:
    """``work+results`` (equal work and identical result digests across the backends in both runs),
    ``work`` (equal work; no digests recorded), or ``NO: different results before/after``."""
    differing = [when for when, run in ((BEFORE, old), (AFTER, new))
                 if any(m.column == RESULTS for m in run.mismatches[point])]  # fmt: skip
    if differing:
        return f"NO: results differ {'+'.join(differing)}"
    return "work+results" if old.digested[point] and new.digested[point] else "work"


def _absence(key: tuple[Point, str, str], old: _Run, new: _Run) -> str | None:
    """Why a backend's objective at a point has no values in one of the runs, or None."""
    point, backend, _ = key
    for when, run in ((BEFORE, old), (AFTER, new)):
        if not run.values.get(key):
            why = run.failed.get((point, backend)) or "not measured"
            return f"{why} ({when})"
    return None


def _ratio_moves(
    point: Point, changes: Mapping[tuple[str, str], Change], objectives: tuple[Objective, ...]
) -> list[RatioMove]:
    """The gate's pairs present at the point in both runs, on the first objective."""
    if not objectives:
        return []
    metric, rate = objectives[0].metric, objectives[0].higher_is_better
    moves = []
    for subject, reference in PAIRS:
        a, b = changes.get((subject, metric)), changes.get((reference, metric))
        if a is None or b is None:
            continue
        before = _time_ratio(a.before.median, b.before.median, rate)
        after = _time_ratio(a.after.median, b.after.median, rate)
        moved = [f"{c.backend} {c.verdict}" for c in (a, b) if c.verdict != NO_CHANGE]
        moves.append(RatioMove(*point, subject, reference, metric, before, after,
                               ", ".join(moved) or "neither (no change at this noise)"))  # fmt: skip
    return moves


def _time_ratio(subject: float, reference: float, rate: bool) -> float:
    return reference / subject if rate else subject / reference
