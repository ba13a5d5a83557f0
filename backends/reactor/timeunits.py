"""Logical time units.

Logical time is an integer number of nanoseconds since the program's start, as in Lingua Franca, so
that tags compare exactly and never accumulate floating-point drift.
"""

from __future__ import annotations

NSEC = 1
USEC = 1_000
MSEC = 1_000_000
SEC = 1_000_000_000

Tag = tuple[int, int]
"""A tag is (time in ns, microstep); Python orders tuples exactly as tags are ordered."""


def nsec(n: float) -> int:
    """``n`` nanoseconds as a logical duration."""
    return int(n)


def usec(n: float) -> int:
    """``n`` microseconds as a logical duration."""
    return round(n * USEC)


def msec(n: float) -> int:
    """``n`` milliseconds as a logical duration."""
    return round(n * MSEC)


def sec(n: float) -> int:
    """``n`` seconds as a logical duration."""
    return round(n * SEC)
