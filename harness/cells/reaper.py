"""Nothing a cell starts outlives it: not after a timeout, an interrupt, nor ``kill -9`` of the harness.

Three layers, because each one alone has a hole:

- the parent kills a finished, timed-out or interrupted cell's process group and every process that
  carries the cell's token in its environment (Ray's daemons leave the group, not the environment);
- a cell whose parent dies (``kill -9``, an out-of-memory kill) is told so by the kernel
  (``PR_SET_PDEATHSIG``) and by a watchdog thread that polls its parent, and then kills its own
  processes and removes its scratch folder before it exits;
- the next ``run`` sweeps what a cell killed before it could clean up left behind: processes whose
  harness is gone, and scratch folders named after a harness that no longer runs.

Besides processes and its scratch folder, a cell leaves files that outlive it when it is killed with
its helpers: its federations' shared memory and socket folders (``backends.reactor.federation.
leftovers``) and multiprocessing's semaphores (``harness.cells.semaphores``). Both are named after the
cell's pid, so the parent removes an ended cell's, an orphaned cell removes its own, and every run
sweeps those of cells that no longer run.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import psutil

from backends.reactor.federation import leftovers as federation_leftovers

from . import semaphores, testhosts

TOKEN_VARIABLE = "HARNESS_CELL_TOKEN"
PARENT_VARIABLE = "HARNESS_PARENT_PID"
SCRATCH_PREFIX = "harness-cell-"
SCRATCH_NAME = re.compile(rf"^{SCRATCH_PREFIX}(\d+)-")
PR_SET_PDEATHSIG = 1
WATCHDOG_PERIOD_S = 0.25
EXIT_ORPHANED = 128 + signal.SIGTERM
"""A cell that ends because its harness is gone exits as if terminated."""
MAX_SCRATCH_BASE = 40
"""Longest folder the scratch folders go in: Ray puts Unix sockets four levels below a cell's scratch
folder (``ray/session_<date>_<pid>/sockets/plasma_store``), and a socket path has at most 107 bytes."""


def scratch_base() -> Path:
    """Where scratch folders go: the temporary folder, or ``/tmp`` when that one is too deep for Ray."""
    base = Path(tempfile.gettempdir())
    return base if len(str(base)) <= MAX_SCRATCH_BASE else Path("/tmp")


def new_scratch() -> Path:
    """A private (0700) scratch folder for one cell, named after this harness process."""
    return Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=scratch_base()))


def kill_cell_processes(pid: int, token: str) -> None:
    """Kills the cell's process group and every process carrying its token (Ray's daemons
    included), then waits for them to be gone so that the next cell starts on a quiet machine."""
    victims = []
    for process in psutil.process_iter(["pid"]):
        if process.pid == os.getpid():
            continue
        try:
            if os.getpgid(process.pid) == pid or process.environ().get(TOKEN_VARIABLE) == token:
                process.kill()
                victims.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, ProcessLookupError):
            continue
    psutil.wait_procs(victims, timeout=10)


PARENT_DEATH_SIGNAL = signal.SIGUSR1
"""What the kernel sends a cell when its harness dies. Not SIGTERM: Ray's driver installs a C++
handler for SIGTERM that ends the process on the spot, before the cell could clean up."""


class ParentGuard:
    """Makes this cell process end, leaving nothing, as soon as the harness that started it is gone.

    The kernel signals the cell when its parent dies (``PARENT_DEATH_SIGNAL``), and a watchdog
    thread also polls the parent, since a signal handler runs only when the main thread gets back to
    Python. Whichever notices first kills the cell's own processes and removes its scratch folder.
    """

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.parent = int(os.environ.get(PARENT_VARIABLE, "0") or 0)
        self.token = os.environ.get(TOKEN_VARIABLE, "")
        self._once = threading.Lock()
        signal.signal(PARENT_DEATH_SIGNAL, lambda signum, frame: self.exit_if_orphaned())
        _set_parent_death_signal(PARENT_DEATH_SIGNAL)
        threading.Thread(target=self._watch, name="harness-parent-watchdog", daemon=True).start()
        self.exit_if_orphaned()  # the parent may have died before the kernel was asked to tell us

    def orphaned(self) -> bool:
        return self.parent > 0 and os.getppid() != self.parent

    def exit_if_orphaned(self) -> None:
        """Cleans up and ends the process when the parent is gone. A second caller waits for the
        first, which never returns: the process must not end normally halfway through the cleanup."""
        if not self.orphaned():
            return
        self._once.acquire()
        if self.token:
            kill_cell_processes(os.getpgid(0), self.token)
        shutil.rmtree(self.scratch, ignore_errors=True)
        remove_cell_leftovers(os.getpid())
        os._exit(EXIT_ORPHANED)

    def _watch(self) -> None:
        while not self.orphaned():
            time.sleep(WATCHDOG_PERIOD_S)
        self.exit_if_orphaned()


def remove_cell_leftovers(pid: int) -> list[str]:
    """Removes the shared memory, socket folders and semaphores named after cell ``pid``; returns
    them. Only once that cell has ended (its pid, if it runs again, is another process's), or for
    this process as it ends, after its own processes are gone."""
    if pid != os.getpid() and _alive(pid):
        return []
    return federation_leftovers.remove_owned_by(pid) + semaphores.remove(semaphores.by_owner().get(pid, []))


def _set_parent_death_signal(signum: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog alone notices
        pass


def sweep_stale() -> list[str]:
    """Removes what cells of harness runs that are gone left behind; returns what it removed.

    A process is stale when it carries a cell token and the harness named in its environment no
    longer runs; a scratch folder is stale when the harness named in its name no longer runs; shared
    memory, socket folders and semaphores are stale when the cell named in their names no longer runs.
    """
    removed = []
    victims = []
    for process in psutil.process_iter(["pid"]):
        try:
            env = process.environ()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        owner = env.get(PARENT_VARIABLE, "")
        if env.get(TOKEN_VARIABLE) and owner.isdigit() and not _alive(int(owner)):
            try:
                process.kill()
                victims.append(process)
                removed.append(f"process {process.pid}")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    psutil.wait_procs(victims, timeout=10)
    for folder in {scratch_base(), Path("/tmp")}:
        for path in folder.glob(f"{SCRATCH_PREFIX}*"):
            match = SCRATCH_NAME.match(path.name)
            if match and path.is_dir() and not _alive(int(match.group(1))):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(str(path))
    for pid, paths in semaphores.by_owner().items():
        if not _alive(pid):
            removed += semaphores.remove(paths)
    removed += federation_leftovers.sweep_orphans()
    return removed + testhosts.sweep()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
