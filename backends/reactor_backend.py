"""The ``reactor`` backend: the workers are a bank of reactors of the in-house runtime.

The program is the seed's shape: a driver reactor broadcasts ``(method, argument)`` to the bank,
``(driver.out)+ -> host.inp``, every host calls its worker, and the driver's second reaction gathers
the replies through the multiport ``replies[N]`` in bank order. Each operation is one logical tag,
injected through a physical action and processed on the caller's thread (``run_until_idle``), with
the bank's reactions spread over the runtime's worker threads.
"""

from __future__ import annotations

from typing import Any

from .base import Backend, OperationNotSupported, WorkerFactory
from .reactor import Environment, Reactor, bench


class _Driver(Reactor):
    def __init__(self, width: int):
        self.results: list[Any] | None = None
        self.command = self.physical_action("command")
        self.out = self.output("out")
        self.replies = self.input("replies", width)
        self.reaction(self.send, triggers=[self.command], effects=[self.out])
        self.reaction(self.collect, triggers=[self.replies])

    def send(self) -> None:
        self.out.set(self.command.value)

    def collect(self) -> None:
        self.results = self.replies.values()


class _Host(Reactor):
    """Owns one worker, built here so that it lives inside the reactor, like a Ray actor's state."""

    def __init__(self, factory: WorkerFactory):
        self.worker = factory(self.bank_index)
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.reaction(self.call, triggers=[self.inp], effects=[self.out])

    def call(self) -> None:
        method, arg = self.inp.value
        self.out.set(getattr(self.worker, method)(arg))


class ReactorBackend(Backend):
    name = "reactor"
    description = "in-house reactor runtime: a bank of reactors, one logical tag per operation"
    operations = frozenset({"call_all", "micro"})

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self.n_workers = n_workers
        self._env = Environment(workers=self.threads, fast=True)
        self._driver = self._env.create(_Driver, "driver", n_workers)
        hosts = self._env.bank(_Host, n_workers, "host", factory)
        self._env.connect(self._driver.out, hosts.port("inp"), broadcast=True)
        self._env.connect(hosts.port("out"), self._driver.replies)
        self._env.start()

    @property
    def threads(self) -> int:
        return max(1, self.options.threads)

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        driver = self._driver
        driver.command.schedule((method, arg))
        self._env.run_until_idle()
        results, driver.results = driver.results, None
        if results is None:
            raise RuntimeError(f"reactor round for {method!r} ended without gathering replies")
        return results

    def micro(self, program: str, size: int, workers: int) -> float:
        if program == "chain":
            return bench.chain_us_per_reaction(length=size)
        if program == "bank":
            return bench.bank_round_us(size, workers=workers)
        if program == "numpy-bank":
            return bench.bank_tag_ms(width=size, workers=workers) * 1000.0
        raise OperationNotSupported(f"unknown micro program {program!r}")

    def shutdown(self) -> None:
        env = getattr(self, "_env", None)
        if env is not None:
            self._env = None
            env.stop()

    def describe(self) -> dict[str, Any]:
        return {"threads": self.threads, "runtime": "in-house reactor (fast mode)"}
