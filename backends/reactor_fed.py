"""The ``reactor-fed`` backend: the in-house reactor runtime federated across processes.

The same programs as ``reactor`` (``backends.reactor_backend``), run with Lingua Franca's federated
execution (``backends.reactor.federation``): the members of the worker bank (and of the pipeline's
rollout bank) are spread round-robin over F federate processes (``--processes``, default the core
count), each running its members with W worker threads (``--threads``), while the driver, the
replay buffer and the learner stay in the harness's cell process, which also runs the RTI (never
more federates than the bank has members; rows record the number used). So the
reactor model gets the actor side's placement: processes, their Python running in parallel on
every interpreter, values crossing process boundaries (a large array written once into shared
memory per tag and read by every federate), with logical time coordinated by the RTI, and exactly
the results of one process (tested). Federates start with ``spawn``: every worker is built inside
its federate from the workload's picklable factory, as in a Ray actor.

On test hosts (``BackendOptions.hosts``) there is one federate per host 1..H-1, started there with the
host's command, connected over TCP to the RTI on host 0, where the driver runs; the members then go
round-robin over the hosts (``worker_host``), and every value crosses the network inline: a
broadcast goes once to each federate, not once to each member.
"""

from __future__ import annotations

from typing import Any

from .base import PROCESSES, BackendOptions, OperationNotSupported
from .reactor import Environment, Federation, bench
from .reactor.distribution import Distribution
from .reactor_backend import ReactorBackend

FEDERATE_BYTES = 40 * 2**20
"""Resident memory of one federate before its members are built: an interpreter with numpy, the runtime
and the modules spawn imports again from the cell's main module (measured: the 16 federates of a
collectives cell run with ``--processes 16``, 629 MiB in all, 22 MiB of each unique to it)."""


class ReactorFedBackend(ReactorBackend):
    name = "reactor-fed"
    description = "in-house reactor runtime federated: worker banks over F processes (--processes), an RTI"
    plot_style = ("darkred", "H")
    placement = PROCESSES
    federated = True
    operations = frozenset({"call_all", "micro", "pipeline"})
    multi_host = True

    @classmethod
    def federates(cls, options: BackendOptions, group: int) -> int:
        """Federate processes for a bank of ``group`` members: one per test host but the driver's, else
        ``--processes`` but no more than the bank has members (a federate without one would only take
        memory: 16 for a bank of 2 took 629 MiB here)."""
        if len(options.hosts) >= 2:
            return len(options.hosts) - 1
        return max(1, min(options.processes, group))

    @classmethod
    def own_processes_bytes(cls, options: BackendOptions, group: int) -> int:
        return cls.federates(options, group) * FEDERATE_BYTES

    @property
    def processes(self) -> int:
        """The federates this backend's bank uses (what a row records as ``processes``)."""
        return self.federates(self.options, self.n_workers)

    def _environment(self) -> Environment:
        return Environment(workers=self.threads, fast=True, federates=self._federation())

    def _federation(self) -> Federation:
        hosts = self.options.hosts
        if len(hosts) < 2:
            return Federation(self.processes)
        return Federation(
            self.processes,
            transport="tcp",
            host=hosts[0].address,
            start_method="command",
            commands=[host.command for host in hosts[1:]],
        )

    def coordination_messages(self) -> int | None:
        """The RTI's tag grants so far (TAG and PTAG, one per federate and tag it lets advance)."""
        env = getattr(self, "_env", None)
        federation = env.federation if env is not None else None
        rti = getattr(federation, "rti", None) if federation is not None else None
        return rti.grants_sent if rti is not None else None

    def micro(self, program: str, size: int, workers: int) -> Distribution:
        """The bank round across the federates: a driver here, the bank's members in the federates;
        with one member per federate it is the coordination cost of one tag."""
        if program != "bank":
            raise OperationNotSupported(f"{self.name} measures federated bank rounds only, not {program!r}")
        self.n_workers = size  # the bank's members: what caps the federates
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
        hosts = self.options.hosts
        label = (lambda n: hosts[1 + n].name) if len(hosts) >= 2 else (lambda n: f"federate {n}")
        return [label(where[f"{bank}[{i}]"]) for i in range(self.n_workers) if f"{bank}[{i}]" in where]
