"""A model of a cluster round at real link latencies and rates, fed with what the test hosts measured.

The test hosts share one machine's cores and their links are veth pairs with microsecond latency
(and no way here to add delay: ``netem`` is not in this kernel), so a measured round time says little
about a real network. What they measure honestly is per round: the bytes on the busiest link (its
transmit plus receive), the backend's own coordination round trips where it counts them, and the
round time itself at the veth's speed. The model (a projection, and labelled as one wherever shown):

    round(L, B) = round_veth + (exchanges + round_trips) x 2L + busiest_link_bytes x 8 / B

with L a one-way link latency and B the link rate. Its assumptions: the compute and copying in a
round stay what they were on the test hosts (``round_veth``, on the unlimited links); a round's
transfers cross the busiest link one after another and do not overlap with compute; each driver ->
workers exchange the workload does (``Workload.exchanges_per_round``) and each coordination round
trip the backend counted costs one full round trip of latency; protocol messages a backend does not
count (Ray's object directory, Dask's scheduler) cost nothing: for those backends the latency term
is a lower bound. ``checks`` tests the bandwidth term against the cells measured at 1 Gbit/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness import registry

from .aggregate import CellSummary

LATENCIES_MS = (0.05, 0.5, 5.0)
RATES_GBIT = (1.0, 10.0, 100.0)
CHECK_MBIT = "1000"


@dataclass(frozen=True)
class Basis:
    """What the model needs of one cell measured on unlimited links."""

    workload: str
    params: tuple[tuple[str, str], ...]
    backend: str
    round_ms: float
    busiest_link_bytes: float
    round_trips: float | None
    exchanges: int

    @property
    def hosts(self) -> str:
        return dict(self.params).get("hosts", "")

    @property
    def label(self) -> str:
        return point_label(self.workload, dict(self.params))

    def round_ms_at(self, latency_ms: float, rate_gbit: float) -> float:
        """The projected round time (ms) at one-way latency ``latency_ms`` and rate ``rate_gbit``."""
        trips = self.exchanges + (self.round_trips or 0.0)
        wire_ms = self.busiest_link_bytes * 8.0 / (rate_gbit * 1e9) * 1e3
        return self.round_ms + trips * 2.0 * latency_ms + wire_ms


def point_label(workload: str, params: dict[str, str]) -> str:
    """How the figures and the report name a point: ``object_bytes=1024 n_actors=16 ...``, the
    parameters its workload declares to tell its points apart (``Workload.label_params``); every
    parameter of a workload this installation does not know."""
    known = registry.WORKLOADS.get(workload)
    shown = known.label_params if known is not None else tuple(sorted(params))
    return " ".join(f"{k}={params[k]}" for k in shown if k in params)


def cell_medians(summaries: list[CellSummary]) -> dict[tuple, dict[str, float]]:
    """(workload, params, backend) -> metric -> median, for cells on test hosts (not the points of
    a curve inside a cell): what the projection, the cluster figures and tables all read."""
    cells: dict[tuple, dict[str, float]] = {}
    for s in summaries:
        if s.param("hosts") and not s.on_curve:
            cells.setdefault((s.workload, s.params, s.backend), {})[s.metric] = s.summary.median
    return cells


def _exchanges(workload: str, params: tuple[tuple[str, str], ...]) -> int:
    known = registry.WORKLOADS.get(workload)
    return known.exchanges_per_round(dict(params)) if known is not None else 1


def bases(summaries: list[CellSummary]) -> list[Basis]:
    """Every cell on unlimited test-host links with a round time and wire counts, in a stable order
    (not the floor's: it runs on host 0 alone, with nothing to put on a network)."""
    found = []
    for (workload, params, backend), metrics in sorted(cell_medians(summaries).items()):
        if "link_mbit" in dict(params) or "round_ms" not in metrics:
            continue
        known = registry.WORKLOADS.get(workload)
        if known is not None and backend in known.floor_backends:
            continue
        if "busiest_link_bytes_per_round" not in metrics:
            continue
        found.append(
            Basis(
                workload,
                params,
                backend,
                metrics["round_ms"],
                metrics["busiest_link_bytes_per_round"],
                metrics.get("round_trips_per_round"),
                _exchanges(workload, params),
            )
        )
    return found


@dataclass(frozen=True)
class Check:
    """The model's round time at the measured rate against the round time measured there."""

    basis: Basis
    measured_ms: float
    projected_ms: float

    @property
    def error_pct(self) -> float:
        return 100.0 * (self.projected_ms - self.measured_ms) / self.measured_ms


def checks(summaries: list[CellSummary]) -> list[Check]:
    """For every basis with a twin measured at 1 Gbit/s: the projection at that rate (the veth's
    latency, already in the basis, adds nothing) against the measurement. Cells that put nothing on
    the wire (the floor on host 0) are left out: the model has nothing to say about them."""
    medians = cell_medians(summaries)
    found = []
    for basis in bases(summaries):
        if basis.busiest_link_bytes <= 0:
            continue
        twin = tuple(sorted((*basis.params, ("link_mbit", CHECK_MBIT))))
        measured = medians.get((basis.workload, twin, basis.backend), {}).get("round_ms")
        if measured is None or not math.isfinite(measured) or measured <= 0:
            continue
        found.append(Check(basis, measured, basis.round_ms_at(0.0, float(CHECK_MBIT) / 1000.0)))
    return found
