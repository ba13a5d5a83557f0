"""The conformance kit's checks (run them through the plugin: ``pytest -p harness.conformance
--backend NAME``; see ``harness.conformance``). Each check is parametrized by ``backend_name``."""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from backends.base import FREE_THREADED, Backend, BackendOptions, WorkerFailed
from harness import registry
from harness.cells import metadata
from harness.cells.leftover_watch import Watch
from harness.cells.reaper import PARENT_VARIABLE, TOKEN_VARIABLE, scratch_base

from . import backend_class

WORKERS = 4
RELEASE_GRACE_S = 10.0
"""How long ``shutdown``'s processes may take to disappear once it returned (the kernel reaps them)."""


# --- the workers the checks run ------------------------------------------------------------------


class KitWorker:
    """A worker that says who it is, can be slow in reverse order, fail on demand, and leaves a mark
    (a file) when it is built, so that the kit can tell where and when workers were built."""

    def __init__(self, index: int, marks: str, fail_at_start: int = -1):
        if index == fail_at_start:
            raise ValueError(f"kit worker {index} refuses to start")
        self.index = index
        Path(marks, f"built-{index}-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}").touch()

    def echo(self, arg: Any) -> tuple[int, Any]:
        return self.index, arg

    def echo_in_reverse(self, arg: Any) -> tuple[int, Any]:
        time.sleep(0.03 * (WORKERS - self.index))  # the last worker answers first
        return self.index, arg

    def checksum(self, array: np.ndarray) -> tuple[int, float, int]:
        return self.index, float(array.sum()), int(array.nbytes)

    def fail_at(self, index: int) -> int:
        if self.index == index:
            raise ValueError(f"kit failure in worker {self.index}")
        return self.index


def kit_worker(marks: str, fail_at_start: int, index: int) -> KitWorker:
    return KitWorker(index, marks, fail_at_start)


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture
def backend_cls(backend_name: str) -> type[Backend]:
    cls = backend_class(backend_name)
    if cls.interpreter == FREE_THREADED and metadata.gil_enabled():
        pytest.skip(f"{cls.name} runs under free-threaded Python: run the kit with that interpreter")
    reason = cls.availability()
    if reason:
        pytest.skip(f"{cls.name} cannot run here: {reason}")
    return cls


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A short private folder (Ray puts Unix sockets below it), like a cell's."""
    folder = Path(tempfile.mkdtemp(prefix="kit-", dir=scratch_base()))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def marks(scratch: Path) -> Path:
    folder = scratch / "marks"
    folder.mkdir()
    return folder


def _options(scratch: Path) -> BackendOptions:
    return BackendOptions(threads=2, scratch_dir=str(scratch))


def _needs(cls: type[Backend], operation: str) -> None:
    if operation not in cls.operations:
        pytest.skip(f"{cls.name} has no {operation!r} operation")


@pytest.fixture
def started(backend_cls: type[Backend], scratch: Path, marks: Path) -> Iterator[Backend]:
    """The backend with ``WORKERS`` kit workers, shut down after the check whatever happened."""
    _needs(backend_cls, "call_all")
    backend = backend_cls(_options(scratch))
    try:
        backend.start(functools.partial(kit_worker, str(marks), -1), WORKERS)
        yield backend
    finally:
        backend.shutdown()


# --- what a backend leaves behind --------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def kit_marker() -> Iterator[str]:
    """Marks every process the backends start during the kit, as the harness marks a cell's: a token
    in the environment (``reaper.TOKEN_VARIABLE``) that children inherit, detached ones included
    (``sh -c 'sleep 777 &'`` leaves a process that is no descendant of ours), with this process as
    the owner, so that the next ``harness run`` sweeps what a killed kit left. At the end whatever
    still carries the token is killed: the kit leaves nothing behind, whatever the backend did."""
    token = f"kit-{uuid.uuid4().hex}"
    saved = {name: os.environ.get(name) for name in (TOKEN_VARIABLE, PARENT_VARIABLE)}
    os.environ[TOKEN_VARIABLE], os.environ[PARENT_VARIABLE] = token, str(os.getpid())
    try:
        yield token
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _kill(_processes(token).values())


