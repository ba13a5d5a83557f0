"""The ``ray`` backend's own cluster on test hosts (``backends.ray.hosts``): placement, traffic, clean-up.

Each test creates network-namespace hosts, runs a driver inside host 0 (as the harness runs a cell)
and then checks that nothing of the cluster is left: no process carrying its marker, none at all in
the hosts' namespaces, nothing the run's processes held in /dev/shm, no socket of theirs in /tmp/ray
or ~/.ray. Needs root and the ``ip``
command; skipped otherwise, or when Ray is not installed.

The workers' factory lives here, so Ray's worker processes import this module: nothing here may do
more at import than define things (the skip is decided in a fixture, not at import).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.cells.leftover_watch import Watch, pids_in_namespaces

pytestmark = pytest.mark.slow  # each test starts a Ray cluster on test hosts (5-20 s)
ROOT = Path(__file__).resolve().parents[3]
MIB = 1024 * 1024
PAYLOAD_BYTES = 10 * MIB
DRIVER_TIMEOUT_S = 180

DRIVER = """
import json, sys, time
import numpy as np
from backends.base import BackendOptions, Host
from backends.ray.backend import RayBackend
from harness.cells.testhosts import read_counters
from tests.backends.ray.test_ray_hosts import make_echo

spec = json.loads(sys.argv[1])
hosts = tuple(Host(name, address, tuple(command)) for name, address, command in spec["hosts"])
namespaces = [host.command[-1] for host in hosts]
backend = RayBackend(BackendOptions(threads=1, hosts=hosts, scratch_dir=spec["scratch"]))
out = {}
try:
    started = time.perf_counter()
    try:
        backend.start(make_echo, spec["workers"])
    finally:
        out["marker"] = getattr(getattr(backend, "_cluster", None), "marker", None)
    out["startup_s"] = time.perf_counter() - started
    out["indices"] = backend.call_all("index_of")
    out["describe"] = backend.describe()
    if spec["access"]:  # from host 0, as another user: without, then with the cluster's token
        import os, ray
        from tests.backends.ray.test_ray_access import probe_ray

        gcs, token = backend._cluster.address, backend._cluster.token.path
        cluster = ray._private.worker.global_worker.node.cluster_id.hex()
        readable = [os.path.expanduser("~/.ray/auth_token"), str(token)]
        out["without"] = probe_ray(gcs, cluster, readable=readable)
        out["with"] = probe_ray(gcs, cluster, token=token.read_text().strip())
    payload = np.ones(spec["payload_bytes"], dtype=np.uint8)
    before = read_counters(namespaces)
    out["received"] = backend.call_all("receive", payload)
    after = read_counters(namespaces)
    out["rx"] = [a.rx_bytes - b.rx_bytes for a, b in zip(after, before)]
    out["tx"] = [a.tx_bytes - b.tx_bytes for a, b in zip(after, before)]
except Exception as error:
    out["error"] = f"{type(error).__name__}: {error}"
finally:
    backend.shutdown()
    backend.shutdown()
