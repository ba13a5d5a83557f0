"""A workload that only the test suite has, with a parameter no built-in declares (``foo``): it is
registered by an entry point of a distribution made in the test (``tests.harness.distributions``),
and declares nothing beyond what ``workloads.base`` asks, no figure or report module of its own."""

from __future__ import annotations

import functools
import time

from backends.base import Backend, WorkerFactory
from workloads.base import Measurement, Objective, Parameter, Params, Workload

ROUNDS = 3


class SpinWorker:
    """Adds up ``foo`` thousand integers per call and says how many it added (the cell's work)."""

    def __init__(self, index: int):
        self.index = index

    def spin(self, foo: int) -> int:
        count = foo * 1000
        sum(range(count))
        return count


def _worker(index: int) -> SpinWorker:
    return SpinWorker(index)


class FooSweep(Workload):
    name = "foo-sweep"
    suite = "foo-sweep"
    in_all = False
    description = "a test workload: two workers add up foo thousand integers per round"
    metrics = (("spin_ms", "ms"),)
    objectives = (Objective("spin_ms"),)
    parameters = (Parameter("foo", int, "thousands of integers each worker adds per round"),)

    def grid(self, profile: str) -> list[Params]:
        return [{"foo": 1}, {"foo": 2}]

    def n_workers(self, params: Params) -> int:
        return 2

    def factory(self, params: Params) -> WorkerFactory:
        return functools.partial(_worker)

    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        foo = int(params["foo"])
        backend.call_all("spin", foo)  # warm-up, dropped
        start = time.perf_counter()
        counts = [sum(backend.call_all("spin", foo)) for _ in range(ROUNDS)]
        elapsed = time.perf_counter() - start
        m = Measurement(work=counts[0], rounds=ROUNDS, warmup=1)
        m.add("spin_ms", elapsed / ROUNDS * 1e3, "ms")
        return m
