"""The ``dask`` backend: one Dask Actor per worker, on the worker processes of a Dask cluster.

Dask distributed is the second engine a user would pick instead of Ray. By default each cell starts a
private ``LocalCluster`` on loopback: one worker process per core, one thread each, no nanny restarts,
the scheduler's HTTP server (its dashboard routes; it always starts one) on a random loopback port
and no worker dashboards, so nothing listens beyond 127.0.0.1. The scheduler, workers and nannies
speak TLS only and let in only holders of the cluster's own certificate (``credentials``): on
loopback, any local user could otherwise connect and run code as the harness's user.
``--dask-address`` (default ``$DASK_SCHEDULER_ADDRESS``) runs on an existing cluster instead, which
the backend never stops, with the user's own security settings.

Actors are created with ``client.submit(Host, ..., actor=True)``, spread round-robin over the
workers (each worker process runs its actors' calls on its actor thread, one at a time), and each
builds its worker inside the worker process. ``call_all`` calls every actor and waits for the
replies in worker order. The training pipeline goes through the driver, as Dask actors take values
and not other actors' futures: the rollouts' batches come back, go to the replay actor, its
minibatch to the learner; pipelined, the learner's call on last round's minibatch is in flight
while the rollouts collect.

On test hosts (``BackendOptions.hosts``, two or more) the backend starts its own cluster there
instead (``host_cluster``): the scheduler on host 0 beside the driver, on every other host one
worker process per core, and for the pipeline one worker on host 0 for the replay and the learner.
Worker ``i`` goes to a worker process of ``worker_host(i, hosts)``, and ``worker_nodes`` names the
host each actor reports it runs on. A value passed to ``call_all`` travels to every actor on its
own, as without hosts: once per worker, not once per host.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from backends.base import (
    PROCESSES,
    Backend,
    ClusterAddressError,
    PipelineSpec,
    WorkerFactory,
    WorkerFailed,
    missing_package,
)

from .credentials import ClusterCredentials
from .host_cluster import HostCluster, scheduler_address

PROBE_TIMEOUT_S = 15.0
CLOSE_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 30


class Host:
    """The actor body: owns one worker, built in the worker process the actor lives in."""

    def __init__(self, factory: Callable[..., Any], index: int | None):
        self.worker = factory() if index is None else factory(index)

    def where(self) -> str:
        import socket

        return f"{socket.gethostname()}:{os.getpid()}"

    def worker_address(self) -> str:
        """The address of the worker process the actor lives in (``tls://10.213.0.2:40123``)."""
        from distributed import get_worker

        return get_worker().address

    def call(self, method: str, arg: Any) -> Any:
        return getattr(self.worker, method)(arg)


class DaskBackend(Backend):
    name = "dask"
    description = "Dask distributed actors, one per worker, on worker processes (LocalCluster on loopback)"
    plot_style = ("navy", "p")
    placement = PROCESSES
    operations = frozenset({"call_all", "pipeline"})
    cluster_option = "dask-address"
    cluster_variable = "DASK_SCHEDULER_ADDRESS"
    headline_only_in_quick = True
    multi_host = True

    @classmethod
    def availability(cls) -> str | None:
        return missing_package("distributed", "distributed==2026.8.*")

    @classmethod
    def check_cluster(cls, address: str, origin: str) -> list[str]:
        """A Dask scheduler must answer at the address (asked by a client in a process of its own)."""
        try:
            answer = subprocess.run(
                [sys.executable, "-m", "actor_reactor_bench_dask.probe", address],
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT_S,
            ).stdout.strip()
        except subprocess.TimeoutExpired:
            raise ClusterAddressError(
                f"{origin} {address}: no Dask scheduler answered within {PROBE_TIMEOUT_S:g} s"
            ) from None
        if not answer.startswith("dask "):
            raise ClusterAddressError(
                f"{origin} {address}: {answer.removeprefix('not dask: ') or 'no answer'}"
            )
        if answer == "dask 0":
            raise ClusterAddressError(f"{origin} {address}: the Dask scheduler has no workers")
        return []

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self.n_workers = n_workers
        self._connect(driver_worker=False)
        self._actors = self._create([(factory, index) for index in range(n_workers)])

    @property
    def _on_hosts(self) -> bool:
        return len(self.options.hosts) >= 2

    def _connect(self, driver_worker: bool) -> None:
        """A client of the cluster the cell runs on: an existing one, one started on the test
        hosts (with a worker beside the driver when ``driver_worker``), else a private LocalCluster."""
        from distributed import Client, LocalCluster

        self._cluster: Any = None
        self.credentials: ClusterCredentials | None = None
        if self.options.cluster_address and not self._on_hosts:
            self._client = Client(self.options.cluster_address)
            return
        self.credentials = ClusterCredentials.create(self.options.scratch_dir)
        security = self.credentials.security()
        if self._on_hosts:
            self._cluster = HostCluster(
                self.options.hosts, self.options.scratch_dir, self.credentials, driver_worker
            )
            self._cluster.start()
            self._client = Client(self._cluster.address, security=security, timeout=CONNECT_TIMEOUT_S)
            self._cluster.wait_for_workers(self._client)
            return
        cores = os.cpu_count() or 1
        self._cluster = LocalCluster(
            n_workers=cores,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            worker_dashboard_address=None,
            # the scheduler too: else it leaves lock files in a shared /tmp/dask-scratch-space
            scheduler_kwargs={"dashboard": False, "local_directory": self.options.scratch_dir},
            local_directory=self.options.scratch_dir,
            security=security,
        )
        self._client = Client(self._cluster, security=security)

    def _create(self, factories: list[tuple[Callable[..., Any], int | None]]) -> list[Any]:
        """Actors built from (factory, index) pairs, each on its worker (``_placement``), all running."""
        targets = self._placement([index for _, index in factories])
        futures = [
            self._client.submit(Host, factory, index, actor=True, pure=False, workers=[target])
            for (factory, index), target in zip(factories, targets, strict=True)
        ]
        self._all = self._results([future for future in futures])
        self.hosts = self._where(self._all)
        return list(self._all)

    def _placement(self, indexes: list[int | None]) -> list[str]:
        """The worker address of each actor: on test hosts the cluster's placement, else
        round-robin over the workers in address order."""
        if isinstance(self._cluster, HostCluster):
            return self._cluster.placement(indexes)
        workers = sorted(self._client.scheduler_info()["workers"])
        return [workers[n % len(workers)] for n in range(len(indexes))]

    def _where(self, actors: list[Any]) -> list[str]:
        """Where each actor says it runs: on test hosts the name of its worker's host (all hosts
        share one hostname), else ``hostname:pid``."""
        if isinstance(self._cluster, HostCluster):
            cluster = self._cluster
            addresses = self._results([actor.worker_address() for actor in actors])
            return [cluster.host_of(address).name for address in addresses]
        return self._results([actor.where() for actor in actors])

    @staticmethod
    def _results(futures: list[Any]) -> list[Any]:
        """Every future's result, in order; the first failure as one error naming its worker."""
        results = []
        for index, future in enumerate(futures):
            try:
                results.append(future.result())
            except Exception as error:
                raise WorkerFailed(index, error) from error
        return results

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        return self._results([actor.call(method, arg) for actor in self._actors])

    def start_pipeline(self, spec: PipelineSpec) -> None:
        self.n_workers = spec.n_rollouts
        self._connect(driver_worker=True)
        self._actors, self._replay, self._learner = spec.split(self._create(spec.stages()))
        self._pipelined = spec.pipelined
        self._weights: Any = None
        self._minibatch: Any = None

    def pipeline_round(self) -> Any:
        collecting = [actor.call("collect", self._weights) for actor in self._actors]
        if self._pipelined:
            update = self._learner.call("update", self._minibatch)
            batches = self._results(collecting)
            self._minibatch = self._replay.call("store_and_sample", batches).result()
        else:
            batches = self._results(collecting)
            minibatch = self._replay.call("store_and_sample", batches).result()
            update = self._learner.call("update", minibatch)
        self._weights, report = update.result()
        return report

    def shutdown(self) -> None:
        client, self._client = getattr(self, "_client", None), None
        cluster, self._cluster = getattr(self, "_cluster", None), None
        credentials, self.credentials = getattr(self, "credentials", None), None
        self._actors = self._all = []
        try:
            if client is not None:
                client.close(timeout=CLOSE_TIMEOUT_S)
        finally:
            try:
                if isinstance(cluster, HostCluster):
                    cluster.close()
                elif cluster is not None:
                    cluster.close(timeout=CLOSE_TIMEOUT_S)
            finally:
                if credentials is not None:
                    credentials.remove()

    def describe(self) -> dict[str, Any]:
        return {
            "threads": 1,
            "cluster_address": self._cluster_address(),
            "worker_nodes": ",".join(getattr(self, "hosts", [])),
        }

    def _cluster_address(self) -> str:
        """The scheduler's address on test hosts, the existing cluster's, or ``local``."""
        if self._on_hosts:
            return scheduler_address(self.options.hosts)
        return self.options.cluster_address or "local"
