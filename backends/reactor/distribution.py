"""Per-round costs as a distribution: what the micro-benchmarks report instead of one number.

A round's cost on a shared 2-core machine is not one number: most rounds cost about the same, a few
are hit by a wake-up of another process, a page fault or a garbage collection. A slope between two
whole runs hides that and, with start-up inside both runs, can even come out negative. So every
round is timed on its own, after start-up and warm-up, and the benchmark reports percentiles of
those times (DESIGN.md §6.12). Percentiles are taken by nearest rank, so each is a round that was
actually measured (never an interpolation between two), and they are ordered by construction.

Stdlib only: the runtime's library, the harness's backends (``xronos`` included, so that both
runtimes are summarised the same way) and ``python -m backends.reactor.bench`` share it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WARMUP_ROUNDS = 100
"""Rounds run and dropped before the measured ones (caches, the first messages between processes)."""


def readings_for(rounds: int, warmup: int) -> int:
    """Tags a self-driven program runs to time ``rounds`` rounds after ``warmup``: one reading per
    tag, and one more tag whose reading closes the last measured round."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    return warmup + rounds + 1


def nearest_rank(ordered: Sequence[float], percent: float) -> float:
    """The ``percent``-th percentile of ascending ``ordered`` by nearest rank: the smallest sample
    that at least ``percent``% of the samples do not exceed."""
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, math.ceil(percent / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Distribution:
    """Percentiles of per-round samples in one unit (the function that returns it names the unit)."""

    median: float
    p10: float
    p90: float
    p99: float
    minimum: float
    maximum: float
    count: int
    """How many rounds the percentiles rest on (warm-up rounds excluded)."""
    warmup: int = 0
    """How many rounds ran before them and were dropped."""

    @classmethod
    def of(cls, samples: Sequence[float], warmup: int = 0) -> Distribution:
        ordered = sorted(samples)
        return cls(
            median=nearest_rank(ordered, 50),
            p10=nearest_rank(ordered, 10),
            p90=nearest_rank(ordered, 90),
            p99=nearest_rank(ordered, 99),
            minimum=ordered[0],
            maximum=ordered[-1],
            count=len(ordered),
            warmup=warmup,
        )

    @classmethod
    def of_rounds(cls, stamps: Sequence[float], warmup: int) -> Distribution:
        """The distribution of the rounds that clock readings ``stamps`` delimit, after ``warmup``."""
        return cls.of(round_intervals(stamps, warmup), warmup)

    def scaled(self, factor: float) -> Distribution:
        """The same distribution in another unit (``factor`` > 0: order is kept)."""
        if factor <= 0:
            raise ValueError(f"a unit's factor must be > 0, got {factor}")
        return Distribution(
            median=self.median * factor,
            p10=self.p10 * factor,
            p90=self.p90 * factor,
            p99=self.p99 * factor,
            minimum=self.minimum * factor,
            maximum=self.maximum * factor,
            count=self.count,
            warmup=self.warmup,
        )

    def text(self, unit: str, digits: int = 1) -> str:
        """One line for a reader: ``median 4.3 us (p10 4.1, p90 5.0, p99 9.8; 2000 rounds)``."""
        f = f"{{:.{digits}f}}"
        return (
            f"median {f.format(self.median)} {unit} (p10 {f.format(self.p10)}, p90 {f.format(self.p90)}, "
            f"p99 {f.format(self.p99)}; {self.count} rounds)"
        )


def round_intervals(stamps: Sequence[float], warmup: int) -> list[float]:
    """Per-round times from the clock readings taken at the start of each round: round ``i`` lasts
    from its own reading to the next one's, so it covers the whole round, including the runtime's
    advance to the next tag. The first ``warmup`` rounds are dropped; the last reading only closes
    the round before it. Readings of a monotonic clock give no negative time."""
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    if len(stamps) < warmup + 2:
        raise ValueError(f"{len(stamps)} clock readings give no round after a warm-up of {warmup}")
    return [later - earlier for earlier, later in zip(stamps[warmup:-1], stamps[warmup + 1 :], strict=True)]
