"""The ``ray`` backend: one Ray Core actor per worker, used the way Ray's documentation recommends.

DESIGN.md §6.4: a private local instance (``address="local"``) listening on loopback only, dashboard off
and ``log_to_driver=False``, its session folder in the cell's private scratch folder (not /tmp/ray),
token authentication always on with a token of its own (``ClusterToken``, not ``~/.ray/auth_token``);
fractional ``num_cpus`` so that all N actors really start on a small machine; a large argument
shared by all workers is ``ray.put`` once per call and arrives zero-copy and read-only, small ones
go by value; results are released before the next call.

On test hosts (``BackendOptions.hosts``, DESIGN.md §10) it starts a cluster of its own instead
(``backends.ray.hosts``): the head node on host 0 with the driver, a node on every other host, and
every actor placed by its host's custom resource, worker ``i`` on ``worker_host(i, hosts)``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backends.base import (
    PROCESSES,
    Backend,
    BackendUnavailable,
    Host,
    PipelineSpec,
    WorkerFactory,
    WorkerFailed,
    error_line,
    missing_package,
    worker_host,
)
from backends.ray.token import ClusterToken

INLINE_LIMIT_BYTES = 100 * 1024
"""Ray inlines arguments below about 100 KiB; above it a shared argument is put once."""


def payload_bytes(arg: Any) -> int:
    """Bytes of an array or bytes argument (0 for anything else): decides put vs inline, buffer sizes."""
    return int(getattr(arg, "nbytes", 0) or (len(arg) if isinstance(arg, (bytes, bytearray)) else 0))


def _loopback_only() -> None:
    """Makes a private instance listen on loopback only.

    Ray replaces a loopback node address with the machine's routable one unless its "cluster" mode
    is off (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER``, read when ray is imported); with the node address
    left at 127.0.0.1, every Ray server (GCS, raylet, workers, agents) binds loopback instead of all
    interfaces. The instance then cannot join other nodes, which a private instance never does.
    """
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    if "ray" in sys.modules:  # imported earlier in this process: the constant is already read
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = False


@dataclass(frozen=True)
class Raised:
    """A worker's exception in one line, returned in its place among the results."""

    error: str


def worker_failure(index: int, error: BaseException) -> WorkerFailed:
    """``WorkerFailed`` for a Ray error: a task error names the worker's own exception, not Ray's
    wrapper (whose message starts with the actor's process title)."""
    cause = getattr(error, "cause", None)
    failed = WorkerFailed(index, cause if isinstance(cause, BaseException) else error)
    failed.__cause__ = error
    return failed


class _Host:
    """The actor body: owns one worker built inside the actor process."""

    def __init__(self, factory: Callable[..., Any], index: int | None):
        self.worker = factory() if index is None else factory(index)

    def ready(self) -> tuple[int, str]:
        """(pid, node id): on a cluster the harness records where every worker ran."""
        import ray

        return os.getpid(), ray.get_runtime_context().get_node_id()

    def call(self, method: str, arg: Any) -> Any:
        return getattr(self.worker, method)(arg)

    def call_packed(self, command: tuple[str, Any]) -> Any:
        """``call`` with one argument (a compiled graph's input node is a single value); a worker's
        exception is returned as ``Raised``, so that the graph's results still say whose it was."""
        try:
            return self.call(*command)
        except Exception as error:
            return Raised(error_line(error))

    def call_with_list(self, method: str, *args: Any) -> Any:
        """Ray resolves refs passed as top-level arguments, so a list of upstream results is sent this way."""
        return getattr(self.worker, method)(list(args))