print("RESULT " + json.dumps(out), flush=True)
"""


@dataclass
class Echo:
    """A worker that says who it is and how much it received."""

    index: int

    def index_of(self, _: Any) -> int:
        return self.index

    def receive(self, payload: Any) -> int:
        return int(payload.nbytes)


def make_echo(index: int) -> Echo:
    return Echo(index)


@pytest.fixture(scope="module", autouse=True)
def _needs_test_hosts() -> None:
    from harness.cells import testhosts

    reason = testhosts.availability()
    if reason:
        pytest.skip(reason)
    if importlib.util.find_spec("ray") is None:
        pytest.skip("the 'ray' package is not installed")


@dataclass
class Run:
    result: dict[str, Any]
    hosts: tuple[Any, ...]
    stderr: str


def _processes_in(namespaces: list[str]) -> list[str]:
    """Live processes (zombies excluded) in any of the network namespaces."""
    found = []
    for pid in pids_in_namespaces(namespaces):
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                found.append(f"{pid} {process.name()}")
        except psutil.Error:
            continue
    return found


def _marked(marker: str) -> list[str]:
    from backends.ray.hosts import MARKER_VARIABLE

    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if process.environ().get(MARKER_VARIABLE) == marker:
                found.append(f"{process.pid} {process.info['name']}")
        except psutil.Error:
            continue
    return found


@pytest.fixture
def drive() -> Iterator[Any]:
    """Runs the driver on fresh hosts, checks the clean-up afterwards, removes the hosts."""
    from harness.cells.testhosts import TestHosts

    created: list[tuple[TestHosts, str]] = []
    watches: list[tuple[Watch, str]] = []
    outside = ("/tmp/ray/", f"{Path.home() / '.ray'}/")

    def run(count: int, workers: int, broken: int | None = None, access: bool = False) -> Run:
        test_hosts = TestHosts(count)
        scratch = tempfile.mkdtemp(prefix="rh-", dir="/tmp")  # short: Ray's sockets go below it
        created.append((test_hosts, scratch))
        hosts = test_hosts.create()
        commands = [["false"] if i == broken else list(host.command) for i, host in enumerate(hosts)]
        given = [[host.name, host.address, command] for host, command in zip(hosts, commands, strict=True)]
        spec = {
            "hosts": given,
            "workers": workers,
            "scratch": scratch,
            "payload_bytes": PAYLOAD_BYTES,
            "access": access,
        }
        namespaces = [host.command[-1] for host in hosts]
        with Watch(lambda: pids_in_namespaces(namespaces)) as watch:  # the driver and the cluster
            done = subprocess.run(
                [*hosts[0].command, sys.executable, "-c", DRIVER, json.dumps(spec)],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                capture_output=True,
                text=True,
                timeout=DRIVER_TIMEOUT_S,
            )
        watches.append((watch, scratch))
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        assert done.returncode == 0 and lines, f"driver failed ({done.returncode}): {done.stderr[-3000:]}"
        result = json.loads(lines[-1].removeprefix("RESULT "))
        assert result["marker"], f"no cluster was made: {result.get('error')}"
        assert _marked(result["marker"]) == [], "processes of the cluster outlived its shutdown"
        assert _processes_in(namespaces) == [], "processes left in the hosts' namespaces"
        return Run(result, hosts, done.stderr)

    try:
        yield run
        for watch, scratch in watches:  # what the run's processes held: others may run Ray beside
            left = [path for path in watch.left() if not path.startswith(f"{scratch}/")]  # removed below
            assert left == [], "the cluster's files in /dev/shm or its sockets outlived it"
            assert [path for path in watch.held if path.startswith(outside)] == [], (
                "Ray used /tmp/ray or ~/.ray"
            )
    finally:
        for test_hosts, scratch in created:
            test_hosts.remove()
            shutil.rmtree(scratch, ignore_errors=True)


def _report(run: Run) -> None:
    result = run.result
    print(
        f"{len(run.hosts)} hosts: startup {result['startup_s']:.1f} s, "
        f"rx per host {result['rx']}, tx per host {result['tx']} for {PAYLOAD_BYTES} payload bytes"
    )


def test_two_hosts_put_every_worker_on_host1_and_a_broadcast_crosses_once(drive: Any) -> None:
    run = drive(2, workers=3)
    result = run.result
    assert "error" not in result, result.get("error")
    _report(run)
    assert result["indices"] == [0, 1, 2]
    assert result["describe"]["worker_nodes"] == "host1,host1,host1"
    assert result["describe"]["cluster_address"] == "10.213.0.1:6379 (host0)"
    assert result["received"] == [PAYLOAD_BYTES] * 3
    # the argument leaves host 0 and reaches host 1 over the link: once for the node, not per worker
    assert PAYLOAD_BYTES <= result["tx"][0] < 2 * PAYLOAD_BYTES
    assert PAYLOAD_BYTES <= result["rx"][1] < 2 * PAYLOAD_BYTES


def test_three_hosts_place_workers_round_robin(drive: Any) -> None:
    run = drive(3, workers=4)
    result = run.result
    assert "error" not in result, result.get("error")
    _report(run)
    assert result["indices"] == [0, 1, 2, 3]
    assert result["describe"]["worker_nodes"] == "host1,host2,host1,host2"
    assert all(PAYLOAD_BYTES <= received < 2 * PAYLOAD_BYTES for received in result["rx"][1:])


def test_a_node_that_cannot_start_is_named_and_the_rest_is_stopped(drive: Any) -> None:
    run = drive(2, workers=1, broken=1)
    assert run.result["error"].startswith("ClusterStartFailed: host1 (10.213.0.2): ray start failed")
    assert "\n" not in run.result["error"]


def test_another_user_on_host0_cannot_reach_the_clusters_gcs(drive: Any) -> None:
    """The cluster's token (``backends.ray.token``) is the only way in: a client on host 0 as
    another user, with any token file it can read or none, is refused by the GCS; given the token,
    it gets in (so the refusal is not a broken set-up)."""
    from tests.conftest import other_user_unavailable

    reason = other_user_unavailable("ray")
    if reason:
        pytest.skip(reason)
    result = drive(2, 1, access=True).result
    without, with_it = result["without"], result["with"]
    assert without.get("refused", "").startswith("AuthenticationError"), without
    assert without["token"] is None, without  # it could read neither token file
    assert "refused" not in with_it and with_it["keys"] > 0, with_it
