"""What a cell killed with its helpers leaves outside its processes, and who removes it.

A stand-in cell (a process that names its semaphores as ``harness.cells.cell`` does and makes a spawn-context
queue, as a Dask nanny does in the cell process) is killed with its whole process group, resource
tracker included, as the harness kills a cut cell: its semaphores stay, named after it, until the
harness removes them; those of a live process and those not named by the harness are never touched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cells import reaper, semaphores
from tests.conftest import ROOT

HOLDER = """
import json, multiprocessing, os, sys, time
from harness.cells import semaphores
if __name__ == "__main__":
    if sys.argv[1] == "named":
        semaphores.name_after_this_process()
    queue = multiprocessing.get_context("spawn").Queue()
    locks = (queue._rlock, queue._wlock, queue._sem)
    print(json.dumps([lock._semlock.name for lock in locks]), flush=True)
    time.sleep(120)
"""


class Holder:
    """A process holding a multiprocessing queue (three named semaphores), in a session of its own."""

    def __init__(self, named: bool):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, "named" if named else "plain"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.pid = self.process.pid
        self.files = sorted(
            f"/dev/shm/sem.{name.lstrip('/')}" for name in json.loads(self.process.stdout.readline())
        )

    def kill_with_helpers(self) -> None:
        """SIGKILL to the process group: the holder and its resource tracker, nothing cleans up."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(10)

    def remove_files(self) -> None:
        for file in self.files:
            Path(file).unlink(missing_ok=True)


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    made: list[Holder] = []
    yield made
    for holder in made:
        holder.kill_with_helpers()
        holder.remove_files()


def test_a_cell_killed_with_its_resource_tracker_leaves_semaphores_named_after_it(holders):
    dead = Holder(named=True)
    holders.append(dead)
    assert len(dead.files) == 3
    assert all(Path(f).name.startswith(f"sem.{semaphores.PREFIX}{dead.pid}-") for f in dead.files)
    assert semaphores.owned_by(dead.pid) == dead.files
    dead.kill_with_helpers()
    assert all(Path(f).exists() for f in dead.files)  # nothing unlinked them

    assert sorted(reaper.remove_cell_leftovers(dead.pid)) == dead.files
    assert semaphores.owned_by(dead.pid) == []


def test_only_semaphores_of_cells_that_ended_are_removed(holders):
    live, dead, foreign = Holder(named=True), Holder(named=True), Holder(named=False)
    holders += [live, dead, foreign]
    dead.kill_with_helpers()
    foreign.kill_with_helpers()  # multiprocessing's own names: not the harness's to judge
    assert reaper.remove_cell_leftovers(live.pid) == []  # it still runs

    swept = reaper.sweep_stale()

    assert set(dead.files) <= set(swept)
    assert not set(live.files) & set(swept) and all(Path(f).exists() for f in live.files)
    assert not set(foreign.files) & set(swept) and all(Path(f).exists() for f in foreign.files)
    assert semaphores.owned_by(dead.pid) == [] and semaphores.owned_by(live.pid) == live.files
