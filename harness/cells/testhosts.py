"""Test hosts: H network namespaces on one bridge, so a cell can run a cluster across "machines" whose
traffic crosses real network interfaces (DESIGN.md §10).

Layout of one cell's hosts: a namespace per host (``harness-<pid>-<n>-h<i>``) holding ``lo`` and
``eth0`` with address 10.213.0.<i+1>/24, and a namespace of their own for the bridge
(``harness-<pid>-<n>-br``) holding ``br0`` and one veth port per host. Nothing in the root namespace
is touched: no interface, route or firewall rule, and the private range exists only inside the
namespaces, so traffic goes nowhere but there and loopback. A link rate (``tbf``) applies in both
directions: on the host's ``eth0`` and on its bridge port. ``netem`` (added delay) is not available
in this kernel; link latency is a parameter of the projection (``harness.analysis.projection``), not measured.

The harness's pid is in every name, so the sweep at the start of a run removes the hosts of a run
that was killed (``sweep``); a cell's hosts are removed after the cell whatever happened in it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from itertools import count

import psutil

from backends.base import Host

PREFIX = "harness-"
NAME = re.compile(r"^harness-(\d+)-(\d+)-(h\d+|br)$")
SUBNET = "10.213.0"
"""A private range that exists only inside the namespaces a cell creates (every cell's hosts are
isolated from every other's, so each may use the same addresses)."""
IP_TIMEOUT_S = 20.0
TBF_BURST = "256kb"
"""At least one GSO segment (64 KiB) and a few more, so a 1 Gbit/s link is not held below its rate."""
TBF_LATENCY = "50ms"
_numbers = count(1)
_lock = threading.Lock()


class TestHostsError(Exception):
    """Namespaces, links or rates could not be set up (the cell becomes ``unavailable``)."""


def _ip(*args: str) -> str:
    try:
        done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TestHostsError(f"ip {' '.join(args)}: {error}") from None
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise TestHostsError(f"ip {' '.join(args)}: {reason[0]}")
    return done.stdout


def _tc(namespace: str, *args: str) -> None:
    _ip("netns", "exec", namespace, "tc", *args)


def _no_ipv6(namespace: str) -> None:
    """No IPv6 in a namespace: its neighbour and router discovery would put packets of its own on
    the links the cells count."""
    _ip("netns", "exec", namespace, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1")  # fmt: skip


@functools.cache
def availability() -> str | None:
    """None when this process can create test hosts, else why not (one line)."""
    if shutil.which("ip") is None:
        return "test hosts need the 'ip' command (Debian package iproute2)"
    if os.geteuid() != 0:
        return "test hosts need root (network namespaces are created with 'ip netns add')"
    probe = f"{PREFIX}{os.getpid()}-0-br"
    try:
        _ip("netns", "add", probe)
        _ip("-n", probe, "link", "add", "br0", "type", "bridge")
    except TestHostsError as error:
        return f"cannot create network namespaces here ({error})"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=IP_TIMEOUT_S)
    return None


@dataclass
class TestHosts:
    """One cell's hosts; ``create`` builds them, ``remove`` (idempotent) tears everything down."""

    __test__ = False  # a name pytest would otherwise collect

    count: int
    link_mbit: int | None = None
    """Rate of every host's link in both directions (``tbf``); None: the veth pair's own speed."""
    number: int = field(default_factory=lambda: next(_numbers))

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"test hosts: count must be >= 1, got {self.count}")
        if self.count > 200:
            raise ValueError("test hosts: at most 200 hosts fit in the subnet")
        self.tag = f"{PREFIX}{os.getpid()}-{self.number}"
        self.created: list[str] = []

    @property
    def bridge(self) -> str:
        return f"{self.tag}-br"

    def namespace(self, index: int) -> str:
        return f"{self.tag}-h{index}"

    def address(self, index: int) -> str:
        return f"{SUBNET}.{index + 1}"

    def hosts(self) -> tuple[Host, ...]:
        prefix = ("ip", "netns", "exec")
        return tuple(
            Host(f"host{i}", self.address(i), (*prefix, self.namespace(i))) for i in range(self.count)
        )

    def create(self) -> tuple[Host, ...]:
        """Builds the bridge and the hosts; on any failure removes what it built and raises."""
        with _lock:
            try:
                self._add_namespace(self.bridge)
                _no_ipv6(self.bridge)
                _ip("-n", self.bridge, "link", "set", "lo", "up")
                _ip("-n", self.bridge, "link", "add", "br0", "type", "bridge")
                _ip("-n", self.bridge, "link", "set", "br0", "up")
                for i in range(self.count):
                    self._add_host(i)
            except TestHostsError:
                self.remove()
                raise
        return self.hosts()

    def _add_namespace(self, name: str) -> None:
        _ip("netns", "add", name)
        self.created.append(name)

    def _add_host(self, index: int) -> None:
        host, port = self.namespace(index), f"p{index}"
        self._add_namespace(host)
        _no_ipv6(host)
        _ip("-n", self.bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host)
        _ip("-n", self.bridge, "link", "set", port, "master", "br0", "up")
        _ip("-n", host, "addr", "add", f"{self.address(index)}/24", "dev", "eth0")
        _ip("-n", host, "link", "set", "eth0", "up")
        _ip("-n", host, "link", "set", "lo", "up")
        if self.link_mbit:
            rate = f"{self.link_mbit}mbit"
            for namespace, device in ((host, "eth0"), (self.bridge, port)):
                _tc(namespace, "qdisc", "add", "dev", device, "root", "tbf", "rate", rate, "burst", TBF_BURST,
                    "latency", TBF_LATENCY)  # fmt: skip

    def remove(self) -> None:
        """Kills whatever still runs on the hosts and deletes the namespaces (their veth links go
        with them); never raises."""
        for name in reversed(self.created):
            _delete(name)
        self.created.clear()

    def __enter__(self) -> tuple[Host, ...]:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.remove()