class RayBackend(Backend):
    name = "ray"
    description = "Ray Core actors, one per worker (private local instance, loopback, no dashboard)"
    plot_style = ("tab:blue", "o")
    placement = PROCESSES
    process_per_worker = True
    worker_memory_bytes = 150 * 2**20
    """An actor process: an interpreter with Ray's worker modules and the workload's imports."""
    operations = frozenset({"call_all", "pipeline"})
    cluster_option = "ray-address"
    cluster_variable = "RAY_ADDRESS"
    multi_host = True

    @classmethod
    def availability(cls) -> str | None:
        return missing_package("ray", "ray==2.60.*")

    @classmethod
    def check_cluster(cls, address: str, origin: str) -> list[str]:
        from backends.ray.cluster import check_cluster

        return check_cluster(address, origin)

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self.n_workers = n_workers
        self._init(n_workers)
        self._actors = self._create([(factory, index) for index in range(n_workers)])

    @property
    def _on_hosts(self) -> bool:
        return len(self.options.hosts) >= 2

    def _init(self, n_actors: int) -> None:
        if self.availability():
            raise BackendUnavailable(self.availability())
        if not self.options.cluster_address and not self._on_hosts:
            _loopback_only()
        import ray

        self._ray = ray
        cpus = os.cpu_count() or 1
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        self._per_actor_cpus = min(1.0, cpus / n_actors)
        if self._on_hosts:
            self._start_cluster()
        elif self.options.cluster_address:
            ray.init(address=self.options.cluster_address, log_to_driver=False, configure_logging=False)
        else:
            scratch = self.options.scratch_dir
            self._token = ClusterToken(scratch)
            self._token.write()
            self._token.enter()
            ray.init(
                address="local",
                num_cpus=cpus,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
                _node_ip_address="127.0.0.1",
                _temp_dir=os.path.join(scratch, "ray") if scratch else None,
            )

    def _start_cluster(self) -> None:
        """Starts the nodes on the hosts and connects the driver. The cluster is kept before it
        starts, so that ``shutdown`` stops whatever part of it came up when this fails half-way."""
        from backends.ray.hosts import HostCluster

        self._cluster = HostCluster(self.options.hosts, self.options.scratch_dir)
        self._cluster.start()
        self._node_hosts = self._cluster.connect(self._ray)

    def _placement(self, index: int | None) -> Host:
        """Where an actor goes on test hosts: a worker or rollout on ``worker_host``, the replay and
        the learner (index None) on host 0 with the driver."""
        hosts = self.options.hosts
        return hosts[0] if index is None else worker_host(index, hosts)

    def _create(self, factories: list[tuple[Callable[..., Any], int | None]]) -> list[Any]:
        """Actors built from (factory, index) pairs; returns once every one is running."""
        host = self._ray.remote(_Host)
        actors = [host.options(**self._actor_options(i)).remote(factory, i) for factory, i in factories]
        placed = self._ray.get([actor.ready.remote() for actor in actors])
        self.pids = [pid for pid, _ in placed]
        self.nodes = [node for _, node in placed]
        if self._on_hosts:
            self.hosts_used = self._check_placement([index for _, index in factories])
        return actors

    def _actor_options(self, index: int | None) -> dict[str, Any]:
        """Its CPU share; on test hosts also one unit of its host's resource, so it runs nowhere else."""
        if not self._on_hosts:
            return {"num_cpus": self._per_actor_cpus}
        from backends.ray.hosts import host_resource

        target = self.options.hosts.index(self._placement(index))
        return {"num_cpus": self._per_actor_cpus, "resources": {host_resource(target): 1}}

    def _check_placement(self, indices: list[int | None]) -> list[Host]:
        """The host every actor reported running on (node id -> the host with that node's address);
        raises if one is not where it was placed."""
        used = [self._node_hosts.get(node) for node in self.nodes]
        for position, (index, host) in enumerate(zip(indices, used, strict=True)):
            wanted = self._placement(index)
            if host != wanted:
                where = host.name if host else f"an unknown node {self.nodes[position][:8]}"
                raise RuntimeError(f"actor {position} runs on {where}, not on {wanted.name} as placed")
        return used

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        ray = self._ray
        if payload_bytes(arg) >= INLINE_LIMIT_BYTES:
            arg = ray.put(arg)
        refs = [actor.call.remote(method, arg) for actor in self._actors]
        try:
            return ray.get(refs)
        except Exception as error:
            failed = self._failed_worker(refs)
            if failed is None:
                raise
            raise failed from error

    def _failed_worker(self, refs: list[Any]) -> WorkerFailed | None:
        """The first worker (in worker order) whose call failed, as one error naming it."""
        for index, ref in enumerate(refs):
            try:
                self._ray.get(ref)
            except Exception as error:
                return worker_failure(index, error)
        return None

    def start_pipeline(self, spec: PipelineSpec) -> None:
        """Rollout actors, a replay actor and a learner actor; all of them must be running."""
        self.n_workers = spec.n_rollouts
        self._init(spec.n_rollouts + 2)
        self._actors, self._replay, self._learner = spec.split(self._create(spec.stages()))
        self._pipelined = spec.pipelined
        self._weights: Any = None
        self._minibatch: Any = None

    def pipeline_round(self) -> Any:
        """Refs go from actor to actor (Ray's own idiom); the driver waits only for the learner's report.

        The new weights stay in the object store as a ref that the next round hands to the rollouts.
        Pipelined, the learner's task takes last round's minibatch ref, so it runs in its process
        while the rollout actors run theirs; the round ends when this round's batches are stored too
        (``ray.wait`` without fetching the minibatch to the driver).
        """
        ray = self._ray
        learn = self._learner.call.options(num_returns=2)
        batches = [actor.call.remote("collect", self._weights) for actor in self._actors]
        if self._pipelined:
            self._weights, report = learn.remote("update", self._minibatch)
            self._minibatch = self._replay.call_with_list.remote("store_and_sample", *batches)
            ray.wait([self._minibatch], fetch_local=False)
            return ray.get(report)
        minibatch = self._replay.call_with_list.remote("store_and_sample", *batches)
        self._weights, report = learn.remote("update", minibatch)
        return ray.get(report)

    def shutdown(self) -> None:
        """Disconnects (a private instance stops with it); a cluster on test hosts is then stopped
        on every host, whatever state its start reached."""
        ray = getattr(self, "_ray", None)
        try:
            if ray is not None and ray.is_initialized():
                self._actors = []
                ray.shutdown()
        finally:
            cluster = getattr(self, "_cluster", None)
            if cluster is not None:
                cluster.stop()
            token, self._token = getattr(self, "_token", None), None
            if token is not None:
                token.leave()
                token.remove()

    def describe(self) -> dict[str, Any]:
        cluster = getattr(self, "_cluster", None)
        if cluster is not None:
            address = f"{cluster.address} ({self.options.hosts[0].name})"
            nodes = ",".join(host.name for host in getattr(self, "hosts_used", []))
        else:
            address = self.options.cluster_address or "local"
            nodes = ",".join(node[:8] for node in getattr(self, "nodes", []))
        return {
            "threads": 1,
            "cluster_address": address,
            "ray_num_cpus_per_actor": getattr(self, "_per_actor_cpus", None),
            "worker_nodes": nodes,
        }
