"""kill -9 of the harness while it writes a cell's rows: the results file holds whole cells only,
nothing the run made is left, and ``--resume`` measures exactly the cells that are missing.

A smoke training-return cell writes about 50 rows (25 KB). The fault hook stalls the harness inside
the second cell's write, at its 25th row, so that the kill lands there on every run, not by luck.
Before cells were written as one unit, the rows went to the file through its 8 KB buffer in pieces:
this kill left a cut row (the file no longer parsed, so it could not be resumed) or, cut at a row's
end, a partial cell that ``--resume`` took for finished and never measured again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from harness.cells.leftover_watch import Watch
from harness.results import read_rows
from tests.conftest import FAULT_HOOKS, ROOT, cli_environment, run_cli, tagged, tagged_processes
from tests.harness.leftovers import named_after

pytestmark = pytest.mark.slow  # the CLI end to end

STALL_TIMEOUT_S = 120
"""How long the run may take to reach its second cell's write (two federated cells on a loaded box)."""
CLEANUP_S = 30
RUN = ["run", "--suite", "training-return", "--profile", "smoke", "--backends", "reactor-fed",
       "--set", "variant=sync", "--repeats", "2", "--quiet"]  # fmt: skip
"""Two cells of one point (repeats 0 and 1), each in federate processes with an RTI socket of its own."""


def _series(rows: list[dict[str, str]], repeat: str) -> list[tuple[str, ...]]:
    """What rows a repeat has (metric and point on its curves), in order; values differ by repeat."""
    keys = ("metric", "param_episode", "param_round", "param_env_steps")
    return [tuple(row[k] for k in keys) for row in rows if row["repeat"] == repeat]


def test_kill_9_while_a_cell_is_written_leaves_whole_cells_and_resume_runs_the_rest(tmp_path: Path):
    out, mark, log = tmp_path / "run.csv", tmp_path / "stalled", tmp_path / "run.log"
    tag = uuid.uuid4().hex
    faults = {
        **os.environ,
        "HARNESS_FAULT_RESULTS_STALL": "2:25",
        "HARNESS_FAULT_RESULTS_STALL_MARK": str(mark),
    }
    with log.open("w") as stderr:
        run = subprocess.Popen([sys.executable, "-m", "harness", *RUN, "--out", str(out)], cwd=ROOT,
                               env=cli_environment(tag, faults, [FAULT_HOOKS]), stdout=subprocess.DEVNULL,
                               stderr=stderr)  # fmt: skip
    watch = Watch(lambda: [p.pid for p in tagged(tag)]).start()
    try:
        deadline = time.monotonic() + STALL_TIMEOUT_S
        while not mark.exists():
            assert run.poll() is None, f"the run ended before its write stalled: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the run never reached its second cell's write"
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)
        run.wait(10)
    finally:
        run.kill()
        run.wait(10)
        watch.stop()
    assert run.returncode == -signal.SIGKILL
    deadline = time.monotonic() + CLEANUP_S
    while tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.1)

    rows = read_rows(out)  # parses: no cut row
    assert {row["repeat"] for row in rows} == {"0"}, "rows of the cell being written when killed"
    assert len({row["cell"] for row in rows}) == 1
    assert tagged_processes(tag) == []
    assert any(path.endswith("/rti.sock") for path in watch.held)  # the cells held sockets, shared memory
    assert watch.left() == []
    assert named_after(watch.pids | {run.pid}) == []

    killed = out.read_bytes()
    # no --repeats: the file records the run's 2 (the profile's would be 1, and the cut cell lost)
    resumed = run_cli("run", "--resume", str(out), "--quiet", tag=tag, timeout=STALL_TIMEOUT_S)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert ": 1 cells ->" in resumed.stderr, resumed.stderr  # only the cell the kill cut
    assert out.read_bytes().startswith(killed)  # appended, nothing rewritten
    rows = read_rows(out)
    assert len({row["run_id"] for row in rows}) == 1
    # Both repeats train from seed 0: the same episodes and rounds, so the same rows. The cell written
    # before the kill has every row the cell measured after it has: it is whole.
    assert _series(rows, "0") == _series(rows, "1") != []
    assert tagged_processes(tag) == []
