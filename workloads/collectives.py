"""Broadcast & gather time vs object size and vs number of actors (the paper's first two figures).

A round is one call per worker, as a Ray user (and the paper's own Ray script) writes it: the driver
sends one uint8 array to N workers, each handles it and returns its result in the same call, and the
driver has all N results when the round ends (``round_ms``, the headline, DESIGN.md §6.11). In the
``copy`` variant each worker copies the array it received and returns the copy, as the paper's
workers did, so the round moves N x size bytes back; in the ``read`` variant a worker touches one byte
per 4 KiB page (enough to map every page of a zero-copy view) and returns a scalar. Every backend does
exactly this, and the bytes the driver got back per round are the cell's work (checked equal across
backends).

Broadcast and gather are also timed as operations of their own, after the rounds: ``broadcast_ms``
is a call per worker that delivers the array and returns nothing, ``gather_ms`` a call per worker that
returns what it holds. Each is a whole call per worker, so the two do not add up to a round: a round
pays one call's overhead, not two.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from backends.base import THREADS, Backend, WorkerFactory

from .base import Measurement, Objective, Parameter, Params, Workload

KIB = 1024
MIB = 1024 * 1024
PAGE = 4096

SIZES = [KIB, 100 * KIB, MIB, 10 * MIB, 100 * MIB]
PAPER_EXTRA_SIZES = [264_857_600, 488_576_000]
"""The paper's "300MB" and "500MB" points are 253 MiB and 466 MiB (see results/paper)."""
ACTORS = [1, 2, 4, 8, 16]
SIZE_SWEEP_ACTORS = 16
ACTOR_SWEEP_BYTES = 10 * MIB

ROUNDS = {"smoke": (1, 3, 3), "quick": (2, 10, 2000), "paper": (5, 100, 10000)}
"""(warm-up, minimum measured, maximum measured) rounds per profile; the paper averaged 100 rounds."""
MIN_MEASURED_S = {"smoke": 0.0, "quick": 0.25, "paper": 1.0}
"""Fast cells keep measuring (up to the maximum) until this much time is covered, as pyperf
calibrates loops, so a microsecond round is not judged from a millisecond of data."""


class CollectiveWorker:
    """Holds what it received: a private copy (``copy``) or a page-touching checksum (``read``)."""

    def __init__(self, index: int, variant: str):
        self.index = index
        self.variant = variant
        self.held: Any = None

    def receive(self, payload: np.ndarray) -> None:
        """The broadcast-only operation: takes the payload, returns nothing."""
        if self.variant == "copy":
            self.held = np.array(payload, copy=True)
        else:
            self.held = int(payload[::PAGE].sum(dtype=np.int64))

    def result(self, _: Any = None) -> Any:
        """The gather-only operation: returns what the last payload left."""
        return self.held

    def round(self, payload: np.ndarray) -> Any:
        """A whole round in one call: takes the payload and returns the result."""
        self.receive(payload)
        return self.held


def make_worker(variant: str, index: int) -> CollectiveWorker:
    return CollectiveWorker(index, variant)


def payload_of(size: int) -> np.ndarray:
    """A deterministic array, so ``read`` checksums can be verified."""
    return np.arange(size, dtype=np.uint64).astype(np.uint8)


ROUND_METRICS = (("round_ms", "ms"),)
OPERATION_METRICS = (("broadcast_ms", "ms"), ("gather_ms", "ms"))