def _processes(token: str | None = None) -> dict[tuple[int, str], psutil.Process]:
    """Live processes (zombies excluded) the backend may have started: our descendants, every process
    carrying the kit's token, and, where the kit leads its own process group, that group's members."""
    token = token or os.environ.get(TOKEN_VARIABLE)
    me = psutil.Process()
    group = os.getpgid(0) if os.getpgid(0) == me.pid else None
    descendants = {child.pid for child in me.children(recursive=True)}
    found = {}
    for process in psutil.process_iter():
        if process.pid == me.pid:
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            marked = (
                process.pid in descendants
                or (group is not None and os.getpgid(process.pid) == group)
                or (token is not None and process.environ().get(TOKEN_VARIABLE) == token)
            )
            if marked:
                found[(process.pid, " ".join(process.cmdline())[:120])] = process
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, ProcessLookupError):
            continue
    return found


def _kill(processes: Iterable[psutil.Process]) -> None:
    victims = []
    for process in processes:
        try:
            process.kill()
            victims.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    psutil.wait_procs(victims, timeout=10)


@dataclass
class _Baseline:
    """What existed before the check's backend started, and the watch on what its processes hold."""

    resources: dict[str, set]
    watch: Watch
    scratch: Path


def _watched() -> list[int]:
    """This process and every process the kit counts as the backend's (``_processes``)."""
    return [os.getpid(), *(pid for pid, _ in _processes())]


def _resources(watch: Watch, scratch: Path) -> dict[str, set]:
    return {
        "processes": set(_processes()),
        "threads": {(t.ident, t.name) for t in threading.enumerate()},
        # what this process and the backend's held in /dev/shm, and their sockets (the scratch folder
        # goes with the cell): never what other software on the machine makes meanwhile
        "held files": {path for path in watch.left() if not path.startswith(f"{scratch}/")},
    }


_warmed: set[type[Backend]] = set()


def _warm_up(cls: type[Backend], scratch: Path, marks: Path) -> None:
    """One start/shutdown cycle per backend before the first release check: helpers a library starts
    once per process and keeps for the process's life (multiprocessing's resource tracker, a shared
    thread pool) are not what one start made, so they are in the snapshot the checks compare with;
    whatever every start makes and a shutdown leaves is still caught."""
    if cls in _warmed:
        return
    _warmed.add(cls)
    backend = cls(_options(scratch))
    try:
        backend.start(functools.partial(kit_worker, str(marks), -1), WORKERS)
        backend.call_all("checksum", np.ones(262_144))
    finally:
        backend.shutdown()
    for mark in marks.iterdir():
        mark.unlink()


def _before(cls: type[Backend], scratch: Path, marks: Path) -> _Baseline:
    """The baseline, and a watch on this process and the backend's from now on (sampled in a thread,
    and by each check just before its shutdown: a backend's whole life can be shorter than a period)."""
    _needs(cls, "call_all")
    _warm_up(cls, scratch, marks)
    watch = Watch(_watched).start()
    watch.sample()
    return _Baseline(_resources(watch, scratch), watch, scratch)


def _left_behind(before: _Baseline) -> dict[str, set]:
    """What exists now and did not before; waits a little for processes and threads to end. The
    processes left are then killed (the kit's marker says they are the backend's), so that a check
    that fails leaves nothing running."""
    before.watch.stop()
    deadline = time.monotonic() + RELEASE_GRACE_S
    while True:
        now, then = _resources(before.watch, before.scratch), before.resources
        extra = {kind: now[kind] - then[kind] for kind in now if now[kind] - then[kind]}
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    left = extra.get("processes", set())
    _kill(process for key, process in _processes().items() if key in left)
    return extra


# --- the checks ----------------------------------------------------------------------------------------


def test_describes_itself(started: Backend) -> None:
    cls = type(started)
    assert cls.name and isinstance(cls.name, str)
    assert cls.description and isinstance(cls.description, str)
    assert isinstance(cls.operations, frozenset) and cls.operations
    settings = started.describe()
    assert isinstance(settings.get("threads"), int) and settings["threads"] >= 1, settings
    json.dumps(settings)  # recorded with every row: plain values only


def test_builds_every_worker_once_inside_start(started: Backend, marks: Path) -> None:
    built = sorted(p.name.split("-")[1] for p in marks.iterdir())
    assert built == [str(i) for i in range(WORKERS)], "start must build every worker, each once"
    started.call_all("echo", None)
    assert len(list(marks.iterdir())) == WORKERS, "an operation built a worker: start-up must come first"


def test_results_come_in_worker_order_not_arrival_order(started: Backend) -> None:
    assert started.call_all("echo_in_reverse", "x") == [(i, "x") for i in range(WORKERS)]
    assert started.call_all("echo", 7) == [(i, 7) for i in range(WORKERS)]


