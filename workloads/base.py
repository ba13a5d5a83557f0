"""What a workload declares and returns; the harness's runner and the workloads meet here.

Profiles: ``smoke`` (seconds, for tests and CI), ``quick`` (the default; the whole ``all`` suite in
under 20 minutes on 2 cores) and ``paper`` (the paper's sizes and counts).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

from backends.base import Backend, WorkerFactory

PROFILES = ("smoke", "quick", "paper")

Params = dict[str, Any]


@dataclass(frozen=True)
class Parameter:
    """A parameter a workload's rows may carry, as the column ``param_<name>``.

    Declared, not discovered: the results file's columns come from the declarations of the workloads
    a run plans, so a plugin's parameter is written like a built-in's, and a row carrying a parameter
    nobody declared is refused instead of dropped. ``type`` is how a reader loads the column (an
    ``int`` parameter comes back as an integer, not a float).
    """

    name: str
    type: type = str
    doc: str = ""


@dataclass(frozen=True)
class Objective:
    """A primary metric of a workload and which way is better.

    The harness reads objectives instead of keeping a table per workload: the performance gate
    compares the first objective of a ``gated`` workload (a rate's inverse, so every ratio is a time
    ratio), and a workload without a figure or report section of its own gets generic ones drawn
    from its first objective."""

    metric: str
    higher_is_better: bool = False
    """True for a rate (steps/s): the gate and the 2x2 invert it to a time per unit of work."""


SERIES_PARAMETERS = (
    Parameter("round", int, "the round a curve point was taken after"),
    Parameter("episode", int, "the episode count a curve point was taken at"),
    Parameter("env_steps", int, "the env steps done when a curve point was taken"),
)
"""Parameters that place a row on a curve inside a cell (``Measurement.series``), not a cell of its own."""
SERIES_PARAMS = tuple(p.name for p in SERIES_PARAMETERS)


class BadOption(ValueError):
    """An option the user set for a workload is unknown or out of range (the CLI: one line, exit 2)."""


@dataclass
class Measurement:
    """One repeat of one cell: metric -> (value, unit), plus the work done for the equal-work check.

    ``work`` is what the cell did, counted where it was done and never computed from the parameters
    (env steps from the workers' summaries, agent steps from the agents' own counts, gradient steps
    from the learner's): per round (``work_per_round``) where backends may measure different numbers
    of rounds, else for the whole cell; backends at one point must agree on it exactly. Several kinds
    of work are one value (``work_of``).
    """

    metrics: dict[str, tuple[float, str]] = field(default_factory=dict)
    work: int | str | None = None
    rounds: int = 0
    warmup: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    series: list[tuple[dict[str, Any], str, float, str]] = field(default_factory=list)
    """Points of a curve inside one cell (a learning curve, cumulative time every E episodes):
    (extra parameters such as ``{"round": 3}``, metric, value, unit); each becomes a row whose
    ``param_*`` columns include the extra parameters."""

    def add(self, metric: str, value: float, unit: str) -> None:
        self.metrics[metric] = (float(value), unit)

    def add_point(self, at: dict[str, Any], metric: str, value: float, unit: str) -> None:
        self.series.append((at, metric, float(value), unit))


def work_per_round(total: int, rounds: int) -> int | str:
    """``total`` units of work done over ``rounds`` rounds, per round: an int where it divides evenly,
    else the exact fraction ``"total/rounds"``, so that no rounding makes unequal work look equal."""
    if rounds <= 0:
        raise ValueError(f"work per round over {rounds} rounds")
    whole, rest = divmod(total, rounds)
    return whole if rest == 0 else f"{total}/{rounds}"


def work_of(**kinds: int | str) -> str:
    """Several kinds of work as one ``work`` value, ``"env_steps=200 grad_steps=1"``: one column holds
    it, and two cells did equal work exactly when these strings are equal."""
    return " ".join(f"{kind}={count}" for kind, count in kinds.items())


class MeasurementFailed(Exception):
    """The cell ran, and what it measured is a failure (a training that diverged or missed its
    target): the harness records the cell as ``error`` with this one-line message and keeps the
    curve in ``measurement.series``, so a failed run is never a silent ok and still shows why."""

    def __init__(self, message: str, measurement: Measurement):
        super().__init__(message)
        self.measurement = measurement


class Workload(abc.ABC):
    """An experiment family: a parameter grid per profile and a measurement per cell."""

    name: ClassVar[str]
    suite: ClassVar[str]
    """The suite named after this workload's experiment (``run --suite``); ``all`` and ``smoke`` hold
    every workload."""
    also_in: ClassVar[tuple[str, ...]] = ()
    """Further suites the workload belongs to (its experiment is part of another one's figure)."""
    description: ClassVar[str]
    operations: ClassVar[frozenset[str]] = frozenset({"call_all"})
    """Backend operations this workload can be measured with (a backend needs one of them)."""
    repeats: ClassVar[dict[str, int]] = {"smoke": 1, "quick": 3, "paper": 10}
    """Default repeats per profile (``--repeats`` overrides them for every workload)."""
    metrics: ClassVar[tuple[tuple[str, str], ...]]
    """(metric, unit) pairs every successful cell reports."""
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    """Every parameter a row of this workload may carry: its grid's, its options' and its curves'
    (``SERIES_PARAMETERS``). The harness writes exactly these columns and refuses any other."""
    objectives: ClassVar[tuple[Objective, ...]] = ()
    """Its primary metric(s), most important first, with their direction; empty: the first of
    ``metrics``, direction unknown (a generic figure and report section still show it)."""
    gated: ClassVar[bool] = False
    """The performance gate (``harness gate``) and the 2x2 compare backends on its first objective."""
    figure_module: ClassVar[str | None] = None
    """Dotted path of the module that draws its figures (``harness.figures.collectives``, or one in a
    plugin's own package): it defines ``figures(workload) -> list[Figure]``. None: the harness's
    generic figure, built from these declarations (``harness.figures.generic``)."""
    report_module: ClassVar[str | None] = None
    """Dotted path of the module that holds its report sections: it defines
    ``sections(workload) -> list`` of objects with ``render(summaries, paper, unequal) -> str | None``.
    None: the harness's generic section (``harness.report.generic``)."""
    report_order: ClassVar[int] = 1000
    """Where its sections stand in the report, lowest first (the built-ins follow the paper's figure
    order); equal ones by name."""
    shown_params: ClassVar[tuple[str, ...] | None] = None
    """The parameters that tell its points apart where a point is named in a label (the cluster
    projection's figures and tables), in that order; None: every declared parameter but the series'."""
    options: ClassVar[tuple[str, ...]] = ()
    """Parameters a user may set on every point of the grid (``harness run --set NAME=VALUE``)."""
    in_all: ClassVar[bool] = True
    """Part of the suites ``all`` and ``smoke`` (the paper's experiments); False for a suite that
    needs more than the machine gives every user (test hosts need root)."""
    on_test_hosts: ClassVar[bool] = False
    """Its cells run across test hosts (``test_hosts``), on backends with ``multi_host`` and on the
    ``floor_backends``, which run on host 0 alone as the floor."""
    floor_backends: ClassVar[tuple[str, ...]] = ()

    @property
    def primary_metric(self) -> str:
        """The metric a generic figure or section shows: the first objective's, else the first metric."""
        return self.objectives[0].metric if self.objectives else self.metrics[0][0]

    @property
    def label_params(self) -> tuple[str, ...]:
        """``shown_params``, or every declared parameter that is not a curve's."""
        if self.shown_params is not None:
            return self.shown_params
        return tuple(p.name for p in self.parameters if p.name not in SERIES_PARAMS)

    @abc.abstractmethod
    def grid(self, profile: str) -> list[Params]:
        """Parameter points for a profile, in the order they should run."""

    def with_options(self, params: Params, options: dict[str, str]) -> Params:
        """``params`` with the user's ``options`` (names from ``options``) applied and validated;
        raises BadOption with a one-line reason for a value out of range."""
        return {**params, **options}

    def metrics_for(self, params: Params) -> tuple[tuple[str, str], ...]:
        """The (metric, unit) pairs a cell at ``params`` reports (rows of a failed cell use them)."""
        return self.metrics

    def applies_to(self, params: Params, backend: type[Backend], profile: str) -> bool:
        """Whether this point runs on that backend at all (e.g. a thread count on a 1-thread runtime).

        ``backend`` is the class: a workload asks for its declared capabilities (``placement``,
        ``single_threaded``, ...), never for its name, so a plugin backend is judged like a built-in."""
        return True

    def is_headline(self, params: Params) -> bool:
        """The points an extra backend runs in the quick profile: the paper's headline comparison."""
        return True

    def n_workers(self, params: Params) -> int:
        return 0

    def largest_group(self, params: Params) -> int:
        """The most workers one group of the cell has (a bank's members): a backend that spreads a group
        over processes of its own starts no more processes than that."""
        return self.n_workers(params)

    def test_hosts(self, params: Params) -> tuple[int, int | None] | None:
        """(hosts, link rate in Mbit/s or None for the veth pair's own) of a cell on test hosts, read
        from the point's ``hosts`` and ``link_mbit``; None for a cell on this machine alone."""
        if not self.on_test_hosts:
            return None
        rate = params.get("link_mbit")
        return int(params["hosts"]), int(rate) if rate else None

    def wire_minimum_bytes(self, params: Params, receiving_hosts: int) -> int | None:
        """The bytes a round must put on the wire when its workers are on ``receiving_hosts`` hosts
        other than the driver's: what every copy of a broadcast and every result needs, with no
        framing; None where the workload cannot say."""
        return None

    def exchanges_per_round(self, params: Params) -> int:
        """Request/reply exchanges between the driver and remote workers one after another in a
        round (the projection's latency term counts each as one round trip)."""
        return 1

    def factory(self, params: Params) -> WorkerFactory:
        raise NotImplementedError(f"{self.name} builds no workers")

    def start(self, backend: Backend, params: Params) -> bool:
        """Builds the cell's workers on a backend (the harness times this as ``startup_s``).

        Returns False when the workload needs no workers. The default is one group of
        ``n_workers`` workers from ``factory``; a workload with another shape overrides it.
        """
        if self.n_workers(params) <= 0:
            return False
        backend.start(self.factory(params), self.n_workers(params))
        return True

    def peak_memory_bytes(self, params: Params, backend: type[Backend]) -> int:
        """Estimated peak memory of a cell, so the runner can skip one that would not fit; from the
        backend's declared capabilities (``placement``, ``worker_memory_bytes``), not its name."""
        return 0

    @abc.abstractmethod
    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        """Runs warm-up rounds (dropped) and measured rounds on a started backend."""
