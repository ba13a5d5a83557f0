"""Backends that break the backend contract on purpose: the conformance kit must fail each of them.

Not registered anywhere: the kit loads them as ``--backend tests.harness.broken_backends:Class``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from multiprocessing import shared_memory
from typing import Any

from backends.base import STEP, Backend, WorkerFactory, WorkerFailed
from backends.sequential import SequentialBackend


class ArrivalOrderBackend(Backend):
    """Runs each worker's call on a thread of its own and returns the results as they arrive (its
    only defect: errors are reported as the contract says)."""

    name = "arrival-order"
    description = "returns results in arrival order (broken on purpose)"

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self.n_workers = n_workers
        self._workers = [factory(i) for i in range(n_workers)]

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        arrived: list[Any] = []
        failed: dict[int, Exception] = {}
        lock = threading.Lock()

        def call(index: int, worker: Any) -> None:
            try:
                result = getattr(worker, method)(arg)
            except Exception as error:
                failed[index] = error
                return
            with lock:
                arrived.append(result)

        threads = [threading.Thread(target=call, args=item) for item in enumerate(self._workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failed:
            index = min(failed)
            raise WorkerFailed(index, failed[index])
        return arrived

    def shutdown(self) -> None:
        self._workers = []


class SelfExcludingBackend(SequentialBackend):
    """The plain loop, which says it cannot run anywhere: the kit skips every check of it."""

    name = "self-excluding"
    description = "claims it cannot run here (broken on purpose)"

    @classmethod
    def availability(cls) -> str | None:
        return "it says so"


class LeakyBackend(SequentialBackend):
    """The plain loop, plus a helper process that ``shutdown`` forgets."""

    name = "leaky"
    description = "leaves a process behind (broken on purpose)"

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        super().start(factory, n_workers)
        self.helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])


class DetachingBackend(SequentialBackend):
    """The plain loop, plus a helper that ``start`` detaches (``sh -c 'sleep 777 &'``: the shell ends
    at once, the sleep is no descendant of the process that started it) and ``shutdown`` forgets."""

    name = "detaching"
    description = "leaves a detached process behind (broken on purpose)"

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        super().start(factory, n_workers)
        quiet = subprocess.DEVNULL  # the helper must not hold the kit's output open
        subprocess.run(["sh", "-c", "sleep 777 &"], stdin=quiet, stdout=quiet, stderr=quiet, check=True)


LEAKED_SEGMENT_PREFIX = "kit-leak-"


def leaked_segment_name() -> str:
    """``kit-leak-<the test's tag>-<random>``: the test that ran the kit finds and removes exactly
    the segments it made this backend leak (``tests.conftest.TEST_TAG_VARIABLE``)."""
    tag = os.environ.get("HARNESS_TEST_TAG", "") or "untagged"
    return f"{LEAKED_SEGMENT_PREFIX}{tag}-{secrets.token_hex(4)}"


class SegmentLeakingBackend(SequentialBackend):
    """The plain loop, plus a shared-memory segment that ``shutdown`` closes but never unlinks."""

    name = "segment-leaking"
    description = "leaves a /dev/shm segment behind (broken on purpose)"

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        super().start(factory, n_workers)
        self.segment = shared_memory.SharedMemory(name=leaked_segment_name(), create=True, size=1 << 16)

    def shutdown(self) -> None:
        segment = getattr(self, "segment", None)
        if segment is not None:
            segment.close()
        super().shutdown()


class ReversedEnvironmentsBackend(SequentialBackend):
    """The plain loop whose ``step_environments`` returns the environments' summaries in reverse
    worker order (``call_all`` keeps the order): only a digest that covers what differs between the
    workers can tell."""

    name = "reversed-environments"
    description = "returns environment summaries in reverse worker order (broken on purpose)"

    def step_environments(self, steps: int, method: str = STEP) -> list[Any]:
        return super().step_environments(steps, method)[::-1]


class ExtraStepBackend(SequentialBackend):
    """The plain loop that steps every environment once more per round than it was asked to."""

    name = "extra-step"
    description = "steps each environment one step more per round (broken on purpose)"

    def step_environments(self, steps: int, method: str = STEP) -> list[Any]:
        return super().step_environments(steps + 1, method)
