"""Tag arithmetic for coordination: connection delays as tag offsets, "forever", the latest tag before.

A path through connections delays a tag by an *offset* ``(dt, dm)``: a zero-delay connection by
``(0, 0)``, ``delay=0`` by one microstep ``(0, 1)``, ``delay=d`` by ``(d, 0)`` (a time delay resets the
microstep, as LF's ``after`` does). Offsets compose and compare as tuples, and applying one is
monotone in both arguments, so minimal path offsets give earliest arrival tags.
"""

from __future__ import annotations

from ..timeunits import Tag

Offset = tuple[int, int]

FOREVER: Tag = (1 << 62, 0)
"""Later than every tag a program can reach; also "no event" in a next-event report."""

MAX_MICROSTEP = 1 << 62
ZERO: Offset = (0, 0)


def delay_offset(delay: int | None) -> Offset:
    """The offset of one connection: None (zero delay), 0 (one microstep) or d > 0 ns."""
    if delay is None:
        return ZERO
    return (0, 1) if delay == 0 else (delay, 0)


def compose(first: Offset, then: Offset) -> Offset:
    """The offset of a path that takes ``first`` and then ``then``."""
    if then[0] > 0:
        return (first[0] + then[0], then[1])
    return (first[0], first[1] + then[1])


def delayed(tag: Tag, offset: Offset) -> Tag:
    """The tag at which an event at ``tag`` arrives over a path of ``offset``."""
    if tag >= FOREVER:
        return FOREVER
    if offset[0] > 0:
        return (tag[0] + offset[0], offset[1])
    return (tag[0], tag[1] + offset[1])


def latest_before(tag: Tag) -> Tag:
    """The latest tag strictly earlier than ``tag`` (FOREVER stays FOREVER)."""
    if tag >= FOREVER:
        return FOREVER
    time, microstep = tag
    return (time, microstep - 1) if microstep > 0 else (time - 1, MAX_MICROSTEP)


def next_microstep(tag: Tag) -> Tag:
    return (tag[0], tag[1] + 1)
