"""How much memory a cell needs, so that the runner skips one that would not fit in what is free.

Two parts, from their owners: the workload's estimate of its workers and payloads
(``Workload.peak_memory_bytes``), and the processes a backend starts of its own for the cell's
largest group of workers (``Backend.own_processes_bytes``: reactor-fed's federates, as many as
``--processes`` allows and the bank has members).
"""

from __future__ import annotations

from backends.base import BackendOptions, Host
from harness import registry

from .plan import Cell


def cell_memory_bytes(cell: Cell, processes: int, threads: int) -> int:
    """The estimated peak memory of ``cell`` run with ``--processes``/``--threads``."""
    workload = registry.WORKLOADS[cell.workload]
    on_hosts = workload.test_hosts(cell.params)
    # only the number of hosts matters here: they are made when the cell starts
    hosts = tuple(Host(f"host{i}", "") for i in range(on_hosts[0])) if on_hosts else ()
    options = BackendOptions(threads=threads, processes=processes, hosts=hosts)
    backend = registry.BACKENDS[cell.backend]
    own = backend.own_processes_bytes(options, workload.largest_group(cell.params))
    return workload.peak_memory_bytes(cell.params, backend) + own
