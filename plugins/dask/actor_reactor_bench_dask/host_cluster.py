"""A Dask cluster the ``dask`` backend starts on test hosts (``BackendOptions.hosts``).

The scheduler runs on host 0, where the driver runs, at a fixed port of host 0's address (each
cell's hosts are namespaces of their own, so no other cell can hold it). Every host 1..H-1 runs as
many worker processes as ``LocalCluster`` runs on one machine (one per core, one thread each), so
that only their placement differs from the private cluster; the pipeline also gets one worker on
host 0 for the replay and the learner, which stay with the driver. Workers run without a nanny (one
``dask worker --no-nanny`` process each: nothing restarts a dead worker, and every process of the
cluster is one this module started and can kill). Services listen on the hosts' addresses only,
their HTTP servers on loopback; local directories, temporary files and logs go in the scratch folder.
Every process speaks TLS only, with the cell's certificate (``ClusterCredentials``, its files in the
cell's scratch folder): a process in a host's namespace, or on host 0 beside the driver, that lacks
them is refused.

Every process is started through its host's command and stays in the driver's process group and
environment, so that the harness's own clean-up finds it too; ``close`` kills and waits for every
one of them and their children, whatever state ``start`` got to.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

from backends.base import Host, worker_host

from .credentials import PROTOCOL, ClusterCredentials

SCHEDULER_PORT = 8786
STARTUP_TIMEOUT_S = 60.0
"""How long the scheduler and every worker have to come up (imports on a loaded 2-core machine
take seconds per process)."""
POLL_S = 0.05
WORKER_DEATH_TIMEOUT_S = 60
"""A worker that cannot reach the scheduler for this long exits on its own."""
TERMINATE_GRACE_S = 5.0
"""How long a process has to end after SIGTERM before it is killed."""
LOOPBACK_HTTP = "127.0.0.1:0"
"""Where the scheduler's and workers' HTTP servers listen (they always start one)."""


def scheduler_address(hosts: tuple[Host, ...]) -> str:
    """Where the scheduler of a cluster on ``hosts`` listens: host 0's address, a fixed port."""
    return f"{PROTOCOL}://{hosts[0].address}:{SCHEDULER_PORT}"


class HostClusterError(Exception):
    """The cluster did not come up: a process exited, or did not register in time (one line)."""


@dataclass
class _Process:
    """One process of the cluster: the scheduler or a worker, on a host, with its log file."""

    name: str
    host: Host
    popen: subprocess.Popen
    log: IO[bytes]
    log_path: Path

    def last_line(self) -> str:
        """The last line the process logged (why it exited), or ``no output``."""
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return lines[-1].strip()[:250] if lines else "no output"


