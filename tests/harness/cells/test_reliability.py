"""Failures during a real CLI run: a killed Ray actor, a raising reaction, SIGINT/SIGTERM to the harness,
a cell that would not fit in memory; and what the run exposes to the network.

Each test runs ``python -m harness run`` in a subprocess, as a user does. Faults come from outside the
product code: ``fault_injection/sitecustomize.py``, put on the run's PYTHONPATH, patches the processes
of the run (the harness, its cells, Ray's workers) according to ``HARNESS_FAULT_*`` variables. Every
test ends by checking that no process of its run (tagged through the environment) is left behind.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psutil
import pytest

from harness.cells import reaper
from harness.cells.plan import build_plan
from harness.registry import BACKENDS, WORKLOADS
from harness.results import INTERRUPTED, finished_cells, read_rows
from tests.conftest import FAULT_HOOKS, ROOT, cli_environment, run_cli, tagged, tagged_processes

pytestmark = pytest.mark.slow

HOOKS = FAULT_HOOKS
FAULT_MESSAGE = "injected fault in reactor call"
"""Raised by the hooks' patched reaction (fault_injection/sitecustomize.py)."""

RAY_DASHBOARD_PORT = 8265
"""Where Ray's dashboard web UI listens when it is on (ray._private.ray_constants.DEFAULT_DASHBOARD_PORT)."""

T = TypeVar("T")


