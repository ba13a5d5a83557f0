"""The ``ray-compiled`` backend: the same actors as ``ray``, each round a Ray Compiled Graph.

Compiled Graphs (``experimental_compile``) replace per-call task submission with a static graph over
shared-memory channels, compiled once per cell: the strongest form of Ray for synchronous rounds.
Facts that shape this module (DESIGN.md §7): a channel must hold the largest message plus about
64 KiB, so the buffer is sized from the payload (and the graph recompiled if a larger one arrives);
``_max_inflight_executions=1`` keeps rounds synchronous and each round's results are fetched before
the next; an actor can be in one compiled graph at a time, so every call goes through one graph
whose input is ``(method, argument)``; ``teardown()`` runs before Ray shuts down. Idle graph actors
poll their channels, which ``cpu_util`` and ``idle_cpu_util`` make visible. A channel's named
semaphores (``/dev/shm/sem.hdr<pid>-*``, ``sem.obj<pid>-*``) outlive the graph's teardown and Ray's
shutdown, so ``shutdown`` removes those its own processes made.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import psutil

from backends.base import PipelineSpec, WorkerFactory, WorkerFailed
from backends.ray.backend import Raised, RayBackend, payload_bytes

CHANNEL_MARGIN_BYTES = 64 * 1024
MIN_BUFFER_BYTES = 1024 * 1024
"""Results can be as large as the argument (the collectives' copies), never larger in our workloads,
so a channel holds max(argument, 1 MiB) plus the margin."""
SHM = Path("/dev/shm")
CHANNEL_SEMAPHORE = re.compile(r"^sem\.(?:hdr|obj)(\d+)-\d+$")
"""The names Ray gives a channel's semaphores: the creating process's pid, then a unique number."""


def _shm_names() -> set[str]:
    return set(os.listdir(SHM)) if SHM.is_dir() else set()


def unlink_channel_semaphores(before: set[str]) -> list[str]:
    """Removes the channel semaphores made since ``before`` by this process or by one that is gone
    (the graph's actors, after Ray's shutdown); a live process's are left to it. Unlinking only
    removes the name, so a process that still has one open keeps it until it closes it."""
    removed = []
    for name in sorted(_shm_names() - before):
        match = CHANNEL_SEMAPHORE.match(name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and psutil.pid_exists(pid):
            continue
        try:
            (SHM / name).unlink()
            removed.append(name)
        except FileNotFoundError:
            continue
    return removed


class RayCompiledBackend(RayBackend):
    name = "ray-compiled"
    multi_host = False  # the cluster suite compares Ray Core, Dask and federated reactors
    description = "the ray backend's actors driven by a Ray Compiled Graph (shared-memory channels)"
    plot_style = ("tab:cyan", "v")
    polls_when_idle = True
    headline_only_in_quick = True

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self._shm_before = _shm_names()
        super().start(factory, n_workers)
        self._graph: Any = None
        self._buffer_bytes = 0

    def _compile(self, buffer_bytes: int) -> None:
        from ray.dag import InputNode, MultiOutputNode

        self._teardown()
        with InputNode() as command:
            dag = MultiOutputNode([actor.call_packed.bind(command) for actor in self._actors])
        self._graph = dag.experimental_compile(_buffer_size_bytes=buffer_bytes, _max_inflight_executions=1)
        self._buffer_bytes = buffer_bytes

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        needed = max(payload_bytes(arg), MIN_BUFFER_BYTES) + CHANNEL_MARGIN_BYTES
        if self._graph is None or needed > self._buffer_bytes:
            self._compile(needed)
        results = list(self._ray.get(self._graph.execute((method, arg))))
        for index, result in enumerate(results):
            if isinstance(result, Raised):
                raise WorkerFailed(index, result.error)
        return results

    def start_pipeline(self, spec: PipelineSpec) -> None:
        """rollouts -> replay -> learner as one compiled graph; the weights come back through the driver.

        A compiled graph cannot contain the learner -> rollouts edge (it would be a cycle), so each
        round's output (weights, report) returns to the driver and the weights are the next input.
        Pipelined, the replay -> learner edge crosses rounds too: the graph's input is (weights, last
        round's minibatch), the learner's node depends on that input alone, so its actor runs while
        the rollouts run theirs, and the replay's new minibatch comes back through the driver as well.
        """
        from ray.dag import InputNode, MultiOutputNode

        self._shm_before = _shm_names()
        super().start_pipeline(spec)
        with InputNode() as inputs:
            batches = [actor.call.bind("collect", inputs[0]) for actor in self._actors]
            minibatch = self._replay.call_with_list.bind("store_and_sample", *batches)
            if spec.pipelined:
                dag = MultiOutputNode([self._learner.call.bind("update", inputs[1]), minibatch])
            else:
                dag = self._learner.call.bind("update", minibatch)
        self._graph = dag.experimental_compile(
            _buffer_size_bytes=MIN_BUFFER_BYTES + CHANNEL_MARGIN_BYTES, _max_inflight_executions=1
        )
        self._weights = None

    def pipeline_round(self) -> Any:
        # Arrays read from a channel are views of its buffer, and an actor cannot write the next
        # round's output while the driver still holds them: keep copies (weights: a few KB).
        if self._pipelined:
            (weights, report), minibatch = self._ray.get(self._graph.execute(self._weights, self._minibatch))
            self._minibatch = copy.deepcopy(minibatch)
        else:
            weights, report = self._ray.get(self._graph.execute(self._weights))
        self._weights = copy.deepcopy(weights)
        return report

    def _teardown(self) -> None:
        graph, self._graph = getattr(self, "_graph", None), None
        if graph is not None:
            graph.teardown()

    def shutdown(self) -> None:
        try:
            self._teardown()
        finally:
            try:
                super().shutdown()
            finally:
                before = getattr(self, "_shm_before", None)
                if before is not None:
                    unlink_channel_semaphores(before)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "channel_buffer_bytes": getattr(self, "_buffer_bytes", 0)}
