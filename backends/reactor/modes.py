"""Chooses, per level, whether the pool or the caller's thread runs a level of several reactions.

Running a level on W threads pays only when the reactions overlap: numpy kernels and C code that
release the GIL do, pure-Python bodies on a GIL interpreter and memory-bound copies often do not, and
then the hand-off and the barrier make the level slower than a plain loop. So each level keeps the
time per reaction it took in each mode (an exponential moving average) and runs in the faster one,
re-trying the other now and then (after 8 runs, then 16, ... up to 1024 while the choice holds) in
case the work changed. The first run in each mode only seeds its time and the second replaces it: a
first run pays one-time costs (lazy imports, first allocations, a new thread's caches; on a
free-threaded interpreter the first parallel rounds cost up to twice the later ones), and a level
that judged the pool on that run alone could keep the slower mode for a thousand runs. The choice
never affects results, only speed.
"""

from __future__ import annotations

import math

SMOOTHING = 0.3
FIRST_PROBE = 8
LAST_PROBE = 1024
SEED_RUNS = 2
CLEAR_LOSS = 1.5
"""A mode this much slower than the other is not re-tried soon: a GIL-bound level on the pool can
cost a whole switch interval (5 ms), so probing it often would cost more than it could find."""


class LevelModes:
    """Per-level timings of inline and parallel execution, and the choice between them."""

    __slots__ = ("_inline", "_interval", "_parallel", "_runs", "_since_probe")

    def __init__(self, n_levels: int):
        self._inline = [math.nan] * n_levels
        self._parallel = [math.nan] * n_levels
        self._runs = {True: [0] * n_levels, False: [0] * n_levels}
        """Runs recorded per mode (parallel: True); a mode is known after SEED_RUNS of them."""
        self._since_probe = [0] * n_levels
        self._interval = [FIRST_PROBE] * n_levels

    def parallel(self, level: int) -> bool:
        """True if the level should go to the pool this time."""
        inline, parallel = self._inline[level], self._parallel[level]
        if self._runs[True][level] < SEED_RUNS:  # not known yet: try the pool first
            return True
        if self._runs[False][level] < SEED_RUNS:
            return False
        faster_is_parallel = parallel < inline
        self._since_probe[level] += 1
        if self._since_probe[level] >= self._interval[level]:
            self._since_probe[level] = 0
            return not faster_is_parallel
        return faster_is_parallel

    def record(self, level: int, parallel: bool, seconds_per_reaction: float) -> None:
        table = self._parallel if parallel else self._inline
        before = (self._parallel[level] < self._inline[level]) if self._both_known(level) else None
        runs = self._runs[parallel]
        runs[level] += 1
        if runs[level] <= SEED_RUNS:  # the first run seeds, the second replaces it
            table[level] = seconds_per_reaction
        else:
            old = table[level]
            table[level] = old + SMOOTHING * (seconds_per_reaction - old)
        if self._both_known(level):
            slow, fast = sorted((self._parallel[level], self._inline[level]), reverse=True)
            if slow > CLEAR_LOSS * fast:
                self._interval[level] = LAST_PROBE
                return
        if before is not None and self._since_probe[level] == 0:
            after = self._parallel[level] < self._inline[level]
            if after == before:
                self._interval[level] = min(LAST_PROBE, self._interval[level] * 2)
            else:
                self._interval[level] = FIRST_PROBE

    def _both_known(self, level: int) -> bool:
        return self._runs[True][level] >= SEED_RUNS and self._runs[False][level] >= SEED_RUNS
