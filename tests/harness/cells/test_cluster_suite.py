"""The ``cluster`` suite through the CLI: every multi-host backend on 2 test hosts at smoke sizes, and
nothing left behind (namespace, veth, process, shared memory) after success, after an error inside a
cell, and after kill -9 of the harness followed by the next run."""

from __future__ import annotations

import ipaddress
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

from harness.cells import testhosts
from harness.cells.leftover_watch import Watch
from harness.cells.reaper import TOKEN_VARIABLE
from harness.results import read_rows
from tests.conftest import ROOT, TEST_TAG_VARIABLE, cli_environment, run_cli, tagged, tagged_processes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(testhosts.availability()), reason=str(testhosts.availability())),
]

REMOTE_BACKENDS = ("reactor-fed", "ray", "dask")


def _ours(pids: set[int] | None = None) -> list[str]:
    """Test-host namespaces that exist now: those of the harness runs with these ``pids`` (a run's
    pid is in its namespaces' names), or every run's. Another run beside this test (another
    ``make test``) has hosts of its own at any moment: a test judges only its own run's."""
    names = testhosts.leftover_namespaces()
    if pids is None:
        return names
    return [n for n in names if (m := testhosts.NAME.match(n)) and int(m.group(1)) in pids]


class _ListenWatch:
    """Polls, while a run goes on, for sockets that its cells' processes (carrying its tag) listen on in
    the root namespace at an address other than loopback (inside the test hosts they listen on the
    hosts' addresses, which the root namespace does not see). Other runs' processes are not judged:
    one of a harness run beside this test once failed it."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.found: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.3):
            for conn in psutil.net_connections(kind="inet"):
                if conn.status != psutil.CONN_LISTEN or not conn.pid:
                    continue
                address = ipaddress.ip_address(conn.laddr.ip.split("%", 1)[0])
                if getattr(address, "ipv4_mapped", None) is not None:
                    address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
                if address.is_loopback:
                    continue
                try:
                    env = psutil.Process(conn.pid).environ()
                    if TOKEN_VARIABLE in env and env.get(TEST_TAG_VARIABLE) == self.tag:
                        self.found.add(f"{conn.laddr.ip}:{conn.laddr.port} pid {conn.pid}")
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue

    def __enter__(self) -> _ListenWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _by_cell(rows: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, dict[str, str]]]:
    cells: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    for row in rows:
        if not row["param_round"]:
            cells.setdefault((row["cell"], row["backend"]), {})[row["metric"]] = row
    return cells


def test_every_multi_host_backend_runs_the_suite_on_two_hosts_and_leaves_nothing(tmp_path: Path):
    out = tmp_path / "cluster.csv"
    tag = uuid.uuid4().hex
    backends = ",".join((*REMOTE_BACKENDS, "sequential"))
    with _ListenWatch(tag) as watch, Watch(lambda: [p.pid for p in tagged(tag)]) as held:
        result = run_cli("run", "--suite", "cluster", "--profile", "smoke", "--backends", backends,
                         "--out", str(out), "--quiet", tag=tag, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_rows(out)
    failed = {(r["workload"], r["backend"]): r["error"] for r in rows if r["status"] != "ok"}
    assert not failed
    cells = _by_cell(rows)
    assert {backend for _, backend in cells} == {*REMOTE_BACKENDS, "sequential"}
    for (cell, backend), metrics in cells.items():
        any_row = next(iter(metrics.values()))
        assert any_row["param_hosts"] == "2" and any_row["param_link_mbit"] == ""
        wire = float(metrics["wire_bytes_per_round"]["value"])
        minimum = (
            float(metrics["wire_min_bytes_per_round"]["value"])
            if "wire_min_bytes_per_round" in metrics
            else 0
        )
        if backend == "sequential":  # the floor runs on host 0 alone
            assert wire < 100 and minimum == 0, (cell, wire)
            continue
        workers = any_row["worker_nodes"].split(",")
        n = int(any_row["param_n_actors"] or any_row["param_n_envs"] or any_row["param_workers"])
        # the workers on host 1; a pipeline's replay and learner (where listed) with the driver
        assert set(workers[:n]) == {"host1"} and set(workers[n:]) <= {"host0"}, (cell, workers)
        assert wire >= minimum > 0 or "training" in cell, (cell, backend, wire, minimum)
        if cell.startswith("cluster-collectives"):  # 1 MiB to 2 workers and back: bytes for it
            assert wire < 1.5 * minimum or backend != "reactor-fed", (wire, minimum)
        if backend == "reactor-fed":
            trips = float(metrics["round_trips_per_round"]["value"])
            per_tag = 2 if cell.startswith("cluster-collectives") else 1  # broadcast and gather: 2 tags
            assert 0 < trips <= 2 * per_tag, (cell, trips)
    assert not watch.found
    assert not _ours(held.pids) and not tagged(tag) and held.left() == [], tagged_processes(tag)


def test_an_error_inside_a_cell_on_test_hosts_is_recorded_and_leaves_nothing(tmp_path: Path):
    out = tmp_path / "error.csv"
    tag = uuid.uuid4().hex
    with Watch(lambda: [p.pid for p in tagged(tag)]) as held:
        result = run_cli("run", "--suite", "cluster", "--profile", "smoke", "--backends", "reactor-fed",
                         "--set", "max_env_steps=64", "--out", str(out), "--quiet", tag=tag,
                         timeout=600)  # fmt: skip
    assert result.returncode == 1, result.stderr[-3000:]  # a cell errored: exit 1, not 0 (nor 2)
    rows = read_rows(out)
    errors = {r["workload"]: r["error"] for r in rows if r["status"] == "error"}
    assert "did not reach" in errors["cluster-training"]
    assert any(r["status"] == "ok" and r["workload"] == "cluster-collectives" for r in rows)
    assert not _ours(held.pids) and not tagged(tag) and held.left() == [], tagged_processes(tag)


def test_kill_9_of_the_harness_on_test_hosts_is_swept_by_the_next_run(tmp_path: Path):
    tag = uuid.uuid4().hex
    args = ["run", "--suite", "cluster", "--profile", "smoke", "--backends", "reactor-fed",
            "--out", str(tmp_path / "killed.csv"), "--quiet"]  # fmt: skip
    run = subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=ROOT, env=cli_environment(tag),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not any(n.startswith(f"{testhosts.PREFIX}{run.pid}-") for n in _ours()):
            assert run.poll() is None and time.monotonic() < deadline, "no test hosts appeared"
            time.sleep(0.05)
        federate = [p for p in tagged(tag) if "backends.reactor.federation" in " ".join(p.cmdline())]
        deadline = time.monotonic() + 60
        while not federate and time.monotonic() < deadline:
            time.sleep(0.05)
            federate = [p for p in tagged(tag) if "backends.reactor.federation" in " ".join(p.cmdline())]
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    finally:
        run.kill()
    deadline = time.monotonic() + 30
    while tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tagged(tag), tagged_processes(tag)  # the cell saw its harness die and took all along
    left = [n for n in _ours() if n.startswith(f"{testhosts.PREFIX}{run.pid}-")]
    assert left  # the hosts outlive a harness killed with -9 ...
    result = run_cli("run", "--suite", "micro", "--profile", "smoke", "--backends", "reactor",
                     "--repeats", "1", "--out", str(tmp_path / "next.csv"), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert not [n for n in _ours() if n.startswith(f"{testhosts.PREFIX}{run.pid}-")]  # ... until the next run
