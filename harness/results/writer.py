"""The incremental, locked, fsynced writer of a results CSV (DESIGN.md §5).

A cell's rows are appended as one unit and fsynced, so a crash, Ctrl-C or ``kill -9`` loses nothing
that finished and leaves no part of a cell: ``--resume`` takes a cell that has rows for finished.

A results file belongs to one run at a time: the writer holds an exclusive lock on it for the whole
run, so a second run (or a second ``--resume``) on the same file fails at once instead of measuring
every cell twice.

The header is the plan's (``schema.columns_for`` the parameters its workloads declare). A row key
the header has no column for is refused, never dropped: a dropped parameter would merge two points
into one without a word.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .point import ROW_KIND, row_kind
from .schema import SCHEMA_VERSION, VERSION_COLUMN


class ResultWriter:
    """Appends rows to a CSV it holds locked, writing the header only when the file is new or empty.

    ``new=True`` (a fresh run) refuses a file that already holds anything; ``new=False`` (a resume)
    appends to it under the header it has, which must hold every one of ``columns``. The lock is
    taken before anything is read or written, so the caller may read the file's rows after opening it
    and know no other run changes them; a file that holds rows is not written until ``write`` is
    called, so a resume refused after opening leaves it as it was.
    """

    def __init__(self, path: Path, columns: list[str], new: bool = True):
        self.path = path
        if path.exists() and not stat.S_ISREG(path.stat().st_mode):
            kind = "a directory" if path.is_dir() else "not a regular file"
            raise UsageError(f"{path} is {kind}; results go to a regular file")
        try:
            self._file = path.open("a+b", buffering=0)
        except OSError as error:
            raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise UsageError(f"{path} is in use by another run (it holds the file's lock)") from None
        empty = os.fstat(self._file.fileno()).st_size == 0
        if new and not empty:
            self._file.close()
            raise UsageError(f"{path} already exists; pass --resume {path} to continue it")
        self.columns: list[str] = [] if empty else self._header()
        self.require(columns)

    def _header(self) -> list[str]:
        self._file.seek(0)
        first = self._file.readline().decode("utf-8-sig", errors="replace")
        return next(csv.reader([first]), [])

    def require(self, columns: Iterable[str]) -> None:
        """Writes ``columns`` as the header of a file that has none yet (a file cut before its first
        cell still reads as a row-less results CSV); refuses (closing the file) a file whose header
        lacks any of them: its rows could not be written whole."""
        columns = list(columns)
        if not self.columns:
            if columns:
                self.columns = columns
                self._append(lambda writer: writer.writeheader())
            return
        missing = [c for c in columns if c not in self.columns]
        if missing:
            self._file.close()
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise UsageError(
                f"{self.path} has no column {missing[0]!r}{more} that this run writes; "
                "start a new file with --out"
            )

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Appends ``rows``, one cell's, as one unit: all of them or, after a crash, none.

        A smoke cell's rows are about 25 KB; written row by row through the file's 8 KB buffer they
        reached the file in pieces, and a ``kill -9`` between two left the cell's first rows, which
        ``--resume`` took for the whole cell. So the rows become text in memory first (a bad row,
        such as one with a key the header has no column for, fails before anything is written) and
        go to the file in one write."""
        texts = [self._row_text(row) for row in rows]
        self._append(lambda writer: writer.writerows(texts))

    def _row_text(self, row: dict[str, Any]) -> dict[str, str]:
        unknown = [key for key in row if key not in self.columns]
        if unknown:
            raise UsageError(
                f"{self.path}: a {row.get('workload', '?')} row has {unknown[0]!r}, a column the results "
                "file does not have (a workload writes only the parameters it declares)"
            )
        full = {VERSION_COLUMN: SCHEMA_VERSION, **row}
        if ROW_KIND in self.columns:
            full[ROW_KIND] = row_kind(row)
        return {column: _cell_text(full.get(column)) for column in self.columns}

    def _append(self, fill: Callable[[csv.DictWriter], object]) -> None:
        text = io.StringIO(newline="")
        fill(csv.DictWriter(text, fieldnames=self.columns, extrasaction="raise"))
        data = memoryview(text.getvalue().encode("utf-8"))
        while data:  # a write to a regular file is whole unless a signal cuts it
            data = data[self._file.write(data) :]
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()  # closing releases the lock


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if value == value else ""
    return str(value)
