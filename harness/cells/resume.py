"""What ``run --resume`` may continue: a file of this harness version, and cells of the run it holds.

A results file holds one run: one suite, one profile, one choice of backends, reactor threads and
federate processes, workload options (``--set``) and repeats (``--repeats``), recorded in every row
(``suite``, ``profile``, ``run_backends``, ``run_threads``, ``run_processes``, ``run_options``,
``run_repeats``; blank: the profile's repeats). Resuming it with
other settings would mix measurements of different sizes or configurations under one run id, so a
resume may only run cells of that run's plan (all of them, or a subset: fewer backends, one suite of
``all``) with the same profile, threads and processes; more repeats than the run had are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness import registry
from harness.errors import UsageError

from .plan import build_plan

ALL_BACKENDS = "all"
"""``run_backends`` of a run that did not name its backends: every backend that applies."""
OPTION_SEPARATOR = ";"


@dataclass(frozen=True)
class RunChoice:
    """The settings that decide which cells a run measures and how (its identity in the file)."""

    suite: str
    profile: str
    backends: tuple[str, ...] | None
    """None: every backend that applies."""
    threads: int
    processes: int
    options: tuple[tuple[str, str], ...] = ()
    """``--set NAME=VALUE`` options, sorted by name."""
    repeats: int | None = None
    """``--repeats N``; None: each workload's repeats for the profile. A resume without ``--repeats``
    takes the run's, so that a run of 3 repeats cut in its first is not ended after one."""

    @property
    def repeats_text(self) -> str:
        return str(self.repeats) if self.repeats is not None else ""

    @property
    def backends_text(self) -> str:
        return ",".join(self.backends) if self.backends is not None else ALL_BACKENDS

    @property
    def options_text(self) -> str:
        return OPTION_SEPARATOR.join(f"{name}={value}" for name, value in self.options)

    def describe(self) -> str:
        options = f", options {self.options_text}" if self.options else ""
        repeats = f", repeats {self.repeats}" if self.repeats is not None else ""
        return (
            f"suite {self.suite!r}, profile {self.profile!r}, backends {self.backends_text}, "
            f"threads {self.threads}, processes {self.processes}{options}{repeats}"
        )


def header_difference(header: list[str], expected: list[str]) -> str | None:
    """How a file's columns differ from this version's, in words, or None when they are the same."""
    if header == expected:
        return None
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        return f"it lacks column {missing[0]!r}{more}"
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        return f"it has column {extra[0]!r} this version does not write{more}"
    if len(header) != len(set(header)):
        repeated = next(c for c in header if header.count(c) > 1)
        return f"its column {repeated!r} appears twice"
    position = next(i for i, (a, b) in enumerate(zip(header, expected, strict=True)) if a != b)
    found, wanted = header[position], expected[position]
    return f"its columns are in another order (column {position + 1} is {found!r}, not {wanted!r})"


def recorded_choice(rows: list[dict[str, str]], path: Path) -> RunChoice:
    """The settings of the run a file holds; a file mixing several runs cannot be resumed."""
    columns = ("suite", "profile", "run_backends", "run_threads", "run_processes", "run_options", "run_id")
    suite, profile, backends, threads, processes, options, _ = (_single(rows, c, path) for c in columns)
    if not (threads.isdigit() and processes.isdigit()) or suite not in registry.SUITES:
        raise UsageError(f"--resume {path}: its rows do not record a run of this version (suite {suite!r})")
    pairs = [item.partition("=") for item in options.split(OPTION_SEPARATOR) if item]
    return RunChoice(
        suite,
        profile,
        None if backends == ALL_BACKENDS else tuple(backends.split(",")),
        int(threads),
        int(processes),
        tuple((name, value) for name, _, value in pairs),
        _recorded_repeats(rows, path),
    )


def _recorded_repeats(rows: list[dict[str, str]], path: Path) -> int | None:
    """The most repeats the run was asked for (a resume may have asked for more than its start did);
    None where it took the profile's."""
    given = {row.get("run_repeats", "") for row in rows} - {""}
    if any(not value.isdigit() for value in given):
        raise UsageError(f"--resume {path}: its rows record repeats {', '.join(sorted(given))}")
    return max(map(int, given)) if given else None


def _single(rows: list[dict[str, str]], column: str, path: Path) -> str:
    seen = sorted({row[column] for row in rows})
    if len(seen) != 1:
        raise UsageError(f"--resume {path}: its rows disagree on {column} ({', '.join(seen)})")
    return seen[0]


def check_resumable(path: Path, recorded: RunChoice, requested: RunChoice) -> None:
    """Refuses, naming what differs, a resume that would run cells outside the recorded run."""
    differences = []
    if requested.profile != recorded.profile:
        differences.append(f"profile {requested.profile!r} is not the run's {recorded.profile!r}")
    if requested.threads != recorded.threads:
        differences.append(f"--threads {requested.threads} is not the run's {recorded.threads}")
    if requested.processes != recorded.processes:
        differences.append(f"--processes {requested.processes} is not the run's {recorded.processes}")
    if requested.options != recorded.options:
        differences.append(f"--set {requested.options_text or '(none)'} is not the run's")
    if not differences:
        run_cells = _cell_keys(recorded)
        outside = [key for key in _cell_keys(requested) if key not in run_cells]
        if outside:
            if requested.suite != recorded.suite:
                differences.append(f"suite {requested.suite!r} is not the run's {recorded.suite!r}")
            if requested.backends_text != recorded.backends_text:
                differences.append(f"backends {requested.backends_text} are not the run's")
            differences.append(f"{len(outside)} cell(s) such as {outside[0]} are not in that run")
    if differences:
        raise UsageError(f"--resume {path} holds a run of {recorded.describe()}: " + "; ".join(differences))


def _cell_keys(choice: RunChoice) -> set[str]:
    backends = list(choice.backends) if choice.backends is not None else None
    plan = build_plan(choice.suite, choice.profile, backends, 1, dict(choice.options))
    return {cell.key for cell in plan}
