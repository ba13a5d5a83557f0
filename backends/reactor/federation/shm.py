"""Shared memory for large values: a pool of segments on the sending side, mappings on the reading side.

A value's large buffers (numpy arrays above a threshold) are written once into a segment of the
sender's pool, however many federates read it (a broadcast is one write), and every receiver maps the
segment read-only and builds its arrays on that mapping (zero copy). A segment holds one buffer at a
time and counts its readers; each receiving federate releases it when no array of its own still uses
it, and the sender then reuses it: segments stay mapped on both sides, so a round trip costs no page
faults after the first. Segments are named ``<prefix>_<owner>_<n>`` (``owner``: the sending node; the
prefix names the RTI's process, see ``leftovers``); the pool unlinks its own when it closes, and the
RTI's process removes every name with the federation's prefix at the end, so that a federate killed
without cleaning up leaves nothing in /dev/shm either.

Whether an array still uses a mapping is read from the mapping's export count: numpy keeps the
memoryview it was built on, and that view holds an export of the ``mmap`` until the last array using
it is gone. CPython's ``mmap.resize`` checks the exports before anything else, so on a read-only
mapping it raises BufferError while exports remain and TypeError when none do.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Iterable
from multiprocessing import resource_tracker, shared_memory

try:  # POSIX shared memory; absent on platforms without it, where the transport sends values inline
    import _posixshmem
except ImportError:  # pragma: no cover
    _posixshmem = None

SHM_DIR = "/dev/shm"
MIN_SEGMENT = 1 << 16


def available() -> bool:
    return _posixshmem is not None


class SegmentPool:
    """The sending side: segments owned by one process, reused once every reader has released them."""

    def __init__(self, prefix: str, owner: int):
        self.prefix = prefix
        self.owner = owner
        self._lock = threading.Lock()
        self._free: dict[int, list[shared_memory.SharedMemory]] = {}
        self._busy: dict[str, list] = {}  # name -> [segment, readers left]
        self._all: dict[str, shared_memory.SharedMemory] = {}
        self._count = 0
        self.bytes_written = 0
        self.created = 0

    def put(self, data: memoryview, readers: int) -> tuple[str, int]:
        """Copies ``data`` into a free segment read by ``readers`` federates; returns (name, size)."""
        size = data.nbytes
        capacity = max(MIN_SEGMENT, 1 << (size - 1).bit_length())
        with self._lock:
            free = self._free.get(capacity)
            segment = free.pop() if free else None
            if segment is None:
                segment = self._create(capacity)
            self._busy[segment.name] = [segment, readers]
        segment.buf[:size] = data
        self.bytes_written += size
        return segment.name, size

    def _create(self, capacity: int) -> shared_memory.SharedMemory:
        name = f"{self.prefix}_{self.owner}_{self._count}"
        self._count += 1
        segment = shared_memory.SharedMemory(name=name, create=True, size=capacity)
        self._all[segment.name] = segment
        self.created += 1
        return segment

    def release(self, names: Iterable[str]) -> None:
        """One reader is done with each of ``names``; a segment no reader uses becomes free."""
        with self._lock:
            for name in names:
                entry = self._busy.get(name)
                if entry is None:
                    continue
                entry[1] -= 1
                if entry[1] <= 0:
                    del self._busy[name]
                    segment = entry[0]
                    self._free.setdefault(segment.size, []).append(segment)

    @property
    def segments(self) -> int:
        return len(self._all)

    def close(self) -> None:
        """Unlinks every segment (readers' mappings stay valid until they drop them)."""
        with self._lock:
            segments, self._all = list(self._all.values()), {}
            self._free.clear()
            self._busy.clear()
        for segment in segments:
            try:
                segment.unlink()
            except FileNotFoundError:
                pass
            try:
                segment.close()
            except BufferError:
                pass  # a local reader still holds a view; the mapping goes when it does


class Attachments:
    """The reading side: one read-only mapping per segment, and the segments still in use here."""

    def __init__(self) -> None:
        self._maps: dict[str, mmap.mmap] = {}
        self._held: dict[str, tuple[int, mmap.mmap]] = {}  # name -> (owner, mapping)
        self.mapped_bytes = 0

    def view(self, owner: int, name: str, size: int) -> memoryview:
        """A read-only view of the first ``size`` bytes of segment ``name`` (mapped once)."""
        mapping = self._maps.get(name)
        if mapping is None:
            fd = _posixshmem.shm_open("/" + name, os.O_RDONLY, mode=0o600)
            try:
                mapping = mmap.mmap(fd, os.fstat(fd).st_size, access=mmap.ACCESS_READ)
            finally:
                os.close(fd)
            self._maps[name] = mapping
            self.mapped_bytes += len(mapping)
        self._held[name] = (owner, mapping)
        return memoryview(mapping)[:size]

    def sweep(self) -> dict[int, list[str]]:
        """Segments no array here uses any more, by owner; they are released (and forgotten)."""
        released: dict[int, list[str]] = {}
        for name, (owner, mapping) in list(self._held.items()):
            if not _exported(mapping):
                del self._held[name]
                released.setdefault(owner, []).append(name)
        return released

    @property
    def held(self) -> int:
        return len(self._held)

    def close(self) -> None:
        """Forgets every mapping: one still used by an array lives on until that array goes."""
        self._held.clear()
        self._maps.clear()


def _exported(mapping: mmap.mmap) -> bool:
    try:
        mapping.resize(len(mapping))
    except BufferError:
        return True
    except (TypeError, ValueError, OSError):
        return False
    return False  # pragma: no cover - a read-only mapping never resizes


def sweep(prefix: str, names: Iterable[str] = ()) -> list[str]:
    """Unlinks every segment whose name starts with ``prefix`` (and ``names``); returns them."""
    found = set(names)
    if os.path.isdir(SHM_DIR):
        found.update(n for n in os.listdir(SHM_DIR) if n.startswith(prefix + "_"))
    return unlink(found)


def unlink(names: Iterable[str]) -> list[str]:
    """Unlinks the segments ``names`` that exist; returns those it unlinked, sorted.

    Also tells this process's resource tracker, which would otherwise try to unlink them again at
    exit and warn about "leaked" segments that are already gone.
    """
    removed = []
    for name in sorted(set(names)):
        try:
            _posixshmem.shm_unlink("/" + name)
            removed.append(name)
        except FileNotFoundError:
            pass
        if _tracker_running():
            try:
                resource_tracker.unregister("/" + name, "shared_memory")
            except Exception:
                pass
    return removed


def _tracker_running() -> bool:
    """Whether this process talks to a resource tracker (unregistering would otherwise start one)."""
    return getattr(getattr(resource_tracker, "_resource_tracker", None), "_fd", None) is not None


def leftovers(prefix: str) -> list[str]:
    """Names in /dev/shm with ``prefix`` (tests and shutdown checks)."""
    if not os.path.isdir(SHM_DIR):
        return []
    return sorted(n for n in os.listdir(SHM_DIR) if n.startswith(prefix + "_"))
