"""``--ray-address`` and ``$RAY_ADDRESS``: checked for Ray's protocol, only when a Ray backend runs.

The harness used to accept anything that accepted a TCP connection (then every Ray cell spent ~21 s
failing), rejected a ``RAY_ADDRESS`` that no selected backend used, and could not parse bracketed
IPv6 addresses.
"""

from __future__ import annotations

import argparse
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import ClusterAddressError
from backends.ray import cluster as ray_address
from harness.cells import clusters
from harness.cells.plan import build_plan
from harness.cli import main
from harness.results import read_rows
from tests.conftest import run_cli


@pytest.fixture
def http_server() -> Iterator[int]:
    """An HTTP server on loopback: it accepts TCP, but it is not Ray."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.RequestHandlerClass.log_message = lambda *args: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_a_listener_that_is_not_ray_is_refused_before_any_cell(http_server: int, tmp_path: Path, capsys):
    out = tmp_path / "never.csv"
    argv = ["run", "--suite", "gym", "--profile", "smoke", "--backends", "ray", "--out", str(out)]
    assert main([*argv, "--ray-address", f"127.0.0.1:{http_server}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not answer Ray's protocol" in err, err
    assert not out.exists()


def test_bracketed_ipv6_is_parsed(capsys):
    assert ray_address.parse("[::1]:6379") == ("::1", 6379)
    assert main(["run", "--suite", "smoke", "--backends", "ray", "--ray-address", "[::1]:1"]) == 2
    err = capsys.readouterr().err
    assert "no Ray cluster answers there (Connection refused)" in err, err


@pytest.mark.parametrize(
    "address, message",
    [
        ("::1:6379", "write an IPv6 address in brackets, as [::1]:6379"),
        ("[zz]:6379", "'zz' is not an IPv6 address"),
        ("bad_host:6379", "'bad_host' is not a host name label"),
        ("h" * 254 + ":1", "a host name has at most 253 characters"),
    ],
)
def test_malformed_hosts_are_named(address: str, message: str):
    with pytest.raises(ClusterAddressError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ray_address.parse(address)


def test_ray_address_in_the_environment_is_ignored_without_a_ray_backend(tmp_path: Path):
    out = tmp_path / "micro.csv"
    result = run_cli("run", "--suite", "micro", "--profile", "smoke", "--backends", "reactor",
                     "--repeats", "1", "--out", str(out), "--quiet",
                     env={**_env(), "RAY_ADDRESS": "auto"})  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert {row["status"] for row in read_rows(out)} == {"ok"}


def test_ray_address_in_the_environment_is_checked_when_a_ray_backend_runs(tmp_path: Path):
    result = run_cli("run", "--suite", "gym", "--profile", "smoke", "--backends", "ray",
                     "--out", str(tmp_path / "x.csv"), env={**_env(), "RAY_ADDRESS": "auto"})  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("error: $RAY_ADDRESS 'auto': expected HOST:PORT"), result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_an_address_off_this_machine_is_warned_about(monkeypatch, capsys):
    """Reaching a real remote cluster is out of the tests' reach; the check's decision is not."""
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: _Closed())
    monkeypatch.setattr(ray_address, "_gcs_problem", lambda address: None)
    planned = build_plan("gym", "smoke", ["ray"], 1)
    args = argparse.Namespace(cluster_ray_address="192.0.2.10:6379")
    assert clusters.addresses(args, planned) == {"ray-address": "192.0.2.10:6379"}
    warning = "warning: --ray-address 192.0.2.10:6379 is not on this machine: cells send their work and data"
    assert capsys.readouterr().err == warning + " there\n"
    assert ray_address.check_cluster("127.0.0.1:6379") == []
    assert ray_address.check_cluster("localhost:6379") == []


class _Closed:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
