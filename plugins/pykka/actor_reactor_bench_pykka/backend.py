"""The ``pykka`` backend: one Pykka actor per worker, all in the driver's process.

Pykka is the actor model on threads: each actor has its own thread and mailbox, messages are Python
objects passed by reference (no serialization, no copy), and a reply is a future. That is the
placement of the in-house ``reactor`` backend (threads of one process, shared memory) with the
actor model's semantics, so ``pykka`` against ``reactor`` is the model at fixed placement, and
``pykka`` against ``ray`` is placement (threads vs processes) at a fixed model.

Each worker is built by its actor, in the actor's thread (the first message it handles), so it
lives inside the actor like a Ray actor's state. ``call_all`` sends every actor the call with
``ask(block=False)`` and collects the futures with ``pykka.get_all``, in worker order. The training
pipeline passes futures from actor to actor, as Ray passes refs: the replay actor waits on the
rollouts' futures itself, the learner on the replay's, and the driver waits only for the learner's
report. Pipelined, the learner's update runs on last round's minibatch future while the rollout
actors collect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backends.base import Backend, PipelineSpec, WorkerFactory, WorkerFailed, missing_package

STOP_TIMEOUT_S = 30.0


def _resolve(value: Any) -> Any:
    """A message's argument, waiting for it first when it is another actor's future."""
    import pykka

    return value.get() if isinstance(value, pykka.Future) else value


def _host_class() -> type:
    import pykka

    class Host(pykka.ThreadingActor):
        """Owns one worker; messages are ``(method, argument)``, arguments may be futures."""

        def __init__(self, factory: Callable[..., Any], index: int | None):
            super().__init__()
            self._factory, self._index = factory, index
            self.worker: Any = None

        def on_receive(self, message: Any) -> Any:
            method, arg = message
            if method == "__build__":
                self.worker = self._factory() if self._index is None else self._factory(self._index)
                return None
            if isinstance(arg, list):
                arg = [_resolve(item) for item in arg]
            return getattr(self.worker, method)(_resolve(arg))

    return Host


class PykkaBackend(Backend):
    name = "pykka"
    description = "Pykka actors, one per worker, on threads of the driver's process (no serialization)"
    plot_style = ("darkorange", "h")
    operations = frozenset({"call_all", "pipeline"})

    @classmethod
    def availability(cls) -> str | None:
        return missing_package("pykka", "pykka==4.*")

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self.n_workers = n_workers
        self._actors = self._create([(factory, index) for index in range(n_workers)])

    def _create(self, factories: list[tuple[Callable[..., Any], int | None]]) -> list[Any]:
        """Actors built from (factory, index) pairs; returns once every worker is built."""
        host = _host_class()
        self._all: list[Any] = []
        for factory, index in factories:
            self._all.append(host.start(factory, index))
        self._gather([actor.ask(("__build__", None), block=False) for actor in self._all])
        return list(self._all)

    def _gather(self, futures: list[Any]) -> list[Any]:
        import pykka

        try:
            return list(pykka.get_all(futures))
        except Exception as error:
            for index, future in enumerate(futures):  # which worker, in worker order
                try:
                    future.get()
                except Exception as failure:
                    raise WorkerFailed(index, failure) from failure
            raise error

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        return self._gather([actor.ask((method, arg), block=False) for actor in self._actors])

    def start_pipeline(self, spec: PipelineSpec) -> None:
        self.n_workers = spec.n_rollouts
        self._actors, self._replay, self._learner = spec.split(self._create(spec.stages()))
        self._pipelined = spec.pipelined
        self._weights: Any = None
        self._minibatch: Any = None

    def pipeline_round(self) -> Any:
        """Futures go from actor to actor; the driver waits for the learner's report (and, pipelined,
        for this round's minibatch, so that a round ends with its rollouts)."""
        weights = self._weights
        batches = [actor.ask(("collect", weights), block=False) for actor in self._actors]
        if self._pipelined:
            update = self._learner.ask(("update", self._minibatch), block=False)
            self._minibatch = self._replay.ask(("store_and_sample", batches), block=False)
            self._minibatch.get()
        else:
            minibatch = self._replay.ask(("store_and_sample", batches), block=False)
            update = self._learner.ask(("update", minibatch), block=False)
        self._weights, report = update.get()
        return report

    def shutdown(self) -> None:
        actors, self._all, self._actors = getattr(self, "_all", []), [], []
        for actor in actors:
            try:
                actor.stop(block=True, timeout=STOP_TIMEOUT_S)
            except Exception:  # an actor that died with its worker is already stopped
                continue

    def describe(self) -> dict[str, Any]:
        return {"threads": max(1, self.n_workers), "actors": len(getattr(self, "_all", []))}
