"""The ``dask`` backend on test hosts: its own cluster across network namespaces, worker ``i`` on
``worker_host(i)``, traffic over the hosts' links, and nothing left behind.

Each test creates its hosts, runs a driver script through host 0's command (as the harness runs a
cell there), and checks what the script reports and what is left afterwards. The workers below are
built from this module's factories, so the worker processes import it by name
(``tests.plugins.test_dask_hosts``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from typing import Any

import psutil
import pytest

from harness.cells import testhosts
from harness.cells.leftover_watch import Watch, pids_in_namespaces
from tests.conftest import ROOT, TEST_TAG_VARIABLE, other_user_unavailable, tagged_processes


@pytest.fixture(autouse=True, scope="module")
def _test_hosts_and_dask_available() -> None:
    """Skips every test of the module where test hosts cannot be made or Dask is absent. A fixture,
    not a check at import: the worker processes import this module for its factories, and must
    neither probe namespaces nor skip."""
    reason = testhosts.availability()
    if reason is None and importlib.util.find_spec("distributed") is None:
        reason = "the 'distributed' package is not installed"
    if reason:
        pytest.skip(reason)


DRIVER_TIMEOUT_S = 120
SCHEDULER = "10.213.0.1:8786"
PAYLOAD_BYTES = 10 * 1024 * 1024


class Worker:
    """Knows its index and process; measures what it receives."""

    def __init__(self, index: int):
        self.index = index

    def ident(self, arg: Any) -> tuple[int, int]:
        return self.index, os.getpid()

    def receive(self, arg: Any) -> int:
        return int(arg.nbytes)

    def collect(self, weights: Any) -> tuple[int, Any]:
        return self.index, weights


class Replay:
    def store_and_sample(self, batches: list[Any]) -> list[Any]:
        return batches


class Learner:
    def __init__(self) -> None:
        self.updates = 0

    def update(self, minibatch: Any) -> tuple[int, Any]:
        """(weights, report): the weights count the updates, the report is the minibatch."""
        self.updates += 1
        return self.updates, minibatch


def make_worker(index: int) -> Worker:
    return Worker(index)


def make_replay() -> Replay:
    return Replay()


def make_learner() -> Learner:
    return Learner()


DRIVER = r"""
import json, subprocess, sys, time
from backends.base import BackendOptions, Host, PipelineSpec, error_line
from actor_reactor_bench_dask.backend import DaskBackend
from harness.cells.testhosts import read_counters
from tests.plugins import test_dask_hosts as t

config = json.loads(sys.argv[1])
hosts = tuple(Host(name, address, tuple(command)) for name, address, command in config["hosts"])
if config["mode"] == "broken":  # host 1 cannot run anything
    hosts = (hosts[0], Host(hosts[1].name, hosts[1].address, ("false",)))
backend = DaskBackend(BackendOptions(threads=1, hosts=hosts, scratch_dir=config["scratch"]))
report = {}


def run():
    started = time.perf_counter()
    if config["mode"] == "broken":
        try:
            backend.start(t.make_worker, config["workers"])
        except Exception as error:
            report["error"] = error_line(error)
        return
    if config["mode"] == "pipeline":
        spec = PipelineSpec(t.make_worker, config["workers"], t.make_replay, t.make_learner)
        backend.start_pipeline(spec)
    else:
        backend.start(t.make_worker, config["workers"])
    report["startup_s"] = time.perf_counter() - started
    report["nodes"] = backend.describe()["worker_nodes"]
    report["listening"] = {
        host.address: subprocess.run([*host.command, "ss", "-Hltn"], capture_output=True, text=True).stdout
        for host in hosts
    }
    if config["mode"] == "pipeline":
        report["rounds"] = [backend.pipeline_round() for _ in range(2)]
        return
    if config["mode"] == "access":  # from host 0, as another user: without, then with the credentials
        from tests.plugins.test_dask_access import probe_cluster

        scheduler = backend._client.scheduler.address
        servers = sorted(backend._client.scheduler_info()["workers"])
        report["servers"] = servers
        report["without"] = probe_cluster(scheduler, servers)
        files = [backend.credentials.certificate, backend.credentials.key]
        pems = (files[0].read_text(), files[1].read_text())
        report["modes"] = [oct(path.stat().st_mode & 0o777) for path in [*files, files[0].parent]]
        report["with"] = probe_cluster(scheduler, servers, pems, [str(path) for path in files])
        return
    report["idents"] = backend.call_all("ident")
    if config["mode"] == "broadcast":
        import numpy

        payload = numpy.ones(config["payload"], dtype=numpy.uint8)
        before = read_counters([hosts[1].command[-1]])[0]
        report["received"] = backend.call_all("receive", payload)
        after = read_counters([hosts[1].command[-1]])[0]
        report["rx_bytes"] = after.rx_bytes - before.rx_bytes
        report["tx_bytes"] = after.tx_bytes - before.tx_bytes


