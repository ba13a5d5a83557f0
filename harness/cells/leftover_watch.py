"""What a check's own processes hold outside themselves, sampled while they run, so that a leftover
check (the conformance kit's, the tests') judges only what it started.

On a shared machine other software (another ``make test`` beside this one) creates and removes
entries in /dev/shm and /tmp at any time, so comparing listings before and after a run fails for
reasons that are not the run's. Instead a ``Watch`` samples the processes a check started (found by
a tag in their environment, say) while they run and records what they hold: every /dev/shm file
they map or keep open (shared memory, multiprocessing's semaphores, whatever their names) and every
Unix socket they bind (the socket and its folder). A check afterwards asks which of those still
exist.

A /dev/shm file is known by its inode (tmpfs numbers them from a counter, so a file made later by
someone else does not take an inode of the run's).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

SHM = "/dev/shm/"
SHARED_FOLDERS = {"/tmp", tempfile.gettempdir()}
"""Folders every program uses: a socket bound directly in one leaves nothing when the socket goes."""


def _shm_inodes(pid: int) -> set[int]:
    """Inodes of the /dev/shm files ``pid`` maps or has open. Inodes, not names: glibc makes a
    semaphore under a temporary name, maps it, links it to its real name and removes the first, so
    the maps show a name that never was the semaphore's."""
    found = set()
    try:
        with open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].startswith(SHM):
                    found.add(int(fields[4]))
    except OSError:
        pass
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(SHM):
                found.add(os.stat(f"/proc/{pid}/fd/{fd}").st_ino)
        except OSError:
            continue
    return found


def shm_by_inode() -> dict[int, str]:
    """The files in /dev/shm now, by inode."""
    found = {}
    try:
        with os.scandir(SHM) as entries:
            for entry in entries:
                try:
                    found[entry.inode()] = entry.path
                except OSError:
                    continue
    except OSError:
        pass
    return found


def _fd_targets(pid: int) -> list[str]:
    targets = []
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return targets
    for fd in fds:
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return targets


def _socket_paths(pid: int) -> set[str]:
    """Paths of the Unix sockets ``pid`` has open (bound ones have a path; read in its namespace)."""
    inodes = {t[len("socket:[") : -1] for t in _fd_targets(pid) if t.startswith("socket:[")}
    found = set()
    try:
        with open(f"/proc/{pid}/net/unix") as table:
            next(table, None)
            for line in table:
                fields = line.split()
                if len(fields) >= 8 and fields[6] in inodes and fields[7].startswith("/"):
                    found.add(fields[7])
    except OSError:
        pass
    return found


def still_there(sockets: Iterable[str]) -> list[str]:
    """Those of ``sockets`` that exist, or whose own folder does."""
    left = set()
    for path in sockets:
        if os.path.lexists(path):
            left.add(path)
        else:
            folder = str(Path(path).parent)
            if folder not in SHARED_FOLDERS and os.path.isdir(folder):
                left.add(folder)
    return sorted(left)


def pids_in_namespaces(names: Iterable[str]) -> list[int]:
    """Processes in any of the network namespaces ``names`` (test hosts: ``ip netns`` names)."""
    inodes = set()
    for name in names:
        try:
            inodes.add(os.stat(f"/run/netns/{name}").st_ino)
        except OSError:
            continue
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino in inodes:
                    found.append(int(entry))
            except OSError:
                continue
    return found


class Watch:
    """Samples ``find()`` (pids) every ``period`` seconds in a thread, from ``start`` to ``stop``
    (or as a context manager), recording the pids and everything they held."""

    def __init__(self, find: Callable[[], Iterable[int]], period: float = 0.1):
        self._find = find
        self._period = period
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leftover-watch", daemon=True)
        self.pids: set[int] = set()
        self._held: set[str] = set()
        self._inodes: set[int] = set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._period)

    def sample(self) -> None:
        for pid in self._find():
            inodes, sockets = _shm_inodes(pid), _socket_paths(pid)
            names = shm_by_inode()
            with self._lock:
                self.pids.add(pid)
                self._inodes |= inodes
                self._held |= sockets | {names[i] for i in inodes if i in names}

    @property
    def held(self) -> set[str]:
        """The /dev/shm files (by their names when sampled) and Unix sockets the processes held."""
        with self._lock:
            return set(self._held)

    def left(self) -> list[str]:
        """What the watched processes held that still exists."""
        with self._lock:
            inodes, sockets = set(self._inodes), {p for p in self._held if not p.startswith(SHM)}
        shm = [path for inode, path in shm_by_inode().items() if inode in inodes]
        return sorted(shm) + still_there(sockets)

    def start(self) -> Watch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Watch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
