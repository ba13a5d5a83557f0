"""Writing generated files (the report, the figures) without ever destroying something else.

A command may replace a file only when that command wrote it before (it carries the command's mark)
and it is none of the command's inputs; anything else at the path is refused with one line. A file is
written beside its final path and renamed over it, so a crash leaves the old file or the new one,
never half of either.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import UsageError


def check_replaceable(path: Path, ours: Callable[[Path], bool], inputs: Iterable[Path], what: str) -> None:
    """Refuses ``path`` when it is an input, not a regular file, or a file ``what`` did not write."""
    for source in inputs:
        if _same_file(path, source):
            raise UsageError(f"--out {path} is one of the input files; it is never overwritten")
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISREG(path.stat().st_mode):
        kind = "a directory" if path.is_dir() else "not a regular file"
        raise UsageError(f"--out {path} is {kind}")
    if not ours(path):
        raise UsageError(
            f"{path} exists and was not written by `{what}`; it is never overwritten "
            "(move it away or choose another --out)"
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write(temporary)`` then renames the temporary file over ``path``; errors are one line."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or what a plain ``open`` would give a new file (the umask)."""
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
