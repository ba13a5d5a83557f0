"""CPU accounting of a measured window: our own process tree's share and everybody else's.

These machines are shared (DESIGN.md §6.8), so every sample records how busy the rest of the machine
was while it was measured (``other_cpu_pct``) and how much CPU the backend itself burnt
(``cpu_util``, e.g. Ray Compiled Graphs' polling actors), both in percent of all cores.
"""

from __future__ import annotations

import os
import time
from types import TracebackType

import psutil


def _tree_cpu_seconds(root: psutil.Process) -> float:
    """CPU seconds of ``root``, its live descendants, and every descendant that has ended and been
    waited for (the kernel adds a reaped child's time, its own reaped children's included, to its
    parent's ``children_*``). Without the last part, a process started and ended inside the window
    (a federate of a micro-benchmark, a worker pool) would count as another program's load."""
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


MIN_WINDOW_S = 0.25
"""Process and machine CPU times tick at 10 ms; over a shorter window the percentages are noise."""


class CpuWindow:
    """Context manager; after exit, ``cpu_util`` and ``other_cpu_pct`` hold percentages of all cores
    (NaN, written as blank, for windows shorter than ``MIN_WINDOW_S``)."""

    def __init__(self) -> None:
        self._root = psutil.Process(os.getpid())
        self.cpu_util = float("nan")
        self.other_cpu_pct = float("nan")
        self.wall_s = 0.0
        self.cpu_s = 0.0
        """CPU seconds our process tree used in the window (also where the window is too short)."""

    def __enter__(self) -> CpuWindow:
        self._tree0 = _tree_cpu_seconds(self._root)
        self._busy0 = _machine_busy_seconds()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.wall_s = time.perf_counter() - self._wall0
        ours = self.cpu_s = _tree_cpu_seconds(self._root) - self._tree0
        if self.wall_s < MIN_WINDOW_S:
            return
        busy = _machine_busy_seconds() - self._busy0
        capacity = max(self.wall_s, 1e-9) * (psutil.cpu_count() or 1)
        self.cpu_util = min(100.0, 100.0 * ours / capacity)
        self.other_cpu_pct = min(100.0, max(0.0, 100.0 * (busy - ours) / capacity))
