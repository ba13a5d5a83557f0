"""The worker pool that runs the reactions of one level concurrently.

The caller's thread takes part (so W workers means W-1 extra threads), reactions are handed out one at
a time from the level's bucket, and the level ends when the last one finishes: a barrier per level, no
scheduler thread. Reactions only run bodies here; their outputs are propagated afterwards on the
caller's thread in bucket order, so the next level's buckets are filled deterministically.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .reactor import Reaction


class LevelFailure(Exception):
    """Carries the first failing reaction (in bucket order) of a level to the scheduler."""

    def __init__(self, reaction: Reaction, error: BaseException):
        super().__init__(reaction.fqn)
        self.reaction = reaction
        self.error = error


class WorkerPool:
    """W-1 daemon threads plus the caller; ``run(bucket)`` returns when every reaction in it ran."""

    def __init__(self, workers: int):
        self.workers = workers
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._done = threading.Event()
        self._bucket: list[Reaction] = []
        self._next = 0
        self._pending = 0
        self._generation = 0
        self._closed = False
        self._errors: list[tuple[int, Reaction, BaseException]] = []
        self._threads = [
            threading.Thread(target=self._serve, name=f"reactor-worker-{i + 1}", daemon=True)
            for i in range(workers - 1)
        ]
        for thread in self._threads:
            thread.start()

    def run(self, bucket: list[Reaction]) -> None:
        with self._lock:
            self._bucket = bucket
            self._next = 0
            self._pending = len(bucket)
            self._errors = []
            self._done.clear()
            self._generation += 1
            self._wake.notify(min(len(bucket) - 1, len(self._threads)))
        self._drain()
        self._done.wait()
        if self._errors:
            _, reaction, error = min(self._errors, key=lambda item: item[0])
            raise LevelFailure(reaction, error)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        for thread in self._threads:
            thread.join()

    def _serve(self) -> None:
        seen = 0
        while True:
            with self._lock:
                while self._generation == seen and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                seen = self._generation
            self._drain()

    def _drain(self) -> None:
        lock = self._lock
        while True:
            with lock:
                position = self._next
                bucket = self._bucket
                if position >= len(bucket):
                    return
                self._next = position + 1
            reaction = bucket[position]
            reactor = reaction.reactor
            reactor._running = reaction
            started = time.perf_counter()
            try:
                reaction.body()
            except BaseException as error:  # reported after the level's barrier
                with lock:
                    self._errors.append((position, reaction, error))
            finally:
                reactor._running = None
                reaction.cost = time.perf_counter() - started
            with lock:
                self._pending -= 1
                if self._pending == 0:
                    self._done.set()