class HostCluster:
    """The scheduler on ``hosts[0]`` and worker processes on the other hosts (and on host 0 when
    ``driver_worker``); ``start``, then ``wait_for_workers`` with a client, then ``close``."""

    def __init__(
        self,
        hosts: tuple[Host, ...],
        scratch_dir: str | None,
        credentials: ClusterCredentials,
        driver_worker: bool = False,
    ):
        if len(hosts) < 2:
            raise ValueError("a Dask cluster on test hosts needs at least two hosts")
        self.hosts = hosts
        self.per_host = os.cpu_count() or 1
        self.driver_worker = driver_worker
        self.credentials = credentials
        self.address = scheduler_address(hosts)
        self._own_scratch = scratch_dir is None
        self.scratch = Path(scratch_dir or tempfile.mkdtemp(prefix="dask-hosts-")) / "dask-hosts"
        self._processes: list[_Process] = []
        self._env: dict[str, str] = {}
        self.workers: dict[str, str] = {}
        """Worker name -> its address, once registered."""

    def expected(self) -> dict[str, Host]:
        """Worker name -> the host it runs on: ``<host>-<n>`` for every worker process."""
        names = {f"{self.hosts[0].name}-0": self.hosts[0]} if self.driver_worker else {}
        for host in self.hosts[1:]:
            names.update({f"{host.name}-{n}": host for n in range(self.per_host)})
        return names

    def start(self) -> None:
        """Starts the scheduler and all workers at once (workers retry until the scheduler
        answers), and returns once the scheduler accepts connections."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        self._env = self._environment()
        self._launch("scheduler", self.hosts[0], self._scheduler_argv())
        for name, host in self.expected().items():
            self._launch(name, host, self._worker_argv(name, host))
        self._wait_for_scheduler()

    def _scheduler_argv(self) -> list[str]:
        return [
            "-m", "distributed.cli.dask_scheduler",
            "--host", self.hosts[0].address,
            "--port", str(SCHEDULER_PORT),
            "--no-dashboard",
            "--dashboard-address", LOOPBACK_HTTP,
            *self.credentials.arguments(),
        ]  # fmt: skip

    def _worker_argv(self, name: str, host: Host) -> list[str]:
        return [
            "-m", "distributed.cli.dask_worker", self.address,
            "--name", name,
            "--host", host.address,
            "--nthreads", "1",
            "--no-nanny",
            "--no-dashboard",
            "--dashboard-address", LOOPBACK_HTTP,
            "--local-directory", str(self.scratch / name),
            "--death-timeout", str(WORKER_DEATH_TIMEOUT_S),
            *self.credentials.arguments(),
        ]  # fmt: skip

    def _environment(self) -> dict[str, str]:
        """The driver's environment, with its module path (as a spawned ``LocalCluster`` worker
        gets it, so that the workload's factories import the same) and temporary files in scratch."""
        env = dict(os.environ)
        path = [os.getcwd() if entry == "" else entry for entry in sys.path]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(path))
        temporary = str(self.scratch / "tmp")
        os.makedirs(temporary, exist_ok=True)
        env.update({"TMPDIR": temporary, "DASK_TEMPORARY_DIRECTORY": temporary})
        return env

    def _launch(self, name: str, host: Host, argv: list[str]) -> None:
        log_path = self.scratch / f"{name}.log"
        log = log_path.open("wb")
        try:
            popen = subprocess.Popen(
                [*host.command, sys.executable, *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env,
                cwd=os.getcwd(),
            )
        except OSError as error:
            log.close()
            raise HostClusterError(f"dask cluster: cannot start {name} on {host.name}: {error}") from None
        self._processes.append(_Process(name, host, popen, log, log_path))

    def _check_alive(self) -> None:
        """Raises, naming the process and its last log line, if any process of the cluster ended."""
        for process in self._processes:
            code = process.popen.poll()
            if code is not None:
                raise HostClusterError(
                    f"dask cluster: {process.name} on {process.host.name} exited with {code} "
                    f"before the cluster was up: {process.last_line()}"
                )

    def _wait_for_scheduler(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            self._check_alive()
            try:
                with socket.create_connection((self.hosts[0].address, SCHEDULER_PORT), timeout=1.0):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise HostClusterError(
                    f"dask cluster: the scheduler did not listen at {self.address} "
                    f"within {STARTUP_TIMEOUT_S:g} s"
                )
            time.sleep(POLL_S)

    def wait_for_workers(self, client: Any) -> None:
        """Returns once every expected worker registered with the scheduler (``client`` is
        connected to it); records their addresses."""
        expected = self.expected()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            self._check_alive()
            registered = {
                str(info.get("name")): address for address, info in client.scheduler_info()["workers"].items()
            }
            if set(expected) <= set(registered):
                self.workers = {name: registered[name] for name in expected}
                return
            if time.monotonic() > deadline:
                raise HostClusterError(
                    f"dask cluster: within {STARTUP_TIMEOUT_S:g} s, {self._missing(expected, registered)} "
                    f"did not register with {self.address}"
                )
            time.sleep(POLL_S)

    @staticmethod
    def _missing(expected: dict[str, Host], registered: dict[str, str]) -> str:
        """``host1: 1 of 2 workers, host2: 2 of 2 workers``: what is missing, per host."""
        missing: dict[str, int] = {}
        total: dict[str, int] = {}
        for name, host in expected.items():
            total[host.name] = total.get(host.name, 0) + 1
            if name not in registered:
                missing[host.name] = missing.get(host.name, 0) + 1
        return ", ".join(f"{host}: {n} of {total[host]} workers" for host, n in missing.items())

    def workers_on(self, host: Host) -> list[str]:
        """The addresses of ``host``'s worker processes, in name order."""
        expected = self.expected()
        return [address for name, address in self.workers.items() if expected[name] == host]

    def placement(self, indexes: list[int | None]) -> list[str]:
        """The worker address each actor goes to: worker ``i`` on a process of ``worker_host(i)``,
        round-robin over that host's processes; index None (replay, learner) on host 0's worker."""
        placed: dict[str, int] = {}
        targets = []
        for index in indexes:
            host = self.hosts[0] if index is None else worker_host(index, self.hosts)
            candidates = self.workers_on(host)
            if not candidates:
                raise HostClusterError(f"dask cluster: no worker process on {host.name}")
            n = placed.get(host.name, 0)
            placed[host.name] = n + 1
            targets.append(candidates[n % len(candidates)])
        return targets

    def host_of(self, address: str) -> Host:
        """The host a worker address (``tls://10.213.0.2:40123``) is on."""
        ip = address.split("://", 1)[-1].rsplit(":", 1)[0]
        for host in self.hosts:
            if host.address == ip:
                return host
        raise HostClusterError(f"dask cluster: {address} is on none of the test hosts")

    def close(self) -> None:
        """Ends every process it started and their children: the workers first, then the scheduler,
        each given SIGTERM and a grace period, then SIGKILL; waits for all. Safe twice."""
        processes, self._processes = self._processes, []
        workers = [p for p in processes if p.name != "scheduler"]
        scheduler = [p for p in processes if p.name == "scheduler"]
        for group in (workers, scheduler):
            _end([p.popen for p in group])
        for process in processes:
            process.log.close()
        self.workers = {}
        if self._own_scratch:
            shutil.rmtree(self.scratch.parent, ignore_errors=True)


def _end(popens: list[subprocess.Popen]) -> None:
    """Terminates the processes and their descendants, kills what is left after the grace period,
    and reaps the processes (no zombie stays behind)."""
    victims: list[psutil.Process] = []
    for popen in popens:
        try:
            parent = psutil.Process(popen.pid)
            victims += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    for victim in victims:
        _signal(victim, signal.SIGTERM)
    _, alive = psutil.wait_procs(victims, timeout=TERMINATE_GRACE_S)
    for victim in alive:
        _signal(victim, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=TERMINATE_GRACE_S)
    for popen in popens:
        try:
            popen.wait(timeout=TERMINATE_GRACE_S)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


def _signal(process: psutil.Process, signum: int) -> None:
    try:
        process.send_signal(signum)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass
