"""Runs a plan: each cell in a fresh subprocess with a timeout, rows appended as cells finish.

Also the guard rails: a cell that would not fit in free memory is skipped, an unavailable backend is
recorded as such without a process, a cell's whole process tree is killed on timeout or interrupt,
nothing a cell started may outlive it (``harness.cells.reaper``), and a measurement that is not a finite
number makes its cell an error instead of an ok row.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from harness import interpreters, registry
from harness.results import INTERRUPTED, ResultWriter

from . import metadata, testhosts
from .cell_memory import cell_memory_bytes
from .plan import Cell
from .protocol import CellResult, CellSpec, ProtocolMismatch
from .reaper import PARENT_VARIABLE, TOKEN_VARIABLE, kill_cell_processes, new_scratch, remove_cell_leftovers

ROOT = Path(__file__).resolve().parents[2]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Besides Ctrl-C, the signals that stop a run cleanly (the cut cell recorded, rows kept): a kill
and a closed terminal or dropped ssh session."""


@dataclass
class RunSettings:
    run_id: str
    timeout_s: float
    threads: int
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    cluster_addresses: dict[str, str] = field(default_factory=dict)
    """``Backend.cluster_option`` -> the existing cluster its backends run on."""
    backends: str = "all"
    """The run's choice of backends as recorded in ``run_backends`` (``harness.cells.resume``)."""
    options: str = ""
    """The run's ``--set`` options as recorded in ``run_options``."""
    repeats: str = ""
    """The run's ``--repeats`` as recorded in ``run_repeats`` (blank: the profile's)."""
    started_utc: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


@dataclass
class CellOutcome:
    cell: Cell
    status: str
    error: str
    rows: list[dict[str, Any]]
    wall_s: float


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived; the rows written so far are safe."""


def run_plan(
    cells: list[Cell],
    writer: ResultWriter,
    settings: RunSettings,
    on_start: Callable[[Cell], None] = lambda cell: None,
    on_done: Callable[[CellOutcome], None] = lambda outcome: None,
) -> list[CellOutcome]:
    """Runs every cell in order; raises Interrupted (after recording the cut cell) on a signal."""
    outcomes = []
    previous = {signum: signal.signal(signum, _raise_interrupt) for signum in STOP_SIGNALS}
    try:
        for cell in cells:
            on_start(cell)
            outcome = run_one(cell, settings)
            writer.write(outcome.rows)
            outcomes.append(outcome)
            on_done(outcome)
            if outcome.error == INTERRUPTED:
                raise Interrupted()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return outcomes


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt()


def run_one(cell: Cell, settings: RunSettings) -> CellOutcome:
    workload = registry.WORKLOADS[cell.workload]
    started = time.perf_counter()
    reason = registry.availability(cell.backend)
    if reason:
        return _outcome(cell, settings, CellResult("unavailable", reason), started)
    needed = cell_memory_bytes(cell, settings.processes, settings.threads)
    available = psutil.virtual_memory().available
    if needed > available:
        message = f"needs about {needed / 2**30:.1f} GiB, {available / 2**30:.1f} GiB available"
        return _outcome(cell, settings, CellResult("skipped", message), started)
    spec = CellSpec(
        workload=cell.workload,
        params=cell.params,
        backend=cell.backend,
        profile=cell.profile,
        threads=settings.threads,
        processes=settings.processes,
        cluster_address=settings.cluster_addresses.get(registry.BACKENDS[cell.backend].cluster_option),
    )
    python = interpreters.executable(registry.BACKENDS[cell.backend].interpreter)
    on_hosts = workload.test_hosts(cell.params)
    if on_hosts is None:
        result = _run_subprocess(spec, settings.timeout_s, [python])
    else:
        result = _run_on_test_hosts(spec, settings.timeout_s, python, *on_hosts)
    if result.status == "ok" and (problem := _not_finite(result)):
        result.status, result.error = "error", problem
    return _outcome(cell, settings, result, started)


def _not_finite(result: CellResult) -> str:
    """Why a cell's measurements cannot be ok rows (a value that is not a finite number), or ""."""
    values = [(metric, value) for metric, (value, _) in result.metrics.items()]
    values += [("startup_s", result.startup_s)] if result.startup_s is not None else []
    values += [(metric, value) for _, metric, value, _ in result.series]
    for metric, value in values:
        if not (isinstance(value, (int, float)) and math.isfinite(value)):
            return f"measured {metric} = {value!r}, not a finite number"
    return ""


