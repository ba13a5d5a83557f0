"""multiprocessing's named semaphores, named after the cell that made them so that a killed cell's go.

With the spawn and forkserver start methods every multiprocessing lock, semaphore, condition or
queue is a POSIX named semaphore (``/dev/shm/sem.mp-<random>``): its finalizer unlinks it, or, when
the process dies first, the process's resource tracker does. The harness kills a cut cell together
with its resource tracker (both carry the cell's token), so nothing unlinked them: a Dask cell (its
nannies live in the cell process, two queues of three semaphores per worker process) left 6-12 per
cut. A cell therefore names them after itself, ``sem.mp-harness-<pid>-<random>``, through
multiprocessing's own setting for that prefix (``semprefix``, which the processes it spawns inherit),
and the harness removes those of a cell that has ended, by pid (``harness.cells.reaper``). Names of any
other form (another program's, or a process outside the harness) are never touched.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from pathlib import Path

SHM_DIR = Path("/dev/shm")
PREFIX = "mp-harness-"
NAME = re.compile(rf"^sem\.{PREFIX}(\d+)-[a-z0-9_]+$")
"""A semaphore's file: ``sem.`` (glibc's), the prefix with the owner's pid, ``-`` and
multiprocessing's random part (lower-case letters, digits and ``_``)."""


def name_after_this_process() -> None:
    """Semaphores made from now on by this process (and by processes it starts) carry its pid."""
    multiprocessing.current_process()._config["semprefix"] = f"/{PREFIX}{os.getpid()}"


def by_owner() -> dict[int, list[Path]]:
    """This user's semaphores named after a cell, by the cell's pid."""
    found: dict[int, list[Path]] = {}
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return found
    for name in names:
        match = NAME.match(name)
        path = SHM_DIR / name
        try:
            if match and path.lstat().st_uid == os.getuid():
                found.setdefault(int(match.group(1)), []).append(path)
        except OSError:
            continue
    return found


def owned_by(pid: int) -> list[str]:
    return sorted(str(path) for path in by_owner().get(pid, []))


def remove(paths: list[Path]) -> list[str]:
    """Unlinks ``paths`` (a process that still has one open keeps it until it closes it)."""
    removed = []
    for path in paths:
        try:
            path.unlink()
            removed.append(str(path))
        except FileNotFoundError:
            continue
    return removed
