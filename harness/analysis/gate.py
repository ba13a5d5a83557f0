"""The performance gate: ratios between backends measured in the same run, against a committed baseline.

Absolute times on shared machines drift by 30% or more, but two backends measured in the same run,
interleaved, drift together; so the gate compares *time ratios* (``reactor``/``ray``, ...) per
parameter point, each with a bootstrap interval over repeats, and fails a case only when even the
interval's optimistic end is worse than the baseline ratio by more than the case's tolerance, when
a case that passed in the baseline now errors, when its two backends did unequal work or got
different results (``harness.analysis.checks``), or when it was not measured at all (a backend absent from
the run, unavailable or skipped): a gate that passes without measuring would let any regression
through. ``allow_missing`` turns the last rule off, for a run that measures a subset on purpose.
A ratio is only ever formed within one run (``run_id``): two runs drift apart, one run's backends
drift together. Absolute times are shown, never gated.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness import registry
from harness.errors import UsageError
from harness.outputs import write_atomically
from harness.results import is_failure
from harness.results.point import Params, is_curve, params_of, point_name
from workloads.base import Objective

from .checks import mismatches
from .stats import Summary, median, ratio_interval

DEFAULT_TOLERANCE = 0.25
PAIRS = (
    ("reactor", "ray"),
    ("reactor", "sequential"),
    ("reactor", "xronos"),
    ("ray-compiled", "ray"),
    ("reactor-ft", "reactor"),
)
"""(subject, reference): the ratio time(subject) / time(reference); lower is better for the subject."""
CI_SUITE, CI_BACKENDS, CI_REPEATS = "smoke", ("sequential", "reactor", "ray"), 3
"""The cases CI gates: `make gate` runs exactly these (a test checks the Makefile says the same), and
so do the ``pytest -m perf`` tests. Three repeats of the smoke sizes take about two minutes."""
BASELINE_COLUMNS = ["case", "ratio", "low", "high", "tolerance", "status"]


def gated_objectives() -> dict[str, Objective]:
    """workload -> the objective the gate compares it on: the first of each workload that declares
    itself ``gated`` (a rate is inverted, so that every ratio is a time ratio)."""
    return {name: w.objectives[0] for name, w in registry.WORKLOADS.items() if w.gated and w.objectives}


MISSING = "missing"
"""Status of a case whose backend ran no cell here (unavailable or skipped): nothing was measured."""
UNEQUAL = "unequal"
"""Status of a case whose two backends did unequal work or got different results: no fair ratio."""


@dataclass(frozen=True)
class Case:
    key: str
    ratio: Summary | None
    status: str
    """``ok``; ``error`` when a cell of either backend failed at this point (or measured no positive
    time); ``unequal`` when they did unequal work or got different results; ``missing`` when one of
    them was unavailable or skipped."""
    medians: tuple[float, float] | None = None
    """Absolute median times of (subject, reference), for the reader; never gated."""
    reason: str = ""
    """For a case that is not ok: why, in one line."""


@dataclass(frozen=True)
class Verdict:
    case: str
    passed: bool
    detail: str
    measured: bool = True
    """False for a baseline case this run did not measure (it fails unless missing cases are allowed)."""


def split_runs(rows: Iterable[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """The rows of each run (``run_id``), in the order the runs first appear."""
    runs: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        runs.setdefault(str(row.get("run_id") or ""), []).append(row)
    return runs


def measured_cases(rows: Iterable[dict[str, str]]) -> dict[str, Case]:
    """Every (point, pair) of the gated workloads that one run's rows hold, with its ratio or why it
    has none. Rows of several runs are refused: a pair whose sides come from two runs is no case."""
    runs = split_runs(rows)
    if len(runs) > 1:
        raise UsageError(f"rows of {len(runs)} runs ({', '.join(runs)}): a ratio is formed within one run")
    run = next(iter(runs.values()), [])
    times: dict[tuple[Params, str, str], list[float]] = defaultdict(list)
    failed: dict[tuple[Params, str, str], str] = {}
    absent: dict[tuple[Params, str, str], str] = {}
    objectives = gated_objectives()
    for row in run:
        gated = objectives.get(row["workload"])
        if gated is None or is_curve(row):
            continue
        metric, is_rate = gated.metric, gated.higher_is_better
        key = (params_of(row), row["workload"], row["backend"])
        if is_failure(row):
            failed[key] = f"{row['backend']} {row['status']}: {row['error']}"
        elif row["status"] in ("unavailable", "skipped"):
            absent[key] = f"{row['backend']} {row['status']}: {row['error']}"
        elif row["status"] == "ok" and row["metric"] == metric and row["value"]:
            value = float(row["value"])
            if value <= 0:  # no time ratio can be formed from it
                failed[key] = f"{row['backend']} measured {metric} = {row['value']}"
            else:
                times[key].append(1.0 / value if is_rate else value)
    unequal = defaultdict(list)
    for mismatch in mismatches(run):
        unequal[(mismatch.params, mismatch.workload)].append(mismatch)
    seen = set(times) | set(failed) | set(absent)
    cases = {}
    for params, workload in sorted({(params, workload) for params, workload, _ in seen}, key=_by_name):
        point = point_name(workload, params)
        for subject, reference in PAIRS:
            name = f"{point} {subject}/{reference}"
            a, b = (params, workload, subject), (params, workload, reference)
            if a not in seen or b not in seen:
                continue
            split = [m for m in unequal[(params, workload)] if m.splits(subject, reference)]
            if a in failed or b in failed:
                cases[name] = Case(name, None, "error", reason=failed.get(a) or failed[b])
            elif a in absent or b in absent:
                cases[name] = Case(name, None, MISSING, reason=absent.get(a) or absent[b])
            elif split:
                cases[name] = Case(name, None, UNEQUAL, reason="; ".join(m.message for m in split))
            elif times.get(a) and times.get(b):
                ratio = ratio_interval(times[a], times[b])
                cases[name] = Case(name, ratio, "ok", (median(times[a]), median(times[b])))
    return cases


def _by_name(point: tuple[Params, str]) -> str:
    params, workload = point
    return point_name(workload, params)


def judge(
    current: dict[str, Case], baseline: dict[str, dict[str, str]], allow_missing: bool = False
) -> list[Verdict]:
    """One verdict per baseline case that passed there. A case this run did not measure fails,
    unless ``allow_missing``: then it is listed as not measured and does not count."""
    verdicts = []
    for name, base in sorted(baseline.items()):
        if base["status"] != "ok":
            continue
        case = current.get(name)
        if case is None or case.status == MISSING:
            why = case.reason if case is not None else "no cell of this pair in the run"
            detail = f"passed in the baseline, not measured now ({why})"
            verdicts.append(Verdict(name, allow_missing, detail, measured=False))
            continue
        if case.status == UNEQUAL:
            verdicts.append(
                Verdict(name, False, f"passed in the baseline, not comparable now ({case.reason})")
            )
            continue
        if case.status != "ok" or case.ratio is None:
            verdicts.append(Verdict(name, False, f"passed in the baseline, errors now ({case.reason})"))
            continue
        limit = float(base["ratio"]) * (1.0 + float(base["tolerance"]))
        optimistic = case.ratio.low
        detail = (
            f"ratio {case.ratio.median:.4g} [{case.ratio.interval_text()} of {case.ratio.n} repeats], "
            f"baseline {float(base['ratio']):.4g}, limit {limit:.4g}"
        )
        verdicts.append(Verdict(name, optimistic <= limit, detail))
    return verdicts


def read_baseline(path: Path) -> dict[str, dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or any(c not in reader.fieldnames for c in BASELINE_COLUMNS):
                raise UsageError(f"{path} is not a gate baseline (columns {', '.join(BASELINE_COLUMNS)})")
            baseline = {}
            for line, row in enumerate(reader, start=2):
                problem = _baseline_problem(row)
                if problem:
                    raise UsageError(f"{path}:{line}: {problem}")
                baseline[row["case"]] = row
            return baseline
    except FileNotFoundError:
        raise UsageError(f"{path}: no such baseline") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a baseline") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"{path} is not a readable baseline ({error})") from None


def _baseline_problem(row: dict[str, str | None]) -> str | None:
    """Why a baseline row cannot be judged against, or None. An ``ok`` case needs a positive ratio."""
    if None in row.values():
        return "wrong number of fields"
    if row["status"] not in ("ok", "error"):
        return f"status {row['status']!r} is neither ok nor error"
    try:
        tolerance = float(row["tolerance"] or "nan")
        ratio = float(row["ratio"] or "nan")
    except ValueError:
        return "ratio and tolerance must be numbers"
    if not math.isfinite(tolerance) or tolerance < 0:
        return f"tolerance {row['tolerance']!r} must be a number >= 0"
    if row["status"] == "ok" and not (math.isfinite(ratio) and ratio > 0):
        return f"an ok case needs a positive ratio, not {row['ratio']!r}"
    return None


def calibrate(runs: list[dict[str, Case]], tolerance: float) -> dict[str, dict[str, str]]:
    """Baseline rows from one or more runs of the gated cases, each run as CI would make it.

    The baseline ratio of a case is the median of the runs' median ratios. Its tolerance is at least
    ``tolerance`` and at least twice the largest excess, among these runs, of an interval's optimistic
    end over that ratio: a case whose ratio moves with the machine's load (a 20 us round against a
    Ray call whose latency depends on how fast a sleeping process is woken) gets the room it showed
    it needs, instead of crying wolf, while a steady case keeps the default. A case is ``ok`` when it
    was ok in every run.
    """
    rows: dict[str, dict[str, str]] = {}
    for name in sorted(set().union(*runs)):
        seen = [run[name] for run in runs if name in run]
        ratios = [case.ratio for case in seen if case.status == "ok" and case.ratio is not None]
        if len(ratios) < len(seen):
            rows[name] = {"case": name, "ratio": "", "low": "", "high": "", "tolerance": str(tolerance),
                          "status": "error"}  # fmt: skip
            continue
        ratio = median([r.median for r in ratios])
        excess = max(r.low / ratio - 1.0 for r in ratios)
        rows[name] = {
            "case": name,
            "ratio": f"{ratio:.6g}",
            "low": f"{min(r.low for r in ratios):.6g}",
            "high": f"{max(r.high for r in ratios):.6g}",
            "tolerance": f"{max(tolerance, 2.0 * excess):.3g}",
            "status": "ok",
        }
    return rows


def write_baseline(path: Path, rows: dict[str, dict[str, str]]) -> None:
    """Replaces the baseline in one step (a crash leaves the old one); a bad path is one line."""
    if path.is_dir():
        raise UsageError(f"--baseline {path} is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"--baseline: directory {path.parent} does not exist")

    def write(temporary: Path) -> None:
        with temporary.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=BASELINE_COLUMNS)
            writer.writeheader()
            writer.writerows(rows[name] for name in sorted(rows))

    write_atomically(path, write)