@dataclass(frozen=True)
class LinkCounters:
    """A host's ``eth0`` counters (the kernel's, as in /sys/class/net/eth0/statistics)."""

    tx_bytes: int
    tx_packets: int
    rx_bytes: int
    rx_packets: int


def read_counters(namespaces: list[str]) -> list[LinkCounters]:
    """Every host's ``eth0`` counters, in host order (``ip -s -j link``: one call per host)."""
    counters = []
    for namespace in namespaces:
        stats = json.loads(_ip("-n", namespace, "-s", "-j", "link", "show", "dev", "eth0"))[0]["stats64"]
        tx, rx = stats["tx"], stats["rx"]
        counters.append(LinkCounters(tx["bytes"], tx["packets"], rx["bytes"], rx["packets"]))
    return counters


def _delete(namespace: str) -> list[int]:
    """Kills every process in ``namespace`` (a daemon a framework left, one whose environment no
    longer names its cell) and deletes it; returns the pids it killed."""
    try:
        listed = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True,
                                timeout=IP_TIMEOUT_S).stdout.split()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        listed = []
    victims = []
    for pid in (int(p) for p in listed if p.isdigit()):
        try:
            process = psutil.Process(pid)
            process.kill()
            victims.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    psutil.wait_procs(victims, timeout=10)
    subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=IP_TIMEOUT_S)
    return [p.pid for p in victims]


def leftover_namespaces() -> list[str]:
    """Names of test-host namespaces that exist now (any run's)."""
    try:
        listing = subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, timeout=IP_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split()[0] for line in listing.stdout.splitlines() if line.startswith(PREFIX)]


def sweep() -> list[str]:
    """Removes the test hosts of harness runs that no longer run; returns what it removed."""
    removed = []
    for name in leftover_namespaces():
        match = NAME.match(name)
        if match and not psutil.pid_exists(int(match.group(1))):
            removed += [f"process {pid}" for pid in _delete(name)]
            removed.append(f"namespace {name}")
    return removed
