"""The ``ray`` backend's own Ray cluster on test hosts (DESIGN.md §10): started with a cell, gone with it.

The head node (GCS, raylet) runs on host 0, where the cell's driver runs, and one worker node on each
other host, each started with ``ray start`` through the host's command so that every Ray server
listens on that host's address and all traffic between nodes crosses the hosts' links. Each node
offers a custom resource naming its host (``host<i>``), by which the backend places every actor.

Authentication: Ray's token mode, with a token of the cluster's own (``ClusterToken``: a 0600 file of
the cell's scratch folder, never the user's ``~/.ray/auth_token``). The nodes get it in the
environment of ``ray start`` (which the host's command passes on, as ``ip netns exec`` does), the
driver in its own environment before it connects; a client without the token is refused.

Stopping: ``ray stop`` would kill every Ray process of the machine, other cells' included, so the
cluster finds its own processes instead. Every ``ray start`` carries a marker variable that its
daemons and workers inherit; Ray's agents overwrite their environment with their process title, so
the children of marked processes and anything with a file open in the cluster's session folders
count as the cluster's too (the latter also finds agents whose raylet has already died).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from backends.base import Host
from backends.ray.token import ClusterToken

MARKER_VARIABLE = "HARNESS_RAY_HOSTS_CLUSTER"
"""Set (to the cluster's own random value) in the environment of every ``ray start`` of a cluster."""
GCS_PORT = 6379
"""Fixed: every cell's hosts are network namespaces of their own, so no two cells share the port."""
OBJECT_STORE_BYTES = 1 << 30
"""Per node: bounded, since all nodes share the machine's /dev/shm (Ray's default is 30 % of memory)."""
HOST_RESOURCE_UNITS = 1000
"""Units of a node's ``host<i>`` resource: an actor takes one, so up to this many actors per host."""
START_TIMEOUT_S = 90.0
JOIN_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
"""How long killed processes may take to be gone."""
POLL_S = 0.1
REAP_S = 3.0
"""How long killed processes may stay zombies before ``stop`` returns anyway (init reaps orphans
within about a second here; one that never reaps would cost this much per stop)."""
MAX_SOCKET_PATH = 107
"""Longest path of a Unix socket (``sun_path`` less its final NUL)."""
SESSION_SOCKET_TAIL = "/session_2000-01-01_00-00-00_000000_4194304/sockets/plasma_store"
"""The longest path Ray puts below a node's temporary folder (its session name ends in a pid)."""
OVERRIDDEN = ("RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
"""Variables of the driver's environment that would point Ray elsewhere: another cluster, loopback
only (the token's own variables are ``ClusterToken``'s)."""


class ClusterStartFailed(Exception):
    """A node did not start or join; the message is one line naming the host."""


def host_resource(index: int) -> str:
    """The custom resource of host ``index``'s node: an actor asking for one unit runs there."""
    return f"host{index}"


def _last_line(path: Path) -> str:
    """The last non-empty line of a ``ray start`` log: Ray's own reason when it fails."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def _alive(process: psutil.Process) -> bool:
    """Still running: a zombie has exited (a process whose parent is gone may never be reaped here)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(processes: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Waits until the processes have exited; returns those still running after ``timeout_s``.

    Then gives the dead a moment to be reaped (``REAP_S``): killed with their raylet, they are
    orphans that init reaps when it gets to it, and until then their pids still exist, which makes
    a clean-up that asks whether a pid lives (the compiled backend's semaphores) leave their files."""
    deadline = time.monotonic() + timeout_s
    alive = [process for process in processes if _alive(process)]
    while alive and time.monotonic() < deadline:
        time.sleep(POLL_S)
        alive = [process for process in alive if _alive(process)]
    reaped_by = time.monotonic() + REAP_S
    while time.monotonic() < reaped_by and any(psutil.pid_exists(process.pid) for process in processes):
        time.sleep(POLL_S)
    return alive


@dataclass
class HostCluster:
    """One cell's Ray cluster on ``hosts``; ``start``, ``connect``, then ``stop`` (always, idempotent)."""

    hosts: tuple[Host, ...]
    scratch_dir: str | None = None
    """The cell's private folder: the nodes' temporary folders and the token go there. None: a
    folder of the cluster's own in the temporary folder, removed by ``stop``."""
    marker: str = field(default_factory=lambda: secrets.token_hex(8))

    def __post_init__(self) -> None:
        if len(self.hosts) < 2:
            raise ValueError("a Ray cluster on test hosts needs at least two hosts")
        self._own_root = self.scratch_dir is None
        self.root = Path(self.scratch_dir or tempfile.mkdtemp(prefix="ray-hosts-"))
        self.token = ClusterToken(self.root)
        self.startup_s: float | None = None

    @property
    def address(self) -> str:
        """The GCS address of the head node, on host 0."""
        return f"{self.hosts[0].address}:{GCS_PORT}"

    def temp_dir(self, index: int) -> Path:
        """Host ``index``'s node's temporary folder (Ray's session folder, sockets and logs go below)."""
        return self.root / f"ray{index}"

    def start(self) -> None:
        """Starts the head node, then every worker node (in parallel); raises ``ClusterStartFailed``."""
        started = time.perf_counter()
        self._check_socket_paths()
        self.token.write()
        self._run_start([0])
        self._run_start(range(1, len(self.hosts)))
        self.startup_s = time.perf_counter() - started

    def _check_socket_paths(self) -> None:
        longest = len(str(self.temp_dir(len(self.hosts) - 1))) + len(SESSION_SOCKET_TAIL)
        if longest > MAX_SOCKET_PATH:
            raise ClusterStartFailed(
                f"the scratch folder {self.root} is too long for Ray's sockets "
                f"({longest} > {MAX_SOCKET_PATH} bytes): use a shorter temporary folder"
            )

    def _node_environment(self) -> dict[str, str]:
        """The driver's environment, less what would point Ray elsewhere, plus marker and token."""
        wanted = {**dict.fromkeys(OVERRIDDEN), **self.token.environment()}
        env = {k: v for k, v in os.environ.items() if k not in wanted}
        env.update({k: v for k, v in wanted.items() if v is not None})
        env.update(RAY_USAGE_STATS_ENABLED="0", **{MARKER_VARIABLE: self.marker})
        return env

    def _start_command(self, index: int) -> list[str]:
        host = self.hosts[index]
        head = ["--head", f"--port={GCS_PORT}", "--include-dashboard=false"]
        role = head if index == 0 else [f"--address={self.address}"]
        return [
            *host.command,
            sys.executable,
            "-m",
            "ray.scripts.scripts",
            "start",
            *role,
            f"--node-ip-address={host.address}",
            f"--temp-dir={self.temp_dir(index)}",
            f"--num-cpus={os.cpu_count() or 1}",
            f"--object-store-memory={OBJECT_STORE_BYTES}",
            f"--resources={json.dumps({host_resource(index): HOST_RESOURCE_UNITS})}",
            "--include-log-monitor=false",  # it only forwards worker output to drivers (log_to_driver=False)
            "--disable-usage-stats",
        ]

    def _run_start(self, indices: Iterable[int]) -> None:
        """Runs ``ray start`` on the hosts at once and waits for all; the first failure (host order) raises.

        Its output goes to a log in the root folder (the last line says why it failed)."""
        running = []
        for index in indices:
            log = self.root / f"ray-start-{index}.log"
            with open(log, "wb") as output:
                process = subprocess.Popen(
                    self._start_command(index),
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=self._node_environment(),
                )
            running.append((index, log, process))
        deadline = time.monotonic() + START_TIMEOUT_S
        failures = []
        for index, log, process in running:
            try:
                code = process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                failures.append(f"{self._name(index)}: ray start did not finish within {START_TIMEOUT_S:g} s")
                continue
            if code != 0:
                reason = _last_line(log) or f"exit status {code}"
                failures.append(f"{self._name(index)}: ray start failed ({reason})")
        if failures:
            raise ClusterStartFailed(failures[0])

    def _name(self, index: int) -> str:
        host = self.hosts[index]
        return f"{host.name} ({host.address})"

    def connect(self, ray: Any) -> dict[str, Host]:
        """Connects this process (the driver, on host 0) and waits until every host's node is alive;
        returns node id -> host. Raises ``ClusterStartFailed`` naming the first host missing."""
        self.token.enter(also=dict.fromkeys(OVERRIDDEN))
        ray.init(
            address=self.address,
            _node_ip_address=self.hosts[0].address,
            log_to_driver=False,
            configure_logging=False,
        )
        by_address = {host.address: host for host in self.hosts}
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while True:
            nodes = {
                node["NodeID"]: by_address[node["NodeManagerAddress"]]
                for node in ray.nodes()
                if node.get("Alive") and node.get("NodeManagerAddress") in by_address
            }
            missing = [i for i, host in enumerate(self.hosts) if host not in nodes.values()]
            if not missing:
                return nodes
            if time.monotonic() > deadline:
                raise ClusterStartFailed(
                    f"{self._name(missing[0])}: its Ray node did not join the head at {self.address} "
                    f"within {JOIN_TIMEOUT_S:g} s"
                )
            time.sleep(POLL_S * 5)

    def processes(self) -> list[psutil.Process]:
        """Every process of this cluster that is still running (see the module's docstring)."""
        folders = tuple(f"{self.temp_dir(i)}{os.sep}" for i in range(len(self.hosts)))
        found: dict[int, psutil.Process] = {}
        for process in psutil.process_iter():
            if process.pid == os.getpid():
                continue
            try:
                if process.environ().get(MARKER_VARIABLE) == self.marker or _uses_folders(process, folders):
                    found[process.pid] = process
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        for process in list(found.values()):
            try:
                found.update((child.pid, child) for child in process.children(recursive=True))
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return [process for process in found.values() if _alive(process)]

    def stop(self) -> None:
        """Kills every process of the cluster on every host and waits for them; safe after a failed
        start and twice. A second pass catches any that a raylet started while it was being killed.

        SIGKILL at once, as ``ray stop --force`` does: nothing of a finished cell's cluster is worth
        saving, and on SIGTERM the GCS, the raylets and the agents take longer than 5 s to exit.
        The object store leaves nothing in /dev/shm (it unlinks its shared memory files when it
        maps them), so killing it leaves nothing there either."""
        for _ in range(3):
            victims = self.processes()
            if not victims:
                break
            _signal(victims, psutil.Process.kill)
            _wait_gone(victims, STOP_TIMEOUT_S)
        self.token.leave()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)


def _uses_folders(process: psutil.Process, folders: tuple[str, ...]) -> bool:
    """Whether the process names one of the folders on its command line or has a file open in one."""
    if any(folder in argument for argument in process.cmdline() for folder in folders):
        return True
    return any(opened.path.startswith(folders) for opened in process.open_files())


def _signal(processes: Iterable[psutil.Process], send: Any) -> None:
    for process in processes:
        try:
            send(process)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