def _faults(**settings: object) -> dict[str, str]:
    """Our environment plus ``HARNESS_FAULT_<NAME>`` variables for the hooks."""
    env = dict(os.environ)
    env.update({f"HARNESS_FAULT_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def _cmdline(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return ""


@contextmanager
def _started_cli(tmp_path: Path, *args: str, tag: str, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """``python -m harness ARGS`` running in the background (output in tmp_path/cli.out, cli.err).

    If the test fails while it runs, the run and everything it started are killed, so that a failed
    test leaves nothing behind on a shared machine (the failure itself is what gets reported)."""
    with (tmp_path / "cli.out").open("w") as out, (tmp_path / "cli.err").open("w") as err:
        run = subprocess.Popen(
            [sys.executable, "-m", "harness", *args],
            cwd=ROOT,
            env=cli_environment(tag, env, [HOOKS]),
            stdout=out,
            stderr=err,
        )
        try:
            yield run
        except BaseException:
            run.kill()
            run.wait()
            for process in tagged(tag):
                process.kill()
            raise


def _wait_for(find: Callable[[], T], what: str, run: subprocess.Popen, timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        if run.poll() is not None:
            raise AssertionError(f"the run ended (exit {run.returncode}) before {what}")
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout} s")


def _cells(rows: list[dict[str, str]]) -> dict[tuple[str, int, str], list[dict[str, str]]]:
    """Rows grouped by (cell, repeat, profile), in the order the groups first appear in the file."""
    groups: dict[tuple[str, int, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row["cell"], int(row["repeat"]), row["profile"]), []).append(row)
    return groups


def _status(group: list[dict[str, str]]) -> str:
    statuses = {row["status"] for row in group}
    assert len(statuses) == 1, f"one cell's rows disagree on status: {statuses}"
    return statuses.pop()


def _planned(suite: str, backends: list[str], profile: str = "smoke") -> list[tuple[str, int, str]]:
    return [cell.identity for cell in build_plan(suite, profile, backends, 1)]


def _hook_log(tmp_path: Path) -> str:
    path = tmp_path / "hooks.log"
    return path.read_text() if path.exists() else ""


def test_ray_actor_killed_mid_round_fails_only_its_cell(tmp_path: Path):
    """kill -9 of a Ray actor process while it runs a call of a measured round."""
    out = tmp_path / "kill.csv"
    tag = uuid.uuid4().hex
    backends = ["ray", "reactor"]
    # Each call of a Ray actor takes 0.25 s longer, so a round lasts long enough to be caught in.
    env = _faults(log=tmp_path / "hooks.log", ray_call_delay_s=0.25)
    args = ("run", "--suite", "collectives", "--profile", "smoke", "--backends", ",".join(backends),
            "--repeats", "1", "--out", str(out))  # fmt: skip

    def actor_in_a_call() -> psutil.Process | None:
        for process in tagged(tag):
            if _cmdline(process).startswith("ray::_Host.call"):
                return process
        return None

    with _started_cli(tmp_path, *args, tag=tag, env=env) as run:
        victim = _wait_for(actor_in_a_call, "Ray actor inside a call", run)
        cell_rows_before = len(read_rows(out))
        victim.send_signal(signal.SIGKILL)
        code = run.wait(timeout=240)
    err = (tmp_path / "cli.err").read_text()

    assert code == 1, err[-2000:]
    assert cell_rows_before == 0  # the victim's cell was the run's first
    assert "default_worker.py" in _hook_log(tmp_path)  # the hooks did run inside Ray's workers
    rows = read_rows(out)
    groups = _cells(rows)
    assert list(groups) == _planned("collectives", backends)
    (killed, first), *rest = groups.items()
    assert killed[0].endswith("@ray") and _status(first) == "error"
    errors = {row["error"] for row in first}
    assert len(errors) == 1, errors
    error = errors.pop()
    assert "\n" not in error and len(error) <= 300
    assert "ActorDiedError" in error or "RayActorError" in error, error
    # the run went on: the reactor cells and the next Ray cell (a fresh Ray instance) all ran
    assert [_status(group) for _, group in rest] == ["ok", "ok", "ok"]
    assert any(key.endswith("@ray") for (key, _, _), _ in rest)
    assert len({row["run_id"] for row in rows}) == 1
    assert tagged_processes(tag) == []


def test_exception_inside_a_reaction_fails_only_its_cell(tmp_path: Path):
    """The 5th host reaction of each reactor cell (its first measured broadcast) raises."""
    out = tmp_path / "raise.csv"
    tag = uuid.uuid4().hex
    backends = ["sequential", "reactor"]
    env = _faults(log=tmp_path / "hooks.log", reactor_fail_at=5)
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", ",".join(backends),
                     "--repeats", "1", "--out", str(out), tag=tag, env=env, pythonpath=[HOOKS])  # fmt: skip

    assert result.returncode == 1, result.stderr[-2000:]  # cmd_run: 1 when a cell errored
    assert "Traceback" not in result.stderr
    assert "-m harness.cells.cell" in _hook_log(tmp_path)  # the hooks were imported in the cell processes
    groups = _cells(read_rows(out))
    assert list(groups) == _planned("collectives", backends)
    for (key, _, _), group in groups.items():
        if key.endswith("@reactor"):
            assert _status(group) == "error"
            error = group[0]["error"]
            # one error naming the worker, with the runtime's own account of where it happened
            assert error.startswith("WorkerFailed: worker "), error
            assert "ReactionFailed: reaction 'call' of reactor 'host[" in error, error
            assert f"RuntimeError: {FAULT_MESSAGE} #5" in error and "\n" not in error
        else:
            assert _status(group) == "ok", group[0]["error"]
    assert tagged_processes(tag) == []


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"]
)
def test_interrupted_run_keeps_finished_rows_and_resumes(tmp_path: Path, signum: signal.Signals):
    """The harness is signalled while its second cell (a Ray cell) runs; --resume finishes the run.

    SIGHUP is what a closed terminal or a dropped ssh session sends: it once ended the run (exit 129)
    without recording the cut cell."""
    out = tmp_path / "interrupted.csv"
    tag = uuid.uuid4().hex
    backends = ["sequential", "ray", "reactor"]
    args = ("run", "--suite", "gym", "--profile", "smoke", "--backends", ",".join(backends),
            "--repeats", "1")  # fmt: skip
    plan = _planned("gym", backends)
    assert [key.rsplit("@", 1)[1] for key, _, _ in plan] == backends

    def raylet() -> bool:
        return any("raylet" in _cmdline(process) for process in tagged(tag))

    with _started_cli(tmp_path, *args, "--out", str(out), tag=tag, env=dict(os.environ)) as run:
        _wait_for(raylet, "raylet of the Ray cell", run)
        run.send_signal(signum)
        code = run.wait(timeout=60)
    err = (tmp_path / "cli.err").read_text()

    assert code == 130, err[-2000:]
    assert f"--resume {out}" in err and "Traceback" not in err
    assert tagged_processes(tag) == []
    rows = read_rows(out)  # valid CSV
    groups = _cells(rows)
    assert list(groups) == plan[:2]
    finished, interrupted = groups.values()
    assert _status(finished) == "ok"
    assert {row["metric"] for row in finished} == {"steps_per_s", "round_ms", "startup_s"}
    assert _status(interrupted) == "error" and {row["error"] for row in interrupted} == {INTERRUPTED}
    assert finished_cells(rows) == {plan[0]}

    resumed = run_cli(*args, "--resume", str(out), tag=tag)
    assert "2 cells" in resumed.stderr, resumed.stderr[-2000:]  # the interrupted one and the next
    rows = read_rows(out)
    ok = {(row["cell"], int(row["repeat"]), row["profile"]) for row in rows if row["status"] == "ok"}
    assert ok == set(plan)
    assert finished_cells(rows) == set(plan)
    assert [row for row in rows if row["status"] != "ok" and row["error"] != INTERRUPTED] == []
    assert len({row["run_id"] for row in rows}) == 1
    assert tagged_processes(tag) == []
    # every cell of the plan is ok now: the resumed run must say so (harness/README.md: 0 when all are ok)
    assert resumed.returncode == 0, resumed.stderr[-2000:]


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def test_no_port_listens_beyond_loopback(tmp_path: Path, short_tmp: Path):
    """Sockets of every process of a Ray cell and a reactor cell, sampled while they run.

    Ray's temporary files (``RAY_TMPDIR`` points Ray's default at an empty folder) go to the cell's
    private scratch folder and leave with it: Ray's default makes a 0777 session folder per cell in a
    shared folder and never removes it."""
    out = tmp_path / "ports.csv"
    tag = uuid.uuid4().hex
    # each reactor call is 0.1 s slower, so the (otherwise sub-second) reactor cell is sampled too
    env = {**_faults(reactor_call_delay_s=0.1), "RAY_TMPDIR": str(short_tmp)}
    args = ("run", "--suite", "gym", "--profile", "smoke", "--backends", "ray,reactor,dask", "--repeats", "1",
            "--out", str(out))  # fmt: skip
    listening: dict[tuple[int, str, int, str], str] = {}
    cells: set[int] = set()
    with _started_cli(tmp_path, *args, tag=tag, env=env) as run:
        while run.poll() is None:
            for process in tagged(tag):
                try:
                    sockets = process.net_connections(kind="inet")
                    parent = process.ppid()
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                command = _cmdline(process)
                if "-m harness.cells.cell" in command and parent == run.pid:  # not a child caught in fork()
                    cells.add(process.pid)
                for s in sockets:
                    # TCP in LISTEN, and UDP bound without a peer: both accept traffic from anyone
                    if s.status == psutil.CONN_LISTEN or (s.type == socket.SOCK_DGRAM and not s.raddr):
                        listening[(process.pid, s.laddr.ip, s.laddr.port, s.type.name)] = command[:160]
            time.sleep(0.05)
    err = (tmp_path / "cli.err").read_text()

    assert run.returncode == 0, err[-2000:]
    assert {_status(group) for group in _cells(read_rows(out)).values()} == {"ok"}
    assert len(cells) == 3  # every cell was sampled while it ran
    owners = " ".join(listening.values())
    assert "gcs_server" in owners and "raylet" in owners, listening  # the sampling saw Ray's servers
    exposed = {key: command for key, command in listening.items() if not _is_loopback(key[1])}
    assert exposed == {}
    # dashboard off: Ray's head keeps a dashboard process, but its web UI port never opens
    assert [key for key in listening if key[2] == RAY_DASHBOARD_PORT] == []
    assert tagged_processes(tag) == []
    assert list(short_tmp.iterdir()) == []  # no ray/session_* in Ray's default place
    assert _scratch_folders(run.pid) == []


def test_cell_that_would_not_fit_in_memory_is_skipped(tmp_path: Path):
    """The harness sees 200 MiB available: gym's Ray cell (about 300 MiB) is skipped, the others run."""
    out = tmp_path / "memory.csv"
    tag = uuid.uuid4().hex
    available = 200 * 2**20
    backends = ["sequential", "ray", "reactor"]
    plan = build_plan("gym", "smoke", backends, 1)
    workload = WORKLOADS["gym"]
    needs = {cell.backend: workload.peak_memory_bytes(cell.params, BACKENDS[cell.backend]) for cell in plan}
    assert needs["ray"] > available >= max(needs["sequential"], needs["reactor"])
    result = run_cli("run", "--suite", "gym", "--profile", "smoke", "--backends", ",".join(backends),
                     "--repeats", "1", "--out", str(out), tag=tag,
                     env=_faults(available_bytes=available), pythonpath=[HOOKS])  # fmt: skip

    assert result.returncode == 0, result.stderr[-2000:]
    groups = _cells(read_rows(out))
    assert list(groups) == [cell.identity for cell in plan]
    for (key, _, _), group in groups.items():
        if key.endswith("@ray"):
            assert _status(group) == "skipped"
            reason = f"needs about {needs['ray'] / 2**30:.1f} GiB, {available / 2**30:.1f} GiB available"
            assert {row["error"] for row in group} == {reason}
            assert {row["value"] for row in group} == {""}
        else:
            assert _status(group) == "ok", group[0]["error"]  # the run went on after the skip
    assert tagged_processes(tag) == []


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """An empty folder with a short path (Ray puts Unix sockets below its temporary folder)."""
    folder = Path(tempfile.mkdtemp(prefix="harness-test-", dir="/tmp"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _scratch_folders(harness_pid: int) -> list[Path]:
    return sorted(reaper.scratch_base().glob(f"{reaper.SCRATCH_PREFIX}{harness_pid}-*"))


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_kill_9_of_the_harness_leaves_no_process_and_no_folder(tmp_path: Path, short_tmp: Path):
    """``kill -9`` of the harness while a Ray cell measures: the cell (its own session, so no signal
    reaches it from the terminal) used to live on under PID 1 with no timeout, with Ray's daemons and
    its /tmp/harness-cell-* folder. Now it notices its parent is gone and removes all of it."""
    out = tmp_path / "killed.csv"
    tag = uuid.uuid4().hex
    env = {**_faults(ray_call_delay_s=0.25), "RAY_TMPDIR": str(short_tmp)}
    args = ("run", "--suite", "collectives", "--profile", "smoke", "--backends", "ray", "--repeats", "1",
            "--out", str(out))  # fmt: skip

    def actor_in_a_call() -> bool:
        return any(_cmdline(p).startswith("ray::_Host.call") for p in tagged(tag))

    with _started_cli(tmp_path, *args, tag=tag, env=env) as run:
        _wait_for(actor_in_a_call, "Ray actor inside a call", run)
        (scratch,) = _scratch_folders(run.pid)
        assert stat.S_IMODE(scratch.stat().st_mode) == 0o700
        raylet = next(_cmdline(p) for p in tagged(tag) if "raylet" in _cmdline(p))
        assert f"--session_dir={scratch}/ray/session_" in raylet  # Ray's files are in the cell's folder
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    gone = _wait_until(lambda: not tagged(tag) and not scratch.exists(), timeout=30)
    assert gone, (tagged_processes(tag), scratch.exists())
    assert list(short_tmp.iterdir()) == []


def test_the_next_run_sweeps_what_a_killed_run_left(tmp_path: Path):
    """What a cell killed before it could clean up leaves (here made by hand: a folder and a process
    of a harness that no longer runs) is removed by the next run, and only that."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid now names a harness that is gone
    stale = Path(tempfile.mkdtemp(prefix=f"{reaper.SCRATCH_PREFIX}{dead.pid}-", dir=reaper.scratch_base()))
    (stale / "outcome.json").write_text("{}")
    mine = Path(tempfile.mkdtemp(prefix=f"{reaper.SCRATCH_PREFIX}{os.getpid()}-", dir=reaper.scratch_base()))
    leftover_env = {**os.environ, reaper.TOKEN_VARIABLE: "stale", reaper.PARENT_VARIABLE: str(dead.pid)}
    leftover = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], env=leftover_env)
    try:
        result = run_cli("run", "--suite", "micro", "--profile", "smoke", "--backends", "reactor",
                         "--repeats", "1", "--out", str(tmp_path / "next.csv"), "--quiet")  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        assert "leftover(s) of an earlier run that was killed" in result.stderr
        assert leftover.wait(timeout=10) == -signal.SIGKILL
        assert not stale.exists()
        assert mine.exists()  # this process still runs: its folder is not a leftover
    finally:
        leftover.kill()
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)


def test_dask_worker_killed_mid_round_fails_only_its_cell(tmp_path: Path):
    """kill -9 of a Dask worker process while its actors run calls of a measured round."""
    out = tmp_path / "dask-kill.csv"
    tag = uuid.uuid4().hex
    backends = ["dask", "sequential"]
    calling = tmp_path / "dask-call-started"
    env = _faults(dask_call_delay_s=0.5, dask_call_mark=calling)
    args = ("run", "--suite", "collectives", "--profile", "smoke", "--backends", ",".join(backends),
            "--repeats", "1", "--out", str(out))  # fmt: skip

    def dask_worker() -> psutil.Process | None:
        for process in tagged(tag):
            command = _cmdline(process)
            if "spawn_main" in command and "harness.cells.cell" in " ".join(
                _cmdline(p) for p in process.parents()
            ):
                return process
        return None

    with _started_cli(tmp_path, *args, tag=tag, env=env) as run:
        _wait_for(dask_worker, "a Dask worker process", run)
        _wait_for(calling.exists, "the first actor call", run)  # the actors are built, a round runs
        victim = _wait_for(dask_worker, "a Dask worker process in a round", run)
        assert read_rows(out) == []  # the victim's cell is the run's first, still running
        victim.send_signal(signal.SIGKILL)
        code = run.wait(timeout=240)
    err = (tmp_path / "cli.err").read_text()

    assert code == 1, err[-2000:]
    groups = _cells(read_rows(out))
    assert list(groups) == _planned("collectives", backends)
    (killed, first), *rest = groups.items()
    assert killed[0].endswith("@dask") and _status(first) == "error"
    (error,) = {row["error"] for row in first}
    assert error.startswith("WorkerFailed: worker ") and "\n" not in error, error
    assert [_status(group) for _, group in rest] == ["ok", "ok", "ok"]  # the run went on
    assert tagged_processes(tag) == []


def test_exception_inside_a_dask_actor_fails_only_its_cell(tmp_path: Path):
    out = tmp_path / "dask-raise.csv"
    tag = uuid.uuid4().hex
    backends = ["sequential", "dask"]
    env = _faults(dask_fail_at=3)
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", ",".join(backends),
                     "--repeats", "1", "--out", str(out), tag=tag, env=env, pythonpath=[HOOKS])  # fmt: skip

    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for (key, _, _), group in _cells(read_rows(out)).items():
        if key.endswith("@dask"):
            assert _status(group) == "error"
            (error,) = {row["error"] for row in group}
            assert error.startswith("WorkerFailed: worker "), error
            assert f"RuntimeError: {FAULT_MESSAGE} (dask actor)" in error
        else:
            assert _status(group) == "ok", group[0]["error"]
    assert tagged_processes(tag) == []
