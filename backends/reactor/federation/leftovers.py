"""What a federation puts on the machine outside its processes, named after the process that owns it.

A federation makes shared-memory segments (``/dev/shm/rf<pid>-<hex>_<node>_<n>``) and, with the Unix
transport, a folder for the RTI's socket (``reactor-rti-<pid>-*/rti.sock`` in the temporary folder).
Both carry the pid of the RTI's process: it removes them when the federation closes, and its
federates die with it. A process killed before it can close (SIGKILL, SIGTERM without a handler, a
timeout of whoever runs it that kills it with its resource tracker) leaves them, and nothing else
ever would remove them: a cut 10 MiB collectives cell left 144-272 MiB in /dev/shm. Whoever runs
federations (the benchmark harness, say) removes what a process it ran left once that process has
ended (``sweep_orphans([pid])``), and what any federation whose process is gone left
(``sweep_orphans()``); a process ending on purpose removes its own (``remove_owned_by``).

Only names of this exact form are ever removed, and only those of a process that no longer runs (or
the caller's own), and only if they belong to this user: never another program's, never a live
federation's.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from . import shm

SEGMENT = re.compile(r"^rf(\d+)-[0-9a-f]{8}_\d+_\d+$")
"""A segment's name: the owner's pid, the federation's random part, then ``_<node>_<n>``."""
FOLDER_PREFIX = "reactor-rti-"
FOLDER = re.compile(rf"^{FOLDER_PREFIX}(\d+)-[^/]+$")


def new_prefix() -> str:
    """The prefix of a new federation's segments, owned by this process (``rf<pid>-<8 hex>``)."""
    return f"rf{os.getpid()}-{secrets.token_hex(4)}"


def new_socket_folder() -> str:
    """A new private folder for the RTI's Unix socket, owned by this process."""
    return tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")


def _folders() -> set[Path]:
    return {Path(tempfile.gettempdir()), Path("/tmp")}


def _mine(path: Path) -> bool:
    try:
        return path.lstat().st_uid == os.getuid()
    except OSError:
        return False


def by_owner() -> dict[int, list[Path]]:
    """Every segment and socket folder of this user's federations, by the pid of their owner."""
    found: dict[int, list[Path]] = {}
    if os.path.isdir(shm.SHM_DIR):
        for name in os.listdir(shm.SHM_DIR):
            match = SEGMENT.match(name)
            path = Path(shm.SHM_DIR, name)
            if match and _mine(path):
                found.setdefault(int(match.group(1)), []).append(path)
    for folder in _folders():
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = FOLDER.match(name)
            path = folder / name
            if match and path.is_dir() and not path.is_symlink() and _mine(path):
                found.setdefault(int(match.group(1)), []).append(path)
    return found


def owned_by(pid: int) -> list[str]:
    """The segments and socket folders of the federations of process ``pid`` (paths, sorted)."""
    return sorted(str(path) for path in by_owner().get(pid, []))


def _remove(paths: Iterable[Path]) -> list[str]:
    paths = list(paths)
    removed = []
    segments = [path.name for path in paths if str(path.parent) == shm.SHM_DIR]
    removed += [str(Path(shm.SHM_DIR, name)) for name in shm.unlink(segments)]
    for path in paths:
        if str(path.parent) != shm.SHM_DIR:
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(str(path))
    return sorted(removed)


def remove_owned_by(pid: int) -> list[str]:
    """Removes what the federations of ``pid`` left; only for this process as it ends, or for a
    process known to have ended (its mappings stay valid in any process still using them)."""
    return _remove(by_owner().get(pid, []))


def sweep_orphans(owners: Iterable[int] | None = None) -> list[str]:
    """Removes the segments and socket folders whose owner no longer runs (of ``owners`` only, if
    given); returns what it removed. A live owner's are never touched, whatever its pid."""
    wanted = None if owners is None else set(owners)
    removed = []
    for pid, paths in by_owner().items():
        if (wanted is None or pid in wanted) and not alive(pid):
            removed += _remove(paths)
    return removed


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not: it holds nothing but its exit status)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        return True  # no /proc here: kill() said it exists
    return state != b"Z"