class Collectives(Workload):
    parameters = (
        Parameter("n_actors", int, "workers that receive the array and return it"),
        Parameter("object_bytes", int, "size of the broadcast array"),
        Parameter("variant", str, "copy: each worker copies the array; view: it returns it as it came"),
    )
    name = "collectives"
    objectives = (Objective("round_ms"),)
    gated = True
    figure_module = "harness.figures.collectives"
    report_module = "harness.report.collectives"
    report_order = 10
    suite = "collectives"
    description = "one call per worker: an array goes to N workers, N results come back (copy: each its copy)"
    metrics = ROUND_METRICS + OPERATION_METRICS
    times_operations: ClassVar[bool] = True
    """Also time broadcast-only and gather-only calls after the rounds (``broadcast_ms``, ``gather_ms``)."""
    repeats: ClassVar[dict[str, int]] = {"smoke": 1, "quick": 2, "paper": 10}
    """Two quick repeats: a 16-actor Ray cell costs about 14 s, and `all` (six suites) must stay
    within 20 minutes on 2 cores."""

    def grid(self, profile: str) -> list[Params]:
        if profile == "smoke":
            return [
                {"n_actors": 2, "object_bytes": KIB, "variant": "copy"},
                {"n_actors": 2, "object_bytes": MIB, "variant": "read"},
            ]
        sizes = SIZES + (PAPER_EXTRA_SIZES if profile == "paper" else [])
        points: list[Params] = []
        for variant in ("copy", "read"):
            for size in sizes:
                if variant == "read" and profile == "quick" and size not in (KIB, 100 * MIB):
                    continue  # keeps `all` under 20 minutes; the paper profile has every point
                points.append({"n_actors": SIZE_SWEEP_ACTORS, "object_bytes": size, "variant": variant})
            if variant == "copy" or profile == "paper":
                for actors in ACTORS:
                    if actors != SIZE_SWEEP_ACTORS:
                        points.append(
                            {"n_actors": actors, "object_bytes": ACTOR_SWEEP_BYTES, "variant": variant}
                        )
        return points

    def is_headline(self, params: Params) -> bool:
        return (
            params["variant"] == "copy"
            and int(params["n_actors"]) == SIZE_SWEEP_ACTORS
            and int(params["object_bytes"]) in (KIB, ACTOR_SWEEP_BYTES)
        )

    def n_workers(self, params: Params) -> int:
        return int(params["n_actors"])

    def factory(self, params: Params) -> WorkerFactory:
        return functools.partial(make_worker, params["variant"])

    def peak_memory_bytes(self, params: Params, backend: type[Backend]) -> int:
        size, n = int(params["object_bytes"]), int(params["n_actors"])
        held = n * size if params["variant"] == "copy" else 0
        # Across processes a worker's copy, its result on its way back (Ray's object store, a pickled
        # reply) and the driver's view of it are three copies; on threads the one copy is shared.
        copies_per_worker = 1 if backend.placement == THREADS else 3
        return 2 * size + copies_per_worker * held + 256 * MIB

    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        size, n, variant = int(params["object_bytes"]), int(params["n_actors"]), params["variant"]
        warmup = ROUNDS[profile][0]
        payload = payload_of(size)
        expected_sum = int(payload[::PAGE].sum(dtype=np.int64))

        def results_work(results: list[Any]) -> int:
            return _check_results(results, n, variant, size, expected_sum)

        def one_round() -> list[Any]:
            return backend.call_all("round", payload)

        for _ in range(warmup):
            results_work(one_round())
        ((round_s, work),), rounds = _timed([(one_round, results_work)], profile)
        m = Measurement(work=work, rounds=rounds, warmup=warmup)
        m.add("round_ms", round_s / rounds * 1e3, "ms")
        if self.times_operations:
            # after the rounds, so that a round never follows a broadcast-only call (its workers
            # would hold a payload already); the first pair warms the two methods up, uncounted
            def broadcast() -> list[Any]:
                backend.broadcast(payload)
                return []

            operations = [(broadcast, lambda _: 0), (backend.gather, results_work)]
            _timed(operations, profile, calls=1)
            ((broadcast_s, _), (gather_s, _)), calls = _timed(operations, profile)
            m.add("broadcast_ms", broadcast_s / calls * 1e3, "ms")
            m.add("gather_ms", gather_s / calls * 1e3, "ms")
        return m


Operation = tuple[Callable[[], list[Any]], Callable[[list[Any]], int]]
"""A backend call to time and the check of its results, which returns the work they represent."""


def _timed(
    operations: list[Operation], profile: str, calls: int | None = None
) -> tuple[list[tuple[float, int]], int]:
    """Calls the operations in turn, each timed on its own with its check outside the timing, at least
    the profile's minimum of times and until together they cover ``MIN_MEASURED_S`` (at most the
    maximum); ``calls`` fixes the count. Returns (seconds, work of one call) per operation and the
    count. Every call of an operation must report the same work."""
    _, least, most = ROUNDS[profile]
    if calls is not None:
        least = most = calls
    seconds = [0.0] * len(operations)
    work: list[int | None] = [None] * len(operations)
    done = 0
    while done < least or (sum(seconds) < MIN_MEASURED_S[profile] and done < most):
        for position, (call, check) in enumerate(operations):
            start = time.perf_counter()
            results = call()
            seconds[position] += time.perf_counter() - start
            moved = check(results)
            del results
            if work[position] not in (None, moved):
                raise RuntimeError(f"a call moved {moved} bytes, earlier calls {work[position]}")
            work[position] = moved
        done += 1
    return [(s, int(w or 0)) for s, w in zip(seconds, work, strict=True)], done


def _check_results(results: list[Any], n: int, variant: str, size: int, expected_sum: int) -> int:
    """Verifies every worker did the round's work; returns the bytes the driver received."""
    if len(results) != n:
        raise RuntimeError(f"gathered {len(results)} results from {n} workers")
    if variant == "copy":
        for result in results:
            if getattr(result, "nbytes", None) != size:
                raise RuntimeError(f"a worker returned {type(result).__name__}, not a {size}-byte copy")
        return n * size
    if any(result != expected_sum for result in results):
        raise RuntimeError("a worker's checksum of the broadcast payload is wrong")
    return n * 8
