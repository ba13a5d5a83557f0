"""The zero-framework reference: a plain loop over the workers in the driver's own thread."""

from __future__ import annotations

from typing import Any

from .base import Backend, PipelineSpec, WorkerFactory, WorkerFailed


class SequentialBackend(Backend):
    name = "sequential"
    description = "plain in-process Python loop over the workers (the no-framework limit)"
    plot_style = ("tab:gray", "s")
    single_threaded = True
    operations = frozenset({"call_all", "pipeline"})

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self.n_workers = n_workers
        self._workers = [factory(i) for i in range(n_workers)]

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        results = []
        for index, worker in enumerate(self._workers):
            try:
                results.append(getattr(worker, method)(arg))
            except Exception as error:
                raise WorkerFailed(index, error) from error
        return results

    def start_pipeline(self, spec: PipelineSpec) -> None:
        self.start(spec.rollout, spec.n_rollouts)
        self._replay = spec.replay()
        self._learner = spec.learner()
        self._pipelined = spec.pipelined
        self._weights: Any = None
        self._minibatch: Any = None

    def pipeline_round(self) -> Any:
        batches = self.call_all("collect", self._weights)
        if self._pipelined:  # the same calls as the other backends run side by side, one after another
            self._weights, report = self._learner.update(self._minibatch)
            self._minibatch = self._replay.store_and_sample(batches)
            return report
        minibatch = self._replay.store_and_sample(batches)
        self._weights, report = self._learner.update(minibatch)
        return report

    def shutdown(self) -> None:
        self._workers = []
