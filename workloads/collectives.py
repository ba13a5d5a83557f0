"""Broadcast & gather time vs object size and vs number of actors (the paper's first two figures).

Per round the driver broadcasts one uint8 array to N workers and gathers one result from each. In the
``copy`` variant each worker copies the array it received and returns the copy, as the paper's workers
did, so the gather moves N x size bytes; in the ``read`` variant a worker touches one byte per 4 KiB
page (enough to map every page of a zero-copy view) and returns a scalar. Every backend does exactly
this, and the bytes the driver got back per round are the cell's work (checked equal across backends).
"""

from __future__ import annotations

import functools
import time
from typing import Any, ClassVar

import numpy as np

from backends.base import Backend, WorkerFactory

from .base import Measurement, Params, Workload

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
        if self.variant == "copy":
            self.held = np.array(payload, copy=True)
        else:
            self.held = int(payload[::PAGE].sum(dtype=np.int64))

    def result(self, _: Any = None) -> Any:
        return self.held


def make_worker(variant: str, index: int) -> CollectiveWorker:
    return CollectiveWorker(index, variant)


def payload_of(size: int) -> np.ndarray:
    """A deterministic array, so ``read`` checksums can be verified."""
    return np.arange(size, dtype=np.uint64).astype(np.uint8)


class Collectives(Workload):
    name = "collectives"
    suite = "collectives"
    description = "broadcast an array to N workers, gather N results (copy: each returns its copy)"
    metrics = (("broadcast_ms", "ms"), ("gather_ms", "ms"), ("round_ms", "ms"))
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

    def peak_memory_bytes(self, params: Params, backend: str) -> int:
        size, n = int(params["object_bytes"]), int(params["n_actors"])
        held = n * size if params["variant"] == "copy" else 0
        # Ray keeps a worker's copy, its result in the object store and the driver's view of it.
        copies_per_worker = 3 if backend.startswith("ray") else 1
        return 2 * size + copies_per_worker * held + 256 * MIB

    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        size, n, variant = int(params["object_bytes"]), int(params["n_actors"]), params["variant"]
        warmup, min_rounds, max_rounds = ROUNDS[profile]
        payload = payload_of(size)
        expected_sum = int(payload[::PAGE].sum(dtype=np.int64))
        for _ in range(warmup):
            backend.broadcast(payload)
            _check_results(backend.gather(), n, variant, size, expected_sum)
        broadcast_s = gather_s = 0.0
        rounds = 0
        per_round_work = None
        while rounds < min_rounds or (
            broadcast_s + gather_s < MIN_MEASURED_S[profile] and rounds < max_rounds
        ):
            t0 = time.perf_counter()
            backend.broadcast(payload)
            t1 = time.perf_counter()
            results = backend.gather()
            t2 = time.perf_counter()
            moved = _check_results(results, n, variant, size, expected_sum)
            del results
            if per_round_work not in (None, moved):
                raise RuntimeError(f"round moved {moved} bytes, earlier rounds {per_round_work}")
            per_round_work = moved
            broadcast_s += t1 - t0
            gather_s += t2 - t1
            rounds += 1
        m = Measurement(work=per_round_work, rounds=rounds, warmup=warmup)
        m.add("broadcast_ms", broadcast_s / rounds * 1e3, "ms")
        m.add("gather_ms", gather_s / rounds * 1e3, "ms")
        m.add("round_ms", (broadcast_s + gather_s) / rounds * 1e3, "ms")
        return m


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
