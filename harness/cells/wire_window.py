"""What crossed the test hosts' links while a cell measured: bytes, packets and round trips per round.

Read from every host's ``eth0`` counters (the kernel's) before and after the workload's ``measure``,
so the window holds its warm-up rounds too: the per-round figures divide by warm-up plus measured
rounds, which do the same work. A byte is counted once, where it was sent (the sum of the hosts'
transmit counters); the busiest link's bytes (its transmit plus receive, the driver's host's in a
star) are what the projection puts through one link. Traffic the kernel adds by itself (neighbour
discovery) is a few hundred bytes per second, next to nothing in a round's count.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from workloads.base import Measurement, Params, Workload

from .testhosts import LinkCounters, read_counters

WIRE_METRICS = (
    ("wire_bytes_per_round", "B"),
    ("packets_per_round", "packets"),
    ("busiest_link_bytes_per_round", "B"),
    ("wire_min_bytes_per_round", "B"),
    ("round_trips_per_round", "round trips"),
)
"""``wire_min_bytes_per_round``: what the pattern itself needs (``Workload.wire_minimum_bytes``);
``round_trips_per_round``: the backend's own coordination messages per round and worker host (the
RTI's grants for federated reactors), where it counts them."""


class WireWindow:
    """Context manager around ``measure``; a no-op for a cell on one machine (no namespaces)."""

    def __init__(self, namespaces: list[str], backend: Any | None):
        self.namespaces = namespaces
        self.backend = backend
        self.before: list[LinkCounters] = []
        self.after: list[LinkCounters] = []
        self.messages: tuple[int | None, int | None] = (None, None)

    def _messages(self) -> int | None:
        return self.backend.coordination_messages() if self.backend is not None else None

    def __enter__(self) -> WireWindow:
        if self.namespaces:
            self.before = read_counters(self.namespaces)
            self.messages = (self._messages(), None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.namespaces and exc_type is None:
            self.after = read_counters(self.namespaces)
            self.messages = (self.messages[0], self._messages())

    def add_metrics(self, measurement: Measurement, workload: Workload, params: Params, remote: bool) -> None:
        """Adds the wire metrics to ``measurement``; ``remote``: the workers ran on hosts 1..H-1
        (a floor backend runs on host 0 alone, where the pattern needs no wire at all)."""
        rounds = measurement.rounds + measurement.warmup
        if not self.after or rounds <= 0:
            return
        deltas = [
            (a.tx_bytes - b.tx_bytes, a.tx_packets - b.tx_packets, a.rx_bytes - b.rx_bytes)
            for b, a in zip(self.before, self.after, strict=True)
        ]
        measurement.add("wire_bytes_per_round", sum(d[0] for d in deltas) / rounds, "B")
        measurement.add("packets_per_round", sum(d[1] for d in deltas) / rounds, "packets")
        measurement.add("busiest_link_bytes_per_round", max(d[0] + d[2] for d in deltas) / rounds, "B")
        worker_hosts = len(self.namespaces) - 1
        receiving = min(workload.n_workers(params), worker_hosts) if remote else 0
        minimum = workload.wire_minimum_bytes(params, receiving) if receiving else 0
        if minimum is not None:
            measurement.add("wire_min_bytes_per_round", minimum, "B")
        first, last = self.messages
        if first is not None and last is not None and worker_hosts > 0:
            measurement.add("round_trips_per_round", (last - first) / rounds / worker_hosts, "round trips")
