"""The zero-framework reference: a plain loop over the workers in the driver's own thread."""

from __future__ import annotations

from typing import Any

from .base import Backend, WorkerFactory


class SequentialBackend(Backend):
    name = "sequential"
    description = "plain in-process Python loop over the workers (the no-framework limit)"

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self.n_workers = n_workers
        self._workers = [factory(i) for i in range(n_workers)]

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        return [getattr(worker, method)(arg) for worker in self._workers]

    def shutdown(self) -> None:
        self._workers = []