try:
    run()
finally:
    started = time.perf_counter()
    backend.shutdown()
    backend.shutdown()
    report["shutdown_s"] = time.perf_counter() - started
print("REPORT " + json.dumps(report), flush=True)
"""


def _leftovers(tag: str, scratch: str) -> list[str]:
    """Processes the driver left: any carrying the test's tag, or any of the cluster's daemons (they
    name its certificate, in this test's own scratch folder; the scheduler's address is the same on
    every test's hosts, so another test run beside this one has daemons naming it too)."""
    found = tagged_processes(tag)
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or ())
        if scratch in command and "distributed.cli" in command:
            found.append(command)
    return found


def _drive(count: int, mode: str, workers: int, payload: int = 0) -> tuple[dict[str, Any], list[str]]:
    """Runs the driver on ``count`` fresh test hosts; returns its report and what its scratch folder
    held after shutdown. Asserts nothing was left: processes, what they held in /dev/shm, the hosts."""
    tag = uuid.uuid4().hex
    hosts_made = testhosts.TestHosts(count)
    hosts = hosts_made.create()
    try:
        with tempfile.TemporaryDirectory(prefix="dask-hosts-test-") as scratch:
            config = {
                "hosts": [[h.name, h.address, list(h.command)] for h in hosts],
                "scratch": scratch,
                "mode": mode,
                "workers": workers,
                "payload": payload,
            }
            env = {**os.environ, "PYTHONPATH": str(ROOT), TEST_TAG_VARIABLE: tag}
            namespaces = [host.command[-1] for host in hosts]
            with Watch(lambda: pids_in_namespaces(namespaces)) as watch:  # the driver and the cluster
                done = subprocess.run(
                    [*hosts[0].command, sys.executable, "-c", DRIVER, json.dumps(config)],
                    env=env,
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    timeout=DRIVER_TIMEOUT_S,
                )
            assert done.returncode == 0, done.stderr[-3000:]
            lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
            assert lines, done.stdout[-2000:] + done.stderr[-2000:]
            left_in_scratch = sorted(os.listdir(scratch))
            assert _leftovers(tag, scratch) == []
            assert watch.left() == []  # what its processes held in /dev/shm (semaphores), sockets
    finally:
        hosts_made.remove()
    assert not [name for name in testhosts.leftover_namespaces() if name.startswith(hosts_made.tag + "-")]
    return json.loads(lines[0].removeprefix("REPORT ")), left_in_scratch


def _only_own_addresses(report: dict[str, Any]) -> None:
    """Every listening socket on every host is on loopback or on that host's own address; the
    scheduler listens on host 0's, and every worker host has one worker per core on its own."""
    listening = {
        address: [line.split()[3].rsplit(":", 1)[0] for line in listing.splitlines()]
        for address, listing in report["listening"].items()
    }
    for address, locals_ in listening.items():
        assert set(locals_) <= {"127.0.0.1", address}, (address, locals_)
    scheduler_host, *worker_hosts = listening
    assert SCHEDULER in report["listening"][scheduler_host]
    for address in worker_hosts:
        assert listening[address].count(address) == (os.cpu_count() or 1), report["listening"][address]


