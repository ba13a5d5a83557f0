"""Every backend does the same calls and returns results in worker-index order."""

from __future__ import annotations

import functools
import ipaddress

import numpy as np
import psutil
import pytest

from backends.base import BackendOptions
from backends.ray.backend import RayBackend
from backends.reactor_backend import ReactorBackend
from backends.sequential import SequentialBackend


class Recorder:
    def __init__(self, tag: str, index: int):
        self.index = index
        self.tag = tag
        self.seen: list = []

    def receive(self, payload):
        self.seen.append(payload if np.isscalar(payload) else int(np.asarray(payload).sum()))

    def result(self, _=None):
        return (self.tag, self.index, list(self.seen))

    def boom(self, _=None):
        raise ValueError(f"worker {self.index} exploded")


LOCAL = [SequentialBackend, ReactorBackend]


@pytest.mark.parametrize("backend_cls", LOCAL)
@pytest.mark.parametrize("threads", [1, 2])
def test_gather_is_in_worker_order(backend_cls, threads):
    backend = backend_cls(BackendOptions(threads=threads))
    backend.start(functools.partial(Recorder, "t"), 5)
    try:
        backend.broadcast(7)
        backend.broadcast(np.ones(200_000, dtype=np.uint8))
        assert backend.gather() == [("t", i, [7, 200_000]) for i in range(5)]
    finally:
        backend.shutdown()


@pytest.mark.parametrize("backend_cls", LOCAL)
def test_worker_error_propagates_and_shutdown_still_works(backend_cls):
    backend = backend_cls(BackendOptions(threads=2))
    backend.start(functools.partial(Recorder, "t"), 3)
    with pytest.raises(Exception, match="exploded"):
        backend.call_all("boom")
    backend.shutdown()
    backend.shutdown()


def _non_loopback_listeners() -> list[str]:
    """Listening sockets of this process tree (Ray's daemons are its children) off loopback."""
    me = psutil.Process()
    pids = {me.pid, *(child.pid for child in me.children(recursive=True))}
    bad = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.status != psutil.CONN_LISTEN or conn.pid not in pids:
            continue
        address = ipaddress.ip_address(conn.laddr.ip)
        address = getattr(address, "ipv4_mapped", None) or address
        if not address.is_loopback:
            bad.append(f"{conn.laddr.ip}:{conn.laddr.port} (pid {conn.pid})")
    return bad


@pytest.mark.slow
def test_ray_backend_matches_sequential_and_listens_on_loopback_only():
    ray_backend = RayBackend(BackendOptions())
    ray_backend.start(functools.partial(Recorder, "t"), 3)
    try:
        assert _non_loopback_listeners() == []
        big = np.ones(300_000, dtype=np.uint8)  # above the inline limit: put once, shared
        ray_backend.broadcast(big)
        ray_backend.broadcast(3)
        assert ray_backend.gather() == [("t", i, [300_000, 3]) for i in range(3)]
        assert len(set(ray_backend.pids)) == 3
    finally:
        ray_backend.shutdown()
    import ray

    assert not ray.is_initialized()


@pytest.mark.slow
def test_ray_compiled_grows_its_channels_with_the_payload_and_tears_down():
    from backends.ray.compiled import CHANNEL_MARGIN_BYTES, MIN_BUFFER_BYTES, RayCompiledBackend

    backend = RayCompiledBackend(BackendOptions())
    backend.start(functools.partial(Recorder, "c"), 2)
    try:
        backend.broadcast(7)
        assert backend.describe()["channel_buffer_bytes"] == MIN_BUFFER_BYTES + CHANNEL_MARGIN_BYTES
        big = np.ones(3 * MIN_BUFFER_BYTES, dtype=np.uint8)
        backend.broadcast(big)  # larger than the channels: recompiled with room for it
        assert backend.describe()["channel_buffer_bytes"] == big.nbytes + CHANNEL_MARGIN_BYTES
        assert backend.gather() == [("c", i, [7, big.nbytes]) for i in range(2)]
        assert _non_loopback_listeners() == []
    finally:
        backend.shutdown()
    import ray

    assert not ray.is_initialized() and backend._graph is None


def test_missing_package_reason():
    from backends.base import missing_package

    assert missing_package("numpy", "numpy") is None
    assert "no_such_package_xyz" in missing_package("no_such_package_xyz", "no-such==1")


def test_unavailable_backend_is_recorded_not_fatal(tmp_path, monkeypatch, capsys):
    from backends.xronos.backend import XronosBackend
    from harness.cli import main
    from harness.results import read_rows

    monkeypatch.setattr(XronosBackend, "availability", classmethod(lambda cls: "xronos is missing here"))
    out = tmp_path / "run.csv"
    assert (
        main(["run", "--suite", "micro", "--profile", "smoke", "--backends", "xronos", "--out", str(out)])
        == 0
    )
    rows = read_rows(out)
    assert rows and {r["status"] for r in rows} == {"unavailable"}
    assert {r["error"] for r in rows} == {"xronos is missing here"}
