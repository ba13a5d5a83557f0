"""The ``reactor-fed`` backend: the in-house reactor runtime federated across processes.

The same programs as ``reactor`` (``backends.reactor_backend``), run with Lingua Franca's federated
execution (``backends.reactor.federation``): the members of the worker bank (and of the pipeline's
rollout bank) are spread round-robin over F federate processes (``--processes``, default the core
count), each running its members with W worker threads (``--threads``), while the driver, the
replay buffer and the learner stay in the harness's cell process, which also runs the RTI. So the
reactor model gets the actor side's placement: processes, their Python running in parallel on
every interpreter, values crossing process boundaries (a large array written once into shared
memory per tag and read by every federate), with logical time coordinated by the RTI, and exactly
the results of one process (tested). Federates start with ``spawn``: every worker is built inside
its federate from the workload's picklable factory, as in a Ray actor.
"""

from __future__ import annotations

from typing import Any

from .base import OperationNotSupported
from .reactor import Environment, Federation, bench
from .reactor_backend import ReactorBackend


class ReactorFedBackend(ReactorBackend):
    name = "reactor-fed"
    description = "in-house reactor runtime federated: worker banks over F processes (--processes), an RTI"
    operations = frozenset({"call_all", "micro", "pipeline"})

    @property
    def processes(self) -> int:
        return max(1, self.options.processes)

    def _environment(self) -> Environment:
        return Environment(workers=self.threads, fast=True, federates=Federation(self.processes))

    def micro(self, program: str, size: int, workers: int) -> float:
        """The bank round across the federates: a driver here, the bank's members in the federates;
        with one member per federate it is the coordination cost of one tag."""
        if program != "bank":
            raise OperationNotSupported(f"{self.name} measures federated bank rounds only, not {program!r}")
        return bench.bank_round_us(size, workers=workers, federates=self.processes)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "processes": self.processes,
            "runtime": "in-house reactor, federated (centralized coordination, fast mode)",
            "worker_nodes": ",".join(self._federate_of_each_worker()),
        }

    def _federate_of_each_worker(self) -> list[str]:
        """Where each worker of the bank runs (``federate <n>``), in worker order."""
        env = getattr(self, "_env", None)
        federation = env.federation if env is not None else None
        if federation is None:
            return []
        where = {name: n for n, names in federation.members.items() for name in names}
        bank = "host" if any(name.startswith("host[") for name in where) else "rollout"
        return [f"federate {where[f'{bank}[{i}]']}" for i in range(self.n_workers) if f"{bank}[{i}]" in where]
