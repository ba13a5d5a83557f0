"""`--ray-address` / RAY_ADDRESS: the ray backend runs on an existing cluster, which the harness leaves up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest

from harness.results import read_rows
from tests.conftest import TEST_TAG_VARIABLE, run_cli, tagged, tagged_processes

RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kill_tagged(tag: str) -> None:
    victims = tagged(tag)
    for process in victims:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(victims, timeout=10)


@pytest.fixture
def loopback_cluster():
    """A one-node cluster on loopback, started like a user would (`ray start --head`), then stopped.

    Token authentication is off for this private test cluster; a real cluster's driver needs its token.
    """
    tag = uuid.uuid4().hex
    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            TEST_TAG_VARIABLE: tag,
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "RAY_AUTH_MODE": "disabled",
            "RAY_USAGE_STATS_ENABLED": "0",
        }
    )
    env.pop("RAY_ADDRESS", None)
    command = [str(RAY), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}"]
    command += ["--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"]
    started = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        assert started.returncode == 0, started.stderr[-2000:]
        yield f"127.0.0.1:{port}", env, tag
    finally:
        _kill_tagged(tag)


def _gcs_alive(tag: str) -> bool:
    return any("gcs_server" in line for line in tagged_processes(tag))


@pytest.mark.slow
def test_ray_backend_runs_on_an_existing_cluster_and_leaves_it_up(loopback_cluster, tmp_path: Path):
    address, env, tag = loopback_cluster
    flag = tmp_path / "flag.csv"
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", "ray",
                     "--ray-address", address, "--out", str(flag), "--quiet", tag=tag, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_rows(flag)
    assert rows and {r["status"] for r in rows} == {"ok"}
    assert {r["cluster_address"] for r in rows} == {address}
    nodes = {node for r in rows for node in r["worker_nodes"].split(",")}
    assert len(nodes) == 1 and len(next(iter(nodes))) == 8  # every worker on the one head node
    assert _gcs_alive(tag), "the harness must not stop a cluster it did not start"

    from_env = tmp_path / "env.csv"
    env_with_address = {**env, "RAY_ADDRESS": address}
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", "ray",
                     "--out", str(from_env), "--quiet", tag=tag, env=env_with_address)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert {r["cluster_address"] for r in read_rows(from_env)} == {address}
    assert _gcs_alive(tag)
