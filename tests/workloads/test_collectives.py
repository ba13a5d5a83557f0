"""The collectives round is one call per worker (DESIGN.md §6.11): ``round_ms`` times that call alone,
and broadcast-only and gather-only calls are timed as operations of their own."""

from __future__ import annotations

from typing import Any

import pytest

from backends.base import BackendOptions
from backends.reactor_backend import ReactorBackend
from backends.sequential import SequentialBackend
from workloads import collectives
from workloads.cluster import ClusterCollectives
from workloads.collectives import Collectives, payload_of

SECONDS_PER_CALL = 1.0


class _Clock:
    """A clock that moves only when the backend makes a call: one second per ``call_all``, so the
    time a metric reports counts the calls it timed, whatever the machine is doing."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _CountingBackend(SequentialBackend):
    """The plain loop, recording every call it makes and advancing the clock by one per call."""

    def __init__(self, clock: _Clock):
        super().__init__(BackendOptions(threads=1))
        self.clock = clock
        self.methods: list[str] = []

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        self.methods.append(method)
        self.clock.now += SECONDS_PER_CALL
        return super().call_all(method, arg)


@pytest.fixture
def counted(monkeypatch) -> _CountingBackend:
    clock = _Clock()
    monkeypatch.setattr(collectives.time, "perf_counter", clock)
    return _CountingBackend(clock)


@pytest.mark.parametrize("variant", ["copy", "read"])
def test_a_round_is_one_call_per_worker_and_round_ms_times_it_alone(counted, variant):
    workload = Collectives()
    params = {"n_actors": 3, "object_bytes": 8192, "variant": variant}
    workload.start(counted, params)
    m = workload.measure(counted, params, "smoke")
    rounds = m.warmup + m.rounds
    assert counted.methods[:rounds] == ["round"] * rounds
    assert m.metrics["round_ms"] == (SECONDS_PER_CALL * 1e3, "ms")
    # then the two operations apart: one warm-up pair, then as many pairs as rounds
    assert counted.methods[rounds:] == ["receive", "result"] * (1 + m.rounds)
    assert m.metrics["broadcast_ms"] == (SECONDS_PER_CALL * 1e3, "ms")
    assert m.metrics["gather_ms"] == (SECONDS_PER_CALL * 1e3, "ms")
    assert m.work == (3 * 8192 if variant == "copy" else 3 * 8)


def test_the_cluster_round_has_no_other_calls_in_its_window(counted):
    """The cluster suite divides the wire counters of the whole window by its rounds."""
    workload = ClusterCollectives()
    params = {"n_actors": 2, "object_bytes": 4096, "variant": "copy", "hosts": 2, "link_mbit": None}
    workload.start(counted, params)
    m = workload.measure(counted, params, "smoke")
    assert counted.methods == ["round"] * (m.warmup + m.rounds)
    assert set(m.metrics) == {"round_ms"} == {name for name, _ in workload.metrics_for(params)}
    assert workload.exchanges_per_round(params) == 1


def test_a_wrong_result_fails_the_round(monkeypatch):
    monkeypatch.setattr(collectives.CollectiveWorker, "round", lambda self, payload: payload[:1].copy())
    backend = SequentialBackend()
    workload = Collectives()
    params = {"n_actors": 2, "object_bytes": 4096, "variant": "copy"}
    workload.start(backend, params)
    with pytest.raises(RuntimeError, match="not a 4096-byte copy"):
        workload.measure(backend, params, "smoke")


def test_the_reactor_round_returns_every_workers_copy_in_order():
    backend = ReactorBackend(BackendOptions(threads=2))
    backend.start(collectives.Collectives().factory({"variant": "copy"}), 3)
    try:
        payload = payload_of(5000)
        results = backend.call_all("round", payload)
    finally:
        backend.shutdown()
    assert len(results) == 3
    assert all(r is not payload and r.tobytes() == payload.tobytes() for r in results)
