"""A cell cut by ``kill -9`` leaves nothing outside its processes once the next run has started.

A reactor-fed cell holds shared-memory segments and its RTI's socket folder; a Dask cell holds
multiprocessing's semaphores (its nannies' queues, made in the cell process). The harness kills a cut
cell together with multiprocessing's resource tracker, which would otherwise have removed them, so
they stayed: a cut smoke reactor-fed cell left its 1 MiB segment and its ``reactor-rti-*`` folder,
a cut Dask cell 3 to 12 semaphores.
Each test cuts one cell of each kind while it measures, runs a small ``python -m harness run``, and
then checks that nothing its runs' processes held (sampled while they ran: every /dev/shm file they
mapped, every Unix socket they bound) still exists, and that nothing named after them is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from harness.cells import semaphores
from harness.cells.leftover_watch import Watch
from harness.results import read_rows
from tests.conftest import FAULT_HOOKS, ROOT, cli_environment, run_cli, tagged, tagged_processes
from tests.harness.leftovers import named_after

pytestmark = pytest.mark.slow

CUT_RUN_TIMEOUT_S = 120
"""How long a cut run may take to reach the point where it is cut (cluster start-up on a loaded box)."""
CLEANUP_S = 30


def _held_segments(watch: Watch) -> list[str]:
    return [p for p in watch.held if p.startswith("/dev/shm/rf")]


def _held_semaphores(watch: Watch) -> list[str]:
    return [p for p in watch.held if p.startswith("/dev/shm/sem.")]


CUTS = {
    # collectives smoke: the 1 KiB cell, then the 1 MiB one, whose broadcasts go through shared memory
    "reactor-fed": ("HARNESS_FAULT_REACTOR_CALL_DELAY_S", lambda w: bool(_held_segments(w))),
    # two worker processes, two queues of three semaphores each per worker process
    "dask": ("HARNESS_FAULT_DASK_CALL_DELAY_S", lambda w: len(_held_semaphores(w)) >= 6),
}


def _cell_pid(tag: str, harness: int) -> int | None:
    for process in tagged(tag):
        try:
            if process.ppid() == harness and "harness.cells.cell" in " ".join(process.cmdline()):
                return process.pid
        except psutil.Error:
            continue
    return None


def _cut(tmp_path: Path, backend: str, mode: str) -> tuple[str, int, int, Watch]:
    """Runs the collectives smoke suite on ``backend`` and cuts it with kill -9 while a cell measures:
    of the harness alone (the cell notices and cleans up), or of the harness and the cell's whole
    process group at once (nobody cleans up: the next run must). Returns (tag, harness pid, cell
    pid, what the run's processes held)."""
    variable, measuring = CUTS[backend]
    tag = uuid.uuid4().hex
    env = cli_environment(tag, {**os.environ, variable: "0.3"}, [FAULT_HOOKS])
    args = ["run", "--suite", "collectives", "--profile", "smoke", "--backends", backend, "--repeats", "1",
            "--out", str(tmp_path / f"{backend}.csv"), "--quiet"]  # fmt: skip
    run = subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    watch = Watch(lambda: [p.pid for p in tagged(tag)]).start()
    try:
        deadline = time.monotonic() + CUT_RUN_TIMEOUT_S
        while not measuring(watch):
            assert run.poll() is None, f"the {backend} run ended before it was cut"
            assert time.monotonic() < deadline, f"the {backend} cell never held what it was expected to"
            time.sleep(0.1)
        time.sleep(1.0)  # rounds under way
        cell = _cell_pid(tag, run.pid)
        assert cell is not None
        watch.sample()
        if mode == "harness and cell":
            os.killpg(cell, signal.SIGKILL)
        run.send_signal(signal.SIGKILL)
        run.wait(10)
    finally:
        run.kill()
        run.wait(10)
        watch.stop()
    deadline = time.monotonic() + CLEANUP_S
    while tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    return tag, run.pid, cell, watch


@pytest.mark.parametrize("mode", ["harness", "harness and cell"])
def test_cells_cut_by_kill_9_leave_nothing_once_the_next_run_started(tmp_path: Path, mode: str):
    cuts = {backend: _cut(tmp_path, backend, mode) for backend in CUTS}

    result = run_cli("run", "--suite", "micro", "--profile", "smoke", "--backends", "reactor",
                     "--repeats", "1", "--out", str(tmp_path / "next.csv"), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]

    for backend, (tag, harness, cell, watch) in cuts.items():
        assert tagged_processes(tag) == [], backend
        assert watch.left() == [], backend
        assert named_after(watch.pids | {harness, cell}) == [], backend
    fed = cuts["reactor-fed"]
    segments, sockets = _held_segments(fed[3]), [p for p in fed[3].held if p.endswith("/rti.sock")]
    assert segments and all(Path(p).name.startswith(f"rf{fed[2]}-") for p in segments), segments
    folders = [Path(p).parent.name for p in sockets]  # the cut cell's and its run's earlier cell's
    assert any(f.startswith(f"reactor-rti-{fed[2]}-") for f in folders), folders
    dask = cuts["dask"]
    held = _held_semaphores(dask[3])
    assert len(held) >= 6 and all(f"/sem.{semaphores.PREFIX}{dask[2]}-" in p for p in held), held


@pytest.mark.parametrize(("backend", "timeout_s"), [("reactor-fed", 8), ("dask", 20)])
def test_cells_cut_by_their_timeout_leave_nothing(tmp_path: Path, backend: str, timeout_s: int):
    """The parent kills a cell that ran out of time with its helpers, then removes what is named after
    it. Each call takes 5 s, so both of the run's cells are cut in their rounds (or, on a slow machine,
    the Dask one in its start-up, after its nannies made their queues)."""
    variable, measuring = CUTS[backend]
    tag = uuid.uuid4().hex
    with Watch(lambda: [p.pid for p in tagged(tag)]) as watch:
        result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", backend,
                         "--repeats", "1", "--timeout", str(timeout_s), "--out", str(tmp_path / "cut.csv"),
                         "--quiet", tag=tag, env={**os.environ, variable: "5.0"},
                         pythonpath=[FAULT_HOOKS])  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    assert {row["status"] for row in read_rows(tmp_path / "cut.csv")} == {"timeout"}
    assert tagged_processes(tag) == []
    assert watch.left() == []
    assert named_after(watch.pids) == []
    assert measuring(watch)  # the cells did hold shared memory or semaphores
