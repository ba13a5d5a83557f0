"""The report's cluster section: what crossed the test hosts' links, and the projection (a model).

Three tables from the ``cluster`` suite's cells: per cell, the bytes, packets and round trips per
round against the pattern's minimum; the projection at 1 Gbit/s against the cells measured there
(the model's error, in percent); and the projected round time at three latencies and three rates.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis import projection
from harness.analysis.aggregate import CellSummary
from harness.analysis.checks import Mismatch
from workloads.base import Workload

from .tables import plain

WIRE_COLUMNS = (
    ("round_ms", "round_ms (test hosts)"),
    ("wire_bytes_per_round", "wire B/round"),
    ("wire_min_bytes_per_round", "minimum B/round"),
    ("packets_per_round", "packets/round"),
    ("round_trips_per_round", "RTI round trips/round/host"),
)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _wire_table(summaries: list[CellSummary]) -> list[str]:
    medians = projection.cell_medians(summaries)
    header = ["workload", "point", "hosts", "link", "backend", *(t for _, t in WIRE_COLUMNS)]
    header.append("wire / minimum")
    lines = [_row(header), "|" + "---|" * len(header)]
    for (workload, params, backend), metrics in sorted(medians.items()):
        if "wire_bytes_per_round" not in metrics:
            continue
        values = dict(params)
        link = f"{values['link_mbit']} Mbit/s" if values.get("link_mbit") else "unlimited"
        cells = [workload, projection.point_label(workload, values), values["hosts"], link, backend]
        cells += [plain(metrics[m]) if m in metrics else "" for m, _ in WIRE_COLUMNS]
        minimum = metrics.get("wire_min_bytes_per_round")
        cells.append(plain(metrics["wire_bytes_per_round"] / minimum, 3) if minimum else "")
        lines.append(_row(cells))
    return lines if len(lines) > 2 else []


def _check_table(summaries: list[CellSummary]) -> list[str]:
    found = projection.checks(summaries)
    if not found:
        return []
    header = ["workload", "point", "hosts", "backend", "measured round_ms at 1 Gbit/s"]
    header += ["projected", "error %"]
    lines = [_row(header), "|" + "---|" * len(header)]
    for check in found:
        b = check.basis
        cells = [b.workload, b.label, b.hosts, b.backend]
        cells += [plain(check.measured_ms), plain(check.projected_ms), f"{check.error_pct:+.1f}"]
        lines.append(_row(cells))
    return lines


def _projection_table(summaries: list[CellSummary]) -> list[str]:
    bases = [b for b in projection.bases(summaries) if b.busiest_link_bytes > 0]
    if not bases:
        return []
    grid = [(lat, rate) for lat in projection.LATENCIES_MS for rate in projection.RATES_GBIT]
    header = ["workload", "point", "hosts", "backend"]
    header += [f"{lat:g} ms, {rate:g} Gbit/s" for lat, rate in grid]
    lines = [_row(header), "|" + "---|" * len(header)]
    for b in bases:
        cells = [b.workload, b.label, b.hosts, b.backend]
        cells += [plain(b.round_ms_at(lat, rate)) for lat, rate in grid]
        lines.append(_row(cells))
    return lines


def _part(title: str, text: str, table: list[str]) -> list[str]:
    """A titled table with what it says, or nothing where there is no table."""
    return [title + "\n", text + "\n", "\n".join(table) + "\n"] if table else []


def cluster_section(summaries: list[CellSummary]) -> str | None:
    wire = _part(
        "## Across test hosts (suite `cluster`)",
        "Hosts are network namespaces of this machine on one bridge, sharing its cores; the driver on "
        "host 0, the workers on hosts 1..H-1. Bytes and packets are read from every host's interface "
        "counters over the measured window (warm-up rounds included and divided out); the minimum is "
        "each broadcast copy once per receiving host plus every result once. Round trips: the RTI's "
        "tag grants per round and worker host (federated reactors only; other backends do not count "
        "theirs). Round times here are those of hosts sharing one machine's cores, not of a network.",
        _wire_table(summaries),
    )
    if not wire:
        return None
    check = _part(
        "### The projection against the cells measured at 1 Gbit/s",
        "PROJECTION (a model, `harness.analysis.projection`): round_veth + (exchanges + round trips) x 2L + "
        "busiest-link bytes x 8 / B, fed with the unlimited-link cell; here B = 1 Gbit/s and L = 0 "
        "(the veth's latency is in the basis).",
        _check_table(summaries),
    )
    grid = _part(
        "### Projected round time (ms) at real link latencies (one way) and rates",
        "PROJECTION, not a measurement: the model above, fed with the unlimited-link cells. For "
        "backends that do not count their own protocol's round trips (Ray, Dask) the latency term "
        "is a lower bound.",
        _projection_table(summaries),
    )
    return "\n".join(wire + check + grid)


class _ClusterSection:
    """The one section of every cluster workload: their cells together, in three tables."""

    def render(
        self,
        summaries: list[CellSummary],
        paper: list[dict[str, str]],
        unequal: Sequence[Mismatch] = (),
        reference: str | None = None,
    ) -> str | None:
        return cluster_section(summaries)


SECTION = _ClusterSection()


def sections(workload: Workload) -> list[_ClusterSection]:
    return [SECTION]