def test_an_array_argument_arrives_intact_and_unchanged(started: Backend) -> None:
    array = np.arange(262_144, dtype=np.float64)  # 2 MiB: above every framework's inline limit
    expected = float(array.sum())
    assert started.call_all("checksum", array) == [(i, expected, array.nbytes) for i in range(WORKERS)]
    assert float(array.sum()) == expected  # workers treat inputs as read-only


def test_a_worker_exception_is_one_error_naming_the_worker(started: Backend) -> None:
    with pytest.raises(WorkerFailed) as failure:
        started.call_all("fail_at", 2)
    assert failure.value.index == 2
    assert "ValueError: kit failure in worker 2" in str(failure.value), str(failure.value)


def test_shutdown_releases_everything(backend_cls: type[Backend], scratch: Path, marks: Path) -> None:
    before = _before(backend_cls, scratch, marks)
    backend = backend_cls(_options(scratch))
    try:
        backend.start(functools.partial(kit_worker, str(marks), -1), WORKERS)
        backend.call_all("checksum", np.ones(262_144))
    finally:
        before.watch.sample()  # what the backend holds now, whether or not the thread saw it
        backend.shutdown()
    assert _left_behind(before) == {}
    backend.shutdown()  # twice is safe


def test_shutdown_releases_everything_after_a_worker_exception(
    backend_cls: type[Backend], scratch: Path, marks: Path
) -> None:
    before = _before(backend_cls, scratch, marks)
    backend = backend_cls(_options(scratch))
    try:
        backend.start(functools.partial(kit_worker, str(marks), -1), WORKERS)
        with pytest.raises(WorkerFailed):
            backend.call_all("fail_at", 1)
    finally:
        before.watch.sample()  # what the backend holds now, whether or not the thread saw it
        backend.shutdown()
    assert _left_behind(before) == {}


def test_shutdown_releases_everything_after_a_failed_start(
    backend_cls: type[Backend], scratch: Path, marks: Path
) -> None:
    before = _before(backend_cls, scratch, marks)
    backend = backend_cls(_options(scratch))
    try:
        with pytest.raises(Exception):  # noqa: B017 -- any error: the framework's own, or WorkerFailed
            backend.start(functools.partial(kit_worker, str(marks), 1), WORKERS)
    finally:
        before.watch.sample()  # what the backend holds now, whether or not the thread saw it
        backend.shutdown()
    assert _left_behind(before) == {}


def _smoke_points() -> list[tuple[str, dict[str, Any]]]:
    """The smoke suite's points (the ``cluster`` suite's are the same workloads on test hosts)."""
    workloads = [registry.WORKLOADS[name] for name in registry.SUITES["smoke"]]
    return [(w.name, params) for w in workloads for params in w.grid("smoke")]


def _result(workload_name: str, params_json: str, cls: type[Backend], scratch: Path) -> tuple[Any, Any]:
    """(result digest, work) of one smoke point on one backend, measured as a cell measures them."""
    workload = registry.WORKLOADS[workload_name]
    params = json.loads(params_json)
    backend = cls(_options(scratch))
    try:
        workload.start(backend, params)
        measurement = workload.measure(backend, params, "smoke")
        return measurement.extra.get("result_digest"), measurement.work
    finally:
        backend.shutdown()


@functools.cache
def _sequential_result(workload_name: str, params_json: str) -> tuple[Any, Any]:
    with tempfile.TemporaryDirectory(prefix="kit-", dir=scratch_base()) as scratch:
        return _result(workload_name, params_json, registry.BACKENDS["sequential"], Path(scratch))


@pytest.mark.parametrize("point", _smoke_points(), ids=lambda p: f"{p[0]}{json.dumps(p[1], sort_keys=True)}")
def test_smoke_workloads_end_with_the_sequential_digest(
    backend_cls: type[Backend], point: tuple[str, dict[str, Any]], scratch: Path
) -> None:
    """The same seeds give the same results (rewards, observations, actions, weights: the workloads'
    digests cover what the seeds and the worker order decide) after the same work as on ``sequential``."""
    workload_name, params = point
    workload = registry.WORKLOADS[workload_name]
    for cls in (backend_cls, registry.BACKENDS["sequential"]):
        if not workload.operations & cls.operations or not workload.applies_to(params, cls, "smoke"):
            pytest.skip(f"{cls.name} does not run {workload_name} at this point")
    params_json = json.dumps(params, sort_keys=True)
    reference = _sequential_result(workload_name, params_json)
    if not reference[0]:
        pytest.skip(f"{workload_name} records no result digest at this point")
    digest, work = _result(workload_name, params_json, backend_cls, scratch)
    assert (digest, work) == reference, f"(digest, work) {(digest, work)} against sequential's {reference}"
