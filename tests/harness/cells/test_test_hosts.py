"""Test hosts (network namespaces), the wire window's arithmetic and the projection model."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from harness.analysis import projection
from harness.analysis.aggregate import CellSummary
from harness.analysis.stats import summarize
from harness.cells import testhosts
from harness.cells.testhosts import LinkCounters, TestHosts
from harness.cells.wire_window import WireWindow
from workloads.base import Measurement
from workloads.cluster import ClusterCollectives

needs_hosts = pytest.mark.skipif(bool(testhosts.availability()), reason=str(testhosts.availability()))


def _root_network() -> tuple[str, str, str]:
    """The root namespace's interfaces, addresses and routes, as `ip` prints them."""

    def show(*args: str) -> str:
        return subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True).stdout

    links = [(link["ifname"], link.get("operstate")) for link in json.loads(show("link", "show"))]
    return json.dumps(links), show("addr", "show"), show("route", "show")


@needs_hosts
def test_hosts_reach_each_other_and_the_root_namespace_is_untouched():
    before = _root_network()
    hosts = TestHosts(3, link_mbit=1000)
    try:
        members = hosts.create()
        assert _root_network() == before  # no interface, address or route added in the root
        assert testhosts.SUBNET not in before[1]
        assert [h.address for h in members] == ["10.213.0.1", "10.213.0.2", "10.213.0.3"]
        server = subprocess.Popen(
            [*members[0].command, sys.executable, "-c",
             "import socket; s = socket.create_server(('10.213.0.1', 7000)); c, _ = s.accept(); "
             "c.sendall(c.recv(5))"],
        )  # fmt: skip
        client = subprocess.run(
            [*members[2].command, sys.executable, "-c",
             "import socket, time\nfor _ in range(100):\n"
             " try: c = socket.create_connection(('10.213.0.1', 7000)); break\n"
             " except OSError: time.sleep(0.05)\nc.sendall(b'hello'); print(c.recv(5).decode())"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        server.wait(timeout=10)
        assert client.stdout.strip() == "hello", client.stderr
        counters = testhosts.read_counters([hosts.namespace(i) for i in range(3)])
        assert counters[2].tx_packets > 0 and counters[0].rx_packets > 0
        qdisc = subprocess.run([*members[1].command, "tc", "qdisc", "show", "dev", "eth0"],
                               capture_output=True, text=True).stdout  # fmt: skip
        assert "tbf" in qdisc and "1Gbit" in qdisc
        assert testhosts.SUBNET not in _root_network()[2]  # no route into the range from the root
    finally:
        hosts.remove()
    assert not [n for n in testhosts.leftover_namespaces() if n.startswith(hosts.tag)]


@needs_hosts
def test_sweep_removes_only_the_hosts_of_runs_that_are_gone():
    mine = TestHosts(1)
    stale, daemon = "", None
    try:
        mine.create()
        # Any harness run sweeps the hosts of runs that are gone, so another run beside this test (a
        # `make test` beside this one) may remove the stale host first: then the test makes another.
        for _ in range(STALE_ATTEMPTS):
            removed, stale, daemon = _sweep_a_stale_host()
            if removed is not None and f"namespace {stale}" in removed and f"process {daemon.pid}" in removed:
                break
        else:  # a sweep that misses either fails here too
            pytest.fail(f"in {STALE_ATTEMPTS} tries this test's sweep never removed both a stale host and"
                        f" its daemon (other runs sweep too); the last removed {removed}")  # fmt: skip
        daemon.wait(timeout=10)  # it ended (killed, not its two minutes)
        left = testhosts.leftover_namespaces()
        assert stale not in left and mine.namespace(0) in left
    finally:
        mine.remove()
        if daemon is not None:
            daemon.kill()
            subprocess.run(["ip", "netns", "del", stale], capture_output=True)


STALE_ATTEMPTS = 5


def _sweep_a_stale_host() -> tuple[list[str] | None, str, subprocess.Popen]:
    """Makes the host of a run that is gone, with a daemon on it, and sweeps: (what the sweep removed,
    the host, the daemon); None instead of the list when something else removed the host first."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = f"{testhosts.PREFIX}{dead.pid}-1-h0"
    subprocess.run(["ip", "netns", "add", stale], check=True)
    # a daemon a framework left on the host, whose environment no longer says whose it is
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    daemon = subprocess.Popen(["ip", "netns", "exec", stale, *sleeper])
    try:
        if not _wait_until_inside(stale, daemon):
            return None, stale, daemon
        return testhosts.sweep(), stale, daemon
    finally:
        if daemon.poll() is None and stale not in testhosts.leftover_namespaces():
            daemon.kill()


def _wait_until_inside(namespace: str, daemon: subprocess.Popen, timeout_s: float = 30.0) -> bool:
    """Waits for ``ip netns exec`` to have entered the namespace (a fixed sleep is too short on a
    busy machine: the sweep would not see the daemon there yet); False when the namespace went away
    first (``ip netns exec`` then fails and the daemon never starts)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if namespace not in testhosts.leftover_namespaces():
            return False
        pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout
        if str(daemon.pid) in pids.split():
            return True
        time.sleep(0.05)
    raise AssertionError(f"process {daemon.pid} never entered {namespace}")


def test_a_failed_creation_removes_what_it_built(monkeypatch: pytest.MonkeyPatch):
    calls: list[tuple[str, ...]] = []

    def fake_ip(*args: str) -> str:
        calls.append(args)
        if args[:3] == ("-n", f"{hosts.tag}-br", "link") and "veth" in args and "p1" in args:
            raise testhosts.TestHostsError("ip link add p1: no more veths")
        return ""

    removed: list[list[str]] = []
    monkeypatch.setattr(testhosts, "_ip", fake_ip)
    done = subprocess.CompletedProcess

    def fake_run(argv: list[str], **kw: object) -> subprocess.CompletedProcess:
        removed.append(argv)
        return done(argv, 0, "", "")

    monkeypatch.setattr(testhosts.subprocess, "run", fake_run)
    hosts = TestHosts(3)
    with pytest.raises(testhosts.TestHostsError, match="no more veths"):
        hosts.create()
    deleted = [argv[-1] for argv in removed if argv[:3] == ["ip", "netns", "del"]]
    assert deleted == [hosts.namespace(1), hosts.namespace(0), hosts.bridge]


def test_without_the_ip_command_test_hosts_are_unavailable_with_the_reason(monkeypatch: pytest.MonkeyPatch):
    testhosts.availability.cache_clear()
    monkeypatch.setattr(testhosts.shutil, "which", lambda name: None)
    try:
        assert "need the 'ip' command" in testhosts.availability()
    finally:
        testhosts.availability.cache_clear()


class _Counting:
    def __init__(self) -> None:
        self.sent = 10

    def coordination_messages(self) -> int:
        return self.sent


def test_wire_window_divides_the_window_by_warm_up_and_measured_rounds(monkeypatch: pytest.MonkeyPatch):
    readings = iter(
        [
            [LinkCounters(0, 0, 0, 0), LinkCounters(0, 0, 0, 0), LinkCounters(0, 0, 0, 0)],
            [
                LinkCounters(4000, 40, 8000, 80),
                LinkCounters(3000, 30, 2000, 20),
                LinkCounters(5000, 50, 2000, 20),
            ],
        ]
    )
    monkeypatch.setattr("harness.cells.wire_window.read_counters", lambda namespaces: next(readings))
    backend = _Counting()
    window = WireWindow(["h0", "h1", "h2"], backend)
    with window:
        backend.sent = 90
    m = Measurement(rounds=8, warmup=2)
    params = {"n_actors": 16, "object_bytes": 100, "variant": "copy", "hosts": 3, "link_mbit": None}
    window.add_metrics(m, ClusterCollectives(), params, remote=True)
    assert m.metrics["wire_bytes_per_round"] == (1200.0, "B")  # 12000 bytes sent over 10 rounds
    assert m.metrics["packets_per_round"] == (12.0, "packets")
    assert m.metrics["busiest_link_bytes_per_round"] == (1200.0, "B")  # host 0: 4000 + 8000
    assert m.metrics["wire_min_bytes_per_round"] == (100 * 2 + 16 * 100, "B")  # 2 copies, 16 results
    assert m.metrics["round_trips_per_round"] == (4.0, "round trips")  # 80 grants / 10 rounds / 2 hosts


def test_the_floor_on_host_0_needs_no_wire_and_a_window_without_hosts_adds_nothing():
    m = Measurement(rounds=3)
    window = WireWindow([], None)
    with window:
        pass
    window.add_metrics(m, ClusterCollectives(), {"n_actors": 2, "object_bytes": 8, "variant": "copy"}, True)
    assert m.metrics == {}


def _summary(workload: str, backend: str, metric: str, value: float, **params: str) -> CellSummary:
    return CellSummary(workload, tuple(sorted(params.items())), backend, metric, "", summarize([value]))


def test_projection_adds_latency_per_round_trip_and_bytes_over_the_rate():
    point = {"n_actors": "16", "object_bytes": "10485760", "variant": "copy", "hosts": "2"}
    summaries = [
        _summary("cluster-collectives", "reactor-fed", "round_ms", 50.0, **point),
        _summary("cluster-collectives", "reactor-fed", "busiest_link_bytes_per_round", 125e6, **point),
        _summary("cluster-collectives", "reactor-fed", "round_trips_per_round", 4.0, **point),
        _summary("cluster-collectives", "reactor-fed", "round_ms", 1100.0, **point, link_mbit="1000"),
        _summary("cluster-collectives", "sequential", "round_ms", 5.0, **point),
        _summary("cluster-collectives", "sequential", "busiest_link_bytes_per_round", 0.0, **point),
    ]
    (basis,) = projection.bases(summaries)  # the floor is not projected
    assert basis.exchanges == 1 and basis.round_trips == 4.0  # a round is one call per worker
    # 50 ms + (1 + 4) x 2 x 0.5 ms + 125 MB x 8 / 10 Gbit/s (100 ms)
    assert basis.round_ms_at(0.5, 10.0) == pytest.approx(50 + 5 + 100)
    (check,) = projection.checks(summaries)
    assert check.projected_ms == pytest.approx(50 + 1000)
    assert check.error_pct == pytest.approx(100 * (1050 - 1100) / 1100)


def test_the_report_labels_the_projection_and_shows_bytes_against_the_minimum():
    from harness.report.cluster import cluster_section

    point = {"n_actors": "16", "object_bytes": "1024", "variant": "copy", "hosts": "2"}
    summaries = [
        _summary("cluster-collectives", "ray", "round_ms", 20.0, **point),
        _summary("cluster-collectives", "ray", "busiest_link_bytes_per_round", 70000.0, **point),
        _summary("cluster-collectives", "ray", "wire_bytes_per_round", 70000.0, **point),
        _summary("cluster-collectives", "ray", "wire_min_bytes_per_round", 17500.0, **point),
    ]
    text = cluster_section(summaries)
    row = "| cluster-collectives | object_bytes=1024 n_actors=16 variant=copy | 2 | unlimited | ray |"
    assert row in text
    assert "| 4 |" in text  # 70000 / 17500
    assert "PROJECTION, not a measurement" in text
    assert "at 1 Gbit/s" not in text.split("### ")[-1]  # no check table without 1 Gbit/s cells
    assert cluster_section([]) is None