def _child_environment(token: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(metadata.MALLOC_TUNING)
    env[TOKEN_VARIABLE] = token
    env[PARENT_VARIABLE] = str(os.getpid())
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _run_on_test_hosts(
    spec: CellSpec, timeout_s: float, python: str, count: int, link_mbit: int | None
) -> CellResult:
    """Runs a cell on test hosts of its own: the cell process (the driver) on host 0; the hosts are
    removed after the cell whatever happened in it."""
    reason = testhosts.availability()
    if reason:
        return CellResult("unavailable", reason)
    hosts = testhosts.TestHosts(count, link_mbit)
    try:
        members = hosts.create()
    except testhosts.TestHostsError as error:
        return CellResult("unavailable", f"test hosts: {error}"[:300])
    try:
        namespaces = tuple(hosts.namespace(i) for i in range(count))
        spec = dataclasses.replace(spec, hosts=tuple(members), host_namespaces=namespaces)
        return _run_subprocess(spec, timeout_s, [*members[0].command, python])
    finally:
        hosts.remove()


def _run_subprocess(spec: CellSpec, timeout_s: float, python: list[str]) -> CellResult:
    """Runs a cell in a fresh process inside its own scratch folder, removed with the cell;
    ``python`` is the interpreter's command (behind a host's prefix on test hosts)."""
    token = uuid.uuid4().hex
    scratch = new_scratch()
    try:
        return _run_in(scratch, dataclasses.replace(spec, scratch=str(scratch)), token, timeout_s, python)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_in(scratch: Path, spec: CellSpec, token: str, timeout_s: float, python: list[str]) -> CellResult:
    result_path = scratch / "outcome.json"
    log_path = scratch / "stderr.log"
    with log_path.open("wb") as log:
        child = subprocess.Popen(
            [*python, "-m", "harness.cells.cell", "--result", str(result_path)],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_child_environment(token),
            start_new_session=True,
        )
        try:
            child.stdin.write(spec.to_json().encode())
            child.stdin.close()
            child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            kill_cell_processes(child.pid, token)
            child.wait()
            return CellResult("timeout", f"no result within {timeout_s:g} s; killed")
        except KeyboardInterrupt:
            kill_cell_processes(child.pid, token)
            child.wait()
            return CellResult("error", INTERRUPTED)
        finally:
            kill_cell_processes(child.pid, token)
            remove_cell_leftovers(child.pid)
    if result_path.exists():
        return read_result(result_path)
    tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
    return CellResult("error", f"cell process exited {child.returncode}: {tail[0][:250]}")


def read_result(path: Path) -> CellResult:
    """The result a cell's process wrote; one of another protocol version makes the cell an error
    saying so (its fields might mean something else here)."""
    try:
        return CellResult.from_json(path.read_text())
    except ProtocolMismatch as error:
        return CellResult("error", str(error)[:300])


def _outcome(cell: Cell, settings: RunSettings, result: CellResult, started: float) -> CellOutcome:
    wall = time.perf_counter() - started
    workload = registry.WORKLOADS[cell.workload]
    common = {
        "run_id": settings.run_id,
        "started_utc": settings.started_utc,
        "suite": cell.suite,
        "workload": cell.workload,
        "backend": cell.backend,
        "repeat": cell.repeat,
        "cell": cell.key,
        "profile": cell.profile,
        "run_backends": settings.backends,
        "run_threads": settings.threads,
        "run_processes": settings.processes,
        "run_options": settings.options,
        "run_repeats": settings.repeats,
        "status": result.status,
        "error": result.error,
        "rounds": result.rounds,
        "warmup": result.warmup,
        "work": result.work,
        "result_digest": result.result_digest,
        "threads": result.threads,
        "processes": result.processes,
        "cluster_address": result.cluster_address,
        "worker_nodes": result.worker_nodes,
        "cell_wall_s": round(wall, 3),
        "cpu_util": result.cpu_util,
        "idle_cpu_util": result.idle_cpu_util,
        "other_cpu_pct": result.other_cpu_pct,
        "git_commit": metadata.git_commit(ROOT),
    }
    common.update(result.metadata or metadata.process_metadata())
    common.update({f"param_{k}": v for k, v in cell.params.items()})
    rows = []
    if result.status == "ok":
        for metric, (value, unit) in result.metrics.items():
            rows.append({**common, "metric": metric, "value": value, "unit": unit})
        if result.startup_s is not None:
            rows.append({**common, "metric": "startup_s", "value": result.startup_s, "unit": "s"})
    else:
        for metric, unit in workload.metrics_for(cell.params):
            rows.append({**common, "metric": metric, "value": None, "unit": unit})
    # a failed cell may still have a curve (a training that missed its target): it shows why
    for at, metric, value, unit in result.series:
        point = {f"param_{k}": v for k, v in at.items()}
        rows.append({**common, **point, "metric": metric, "value": value, "unit": unit})
    return CellOutcome(cell, result.status, result.error, rows, wall)