@pytest.mark.slow
def test_two_hosts_run_every_worker_on_host1():
    report, scratch = _drive(2, "workers", 3)

    assert report["nodes"] == "host1,host1,host1"
    idents = report["idents"]
    assert [index for index, _ in idents] == [0, 1, 2]  # worker order
    assert len({pid for _, pid in idents}) == min(3, os.cpu_count() or 1)  # round-robin over processes
    _only_own_addresses(report)
    assert scratch == ["dask-hosts"]  # logs and local directories stay in the scratch folder
    print(f"2 hosts: start-up {report['startup_s']:.2f} s, shutdown {report['shutdown_s']:.2f} s")


@pytest.mark.slow
def test_three_hosts_alternate_workers_between_hosts():
    report, _ = _drive(3, "workers", 4)

    assert report["nodes"] == "host1,host2,host1,host2"
    assert [index for index, _ in report["idents"]] == [0, 1, 2, 3]
    _only_own_addresses(report)
    print(f"3 hosts: start-up {report['startup_s']:.2f} s, shutdown {report['shutdown_s']:.2f} s")


@pytest.mark.slow
def test_pipeline_keeps_replay_and_learner_on_host0():
    report, _ = _drive(2, "pipeline", 2)

    assert report["nodes"] == "host1,host1,host0,host0"
    first, second = report["rounds"]
    assert first == [[0, None], [1, None]]
    assert second == [[0, 1], [1, 1]]  # the rollouts got round 1's weights


@pytest.mark.slow
def test_broadcast_crosses_host1s_link_once_per_worker():
    report, _ = _drive(2, "broadcast", 2, payload=PAYLOAD_BYTES)

    assert report["received"] == [PAYLOAD_BYTES, PAYLOAD_BYTES]
    ratio = report["rx_bytes"] / PAYLOAD_BYTES
    rx, tx = report["rx_bytes"], report["tx_bytes"]
    print(f"10 MiB to 2 workers on host1: rx {rx} B ({ratio:.3f} payloads), tx {tx} B")
    assert 1.95 <= ratio <= 2.2  # each actor call carries its own copy: one transfer per worker


@pytest.mark.slow
def test_another_user_on_host0_cannot_use_the_cluster():
    """Every process of the cluster speaks TLS with the cell's certificate only: a client on host 0
    as another user is refused by the scheduler and every worker, and gets in with the certificate,
    whose files only the cell's user can read (0600 in a 0700 folder of the scratch folder, removed
    with the cluster)."""
    reason = other_user_unavailable("distributed")
    if reason:
        pytest.skip(reason)
    report, scratch = _drive(2, "access", 1)

    servers = report["servers"]
    assert len(servers) == (os.cpu_count() or 1)
    assert all(server.startswith("tls://10.213.0.2:") for server in servers), servers
    without = report["without"]
    assert "refused" in without["plain"], without
    assert "refused" in without["own_certificate"], without
    assert all(answer.startswith("refused") for answer in without["servers_plain"]), without
    assert all(answer.startswith("refused") for answer in without["servers_own_certificate"]), without
    with_them = report["with"]
    assert with_them["cell"] == {"uid": os.getuid()}, with_them
    assert with_them["servers_cell"] == ["Worker"] * len(servers), with_them
    assert with_them["readable"] == [False, False]
    assert report["modes"] == ["0o600", "0o600", "0o700"]
    assert scratch == ["dask-hosts"]  # the credentials went with the cluster


def test_missing_workers_are_named_per_host_in_one_line():
    from actor_reactor_bench_dask.host_cluster import HostCluster

    from backends.base import Host

    one, two = Host("host1", "10.213.0.2"), Host("host2", "10.213.0.3")
    expected = {"host1-0": one, "host1-1": one, "host2-0": two, "host2-1": two}
    missing = HostCluster._missing(
        expected, {"host1-0": "tcp://10.213.0.2:1", "host2-0": "tcp://10.213.0.3:1"}
    )
    assert missing == "host1: 1 of 2 workers, host2: 1 of 2 workers"


def test_a_worker_that_cannot_start_fails_start_in_one_line():
    """A host whose command cannot run a worker: start raises naming it, shutdown leaves nothing."""
    report, _ = _drive(2, "broken", 1)

    error = report["error"]
    # both workers of host 1 fail; which one the cluster sees first depends on the machine's load
    assert re.match(r"HostClusterError: dask cluster: host1-[01] on host1 exited with 1", error), error
